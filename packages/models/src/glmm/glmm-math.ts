/**
 * Per-group GLMM log-densities in the random effects b, with every constant:
 *
 *   log p(y_g, b | β, Σ_b) = Σ_i [y_i η_i − A(η_i) − c(y_i)] − (q/2) log 2π − ½ log|Σ_b| − ½ bᵀ Σ_b⁻¹ b,
 *
 * η_i = x_iᵀβ + z_iᵀb, its gradient and Hessian in b, Newton mode-finding
 * with step halving (the Laplace mode), and the Laplace approximation of
 * log p(y_g | β, Σ_b).
 * @module
 */
import { cholesky, choleskyWithJitter, emError, inverseFromCholesky, logDetFromCholesky, solveLower, solveLowerTransposed } from '@emlab/core';
import { groupView, validateGlmmParams } from './glmm-data.js';
import { cumulantDerivatives } from './glmm-family.js';
import type { GlmmData, GlmmFamily, GlmmGroup, GlmmParams } from './glmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The random-effect prior N(0, Σ_b), factored once.
 * @category GLMM
 */
export interface RandomEffectsPrior {
  readonly q: number;
  /** `[q, q]` Σ_b. */
  readonly sigma: Float64Array;
  /** `[q, q]` lower Cholesky factor of Σ_b. */
  readonly chol: Float64Array;
  /** `[q, q]` Σ_b⁻¹. */
  readonly precision: Float64Array;
  /** log |Σ_b|. */
  readonly logDet: number;
  /** −(q/2) log 2π − ½ log |Σ_b|. */
  readonly logNormalizer: number;
}

/**
 * Factors Σ_b for repeated evaluation of log N(b; 0, Σ_b).
 * @param sigma `[q, q]` row-major, symmetric positive definite.
 * @throws EmError `INVALID_PARAMS` if Σ_b is not positive definite or has the wrong length.
 * @category GLMM
 */
export function randomEffectsPrior(sigma: Float64Array, q: number): RandomEffectsPrior {
  if (!(sigma instanceof Float64Array) || sigma.length !== q * q) {
    throw emError('INVALID_PARAMS', ['params', 'sigma'], sigma, `must be a row-major Float64Array of length q² = ${q * q}`, 'give the q×q random-effect covariance');
  }
  const chol = cholesky(sigma, q);
  if (chol === null) throw emError('INVALID_PARAMS', ['params', 'sigma'], sigma, 'is not positive definite', 'give variances > 0 and correlations strictly inside (−1, 1)');
  const logDet = logDetFromCholesky(chol, q);
  return { q, sigma, chol, precision: inverseFromCholesky(chol, q), logDet, logNormalizer: -0.5 * q * LOG_2PI - 0.5 * logDet };
}

/**
 * log N(b; 0, Σ_b) with its constant.
 * @category GLMM
 */
export function logPrior(prior: RandomEffectsPrior, b: ArrayLike<number>): number {
  const { q, precision } = prior;
  let quad = 0;
  for (let i = 0; i < q; i++) {
    let s = 0;
    for (let j = 0; j < q; j++) s += precision[i * q + j]! * b[j]!;
    quad += b[i]! * s;
  }
  return prior.logNormalizer - 0.5 * quad;
}

/**
 * One group at fixed (β, Σ_b): what every per-group density needs.
 * @category GLMM
 */
export interface GroupTarget {
  readonly family: GlmmFamily;
  readonly n: number;
  readonly q: number;
  /** `[n_g]` responses. */
  readonly y: Float64Array;
  /** `[n_g, q]` random-effect covariates. */
  readonly z: Float64Array;
  /** `[n_g]` fixed part of the linear predictor x_iᵀβ. */
  readonly offset: Float64Array;
  /** Σ_i c(y_i): Σ log y_i! (Poisson), 0 (logistic). */
  readonly logFactorialSum: number;
  readonly prior: RandomEffectsPrior;
}

/**
 * `[n_g]` x_iᵀβ for a group's rows.
 * @category GLMM
 */
export function fixedPredictor(group: GlmmGroup, beta: ArrayLike<number>): Float64Array {
  const { n, p, x } = group;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) s += x[i * p + j]! * beta[j]!;
    out[i] = s;
  }
  return out;
}

/**
 * The per-group target at β with a factored prior.
 * @category GLMM
 */
export function groupTarget(group: GlmmGroup, beta: ArrayLike<number>, prior: RandomEffectsPrior): GroupTarget {
  return {
    family: group.family,
    n: group.n,
    q: group.q,
    y: group.y,
    z: group.z,
    offset: fixedPredictor(group, beta),
    logFactorialSum: group.logFactorialSum,
    prior,
  };
}

/**
 * Every group's target at validated parameters.
 * @throws EmError `INVALID_PARAMS` (see {@link validateGlmmParams}).
 * @category GLMM
 */
export function groupTargets(data: GlmmData, params: GlmmParams): GroupTarget[] {
  validateGlmmParams(params, data.p, data.q);
  const prior = randomEffectsPrior(params.sigma, data.q);
  const out: GroupTarget[] = [];
  for (let g = 0; g < data.nGroups; g++) out.push(groupTarget(groupView(data, g), params.beta, prior));
  return out;
}

/**
 * log p(y_g | b) = Σ_i [y_i η_i − A(η_i)] − Σ_i c(y_i).
 * @param b `[q]`.
 * @category GLMM
 */
export function groupLogLikelihoodGivenB(target: GroupTarget, b: ArrayLike<number>): number {
  const { n, q, y, z, offset, family } = target;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let eta = offset[i]!;
    for (let k = 0; k < q; k++) eta += z[i * q + k]! * b[k]!;
    const a = family === 'poisson' ? Math.exp(eta) : eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
    s += y[i]! * eta - a;
  }
  return s - target.logFactorialSum;
}

/**
 * log p(y_g, b | β, Σ_b) = log p(y_g | b) + log N(b; 0, Σ_b), with every constant.
 * @param b `[q]`.
 * @category GLMM
 */
export function groupLogJoint(target: GroupTarget, b: ArrayLike<number>): number {
  return groupLogLikelihoodGivenB(target, b) + logPrior(target.prior, b);
}

/** log p(y_g, b) with its gradient and Hessian in b. @category GLMM */
export interface LogJointDerivatives {
  readonly value: number;
  /** `[q]` Σ_i (y_i − A'(η_i)) z_i − Σ_b⁻¹ b. */
  readonly gradient: Float64Array;
  /** `[q, q]` −Σ_i A''(η_i) z_i z_iᵀ − Σ_b⁻¹ (negative definite). */
  readonly hessian: Float64Array;
  /** The sum of the absolute values of the terms of `value` (its rounding error is ≈ ε times this). */
  readonly scale: number;
}

/**
 * log p(y_g, b), its gradient and its Hessian in b.
 * @param b `[q]`.
 * @category GLMM
 */
export function groupLogJointDerivatives(target: GroupTarget, b: ArrayLike<number>): LogJointDerivatives {
  const { n, q, y, z, offset, family, prior } = target;
  const gradient = new Float64Array(q);
  const hessian = new Float64Array(q * q);
  const d = new Float64Array(3);
  let s = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    let eta = offset[i]!;
    for (let k = 0; k < q; k++) eta += z[i * q + k]! * b[k]!;
    cumulantDerivatives(family, eta, d);
    s += y[i]! * eta - d[0]!;
    scale += Math.abs(y[i]! * eta) + d[0]!;
    const r = y[i]! - d[1]!;
    const w = d[2]!;
    for (let k = 0; k < q; k++) {
      const zk = z[i * q + k]!;
      gradient[k] = gradient[k]! + r * zk;
      for (let l = 0; l <= k; l++) hessian[k * q + l] = hessian[k * q + l]! - w * zk * z[i * q + l]!;
    }
  }
  const P = prior.precision;
  let quad = 0;
  for (let k = 0; k < q; k++) {
    let pb = 0;
    for (let l = 0; l < q; l++) pb += P[k * q + l]! * b[l]!;
    quad += b[k]! * pb;
    gradient[k] = gradient[k]! - pb;
    for (let l = 0; l <= k; l++) {
      const h = hessian[k * q + l]! - P[k * q + l]!;
      hessian[k * q + l] = h;
      hessian[l * q + k] = h;
    }
  }
  return {
    value: s - target.logFactorialSum + prior.logNormalizer - 0.5 * quad,
    gradient,
    hessian,
    scale: scale + target.logFactorialSum + Math.abs(prior.logNormalizer) + 0.5 * quad,
  };
}

/** Options of {@link laplaceMode}. @category GLMM */
export interface LaplaceModeOptions {
  /** `[q]` starting point (default 0), e.g. the previous EM iteration's mode. */
  readonly start?: ArrayLike<number>;
  /** Largest number of Newton steps (default 100). */
  readonly maxIter?: number;
}

/** The mode of log p(y_g, b) in b and the curvature there. @category GLMM */
export interface LaplaceMode {
  /** `[q]` b̂ = argmax_b log p(y_g, b). */
  readonly mode: Float64Array;
  /** log p(y_g, b̂). */
  readonly logJoint: number;
  /** `[q, q]` H = −∇² log p(y_g, b̂), positive definite. */
  readonly negHessian: Float64Array;
  /** `[q, q]` lower Cholesky factor of H. */
  readonly cholNegHessian: Float64Array;
  /** log |H|. */
  readonly logDetNegHessian: number;
  /** Newton steps taken. */
  readonly nIter: number;
  /** The Newton decrement gᵀH⁻¹g at b̂ (≈ 2 (max − log p(y_g, b̂))). */
  readonly decrement: number;
  /** True if the decrement fell to ≤ 1e-24·max(1, |log p|), or to ≤ 1e-12·max(1, |log p|) when rounding stopped progress. */
  readonly converged: boolean;
}

function factorNegHessian(hessian: Float64Array, q: number): Float64Array {
  const neg = new Float64Array(q * q);
  for (let i = 0; i < q * q; i++) neg[i] = -hessian[i]!;
  return choleskyWithJitter(neg, q, { what: 'negative Hessian of log p(y_g, b)', path: ['b'] }).L;
}

/**
 * Newton's method with step halving for the mode of the (strictly concave)
 * log p(y_g, b | β, Σ_b) in b: from `start`, each step b + t·H⁻¹g takes the
 * largest t in {1, ½, ¼, …, 2⁻⁵⁰} that does not lower log p. Once the
 * predicted increase ½ gᵀH⁻¹g is below the rounding of log p itself
 * (16 ε · the sum of its absolute terms), a step is accepted when it lowers
 * ‖g‖ and changes log p by less than that rounding, so the mode is found to
 * the gradient's rounding level rather than only to √ε.
 * @throws EmError `NOT_POSITIVE_DEFINITE` if −Hessian cannot be factored (only with non-finite η).
 * @category GLMM
 */
export function laplaceMode(target: GroupTarget, options: LaplaceModeOptions = {}): LaplaceMode {
  const q = target.q;
  const maxIter = options.maxIter ?? 100;
  let b = new Float64Array(q);
  if (options.start !== undefined) for (let k = 0; k < q; k++) b[k] = options.start[k]!;
  let cur = groupLogJointDerivatives(target, b);
  if (!Number.isFinite(cur.value)) {
    b = new Float64Array(q);
    cur = groupLogJointDerivatives(target, b);
  }
  let L = factorNegHessian(cur.hessian, q);
  let nIter = 0;
  let decrement = Infinity;
  let converged = false;
  for (;;) {
    const half = solveLower(L, q, cur.gradient);
    const step = solveLowerTransposed(L, q, half);
    decrement = 0;
    for (let k = 0; k < q; k++) decrement += half[k]! * half[k]!;
    const scale = Math.max(1, Math.abs(cur.value));
    if (decrement <= 1e-24 * scale) {
      converged = true;
      break;
    }
    if (nIter >= maxIter) break;
    const delta = 16 * Number.EPSILON * cur.scale;
    const roundingRegime = 0.5 * decrement <= delta;
    const gradNorm = Math.hypot(...cur.gradient);
    let t = 1;
    let accepted = false;
    const next = new Float64Array(q);
    for (let h = 0; h <= 50; h++, t *= 0.5) {
      for (let k = 0; k < q; k++) next[k] = b[k]! + t * step[k]!;
      const v = groupLogJointDerivatives(target, next);
      if (v.value >= cur.value || (roundingRegime && v.value >= cur.value - delta && Math.hypot(...v.gradient) < gradNorm)) {
        b = next;
        cur = v;
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      converged = decrement <= 1e-12 * scale;
      break;
    }
    nIter++;
    L = factorNegHessian(cur.hessian, q);
  }
  const negHessian = new Float64Array(q * q);
  for (let i = 0; i < q * q; i++) negHessian[i] = -cur.hessian[i]!;
  return { mode: b, logJoint: cur.value, negHessian, cholNegHessian: L, logDetNegHessian: logDetFromCholesky(L, q), nIter, decrement, converged };
}

/**
 * Laplace approximation log p(y_g) ≈ log p(y_g, b̂) + (q/2) log 2π − ½ log |H| from a mode.
 * @category GLMM
 */
export function laplaceFromMode(mode: LaplaceMode, q: number): number {
  return mode.logJoint + 0.5 * q * LOG_2PI - 0.5 * mode.logDetNegHessian;
}

/**
 * The Laplace approximation of the observed-data log-likelihood, Σ_g log p(y_g | β, Σ_b).
 * @param starts `[G, q]` optional starting points for the modes.
 * @returns The total, the per-group values `[G]` and the modes `[G, q]`.
 * @throws EmError `INVALID_PARAMS` (see {@link validateGlmmParams}).
 * @category GLMM
 */
export function laplaceLogLikelihood(data: GlmmData, params: GlmmParams, starts?: Float64Array): { logLik: number; groups: Float64Array; modes: Float64Array } {
  const targets = groupTargets(data, params);
  const q = data.q;
  const groups = new Float64Array(data.nGroups);
  const modes = new Float64Array(data.nGroups * q);
  let logLik = 0;
  targets.forEach((t, g) => {
    const m = laplaceMode(t, starts === undefined ? {} : { start: starts.subarray(g * q, (g + 1) * q) });
    modes.set(m.mode, g * q);
    groups[g] = laplaceFromMode(m, q);
    logLik += groups[g]!;
  });
  return { logLik, groups, modes };
}
