/** Number formatting shared by the widget views. Pure. */

/** 1234567 -> "1,234,567" (rounded, sign kept). */
export function formatInt(n: number): string {
  const s = Math.round(Math.abs(n))
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}
