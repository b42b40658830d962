/** Pure tree logic: no DOM. */

import {
  boundaryGap,
  boundaryMessage,
  equivalentBoundaries,
  leadingFrozenLeaves,
  snapToGap
} from '@tw/widgets/tree/boundary';
import { ariaChecked, classLabel, formatInt, summaryText } from '@tw/widgets/tree/format';
import { keyAction } from '@tw/widgets/tree/keyboard';
import { rangeIds, rangeMessage } from '@tw/widgets/tree/range';
import { TreeState } from '@tw/widgets/tree/state';
import type { FlagCode } from '@tw/widgets/tree/types';
import { computeFilter, computeVisible, Expansion, idAt, nearestVisible, rowOf } from '@tw/widgets/tree/visible';
import { describe, expect, it } from 'vitest';
import { compactFlags, flatSpec, must, nestedSpec, payload } from './fixtures';

const names = (t: TreeState, ids: ArrayLike<number>) => Array.from(ids, i => t.node(i).name);

function nested() {
  const tree = new TreeState(payload(nestedSpec()));
  const expansion = new Expansion(tree);
  return { tree, expansion, rows: computeVisible(tree, expansion) };
}

describe('TreeState', () => {
  it('indexes leaves in pre-order and subtree ends', () => {
    const { tree } = nested();
    expect(names(tree, tree.leaves)).toEqual([
      'input_layer',
      'block_0_conv',
      'block_0_bn',
      'block_0_relu',
      'block_1_conv',
      'block_1_bn',
      'block_1_relu',
      'block_2_conv',
      'block_2_bn',
      'block_2_relu',
      'classifier'
    ]);
    const backbone = tree.nodes.findIndex(n => n.name === 'backbone');
    expect(tree.node(tree.endOf(backbone)).name).toBe('block_2_relu');
    expect(tree.leafCount[backbone]).toBe(9);
    expect(tree.end[0]).toBe(tree.size - 1);
  });

  it('applies the flags trait and reports only the rows that changed', () => {
    const { tree } = nested();
    const state = Array.from(tree.state) as FlagCode[];
    const trainable_params = Array.from(tree.trainableParams);
    state[2] = 0; // frozen now
    trainable_params[2] = 0;
    trainable_params[3] = (trainable_params[3] ?? 0) + 5; // same state, another count
    const summary = { total: 1, trainable: 0, non_trainable: 1 };
    const flags = compactFlags(payload(nestedSpec()), state, trainable_params, summary);
    expect(flags.trainable_params['3']).toBe(trainable_params[3]); // not what its state implies: listed
    expect(flags.trainable_params['2']).toBeUndefined(); // frozen: 0, implied
    const changed = tree.applyFlags({ ...flags, state: `${flags.state}0` }); // an entry past the tree is ignored
    expect(changed).toEqual([2, 3]);
    expect(tree.state[2]).toBe(0);
    expect(Array.from(tree.trainableParams)).toEqual(trainable_params);
    expect(tree.summary.total).toBe(1);
    expect(tree.applyFlags(flags)).toEqual([]); // nothing new
  });

  it('takes a count from the flags trait, else the one the state implies', () => {
    const tree = new TreeState(payload(flatSpec(2))); // flat (model) -> d0, d1; 20 parameters each
    const summary = { total: 40, trainable: 20, non_trainable: 20 };
    expect(tree.applyFlags({ state: '201', trainable_params: { '0': 20 }, summary })).toEqual([0, 1]);
    expect(Array.from(tree.trainableParams)).toEqual([20, 0, 20]);
    // a trainable layer with a variable of its own set apart: listed, and the listed count wins
    expect(tree.applyFlags({ state: '211', trainable_params: { '0': 32, '2': 12 }, summary })).toEqual([0, 1, 2]);
    expect(Array.from(tree.trainableParams)).toEqual([32, 20, 12]);
    // a frozen layer with a variable left trainable
    tree.applyFlags({ state: '000', trainable_params: { '0': 3, '1': 3 }, summary });
    expect(Array.from(tree.trainableParams)).toEqual([3, 3, 0]);
  });

  it('decodes depth and children from parent columns', () => {
    const tree = new TreeState(payload(flatSpec(2)));
    expect(tree.nodes.map(n => n.depth)).toEqual([0, 1, 1]);
    expect(tree.node(0).children).toEqual([1, 2]);
  });

  it('rejects nodes out of order', () => {
    const p = payload(flatSpec(2));
    p.columns.parent[1] = 2; // a parent after its child
    expect(() => new TreeState(p)).toThrow(/pre-order/);
  });
});

describe('visible rows', () => {
  it('starts with the root and sub-models open, blocks closed', () => {
    const { tree, rows } = nested();
    expect(names(tree, rows.ids)).toEqual([
      'transfer',
      'input_layer',
      'backbone',
      'block_0',
      'block_1',
      'block_2',
      'classifier'
    ]);
    const r = rowOf(
      rows,
      tree.nodes.findIndex(n => n.name === 'block_1')
    );
    expect(rows.posInSet[r]).toBe(2);
    expect(rows.setSize[r]).toBe(3);
    expect(rows.setSize[0]).toBe(1);
  });

  it('expands and collapses, and finds the nearest visible ancestor', () => {
    const { tree, expansion } = nested();
    const b1 = tree.nodes.findIndex(n => n.name === 'block_1');
    expansion.set(b1, true);
    let rows = computeVisible(tree, expansion);
    expect(names(tree, rows.ids)).toContain('block_1_bn');
    expansion.set(2, false); // backbone
    rows = computeVisible(tree, expansion);
    expect(names(tree, rows.ids)).toEqual(['transfer', 'input_layer', 'backbone', 'classifier']);
    expect(tree.node(nearestVisible(tree, rows, b1 + 1)).name).toBe('backbone');
  });

  it('filters by name or class, case-insensitively, opening the ancestors of matches', () => {
    const { tree, expansion } = nested();
    expansion.setFilter(computeFilter(tree, 'BLOCK_1'));
    let rows = computeVisible(tree, expansion);
    // block_1 matches itself: it shows, closed, under its opened ancestors
    expect(names(tree, rows.ids)).toEqual(['transfer', 'backbone', 'block_1']);
    const b1 = tree.nodes.findIndex(n => n.name === 'block_1');
    expect(expansion.isExpanded(b1)).toBe(false);
    expansion.toggle(b1);
    rows = computeVisible(tree, expansion);
    expect(names(tree, rows.ids)).toEqual([
      'transfer',
      'backbone',
      'block_1',
      'block_1_conv',
      'block_1_bn',
      'block_1_relu'
    ]);

    expansion.setFilter(computeFilter(tree, 'batchnorm'));
    rows = computeVisible(tree, expansion);
    expect(names(tree, rows.ids)).toEqual([
      'transfer',
      'backbone',
      'block_0',
      'block_0_bn',
      'block_1',
      'block_1_bn',
      'block_2',
      'block_2_bn'
    ]);
    expansion.setFilter(computeFilter(tree, 'nothing-like-this'));
    expect(computeVisible(tree, expansion).ids.length).toBe(0);
    expansion.setFilter(computeFilter(tree, '  '));
    expect(expansion.filter).toBeNull();
  });
});

describe('shift-click ranges', () => {
  it('takes the visible rows between anchor and target, either direction, with the anchor value', () => {
    const tree = new TreeState(payload(flatSpec(8)));
    const rows = computeVisible(tree, new Expansion(tree));
    expect(names(tree, must(rangeIds(rows, 5, 2)))).toEqual(['d1', 'd2', 'd3', 'd4']);
    tree.state[2] = 0;
    expect(rangeMessage(tree, rows, 2, 5)).toEqual({ type: 'set', ids: [2, 3, 4, 5], value: false });
    tree.state[2] = 2; // mixed counts as true
    expect(rangeMessage(tree, rows, 2, 3)).toEqual({ type: 'set', ids: [2, 3], value: true });
  });

  it('gives nothing when the anchor is hidden', () => {
    const { tree, rows } = nested();
    const hidden = tree.nodes.findIndex(n => n.name === 'block_0_bn');
    expect(rangeIds(rows, hidden, 0)).toBeNull();
  });
});

describe('freeze boundary', () => {
  it('counts the leading frozen leaves and draws above the row holding leaf b', () => {
    const p = payload({
      ...flatSpec(8),
      children: must(flatSpec(8).children).map((c, i) => ({ ...c, state: i < 3 ? 0 : 1 }))
    });
    const tree = new TreeState(p);
    const rows = computeVisible(tree, new Expansion(tree));
    expect(leadingFrozenLeaves(tree)).toBe(3);
    expect(boundaryGap(tree, rows)).toBe(4); // above d3 (row 4: root is row 0)
    expect(boundaryMessage(rows, 4)).toEqual({ type: 'boundary', id: 4 });
    expect(boundaryMessage(rows, rows.ids.length)).toEqual({ type: 'freeze_all' });
  });

  it('uses the nearest visible collapsed ancestor, and the bottom when all is frozen', () => {
    const { tree, rows } = nested();
    for (const name of ['input_layer', 'block_0_conv', 'block_0_bn', 'block_0_relu', 'block_1_conv']) {
      tree.state[tree.nodes.findIndex(n => n.name === name)] = 0;
    }
    expect(leadingFrozenLeaves(tree)).toBe(5);
    expect(names(tree, [idAt(rows, boundaryGap(tree, rows))])).toEqual(['block_1']);
    for (const leaf of tree.leaves) tree.state[leaf] = 0;
    expect(boundaryGap(tree, rows)).toBe(rows.ids.length);
  });

  it('treats frozen BatchNorm leaves right above b as the same boundary', () => {
    const { tree } = nested();
    for (const name of ['input_layer', 'block_0_conv', 'block_0_bn'])
      tree.state[tree.nodes.findIndex(n => n.name === name)] = 0;
    expect(equivalentBoundaries(tree, true)).toEqual([2, 3]);
    expect(equivalentBoundaries(tree, false)).toEqual([3, 3]);
  });

  it('snaps to the nearest gap within range', () => {
    expect(snapToGap(4 * 26 + 2, 26, 8)).toBe(4);
    expect(snapToGap(4 * 26 + 14, 26, 8)).toBe(5);
    expect(snapToGap(-50, 26, 8)).toBe(0);
    expect(snapToGap(10_000, 26, 8)).toBe(8);
  });
});

describe('keyboard', () => {
  it('moves, expands, collapses, toggles', () => {
    const { tree, expansion, rows } = nested();
    const act = (key: string, row: number) => keyAction(key, row, tree, rows, expansion);
    expect(act('ArrowDown', 0)).toEqual({ type: 'focus', row: 1 });
    expect(act('ArrowDown', rows.ids.length - 1)).toEqual({ type: 'focus', row: rows.ids.length - 1 });
    expect(act('ArrowUp', 0)).toEqual({ type: 'focus', row: 0 });
    expect(act('Home', 4)).toEqual({ type: 'focus', row: 0 });
    expect(act('End', 0)).toEqual({ type: 'focus', row: rows.ids.length - 1 });
    const block0 = rows.ids[3];
    expect(act('ArrowRight', 3)).toEqual({ type: 'expand', id: block0 });
    expect(act('ArrowRight', 2)).toEqual({ type: 'focus', row: 3 }); // backbone open: first child
    expect(act('ArrowLeft', 2)).toEqual({ type: 'collapse', id: rows.ids[2] });
    expect(act('ArrowLeft', 3)).toEqual({ type: 'focus', row: 2 }); // closed block: parent
    expect(act('Enter', 3)).toEqual({ type: 'toggleExpand', id: block0 });
    expect(act('Enter', 1)).toBeNull(); // a layer has nothing to expand
    expect(act(' ', 1)).toEqual({ type: 'toggle', id: rows.ids[1] });
    expect(act('x', 1)).toBeNull();
  });
});

describe('format', () => {
  it('formats numbers, summary, classes and aria-checked', () => {
    expect(formatInt(2257984)).toBe('2,257,984');
    expect(formatInt(0)).toBe('0');
    expect(summaryText({ total: 2292096, trainable: 2257984, non_trainable: 34112 })).toBe(
      'Trainable 2,257,984 (98.5%) · Frozen 34,112 · Total 2,292,096'
    );
    const { tree } = nested();
    expect(
      classLabel(
        tree,
        tree.nodes.findIndex(n => n.name === 'block_0')
      )
    ).toBe('Block · 3 layers');
    expect(classLabel(tree, 1)).toBe('InputLayer');
    expect([0, 1, 2].map(ariaChecked)).toEqual(['false', 'true', 'mixed']);
  });
});
