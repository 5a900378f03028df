/**
 * The float64 Gaussian kernels of rows with every entry observed, written as
 * flat loops (the rows with missing entries go through the Gaussian
 * mixture's `hostChunks`, which computes the same quantities per
 * missingness pattern): per component the inverse Cholesky factor L⁻¹ once,
 * then per row δ = ‖L⁻¹(x − μ)‖² (D(D + 1)/2 multiply-adds) for the table,
 * and moments about the component mean for the statistics. Tests check both
 * against `hostChunks` to rounding.
 * @module
 */
import { cholesky, invertLower, logDetFromCholesky, type FloatArray } from '@emlab/core';
import type { GmmStats } from '../../gmm/gmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Per-component factors of Gaussian components in centred coordinates. */
export interface GaussianFactors {
  readonly k: number;
  readonly d: number;
  /** Lower L_k⁻¹ per component, `[K·D·D]` row-major. */
  readonly linv: Float64Array;
  /** −D/2 log 2π − ½ log|Σ_k|, `[K]`. */
  readonly constant: Float64Array;
  /** μ_k − offset, `[K·D]`. */
  readonly centredMeans: Float64Array;
  /** μ_k in original units, `[K·D]` (the statistics' reference points). */
  readonly means: Float64Array;
}

/**
 * Factors of K components (means `[K][D]`, covariances `[K][D][D]`), or null
 * when a covariance is not positive definite.
 */
export function gaussianFactors(means: readonly (readonly number[])[], covariances: readonly (readonly (readonly number[])[])[], offset: Float64Array): GaussianFactors | null {
  const k = means.length;
  const d = offset.length;
  const linv = new Float64Array(k * d * d);
  const constant = new Float64Array(k);
  const centredMeans = new Float64Array(k * d);
  const mu = new Float64Array(k * d);
  const S = new Float64Array(d * d);
  for (let c = 0; c < k; c++) {
    const cov = covariances[c] as readonly (readonly number[])[];
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) S[i * d + j] = (cov[i] as readonly number[])[j] as number;
    const L = cholesky(S, d);
    if (L === null) return null;
    linv.set(invertLower(L, d), c * d * d);
    constant[c] = -0.5 * d * LOG_2PI - 0.5 * logDetFromCholesky(L, d);
    const m = means[c] as readonly number[];
    for (let j = 0; j < d; j++) {
      mu[c * d + j] = m[j] as number;
      centredMeans[c * d + j] = (m[j] as number) - (offset[j] as number);
    }
  }
  return { k, d, linv, constant, centredMeans, means: mu };
}

/**
 * Adds log N(x_n | μ_k, Σ_k) of rows `start … start + rows − 1` of the centred
 * rows `x` (`[N × D]`) into `out[(outRow + i)·K + k]`.
 */
export function addLogDensity(f: GaussianFactors, x: Float64Array, start: number, rows: number, out: Float64Array, outRow: number): void {
  const { k: K, d, linv, constant, centredMeans } = f;
  const u = new Float64Array(d);
  for (let c = 0; c < K; c++) {
    const lb = c * d * d;
    const mb = c * d;
    const cst = constant[c] as number;
    for (let i = 0; i < rows; i++) {
      const xb = (start + i) * d;
      for (let j = 0; j < d; j++) u[j] = (x[xb + j] as number) - (centredMeans[mb + j] as number);
      let ss = 0;
      for (let a = 0; a < d; a++) {
        const row = lb + a * d;
        let v = 0;
        for (let j = 0; j <= a; j++) v += (linv[row + j] as number) * (u[j] as number);
        ss += v * v;
      }
      const o = (outRow + i) * K + c;
      out[o] = (out[o] as number) + cst - 0.5 * ss;
    }
  }
}

/**
 * Adds the weighted moments of rows `start … start + rows − 1` about each
 * component's mean into `stats` (whose `ref` must be the means): n_k += Σ w,
 * s1_k += Σ w (x − μ_k), s2_k += Σ w (x − μ_k)(x − μ_k)ᵀ, with
 * w = `weights[(wRow + i)·K + k]`. Call {@link mirrorUpper} once at the end.
 */
export function addMoments(f: GaussianFactors, x: Float64Array, start: number, rows: number, weights: FloatArray, wRow: number, stats: GmmStats): void {
  const { k: K, d, centredMeans } = f;
  const { n, s1, s2 } = stats;
  const u = new Float64Array(d);
  for (let c = 0; c < K; c++) {
    const mb = c * d;
    const sb = c * d * d;
    let nc = 0;
    for (let i = 0; i < rows; i++) {
      const w = weights[(wRow + i) * K + c] as number;
      if (w === 0) continue;
      nc += w;
      const xb = (start + i) * d;
      for (let j = 0; j < d; j++) u[j] = (x[xb + j] as number) - (centredMeans[mb + j] as number);
      for (let a = 0; a < d; a++) {
        const wa = w * (u[a] as number);
        s1[mb + a] = (s1[mb + a] as number) + wa;
        const row = sb + a * d;
        for (let j = a; j < d; j++) s2[row + j] = (s2[row + j] as number) + wa * (u[j] as number);
      }
    }
    n[c] = (n[c] as number) + nc;
  }
}

/** Copies the upper triangle of every s2_k to its lower triangle. */
export function mirrorUpper(stats: GmmStats): void {
  const { k, d, s2 } = stats;
  for (let c = 0; c < k; c++) for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) s2[c * d * d + a * d + b] = s2[c * d * d + b * d + a] as number;
}
