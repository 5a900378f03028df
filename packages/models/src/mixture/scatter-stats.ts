/**
 * Weighted sufficient statistics of a Gaussian mixture's components in
 * float64: counts n_k = Σ_n w_nk, means, and scatter matrices
 * W_k = Σ_n w_nk (x_n − mean_k)(x_n − mean_k)ᵀ, the input of
 * `covarianceMStep`.
 * @module
 */
import { emError, integerOption } from '@emlab/core';

/**
 * What a covariance M-step reads: counts and scatter matrices per component.
 * @category Mixture covariance models
 */
export interface CovarianceStats {
  /** K, the number of components. */
  readonly nComponents: number;
  /** D, the data dimension. */
  readonly dim: number;
  /** n_k = Σ_n w_nk, `[K]`. */
  readonly counts: Float64Array;
  /** W_k = Σ_n w_nk (x_n − mean_k)(x_n − mean_k)ᵀ, `[K, D, D]` row-major (symmetric, positive semi-definite). */
  readonly scatters: Float64Array;
}

/**
 * {@link CovarianceStats} with the component means.
 * @category Mixture covariance models
 */
export interface ScatterStats extends CovarianceStats {
  /** mean_k = Σ_n w_nk x_n / n_k, `[K, D]` (0 where n_k = 0). */
  readonly means: Float64Array;
}

/**
 * Weighted counts, means and scatter matrices from data and responsibilities, in two float64 passes.
 *
 * The scatter is accumulated about the component mean (second pass), not as
 * Σ w x xᵀ − n mean meanᵀ, so no precision is lost to cancellation.
 *
 * @param data Rows, `[nRows, dim]` row-major.
 * @param resp Weights w_nk ≥ 0 (responsibilities), `[nRows, nComponents]` row-major.
 * @throws `INVALID_ARGUMENT` on a size mismatch; `INVALID_DATA` on a non-finite entry or a negative weight.
 * @example
 * ```ts
 * const stats = weightedScatterStats(x, 100, 2, z, 3);
 * const m = covarianceMStep('VVV', stats);
 * ```
 * @category Mixture covariance models
 */
export function weightedScatterStats(data: Float64Array, nRows: number, dim: number, resp: Float64Array, nComponents: number): ScatterStats {
  integerOption(nRows, ['nRows'], 0);
  integerOption(dim, ['dim'], 1);
  integerOption(nComponents, ['nComponents'], 1);
  if (!(data instanceof Float64Array) || data.length !== nRows * dim) {
    throw emError('INVALID_ARGUMENT', ['data'], data, `must be a Float64Array of length nRows * dim = ${nRows * dim}`, 'pass the rows as one row-major Float64Array');
  }
  if (!(resp instanceof Float64Array) || resp.length !== nRows * nComponents) {
    throw emError('INVALID_ARGUMENT', ['resp'], resp, `must be a Float64Array of length nRows * nComponents = ${nRows * nComponents}`, 'pass the weights as one row-major [nRows, nComponents] Float64Array');
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw emError('INVALID_DATA', ['data', Math.floor(i / dim), i % dim], data[i], 'must be finite', 'remove or impute non-finite entries first');
  }
  for (let i = 0; i < resp.length; i++) {
    const w = resp[i]!;
    if (!Number.isFinite(w) || w < 0) throw emError('INVALID_DATA', ['resp', Math.floor(i / nComponents), i % nComponents], w, 'must be a finite number >= 0', 'pass non-negative responsibilities');
  }
  const K = nComponents;
  const D = dim;
  const counts = new Float64Array(K);
  const means = new Float64Array(K * D);
  const scatters = new Float64Array(K * D * D);
  for (let n = 0; n < nRows; n++) {
    for (let k = 0; k < K; k++) {
      const w = resp[n * K + k]!;
      if (w === 0) continue;
      counts[k] = counts[k]! + w;
      for (let i = 0; i < D; i++) means[k * D + i] = means[k * D + i]! + w * data[n * D + i]!;
    }
  }
  for (let k = 0; k < K; k++) {
    const c = counts[k]!;
    for (let i = 0; i < D; i++) means[k * D + i] = c > 0 ? means[k * D + i]! / c : 0;
  }
  const r = new Float64Array(D);
  for (let n = 0; n < nRows; n++) {
    for (let k = 0; k < K; k++) {
      const w = resp[n * K + k]!;
      if (w === 0) continue;
      for (let i = 0; i < D; i++) r[i] = data[n * D + i]! - means[k * D + i]!;
      const base = k * D * D;
      for (let i = 0; i < D; i++) {
        const wi = w * r[i]!;
        for (let j = 0; j <= i; j++) scatters[base + i * D + j] = scatters[base + i * D + j]! + wi * r[j]!;
      }
    }
  }
  for (let k = 0; k < K; k++) {
    const base = k * D * D;
    for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) scatters[base + j * D + i] = scatters[base + i * D + j]!;
  }
  return { nComponents: K, dim: D, counts, means, scatters };
}
