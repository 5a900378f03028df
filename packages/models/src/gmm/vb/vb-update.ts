/**
 * The variational M-step: posterior hyperparameters from weighted statistics,
 * as scikit-learn's `BayesianGaussianMixture._m_step`.
 * @module
 */
import { cholesky, emError, invertLower } from '@emlab/core';
import { VB_COVARIANCE_TYPES } from './vb-types.js';
import type { VbCovarianceType, VbPosterior, VbPrior, VbStats, VbWeightConcentration } from './vb-types.js';

/** q(π) from N_k: α_k = α₀ + N_k, or β1_k = 1 + N_k and β2_k = γ₀ + Σ_{j>k} N_j. */
function weightConcentration(nk: Float64Array, prior: VbPrior): VbWeightConcentration {
  const k = nk.length;
  const a0 = prior.weightConcentrationPrior;
  if (prior.weightConcentrationPriorType === 'dirichlet_distribution') return { type: 'dirichlet_distribution', alpha: nk.map((n) => a0 + n) };
  const beta1 = nk.map((n) => 1 + n);
  const beta2 = new Float64Array(k);
  // Suffix sums accumulated from the last component, as numpy's cumsum of the reversed array.
  let tail = 0;
  beta2[k - 1] = a0;
  for (let c = k - 1; c >= 1; c--) {
    tail += nk[c] as number;
    beta2[c - 1] = a0 + tail;
  }
  return { type: 'dirichlet_process', beta1, beta2 };
}

/**
 * Posterior hyperparameters of q(π) Π_k q(μ_k, Λ_k) from statistics (the coordinate-ascent update of q(π, μ, Λ)).
 *
 * With N_k, x̄_k, S_k from {@link vbStatistics} (S_k includes regCovar·I),
 * d_k = x̄_k − m₀ and A_k = W₀⁻¹ + N_k S_k + N_k (β₀/β_k) d_k d_kᵀ:
 * - weights: α_k = α₀ + N_k (Dirichlet), or β1_k = 1 + N_k, β2_k = γ₀ + Σ_{j>k} N_j (stick-breaking);
 * - β_k = β₀ + N_k, m_k = (β₀ m₀ + N_k x̄_k) / β_k;
 * - `full`: ν_k = ν₀ + N_k, W_k⁻¹ = A_k;
 * - `diag`: ν_k = ν₀ + N_k, W_k⁻¹ = diag(A_k);
 * - `spherical`: ν_k = ν₀ + N_k, W_k⁻¹ = (tr A_k / D) I;
 * - `tied`: ν = ν₀ + Σ_k N_k / K, W⁻¹ = Σ_k A_k / K for every k.
 * Returned as Σ_k = W_k⁻¹ / ν_k (scikit-learn's `covariances_`) and its
 * precision Cholesky factor. Each is the exact optimum of the ELBO over
 * q(μ_k, Λ_k) within the covariance type's family (Wishart scale W_k free,
 * diagonal, isotropic, or shared), given q(z), when regCovar = 0; with
 * regCovar > 0 it is the optimum of ELBO − (regCovar/2) Σ_k N_k E_q[tr Λ_k]
 * (see `vbRegCovarPenalty`).
 *
 * @param stats From {@link vbStatistics}.
 * @param prior From {@link vbPrior}; K and D must match the statistics.
 * @param covarianceType The family of q(Λ_k).
 * @returns The posterior (full `[K, D, D]` matrices for every type).
 * @throws EmError `INVALID_ARGUMENT` for a bad covariance type or statistics whose K or D differ from the prior's.
 * @throws EmError `NOT_POSITIVE_DEFINITE` if some Σ_k is not (only possible with a
 *   non-positive-definite covariance prior or non-finite statistics).
 * @see Bishop (2006), eq. 10.58, 10.60–10.63; Blei & Jordan (2006), Variational
 *   inference for Dirichlet process mixtures, Bayesian Analysis 1, eq. 18–19;
 *   scikit-learn's `BayesianGaussianMixture._m_step`.
 * @category Variational Bayes
 */
export function vbUpdate(stats: VbStats, prior: VbPrior, covarianceType: VbCovarianceType): VbPosterior {
  if (!VB_COVARIANCE_TYPES.includes(covarianceType)) {
    throw emError('INVALID_ARGUMENT', ['covarianceType'], covarianceType, `must be one of ${VB_COVARIANCE_TYPES.join(', ')}`, "pass 'full', 'diag', 'spherical' or 'tied'");
  }
  const k = prior.nComponents;
  const d = prior.nFeatures;
  if (stats.nComponents !== k || stats.nFeatures !== d || stats.nk.length !== k || stats.means.length !== k * d || stats.covariances.length !== k * d * d) {
    throw emError(
      'INVALID_ARGUMENT',
      ['stats'],
      `${stats.nComponents}x${stats.nFeatures}`,
      `must have the prior's K = ${k} components and D = ${d} features (nk [K], means [K, D], covariances [K, D, D])`,
      'compute the statistics with vbStatistics on the data the prior was built for',
    );
  }
  const { nk, means: xbar, covariances: sk } = stats;
  const beta0 = prior.meanPrecisionPrior;
  const m0 = prior.meanPrior;
  const s0 = prior.covariancePrior;
  const nu0 = prior.degreesOfFreedomPrior;

  const meanPrecision = nk.map((n) => beta0 + n);
  const means = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < d; i++) means[c * d + i] = (beta0 * (m0[i] as number) + (nk[c] as number) * (xbar[c * d + i] as number)) / (meanPrecision[c] as number);
  }

  // A_k = W₀⁻¹ + N_k S_k + N_k (β₀/β_k) d_k d_kᵀ, full matrices.
  const a = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const n = nk[c] as number;
    const shrink = (n * beta0) / (meanPrecision[c] as number);
    for (let i = 0; i < d; i++) {
      const di = (xbar[c * d + i] as number) - (m0[i] as number);
      for (let j = 0; j < d; j++) {
        const dj = (xbar[c * d + j] as number) - (m0[j] as number);
        a[c * d * d + i * d + j] = (s0[i * d + j] as number) + n * (sk[c * d * d + i * d + j] as number) + shrink * di * dj;
      }
    }
  }

  const degreesOfFreedom = new Float64Array(k);
  const covariances = new Float64Array(k * d * d);
  if (covarianceType === 'tied') {
    let total = 0;
    for (let c = 0; c < k; c++) total += nk[c] as number;
    const nu = nu0 + total / k;
    degreesOfFreedom.fill(nu);
    const pooled = new Float64Array(d * d);
    for (let c = 0; c < k; c++) for (let e = 0; e < d * d; e++) pooled[e] = (pooled[e] as number) + (a[c * d * d + e] as number);
    for (let c = 0; c < k; c++) for (let e = 0; e < d * d; e++) covariances[c * d * d + e] = (pooled[e] as number) / k / nu;
  } else {
    for (let c = 0; c < k; c++) {
      const nu = nu0 + (nk[c] as number);
      degreesOfFreedom[c] = nu;
      const base = c * d * d;
      if (covarianceType === 'full') {
        for (let e = 0; e < d * d; e++) covariances[base + e] = (a[base + e] as number) / nu;
      } else if (covarianceType === 'diag') {
        for (let i = 0; i < d; i++) covariances[base + i * d + i] = (a[base + i * d + i] as number) / nu;
      } else {
        let trace = 0;
        for (let i = 0; i < d; i++) trace += a[base + i * d + i] as number;
        for (let i = 0; i < d; i++) covariances[base + i * d + i] = trace / d / nu;
      }
    }
  }

  const precisionsCholesky = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const cov = covariances.subarray(c * d * d, (c + 1) * d * d);
    const l = cholesky(new Float64Array(cov), d);
    if (l === null) {
      throw emError(
        'NOT_POSITIVE_DEFINITE',
        ['posterior', 'covariances', c],
        Array.from(cov),
        `the posterior covariance of component ${c} is not positive definite`,
        'check that the covariance prior is positive definite and the statistics finite; increase regCovar or decrease the number of components',
      );
    }
    const linv = invertLower(l, d);
    // U = L⁻ᵀ (upper triangular), U Uᵀ = L⁻ᵀ L⁻¹ = Σ⁻¹.
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) precisionsCholesky[c * d * d + i * d + j] = linv[j * d + i] as number;
  }

  return {
    covarianceType,
    prior,
    weightConcentration: weightConcentration(nk, prior),
    meanPrecision,
    means,
    degreesOfFreedom,
    covariances,
    precisionsCholesky,
  };
}
