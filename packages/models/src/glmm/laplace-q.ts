/**
 * The Laplace Gaussian q_g = N(m_g, V_g) (m_g the mode of p(y_g, b),
 * V_g = (−∇² log p(y_g, b) at m_g)⁻¹) as a restricted-family E-step's q, and
 * its exact lower bound
 *
 *   L_g(q) = E_q[log p(y_g | b)] + E_q[log N(b; 0, Σ_b)] + H(q_g) ≤ log p(y_g | β, Σ_b),
 *
 * with every constant:
 * - E_q log N(b; 0, Σ_b) = −(q/2) log 2π − ½ log|Σ_b| − ½ (tr(Σ_b⁻¹ V) + mᵀ Σ_b⁻¹ m);
 * - H(q) = (q/2)(1 + log 2π) + ½ log|V|;
 * - E_q log p(y | b) = Σ_i [y_i μ_i − E A(η_i)] − Σ_i c(y_i), where η_i = x_iᵀβ + z_iᵀb
 *   is N(μ_i, s_i²) under q with μ_i = x_iᵀβ + z_iᵀm, s_i² = z_iᵀ V z_i, so every
 *   expectation is one-dimensional: Poisson E e^η = exp(μ + s²/2) in closed form,
 *   logistic E softplus(η) by {@link normalExpectationRule} (Gauss–Hermite with
 *   ⌈10 + 27 s²⌉ nodes for s ≤ 1.5, else a trapezoid rule; error ≲ 1e-12 per row).
 * @module
 */
import { cholesky, emError, inverseFromCholesky, logDetFromCholesky } from '@emlab/core';
import { softplus } from './glmm-family.js';
import { groupTargets, laplaceMode, type GroupTarget, type LaplaceMode, type RandomEffectsPrior } from './glmm-math.js';
import { normalExpectationRule } from './normal-expectation.js';
import type { GlmmData, GlmmParams } from './glmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A Gaussian q(b) = N(mean, cov). @category GLMM */
export interface GaussianQ {
  /** `[q]`. */
  readonly mean: Float64Array;
  /** `[q, q]` symmetric positive definite. */
  readonly cov: Float64Array;
}

/**
 * The Laplace q: N(b̂, H⁻¹) at the mode (found here unless given).
 * @category GLMM
 */
export function laplaceQ(target: GroupTarget, mode?: LaplaceMode): GaussianQ {
  const q = target.q;
  const m = mode ?? laplaceMode(target);
  return { mean: Float64Array.from(m.mode), cov: inverseFromCholesky(m.cholNegHessian, q) };
}

/**
 * `[n_g]` the mean μ_i and `[n_g]` the standard deviation s_i of η_i = x_iᵀβ + z_iᵀb under q.
 * @category GLMM
 */
export function linearPredictorMoments(target: GroupTarget, gq: GaussianQ): { mean: Float64Array; sd: Float64Array } {
  const { n, q, z, offset } = target;
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let mu = offset[i]!;
    let v = 0;
    for (let k = 0; k < q; k++) {
      const zk = z[i * q + k]!;
      mu += zk * gq.mean[k]!;
      for (let l = 0; l < q; l++) v += zk * gq.cov[k * q + l]! * z[i * q + l]!;
    }
    mean[i] = mu;
    sd[i] = Math.sqrt(Math.max(v, 0));
  }
  return { mean, sd };
}

/**
 * E_q[log p(y_g | b)] for a Gaussian q, with every constant (see the module notes for the quadrature).
 * @category GLMM
 */
export function expectedLogLikelihoodGaussian(target: GroupTarget, gq: GaussianQ): number {
  const { mean, sd } = linearPredictorMoments(target, gq);
  const { n, y, family } = target;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const mu = mean[i]!;
    const si = sd[i]!;
    let ea: number;
    if (family === 'poisson') {
      ea = Math.exp(mu + 0.5 * si * si);
    } else {
      const rule = normalExpectationRule(si);
      ea = 0;
      for (let k = 0; k < rule.nodes.length; k++) ea += rule.weights[k]! * softplus(mu + si * rule.nodes[k]!);
    }
    s += y[i]! * mu - ea;
  }
  return s - target.logFactorialSum;
}

/**
 * E_q[log N(b; 0, Σ_b)] = −(q/2) log 2π − ½ log|Σ_b| − ½ (tr(Σ_b⁻¹ V) + mᵀ Σ_b⁻¹ m).
 * @category GLMM
 */
export function expectedLogPrior(prior: RandomEffectsPrior, gq: GaussianQ): number {
  const { q, precision: P } = prior;
  let quad = 0;
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < q; j++) quad += P[i * q + j]! * (gq.cov[j * q + i]! + gq.mean[i]! * gq.mean[j]!);
  }
  return prior.logNormalizer - 0.5 * quad;
}

/**
 * Entropy of N(m, V): (q/2)(1 + log 2π) + ½ log|V|.
 * @param cov `[q, q]` symmetric positive definite.
 * @throws EmError `INVALID_ARGUMENT` if cov is not positive definite.
 * @category GLMM
 */
export function gaussianEntropy(cov: Float64Array, q: number): number {
  const L = cholesky(cov, q);
  if (L === null) throw emError('INVALID_ARGUMENT', ['cov'], cov, 'is not positive definite', 'pass the covariance of a proper Gaussian q');
  return 0.5 * q * (1 + LOG_2PI) + 0.5 * logDetFromCholesky(L, q);
}

/** The lower bound of one group under a Gaussian q, by part. @category GLMM */
export interface GaussianQBound {
  /** E_q log p(y_g | b) + E_q log N(b; 0, Σ_b) + H(q). */
  readonly bound: number;
  readonly expectedLogLik: number;
  readonly expectedLogPrior: number;
  readonly entropy: number;
}

/**
 * The exact lower bound L_g(q) ≤ log p(y_g | β, Σ_b) for any Gaussian q (the Laplace q or another).
 * @category GLMM
 */
export function gaussianQBound(target: GroupTarget, gq: GaussianQ): GaussianQBound {
  const expectedLogLik = expectedLogLikelihoodGaussian(target, gq);
  const elp = expectedLogPrior(target.prior, gq);
  const entropy = gaussianEntropy(gq.cov, target.q);
  return { bound: expectedLogLik + elp + entropy, expectedLogLik, expectedLogPrior: elp, entropy };
}

/** The Laplace-q E-step over all groups. @category GLMM */
export interface LaplaceQResult {
  /** Σ_g L_g(q_g). */
  readonly bound: number;
  /** `[G]` per-group bounds. */
  readonly groups: Float64Array;
  /** `[G, q]` means m_g (the modes). */
  readonly means: Float64Array;
  /** `[G, q, q]` covariances V_g. */
  readonly covs: Float64Array;
  /** Σ_g H(q_g). */
  readonly entropy: number;
}

/**
 * The Laplace q of every group and the total bound Σ_g L_g(q_g) ≤ Σ_g log p(y_g | β, Σ_b).
 * @param starts `[G, q]` optional starting points for the modes.
 * @throws EmError `INVALID_PARAMS` (see `validateGlmmParams`).
 * @category GLMM
 */
export function laplaceQEStep(data: GlmmData, params: GlmmParams, starts?: Float64Array): LaplaceQResult {
  const targets = groupTargets(data, params);
  const q = data.q;
  const G = data.nGroups;
  const groups = new Float64Array(G);
  const means = new Float64Array(G * q);
  const covs = new Float64Array(G * q * q);
  let bound = 0;
  let entropy = 0;
  targets.forEach((t, g) => {
    const m = laplaceMode(t, starts === undefined ? {} : { start: starts.subarray(g * q, (g + 1) * q) });
    const gq = laplaceQ(t, m);
    const r = gaussianQBound(t, gq);
    groups[g] = r.bound;
    bound += r.bound;
    entropy += r.entropy;
    means.set(gq.mean, g * q);
    covs.set(gq.cov, g * q * q);
  });
  return { bound, groups, means, covs, entropy };
}
