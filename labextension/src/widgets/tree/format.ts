/** Text shown in rows and the summary. Pure. */
import { formatInt } from '../shared/format';
import type { TreeState } from './state';
import { FlagCode, type Summary } from './types';

export { formatInt };

export function percent(part: number, total: number): string {
  return total > 0 ? `${((100 * part) / total).toFixed(1)}%` : '0.0%';
}

/** "Trainable 2,257,984 (98.5%) · Frozen 34,112 · Total 2,292,096" */
export function summaryText(s: Summary): string {
  return `Trainable ${formatInt(s.trainable)} (${percent(s.trainable, s.total)}) · Frozen ${formatInt(
    s.non_trainable
  )} · Total ${formatInt(s.total)}`;
}

/** The class column: blocks read "Block · 9 layers". */
export function classLabel(tree: TreeState, id: number): string {
  const node = tree.node(id);
  if (node.kind === 'block') {
    const n = tree.leafCount[id] ?? 0;
    return `Block · ${formatInt(n)} ${n === 1 ? 'layer' : 'layers'}`;
  }
  return node.cls;
}

export function ariaChecked(state: number): 'true' | 'false' | 'mixed' {
  return state === FlagCode.MIXED ? 'mixed' : state === FlagCode.FROZEN ? 'false' : 'true';
}
