/**
 * The evidence lower bound of variational Bayes for Gaussian mixtures with
 * every constant, scikit-learn's bound (which drops constants), and the exact
 * relation between the two.
 * @module
 */
import { checkMatrix, checkPosterior, checkResp } from './vb-check.js';
import { logDetCovariances, vbExpectedLogDetPrecision, vbExpectedLogWeights, vbLogTable } from './vb-log-table.js';
import { digamma, logBeta, logGamma, multivariateLogGamma } from './vb-special.js';
import { cholesky } from '@emlab/core';
import type { VbMatrix, VbPosterior, VbPrior } from './vb-types.js';

const LOG_2 = Math.log(2);
const LOG_2PI = Math.log(2 * Math.PI);

/** −Σ r log r over `[N, K]` (0 log 0 = 0). */
function entropy(resp: Float64Array): number {
  let h = 0;
  for (const r of resp) if (r > 0) h -= r * Math.log(r);
  return h;
}

/** log |S| of the prior's W₀⁻¹ (a positive definite matrix). */
function logDetCovariancePrior(prior: VbPrior): number {
  const d = prior.nFeatures;
  const l = cholesky(prior.covariancePrior, d);
  if (l === null) return Number.NaN;
  let s = 0;
  for (let i = 0; i < d; i++) s += Math.log(l[i * d + i] as number);
  return 2 * s;
}

/** log B(W, ν) = −(ν/2) log |W| − (νD/2) log 2 − log Γ_D(ν/2), the log normalizer of Wishart(W, ν) (Bishop B.79). */
function logWishartB(logDetW: number, nu: number, d: number): number {
  return -0.5 * nu * logDetW - 0.5 * nu * d * LOG_2 - multivariateLogGamma(nu / 2, d);
}

/** E_q[log p(π)] − E_q[log q(π)] (Dirichlet) or Σ_k E_q[log p(v_k)] − E_q[log q(v_k)] (stick-breaking). */
function weightsTerm(posterior: VbPosterior): number {
  const prior = posterior.prior;
  const k = prior.nComponents;
  const c0 = prior.weightConcentrationPrior;
  const w = posterior.weightConcentration;
  if (w.type === 'dirichlet_distribution') {
    const eLog = vbExpectedLogWeights(posterior);
    let sumAlpha = 0;
    let lgSum = 0;
    let cross = 0;
    for (let c = 0; c < k; c++) {
      const a = w.alpha[c] as number;
      sumAlpha += a;
      lgSum += logGamma(a);
      cross += (c0 - a) * (eLog[c] as number);
    }
    // log C(α₀) − log C(α) + Σ (α₀ − α_k) E log π_k, log C(α) = log Γ(Σ α) − Σ log Γ(α_k).
    return logGamma(k * c0) - k * logGamma(c0) - (logGamma(sumAlpha) - lgSum) + cross;
  }
  let total = 0;
  for (let c = 0; c < k; c++) {
    const a = w.beta1[c] as number;
    const b = w.beta2[c] as number;
    const psiSum = digamma(a + b);
    const eLogV = digamma(a) - psiSum;
    const eLog1mV = digamma(b) - psiSum;
    // Beta(1, γ₀) prior: log p(v) = log γ₀ + (γ₀ − 1) log(1 − v).
    const ePrior = Math.log(c0) + (c0 - 1) * eLog1mV;
    const eQ = -logBeta(a, b) + (a - 1) * eLogV + (b - 1) * eLog1mV;
    total += ePrior - eQ;
  }
  return total;
}

/**
 * The full evidence lower bound L = E_q[log p(x, z, π, μ, Λ)] − E_q[log q(z, π, μ, Λ)], every constant included.
 *
 * L = Σ_nk r_nk log ρ_nk − Σ_nk r_nk log r_nk (log ρ from `vbLogTable`, so the
 * first sum is E[log p(x | z, μ, Λ)] + E[log p(z | π)]) + E[log p(π)] − E[log q(π)]
 * + Σ_k (E[log p(μ_k, Λ_k)] − E[log q(μ_k, Λ_k)]), with, per component
 * (E[Λ_k] = ν_k W_k = Σ_k⁻¹, E log |Λ_k| as in `vbExpectedLogDetPrecision`):
 * E log p(μ_k, Λ_k) − E log q(μ_k, Λ_k) = (D/2) log(β₀/β_k) + D/2 − D β₀/(2β_k)
 * − (β₀/2)(m_k − m₀)ᵀ Σ_k⁻¹ (m_k − m₀) + log B(W₀, ν₀) − log B(W_k, ν_k)
 * + ((ν₀ − ν_k)/2) E log |Λ_k| − ½ tr(W₀⁻¹ Σ_k⁻¹) + ν_k D/2.
 * Weights: Dirichlet log C(α₀) − log C(α) + Σ_k (α₀ − α_k) E log π_k; stick-breaking
 * Σ_k [log γ₀ + (γ₀ − 1) E log(1 − v_k) + log B(β1_k, β2_k) − (β1_k − 1) E log v_k − (β2_k − 1) E log(1 − v_k)]
 * (K sticks, as scikit-learn: q(z_n > K) = 0 and the sticks beyond K keep their prior).
 * For `tied` the model has one Λ_k per component with q(Λ_k) shared, so the
 * Normal–Wishart terms count K times.
 *
 * Valid for any q(z) (`resp`) and any posterior of this prior, not only after
 * an update; it never decreases under `vbLogTable` → `vbResponsibilities` and
 * under `vbStatistics` (regCovar 0) → `vbUpdate`.
 *
 * @param x Data `[N, D]`.
 * @param resp q(z_n = k), `[N, K]` (rows should sum to 1).
 * @param posterior q(π, μ, Λ).
 * @throws EmError `INVALID_DATA`, `INVALID_ARGUMENT` (resp), `INVALID_PARAMS` (posterior shapes).
 * @see Bishop (2006), eq. 10.70–10.77; Blei & Jordan (2006), eq. 16.
 * @category Variational Bayes
 */
export function vbElbo(x: VbMatrix, resp: Float64Array, posterior: VbPosterior): number {
  checkPosterior(posterior);
  const prior = posterior.prior;
  const { nComponents: k, nFeatures: d } = prior;
  checkMatrix(x, 'x', d);
  checkResp(resp, x.rows, k);
  const table = vbLogTable(x, posterior);
  let dataTerm = 0;
  for (let i = 0; i < table.length; i++) {
    const r = resp[i] as number;
    if (r > 0) dataTerm += r * (table[i] as number);
  }
  return dataTerm + entropy(resp) - vbKlDivergence(posterior);
}

/**
 * KL(q(π, μ, Λ) ‖ p(π, μ, Λ)) = E_q[log q] − E_q[log p] over the parameters, every normalizing constant
 * included: minus the weights and Normal–Wishart terms of {@link vbElbo} (so vbElbo = Σ_nk r_nk log ρ_nk
 * − Σ r log r − this). For `tied`, K Normal–Wishart terms (one Λ_k per component, q(Λ_k) shared).
 * @param posterior q(π, μ, Λ) (its prior is p).
 * @throws EmError `INVALID_PARAMS` (posterior shapes).
 * @see Bishop (2006), eq. 10.73–10.77; Blei & Jordan (2006), eq. 16.
 * @category Variational Bayes
 */
export function vbKlDivergence(posterior: VbPosterior): number {
  checkPosterior(posterior);
  const prior = posterior.prior;
  const { nComponents: k, nFeatures: d } = prior;
  const beta0 = prior.meanPrecisionPrior;
  const nu0 = prior.degreesOfFreedomPrior;
  const s0 = prior.covariancePrior;
  const m0 = prior.meanPrior;
  const logB0 = logWishartB(-logDetCovariancePrior(prior), nu0, d);
  const eLogDet = vbExpectedLogDetPrecision(posterior);
  const logDetSigma = logDetCovariances(posterior);
  const u = posterior.precisionsCholesky;
  let nwTerm = 0;
  const diff = new Float64Array(d);
  for (let c = 0; c < k; c++) {
    const beta = posterior.meanPrecision[c] as number;
    const nu = posterior.degreesOfFreedom[c] as number;
    const base = c * d * d;
    // Σ_k⁻¹ = U Uᵀ.
    const prec = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let l = Math.max(i, j); l < d; l++) s += (u[base + i * d + l] as number) * (u[base + j * d + l] as number);
        prec[i * d + j] = s;
        prec[j * d + i] = s;
      }
    }
    for (let i = 0; i < d; i++) diff[i] = (posterior.means[c * d + i] as number) - (m0[i] as number);
    let quad = 0;
    let trace = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        quad += (diff[i] as number) * (prec[i * d + j] as number) * (diff[j] as number);
        trace += (s0[i * d + j] as number) * (prec[j * d + i] as number);
      }
    }
    const logDetW = -(logDetSigma[c] as number) - d * Math.log(nu);
    const logBk = logWishartB(logDetW, nu, d);
    nwTerm +=
      0.5 * d * Math.log(beta0 / beta) +
      0.5 * d -
      (0.5 * d * beta0) / beta -
      0.5 * beta0 * quad +
      logB0 -
      logBk +
      0.5 * (nu0 - nu) * (eLogDet[c] as number) -
      0.5 * trace +
      0.5 * nu * d;
  }
  return -(weightsTerm(posterior) + nwTerm);
}

/**
 * scikit-learn's `BayesianGaussianMixture._compute_lower_bound`, reproduced: the ELBO after an update, without its constants.
 *
 * −Σ r log r − Σ_k log_wishart_k − log_norm_weight − (D/2) Σ_k log β_k, with
 * log_wishart_k = −(ν_k · ½ log |W_k| + ν_k (D/2) log 2 + Σ_{i<D} log Γ((ν_k − i)/2))
 * (K times one value for `tied`), and log_norm_weight = log Γ(Σ α) − Σ log Γ(α_k)
 * (Dirichlet) or −Σ_k log B(β1_k, β2_k) (stick-breaking).
 *
 * Relation to {@link vbElbo} (exact, for a posterior from `vbUpdate` on the statistics of `resp`):
 * vbElbo = sklearnLowerBound + sklearnBoundOffset(prior, N) + vbRegCovarPenalty(resp, posterior, regCovar),
 * up to rounding and scikit-learn's 10ε added to each N_k.
 *
 * @param resp q(z), `[N, K]`, the responsibilities the posterior was updated from.
 * @param posterior From `vbUpdate`.
 * @throws EmError `INVALID_ARGUMENT` (resp), `INVALID_PARAMS` (posterior shapes).
 * @category Variational Bayes
 */
export function sklearnLowerBound(resp: Float64Array, posterior: VbPosterior): number {
  checkPosterior(posterior);
  const { nComponents: k, nFeatures: d } = posterior.prior;
  checkResp(resp, resp.length / k, k);
  const logDetSigma = logDetCovariances(posterior);
  const logWishart = (c: number): number => {
    const nu = posterior.degreesOfFreedom[c] as number;
    const logDetPrecChol = -0.5 * (logDetSigma[c] as number) - 0.5 * d * Math.log(nu);
    let lg = 0;
    for (let i = 0; i < d; i++) lg += logGamma(0.5 * (nu - i));
    return -(nu * logDetPrecChol + nu * d * 0.5 * LOG_2 + lg);
  };
  let wishart = 0;
  if (posterior.covarianceType === 'tied') wishart = k * logWishart(0);
  else for (let c = 0; c < k; c++) wishart += logWishart(c);
  const w = posterior.weightConcentration;
  let logNormWeight = 0;
  if (w.type === 'dirichlet_distribution') {
    let sum = 0;
    for (const a of w.alpha) {
      sum += a;
      logNormWeight -= logGamma(a);
    }
    logNormWeight += logGamma(sum);
  } else {
    for (let c = 0; c < k; c++) logNormWeight -= logBeta(w.beta1[c] as number, w.beta2[c] as number);
  }
  let sumLogBeta = 0;
  for (const b of posterior.meanPrecision) sumLogBeta += Math.log(b);
  return entropy(resp) - wishart - logNormWeight - 0.5 * d * sumLogBeta;
}

/**
 * The constants scikit-learn's bound drops: vbElbo − sklearnLowerBound after an update with regCovar = 0.
 *
 * C = w₀ + K [(D/2) log β₀ + (ν₀/2) log |W₀⁻¹| − (ν₀ D/2) log 2 − Σ_{i<D} log Γ((ν₀ − i)/2)] − (N D/2) log 2π,
 * with w₀ = log Γ(K α₀) − K log Γ(α₀) (Dirichlet: log C(α₀)) or K log γ₀
 * (stick-breaking: −K log B(1, γ₀)). The bracket is log B(W₀, ν₀) + (D/2) log β₀
 * + D(D−1)/4 · log π: the prior's normalizers, and the log π part of log Γ_D
 * that scikit-learn's Wishart normalizer leaves out.
 *
 * @param prior The prior.
 * @param nRows N, the number of data rows.
 * @category Variational Bayes
 */
export function sklearnBoundOffset(prior: VbPrior, nRows: number): number {
  const { nComponents: k, nFeatures: d } = prior;
  const c0 = prior.weightConcentrationPrior;
  const nu0 = prior.degreesOfFreedomPrior;
  const weights = prior.weightConcentrationPriorType === 'dirichlet_distribution' ? logGamma(k * c0) - k * logGamma(c0) : k * Math.log(c0);
  let lg = 0;
  for (let i = 0; i < d; i++) lg += logGamma(0.5 * (nu0 - i));
  const perComponent = 0.5 * d * Math.log(prior.meanPrecisionPrior) + 0.5 * nu0 * logDetCovariancePrior(prior) - 0.5 * nu0 * d * LOG_2 - lg;
  return weights + k * perComponent - 0.5 * nRows * d * LOG_2PI;
}

/**
 * (regCovar/2) Σ_k N_k E_q[tr Λ_k] = (regCovar/2) Σ_k N_k tr(Σ_k⁻¹), with N_k = Σ_n r_nk.
 *
 * With regCovar > 0, `vbUpdate` maximizes vbElbo − this penalty over q(π, μ, Λ)
 * (adding regCovar·I to S_k is adding −(regCovar/2) N_k tr Λ_k to the log joint),
 * so an update can lower vbElbo by at most penalty(before) − penalty(after), and
 * after an update vbElbo = sklearnLowerBound + sklearnBoundOffset + this penalty.
 *
 * @param resp q(z), `[N, K]`.
 * @param posterior q(π, μ, Λ).
 * @param regCovar The regCovar of the statistics.
 * @throws EmError `INVALID_ARGUMENT` (resp), `INVALID_PARAMS` (posterior shapes).
 * @category Variational Bayes
 */
export function vbRegCovarPenalty(resp: Float64Array, posterior: VbPosterior, regCovar: number): number {
  checkPosterior(posterior);
  const { nComponents: k, nFeatures: d } = posterior.prior;
  checkResp(resp, resp.length / k, k);
  const nk = new Float64Array(k);
  for (let i = 0; i < resp.length; i++) nk[i % k] = (nk[i % k] as number) + (resp[i] as number);
  const u = posterior.precisionsCholesky;
  let total = 0;
  for (let c = 0; c < k; c++) {
    let trace = 0; // tr(U Uᵀ) = Σ U_ij²
    for (let e = 0; e < d * d; e++) trace += (u[c * d * d + e] as number) ** 2;
    total += (nk[c] as number) * trace;
  }
  return 0.5 * regCovar * total;
}
