/**
 * Small float64 vector helpers for the accelerators (no allocation surprises, no mutation of inputs).
 *
 * @module
 * @internal
 */

/** a − b. */
export function sub(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}

/** Σ a_i b_i. */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** x + Σ_k coefs[k] · dirs[k] as a fresh array. */
export function combine(x: Float64Array, coefs: readonly number[], dirs: readonly Float64Array[]): Float64Array {
  const out = Float64Array.from(x);
  for (let k = 0; k < dirs.length; k++) {
    const c = coefs[k]!;
    if (c === 0) continue;
    const d = dirs[k]!;
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + c * d[i]!;
  }
  return out;
}

/** True when a and b are equal element by element. */
export function sameVector(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
