/**
 * Numbers for people: bounds and log-likelihoods with 12 significant digits
 * (float64 resolves about 16; 12 show every digit a converged fit changes),
 * parameters with 10, and sizes.
 * @module
 */

/** `x` with `digits` significant digits (no exponent between 1e-4 and 1e15), `—` for null. */
export function sig(x: number | null | undefined, digits = 12): string {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e15) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1).replace(/\.?0+e/, 'e');
}

