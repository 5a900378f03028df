/**
 * Weighted statistics (N_k, x̄_k, S_k) of the data under q(z), as
 * scikit-learn's `_estimate_gaussian_parameters`.
 * @module
 */
import { emError } from '@emlab/core';
import { checkMatrix, checkResp } from './vb-check.js';
import type { VbMatrix, VbStats } from './vb-types.js';

/** scikit-learn adds 10·eps (eps = 2⁻⁵², numpy's float64 `finfo.eps`) to every N_k. */
export const VB_EMPTY_GUARD = 10 * Number.EPSILON;

/**
 * N_k = Σ_n r_nk + 10ε, x̄_k = Σ_n r_nk x_n / N_k and S_k = Σ_n r_nk (x_n − x̄_k)(x_n − x̄_k)ᵀ / N_k + regCovar·I.
 *
 * The full S_k is returned for every covariance type; `vbUpdate` pools (tied),
 * takes the diagonal (diag) or the mean diagonal (spherical), which is what
 * scikit-learn's type-specific estimators compute (up to rounding: scikit-learn
 * forms the diag, spherical and tied ones from uncentred moments, this
 * function always centres).
 *
 * @param x Data `[N, D]`.
 * @param resp Responsibilities r_nk = q(z_n = k), `[N, K]` row-major.
 * @param nComponents K.
 * @param regCovar Added to the diagonal of every S_k (scikit-learn's `reg_covar`, default 1e-6).
 * @throws EmError `INVALID_DATA` for bad data; `INVALID_ARGUMENT` for a bad K,
 *   responsibilities of the wrong length or with negative / non-finite entries,
 *   or regCovar not a finite number ≥ 0.
 * @category Variational Bayes
 */
export function vbStatistics(x: VbMatrix, resp: Float64Array, nComponents: number, regCovar = 1e-6): VbStats {
  checkMatrix(x, 'x');
  if (!Number.isInteger(nComponents) || nComponents < 1) {
    throw emError('INVALID_ARGUMENT', ['nComponents'], nComponents, 'must be an integer >= 1', 'pass the number of components K');
  }
  if (typeof regCovar !== 'number' || !Number.isFinite(regCovar) || regCovar < 0) {
    throw emError('INVALID_ARGUMENT', ['regCovar'], regCovar, 'must be a finite number >= 0', 'pass regCovar >= 0 (scikit-learn default 1e-6)');
  }
  const { values, rows, cols: d } = x;
  const k = nComponents;
  checkResp(resp, rows, k);
  const nk = new Float64Array(k);
  const means = new Float64Array(k * d);
  for (let n = 0; n < rows; n++) {
    for (let c = 0; c < k; c++) {
      const r = resp[n * k + c] as number;
      nk[c] = (nk[c] as number) + r;
      if (r === 0) continue;
      for (let i = 0; i < d; i++) means[c * d + i] = (means[c * d + i] as number) + r * (values[n * d + i] as number);
    }
  }
  for (let c = 0; c < k; c++) {
    nk[c] = (nk[c] as number) + VB_EMPTY_GUARD;
    for (let i = 0; i < d; i++) means[c * d + i] = (means[c * d + i] as number) / (nk[c] as number);
  }
  const covariances = new Float64Array(k * d * d);
  const diff = new Float64Array(d);
  for (let c = 0; c < k; c++) {
    const base = c * d * d;
    for (let n = 0; n < rows; n++) {
      const r = resp[n * k + c] as number;
      if (r === 0) continue;
      for (let i = 0; i < d; i++) diff[i] = (values[n * d + i] as number) - (means[c * d + i] as number);
      for (let i = 0; i < d; i++) {
        const ri = r * (diff[i] as number);
        for (let j = 0; j <= i; j++) covariances[base + i * d + j] = (covariances[base + i * d + j] as number) + ri * (diff[j] as number);
      }
    }
    const w = nk[c] as number;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        const v = (covariances[base + i * d + j] as number) / w + (i === j ? regCovar : 0);
        covariances[base + i * d + j] = v;
        covariances[base + j * d + i] = v;
      }
    }
  }
  return { nComponents: k, nFeatures: d, nk, means, covariances, regCovar };
}
