/**
 * Which rows are visible: expansion state, the filter, and the flattened list of
 * visible rows with their ARIA position data. Pure data, no DOM.
 */
import { at } from '../shared/array';
import type { TreeState } from './state';

/** Initial expansion: the root and every (nested) sub-model open, blocks closed. */
export function initialExpansion(tree: TreeState): Uint8Array {
  const expanded = new Uint8Array(tree.size);
  tree.nodes.forEach((n, i) => {
    if (n.children.length && (i === 0 || n.kind === 'model')) expanded[i] = 1;
  });
  return expanded;
}

export interface FilterInfo {
  query: string;
  /** The node itself matches (name or class, case-insensitive). */
  match: Uint8Array;
  /** Some descendant matches. */
  hasMatch: Uint8Array;
  /** Some ancestor matches (the node is inside a matching subtree). */
  inMatch: Uint8Array;
}

export function computeFilter(tree: TreeState, query: string): FilterInfo | null {
  const q = query.trim().toLowerCase();
  if (!q) return null;
  const n = tree.size;
  const match = new Uint8Array(n);
  const hasMatch = new Uint8Array(n);
  const inMatch = new Uint8Array(n);
  for (const node of tree.nodes) {
    if (node.name.toLowerCase().includes(q) || node.cls.toLowerCase().includes(q)) match[node.id] = 1;
  }
  for (let i = n - 1; i > 0; i--) {
    const p = tree.node(i).parent;
    if (p >= 0 && (match[i] || hasMatch[i])) hasMatch[p] = 1;
  }
  for (const { id, parent: p } of tree.nodes) {
    if (p >= 0 && (inMatch[p] || match[p])) inMatch[id] = 1;
  }
  return { query: q, match, hasMatch, inMatch };
}

/**
 * Expansion as the user sees it. Without a filter it is `expanded`; with one,
 * the ancestors of matches open by themselves (unless the node matches itself,
 * which keeps its own state), and what the user toggles while filtering is kept
 * in `overrides` (cleared when the filter changes).
 */
export class Expansion {
  expanded: Uint8Array;
  filter: FilterInfo | null = null;
  overrides = new Map<number, boolean>();

  constructor(
    private tree: TreeState,
    expanded?: Uint8Array
  ) {
    this.expanded = expanded ?? initialExpansion(tree);
  }

  setFilter(filter: FilterInfo | null): void {
    this.filter = filter;
    this.overrides.clear();
  }

  isExpanded(id: number): boolean {
    if (!this.tree.isContainer(id)) return false;
    const f = this.filter;
    if (f) {
      const o = this.overrides.get(id);
      if (o !== undefined) return o;
      if (!f.match[id] && f.hasMatch[id]) return true;
    }
    return this.expanded[id] === 1;
  }

  set(id: number, open: boolean): void {
    if (!this.tree.isContainer(id)) return;
    if (this.filter) this.overrides.set(id, open);
    else this.expanded[id] = open ? 1 : 0;
  }

  toggle(id: number): void {
    this.set(id, !this.isExpanded(id));
  }

  /** Expand (or collapse) every container; collapsing keeps the root open. */
  setAll(open: boolean): void {
    this.overrides.clear();
    for (let i = 0; i < this.tree.size; i++) {
      if (this.tree.isContainer(i)) this.expanded[i] = open || i === 0 ? 1 : 0;
    }
    if (this.filter && !open) {
      for (let i = 1; i < this.tree.size; i++) if (this.tree.isContainer(i)) this.overrides.set(i, false);
    }
    if (this.filter && open) {
      for (let i = 0; i < this.tree.size; i++) if (this.tree.isContainer(i)) this.overrides.set(i, true);
    }
  }
}

export interface VisibleRows {
  /** Node ids in visible (pre-)order. */
  ids: Int32Array;
  /** `rowOf[id]`: visible index of node id, or -1. */
  rowOf: Int32Array;
  /** Per visible row: 1-based position among its visible siblings, and their number. */
  posInSet: Int32Array;
  setSize: Int32Array;
}

export function isVisibleUnderFilter(f: FilterInfo, id: number): boolean {
  return f.match[id] === 1 || f.hasMatch[id] === 1 || f.inMatch[id] === 1;
}

export function computeVisible(tree: TreeState, expansion: Expansion): VisibleRows {
  const n = tree.size;
  const ids: number[] = [];
  const rowOf = new Int32Array(n).fill(-1);
  const f = expansion.filter;
  let i = 0;
  while (i < n) {
    if (f && !isVisibleUnderFilter(f, i)) {
      i = tree.endOf(i) + 1;
      continue;
    }
    rowOf[i] = ids.length;
    ids.push(i);
    i = expansion.isExpanded(i) ? i + 1 : tree.endOf(i) + 1;
  }
  const parents = ids.map(id => tree.node(id).parent);
  const count = new Map<number, number>();
  const posInSet = new Int32Array(ids.length);
  parents.forEach((p, r) => {
    const c = (count.get(p) ?? 0) + 1;
    count.set(p, c);
    posInSet[r] = c;
  });
  const setSize = Int32Array.from(parents, p => count.get(p) ?? 1);
  return { ids: Int32Array.from(ids), rowOf, posInSet, setSize };
}

/** Visible index of node `id`: -1 when it is hidden (or no node of this tree). */
export function rowOf(rows: VisibleRows, id: number): number {
  return rows.rowOf[id] ?? -1;
}

/** Node id on visible row `row`, which must be below `rows.ids.length`. */
export function idAt(rows: VisibleRows, row: number): number {
  return at(rows.ids, row, 'visible row');
}

/** The nearest visible node at or above `id` (for focus after a collapse), or -1. */
export function nearestVisible(tree: TreeState, rows: VisibleRows, id: number): number {
  let cur = id < tree.size ? id : -1;
  while (cur >= 0 && rowOf(rows, cur) < 0) cur = tree.node(cur).parent;
  return cur;
}
