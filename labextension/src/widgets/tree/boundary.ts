/**
 * The freeze boundary: "everything above this line is frozen". Pure data.
 *
 * b = the number of leaves, at the start of the leaf order, that are frozen.
 * It is drawn as a gap index between visible rows: above the row that holds leaf
 * b (the leaf's own row or its nearest visible collapsed ancestor), or below the
 * last row when every leaf is frozen.
 */
import { at } from '../shared/array';
import type { TreeState } from './state';
import { FlagCode, type ViewMessage } from './types';
import { idAt, rowOf, type VisibleRows } from './visible';

export function leadingFrozenLeaves(tree: TreeState): number {
  let b = 0;
  for (const leaf of tree.leaves) {
    if (tree.state[leaf] !== FlagCode.FROZEN) break;
    b++;
  }
  return b;
}

/**
 * Leaf positions the kernel state cannot tell apart from b: with BatchNorm kept
 * frozen, moving the boundary onto frozen BatchNorm leaves that sit right
 * before leaf b yields the same flags. Returns [lo, b].
 */
export function equivalentBoundaries(tree: TreeState, keepBnFrozen: boolean): [number, number] {
  const b = leadingFrozenLeaves(tree);
  let lo = b;
  if (keepBnFrozen) while (lo > 0 && tree.node(at(tree.leaves, lo - 1, 'leaf')).bn) lo--;
  return [lo, b];
}

/** Gap index (0..rows) for leaf position `b`. */
export function gapForLeaf(tree: TreeState, rows: VisibleRows, b: number): number {
  if (b >= tree.leaves.length) return rows.ids.length;
  let cur = at(tree.leaves, b, 'leaf');
  while (cur >= 0 && rowOf(rows, cur) < 0) cur = tree.node(cur).parent;
  return cur < 0 ? 0 : rowOf(rows, cur);
}

/**
 * Where to draw the boundary. `preferredLeaf` is the leaf position this view
 * last asked for: shown when the kernel state is consistent with it.
 */
export function boundaryGap(
  tree: TreeState,
  rows: VisibleRows,
  keepBnFrozen = false,
  preferredLeaf: number | null = null
): number {
  const [lo, b] = equivalentBoundaries(tree, keepBnFrozen);
  const leaf = preferredLeaf !== null && preferredLeaf >= lo && preferredLeaf <= b ? preferredLeaf : b;
  return gapForLeaf(tree, rows, leaf);
}

/** The message that drops the boundary at `gap`. */
export function boundaryMessage(rows: VisibleRows, gap: number): ViewMessage {
  if (gap >= rows.ids.length) return { type: 'freeze_all' };
  return { type: 'boundary', id: idAt(rows, Math.max(0, gap)) };
}

/** Leaf position a drop at `gap` asks for (for `preferredLeaf`). */
export function leafForGap(tree: TreeState, rows: VisibleRows, gap: number): number {
  if (gap >= rows.ids.length) return tree.leaves.length;
  return tree.firstLeafPosition(idAt(rows, Math.max(0, gap)));
}

/** Snap a y offset (px, from the top of the rows) to the nearest row gap. */
export function snapToGap(y: number, rowHeight: number, rowCount: number): number {
  return Math.max(0, Math.min(rowCount, Math.round(y / rowHeight)));
}
