/**
 * Small float64 helpers shared by the mixture families: nested ↔ flat
 * arrays, parameter-shape checks that name the offending entry, weighted
 * column summaries.
 * @module
 */
import { cholesky, emError, inverseFromCholesky, solveLower } from '@emlab/core';

type Path = readonly (string | number)[];

/**
 * Σ_k n_k tr(Σ_k) tr(Σ_k⁻¹) / d (as the Gaussian mixture's): how much rounding in log-densities
 * with covariances `covs` `[K][D][D]` is magnified (the condition of each Σ_k, weighted by its
 * rows), plus Σ_k n_k δ_kᵀ Σ_k⁻¹ δ_k when `centring` gives the means and the statistics' reference
 * points `[K·D]` (δ_k = μ_k − reference: see the Gaussian mixture's `gmmRoundoffScale`). Infinity
 * when a covariance is not positive definite.
 */
export function covarianceRoundoffScale(n: ArrayLike<number>, covs: readonly (readonly (readonly number[])[])[], centring?: { readonly means: readonly (readonly number[])[]; readonly ref: ArrayLike<number> }): number {
  let scale = 0;
  covs.forEach((cov, k) => {
    const d = cov.length;
    const flat = new Float64Array(d * d);
    let tr = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) flat[i * d + j] = (cov[i] as number[])[j] as number;
      tr += flat[i * d + i] as number;
    }
    const L = cholesky(flat, d);
    if (L === null) {
      scale = Number.POSITIVE_INFINITY;
      return;
    }
    const inv = inverseFromCholesky(L, d);
    let trInv = 0;
    for (let i = 0; i < d; i++) trInv += inv[i * d + i] as number;
    // The re-centring of the statistics at μ_k cancels terms of size n δᵀΣ⁻¹δ (δ = μ_k − reference).
    let maha = 0;
    if (centring !== undefined) {
      const mu = centring.means[k] as readonly number[];
      const shift = Float64Array.from({ length: d }, (_, i) => (mu[i] as number) - (centring.ref[k * d + i] as number));
      for (const v of solveLower(L, d, shift)) maha += v * v;
    }
    scale += (n[k] as number) * ((tr * trInv) / d + maha);
  });
  return scale;
}

/** `[K][D][D]` → row-major `[K·D·D]`. */
export function flatMatrices(m: readonly (readonly (readonly number[])[])[], d: number): Float64Array {
  const out = new Float64Array(m.length * d * d);
  m.forEach((mat, k) => mat.forEach((row, i) => row.forEach((v, j) => (out[k * d * d + i * d + j] = v))));
  return out;
}

/** Row-major `[K·D·D]` → `[K][D][D]`. */
export function nestedMatrices(flat: ArrayLike<number>, k: number, d: number): number[][][] {
  return Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => flat[c * d * d + i * d + j] as number)));
}

/** Row-major `[K·D]` → `[K][D]`. */
export function nestedRows(flat: ArrayLike<number>, k: number, d: number): number[][] {
  return Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => flat[c * d + j] as number));
}

/** Throws `INVALID_PARAMS` at `path` with `problem` and `remedy`. */
export function badParams(path: Path, value: unknown, problem: string, remedy: string): never {
  throw emError('INVALID_PARAMS', path, value, problem, remedy);
}

/**
 * Checks a nested array of finite numbers with the given shape (each entry
 * within `check`, if given); returns it typed.
 */
export function checkNumbers(value: unknown, shape: readonly number[], path: Path, what: string, check?: (v: number) => string | undefined): unknown {
  const walk = (v: unknown, depth: number, p: Path): void => {
    const len = shape[depth];
    if (len === undefined) {
      if (typeof v !== 'number' || !Number.isFinite(v)) badParams(p, v, 'must be a finite number', `fix ${what}`);
      const problem = check?.(v as number);
      if (problem !== undefined) badParams(p, v, problem, `fix ${what}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== len) badParams(p, v, `must be an array of ${len} entries`, `pass ${what} with shape [${shape.join('][')}]`);
    (v as unknown[]).forEach((x, i) => walk(x, depth + 1, [...p, i]));
  };
  walk(value, 0, path);
  return value;
}

/** Weighted column means and variances over observed (non-NaN) entries, `[c]` each, float64. */
export function columnMoments(values: Float64Array, rows: number, c: number, weights: Float64Array | undefined): { mean: Float64Array; variance: Float64Array; seen: Float64Array } {
  const mean = new Float64Array(c);
  const seen = new Float64Array(c);
  for (let r = 0; r < rows; r++) {
    const w = weights === undefined ? 1 : (weights[r] as number);
    if (w === 0) continue;
    for (let j = 0; j < c; j++) {
      const v = values[r * c + j] as number;
      if (Number.isNaN(v)) continue;
      mean[j] = (mean[j] as number) + w * v;
      seen[j] = (seen[j] as number) + w;
    }
  }
  for (let j = 0; j < c; j++) mean[j] = (seen[j] as number) > 0 ? (mean[j] as number) / (seen[j] as number) : 0;
  const variance = new Float64Array(c);
  for (let r = 0; r < rows; r++) {
    const w = weights === undefined ? 1 : (weights[r] as number);
    if (w === 0) continue;
    for (let j = 0; j < c; j++) {
      const v = values[r * c + j] as number;
      if (Number.isNaN(v)) continue;
      const e = v - (mean[j] as number);
      variance[j] = (variance[j] as number) + (w * e * e) / (seen[j] as number);
    }
  }
  return { mean, variance, seen };
}

/** Applies a component permutation to an array of per-component entries. */
export function permuted<T>(items: readonly T[], order: readonly number[]): T[] {
  return order.map((k) => items[k] as T);
}

