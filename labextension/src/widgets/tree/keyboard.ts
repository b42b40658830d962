/** Keyboard navigation of the tree (WAI-ARIA tree pattern). Pure data. */
import type { TreeState } from './state';
import { type Expansion, idAt, rowOf, type VisibleRows } from './visible';

export type KeyAction =
  | { type: 'focus'; row: number }
  | { type: 'expand'; id: number }
  | { type: 'collapse'; id: number }
  | { type: 'toggleExpand'; id: number }
  | { type: 'toggle'; id: number };

export const PAGE_ROWS = 10;

/** What `key` does on visible row `row`; null when the key is not ours. */
export function keyAction(
  key: string,
  row: number,
  tree: TreeState,
  rows: VisibleRows,
  expansion: Expansion,
  pageRows = PAGE_ROWS
): KeyAction | null {
  const count = rows.ids.length;
  if (count === 0) return null;
  const r = Math.max(0, Math.min(count - 1, row));
  const id = idAt(rows, r);
  const container = tree.isContainer(id);
  switch (key) {
    case 'ArrowDown':
      return { type: 'focus', row: Math.min(count - 1, r + 1) };
    case 'ArrowUp':
      return { type: 'focus', row: Math.max(0, r - 1) };
    case 'Home':
      return { type: 'focus', row: 0 };
    case 'End':
      return { type: 'focus', row: count - 1 };
    case 'PageDown':
      return { type: 'focus', row: Math.min(count - 1, r + pageRows) };
    case 'PageUp':
      return { type: 'focus', row: Math.max(0, r - pageRows) };
    case 'ArrowRight':
      if (!container) return null;
      if (!expansion.isExpanded(id)) return { type: 'expand', id };
      if (r + 1 < count && tree.node(idAt(rows, r + 1)).parent === id) return { type: 'focus', row: r + 1 };
      return null;
    case 'ArrowLeft': {
      if (container && expansion.isExpanded(id)) return { type: 'collapse', id };
      const p = tree.node(id).parent;
      const parentRow = p >= 0 ? rowOf(rows, p) : -1;
      return parentRow >= 0 ? { type: 'focus', row: parentRow } : null;
    }
    case 'Enter':
      return container ? { type: 'toggleExpand', id } : null;
    case ' ':
    case 'Spacebar':
      return { type: 'toggle', id };
    default:
      return null;
  }
}
