/** Reordering rows by drag and by keyboard (pure). */

/** The gap (0..n) nearest to pointer y, given each row's [top, bottom]. */
export function gapAt(rows: [number, number][], y: number): number {
  const i = rows.findIndex(([top, bottom]) => y < (top + bottom) / 2);
  return i < 0 ? rows.length : i;
}

/** The final index of row `from` dropped into gap `gap`; null when it would not move. */
export function moveTarget(from: number, gap: number, length: number): number | null {
  if (from < 0 || from >= length) return null;
  const to = gap > from ? gap - 1 : gap;
  const clamped = Math.max(0, Math.min(length - 1, to));
  return clamped === from ? null : clamped;
}

/** Move up / down by keyboard; null at the ends. */
export function stepTarget(from: number, delta: -1 | 1, length: number): number | null {
  const to = from + delta;
  return to < 0 || to >= length ? null : to;
}
