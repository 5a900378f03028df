/**
 * The posterior predictive density of variational Bayes for Gaussian
 * mixtures: a mixture of multivariate Student-t densities.
 * @module
 */
import { cholesky } from '@emlab/core';
import { checkMatrix, checkPosterior } from './vb-check.js';
import { logDetCovariances, mahalanobisTable } from './vb-log-table.js';
import { logGamma } from './vb-special.js';
import type { VbMatrix, VbPosterior } from './vb-types.js';

/**
 * E_q[π_k], `[K]`: α_k / Σ α (Dirichlet; sums to 1), or
 * E[v_k] Π_{j<k} E[1 − v_j] with E[v] = β1/(β1 + β2) (stick-breaking; sums to
 * 1 − Π_k E[1 − v_k] < 1, the rest of the stick belonging to the components beyond K).
 * @see Bishop (2006), eq. 10.69; Blei & Jordan (2006), §4.
 * @category Variational Bayes
 */
export function vbExpectedWeights(posterior: VbPosterior): Float64Array {
  const w = posterior.weightConcentration;
  if (w.type === 'dirichlet_distribution') {
    let sum = 0;
    for (const a of w.alpha) sum += a;
    return w.alpha.map((a) => a / sum);
  }
  const k = w.beta1.length;
  const out = new Float64Array(k);
  let rest = 1;
  for (let c = 0; c < k; c++) {
    const a = w.beta1[c] as number;
    const b = w.beta2[c] as number;
    out[c] = (rest * a) / (a + b);
    rest *= b / (a + b);
  }
  return out;
}

/** log St(x | m, Σ_t, ν') from the Mahalanobis distance under Σ (Σ_t = c Σ) and log |Σ|. */
function logStudent(mahalanobis: number, logDetSigma: number, c: number, dof: number, d: number): number {
  return (
    logGamma(0.5 * (dof + d)) -
    logGamma(0.5 * dof) -
    0.5 * d * Math.log(dof * Math.PI) -
    0.5 * (d * Math.log(c) + logDetSigma) -
    0.5 * (dof + d) * Math.log1p(mahalanobis / (c * dof))
  );
}

/**
 * log p(x_n | data) under q, `[N]`: the posterior predictive density, a mixture of multivariate Student-t densities.
 *
 * p(x | data) = Σ_k E[π_k] St(x | m_k, L_k⁻¹, ν_k + 1 − D) with
 * L_k⁻¹ = (1 + β_k) / (β_k (ν_k + 1 − D)) · W_k⁻¹ (Bishop 2006, eq. 10.80–10.82),
 * W_k⁻¹ = ν_k Σ_k. Under the stick-breaking prior the expected weights of the K
 * components sum to less than 1; the remaining mass Π_k E[1 − v_k] belongs to
 * the components beyond the truncation, whose q is their prior, so it goes to
 * the prior predictive St(x | m₀, (1 + β₀)/(β₀ (ν₀ + 1 − D)) · W₀⁻¹, ν₀ + 1 − D).
 * The density integrates to 1 for both priors (scikit-learn's `score_samples`
 * is instead log Σ_k exp(E-step table), a lower bound that is not a density).
 *
 * @param x Points `[N, D]`.
 * @param posterior q(π, μ, Λ).
 * @throws EmError `INVALID_DATA` for bad points or a column count other than D; `INVALID_PARAMS` (posterior shapes).
 * @see Bishop (2006), eq. 10.78–10.82; Blei & Jordan (2006), eq. 23.
 * @category Variational Bayes
 */
export function vbPredictiveLogDensity(x: VbMatrix, posterior: VbPosterior): Float64Array {
  checkPosterior(posterior);
  const prior = posterior.prior;
  const { nComponents: k, nFeatures: d } = prior;
  checkMatrix(x, 'x', d);
  const rows = x.rows;
  const weights = vbExpectedWeights(posterior);
  const logDet = logDetCovariances(posterior);
  const maha = mahalanobisTable(x, posterior);
  const nTerms = prior.weightConcentrationPriorType === 'dirichlet_process' ? k + 1 : k;
  const terms = new Float64Array(rows * nTerms);
  for (let c = 0; c < k; c++) {
    const beta = posterior.meanPrecision[c] as number;
    const nu = posterior.degreesOfFreedom[c] as number;
    const dof = nu + 1 - d;
    const scale = ((1 + beta) * nu) / (beta * dof);
    const logW = Math.log(weights[c] as number);
    for (let n = 0; n < rows; n++) terms[n * nTerms + c] = logW + logStudent(maha[n * k + c] as number, logDet[c] as number, scale, dof, d);
  }
  if (nTerms > k) {
    const w = posterior.weightConcentration;
    let logTail = 0;
    if (w.type === 'dirichlet_process') for (let c = 0; c < k; c++) logTail += Math.log((w.beta2[c] as number) / ((w.beta1[c] as number) + (w.beta2[c] as number)));
    const beta0 = prior.meanPrecisionPrior;
    const dof0 = prior.degreesOfFreedomPrior + 1 - d;
    const scale0 = (1 + beta0) / (beta0 * dof0);
    const l0 = cholesky(prior.covariancePrior, d) as Float64Array;
    let logDet0 = 0;
    for (let i = 0; i < d; i++) logDet0 += 2 * Math.log(l0[i * d + i] as number);
    const z = new Float64Array(d);
    for (let n = 0; n < rows; n++) {
      // Mahalanobis distance under W₀⁻¹ by forward substitution.
      let q = 0;
      for (let i = 0; i < d; i++) {
        let s = (x.values[n * d + i] as number) - (prior.meanPrior[i] as number);
        for (let j = 0; j < i; j++) s -= (l0[i * d + j] as number) * (z[j] as number);
        const zi = s / (l0[i * d + i] as number);
        z[i] = zi;
        q += zi * zi;
      }
      terms[n * nTerms + k] = logTail + logStudent(q, logDet0, scale0, dof0, d);
    }
  }
  const out = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < nTerms; t++) max = Math.max(max, terms[n * nTerms + t] as number);
    let s = 0;
    for (let t = 0; t < nTerms; t++) s += Math.exp((terms[n * nTerms + t] as number) - max);
    out[n] = max + Math.log(s);
  }
  return out;
}
