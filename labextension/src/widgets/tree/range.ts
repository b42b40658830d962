/** Shift-click ranges over the visible rows. Pure data. */
import type { TreeState } from './state';
import type { ViewMessage } from './types';
import type { VisibleRows } from './visible';

/** Ids of the visible rows from `anchor` to `target` inclusive, in visible order; null if either is hidden. */
export function rangeIds(rows: VisibleRows, anchor: number, target: number): number[] | null {
  const a = rows.rowOf[anchor];
  const b = rows.rowOf[target];
  if (a === undefined || b === undefined || a < 0 || b < 0) return null;
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  return Array.from(rows.ids.subarray(lo, hi + 1));
}

/** The `set` message for a shift-click: every row in the range takes the anchor's value (mixed = true). */
export function rangeMessage(tree: TreeState, rows: VisibleRows, anchor: number, target: number): ViewMessage | null {
  const ids = rangeIds(rows, anchor, target);
  if (!ids) return null;
  return { type: 'set', ids, value: tree.isOn(anchor) };
}
