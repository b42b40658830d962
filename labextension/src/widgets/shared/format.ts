/** Number formatting shared by the widget views. Pure. */

/** 1234567 -> "1,234,567" (rounded, sign kept). */
export function formatInt(n: number): string {
  const s = Math.round(Math.abs(n))
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}

/**
 * A learning rate in a form that keeps its exponent, as Python's `format(lr, '.3g')`
 * writes it (`transfer_widgets.monitor.format_learning_rate`): 3.0538555e-8 ->
 * "3.05e-08", 0.001 -> "0.001", 1e-5 -> "1e-05", 0.0003 -> "0.0003". `digits`
 * significant digits, trailing zeros dropped. Plain `String()` gives
 * "3.0538555088e-8", which a narrow field cuts to "3.05385550" (read as 3.05).
 */
export function formatLearningRate(lr: number, digits = 3): string {
  if (Number.isNaN(lr)) return 'nan';
  if (!Number.isFinite(lr)) return lr > 0 ? 'inf' : '-inf';
  if (lr === 0) return '0';
  const p = Math.min(17, Math.max(1, Math.floor(digits)));
  const [mantissa = '', exp = '0'] = lr.toExponential(p - 1).split('e');
  const e = Number(exp);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (e < -4 || e >= p) {
    const sign = e < 0 ? '-' : '+';
    return `${trim(mantissa)}e${sign}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return trim(lr.toFixed(p - 1 - e));
}
