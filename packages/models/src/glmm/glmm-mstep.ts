/**
 * The GLMM M-step given a q over every b_g, either Monte Carlo draws
 * (weighted per group) or a Gaussian N(m_g, V_g) per group.
 *
 * The expected complete-data log-likelihood separates:
 *
 *   Q(β, Σ_b) = Σ_g E_q log p(y_g | b_g, β) + Σ_g E_q log N(b_g; 0, Σ_b),
 *
 * so Σ_b has the closed form S/G with S = Σ_g E_q[b_g b_gᵀ] (its diagonal for
 * a diagonal Σ_b), and β maximizes the first term, a concave function of β,
 * by Newton–Raphson (IRLS) with step halving.
 *
 * Expectations over b_g enter only through d_i = z_iᵀ b_g per row:
 * - Poisson: E A(x_iᵀβ + d_i) = exp(x_iᵀβ + c_i) with c_i = log E e^{d_i}
 *   (log-sum-exp over the draws, or z_iᵀm + s_i²/2 for a Gaussian q): a Poisson
 *   GLM with offsets, exact for both kinds of q.
 * - logistic: a weighted sum over the draws, or over the nodes of
 *   {@link normalExpectationRule} for d_i ~ N(z_iᵀm, s_i²), s_i² = z_iᵀ V z_i
 *   (the same rule as the Laplace-q bound, so the value here equals that bound's
 *   E_q log p(y | b)).
 * @module
 */
import { choleskyWithJitter, emError, solveLower, solveLowerTransposed } from '@emlab/core';
import { cumulantDerivatives } from './glmm-family.js';
import { randomEffectsPrior } from './glmm-math.js';
import { normalExpectationRule } from './normal-expectation.js';
import type { GlmmData, GlmmParams, RandomCovarianceType } from './glmm-types.js';

/**
 * Monte Carlo draws of every b_g: `draws` is `[G, S, q]` row-major, `weights`
 * `[G, S]` non-negative (normalized per group here; default equal).
 * @category GLMM
 */
export interface GlmmDrawsLatent {
  readonly kind: 'draws';
  readonly nDraws: number;
  readonly draws: Float64Array;
  readonly weights?: Float64Array;
}

/** A Gaussian q_g = N(m_g, V_g) per group: `means` `[G, q]`, `covs` `[G, q, q]`. @category GLMM */
export interface GlmmGaussianLatent {
  readonly kind: 'gaussian';
  readonly means: Float64Array;
  readonly covs: Float64Array;
}

/** What an E-step hands the GLMM M-step. @category GLMM */
export type GlmmLatent = GlmmDrawsLatent | GlmmGaussianLatent;

/**
 * Checks a latent's shapes and values against G and q.
 * @throws EmError `INVALID_ARGUMENT` naming the field and index.
 * @category GLMM
 */
export function validateGlmmLatent(latent: GlmmLatent, nGroups: number, q: number): void {
  if (latent.kind === 'draws') {
    const S = latent.nDraws;
    if (!Number.isInteger(S) || S < 1) throw emError('INVALID_ARGUMENT', ['latent', 'nDraws'], S, 'must be an integer >= 1', 'pass the number of draws per group');
    if (!(latent.draws instanceof Float64Array) || latent.draws.length !== nGroups * S * q) {
      throw emError('INVALID_ARGUMENT', ['latent', 'draws'], latent.draws, `must be a Float64Array [G, S, q] of length ${nGroups * S * q}`, 'pass every group’s draws');
    }
    for (let i = 0; i < latent.draws.length; i++) {
      if (!Number.isFinite(latent.draws[i]!)) throw emError('INVALID_ARGUMENT', ['latent', 'draws', i], latent.draws[i], 'must be finite', 'check the sampler');
    }
    const w = latent.weights;
    if (w !== undefined) {
      if (!(w instanceof Float64Array) || w.length !== nGroups * S) throw emError('INVALID_ARGUMENT', ['latent', 'weights'], w, `must be a Float64Array [G, S] of length ${nGroups * S}`, 'pass one weight per draw or omit them');
      for (let g = 0; g < nGroups; g++) {
        let sum = 0;
        for (let s = 0; s < S; s++) {
          const v = w[g * S + s]!;
          if (!(v >= 0) || !Number.isFinite(v)) throw emError('INVALID_ARGUMENT', ['latent', 'weights', g * S + s], v, 'must be finite and >= 0', 'pass non-negative weights');
          sum += v;
        }
        if (!(sum > 0)) throw emError('INVALID_ARGUMENT', ['latent', 'weights', g], sum, `group ${g}'s weights sum to 0`, 'give every group a positive weight');
      }
    }
    return;
  }
  if (!(latent.means instanceof Float64Array) || latent.means.length !== nGroups * q) {
    throw emError('INVALID_ARGUMENT', ['latent', 'means'], latent.means, `must be a Float64Array [G, q] of length ${nGroups * q}`, 'pass every group’s mean');
  }
  if (!(latent.covs instanceof Float64Array) || latent.covs.length !== nGroups * q * q) {
    throw emError('INVALID_ARGUMENT', ['latent', 'covs'], latent.covs, `must be a Float64Array [G, q, q] of length ${nGroups * q * q}`, 'pass every group’s covariance');
  }
  for (let i = 0; i < latent.means.length; i++) if (!Number.isFinite(latent.means[i]!)) throw emError('INVALID_ARGUMENT', ['latent', 'means', i], latent.means[i], 'must be finite', 'check the E-step');
  for (let i = 0; i < latent.covs.length; i++) if (!Number.isFinite(latent.covs[i]!)) throw emError('INVALID_ARGUMENT', ['latent', 'covs', i], latent.covs[i], 'must be finite', 'check the E-step');
}

/** `[G, S]` weights normalized per group. */
function drawWeights(latent: GlmmDrawsLatent, nGroups: number): Float64Array {
  const S = latent.nDraws;
  const out = new Float64Array(nGroups * S);
  for (let g = 0; g < nGroups; g++) {
    let sum = 0;
    for (let s = 0; s < S; s++) sum += latent.weights === undefined ? 1 : latent.weights[g * S + s]!;
    for (let s = 0; s < S; s++) out[g * S + s] = (latent.weights === undefined ? 1 : latent.weights[g * S + s]!) / sum;
  }
  return out;
}

/** Sufficient statistics for Σ_b: the number of groups and S = Σ_g E_q[b_g b_gᵀ]. @category GLMM */
export interface GlmmSigmaStats {
  readonly nGroups: number;
  readonly q: number;
  /** `[q, q]` Σ_g E_q[b_g b_gᵀ]. */
  readonly secondMoment: Float64Array;
}

/**
 * S = Σ_g E_q[b_g b_gᵀ]: Σ_s w_gs b_gs b_gsᵀ over draws, or V_g + m_g m_gᵀ for a Gaussian q.
 * Additive over groups.
 * @throws EmError `INVALID_ARGUMENT` (see {@link validateGlmmLatent}).
 * @category GLMM
 */
export function glmmSigmaStats(latent: GlmmLatent, nGroups: number, q: number): GlmmSigmaStats {
  validateGlmmLatent(latent, nGroups, q);
  const S2 = new Float64Array(q * q);
  if (latent.kind === 'draws') {
    const S = latent.nDraws;
    const w = drawWeights(latent, nGroups);
    for (let g = 0; g < nGroups; g++) {
      for (let s = 0; s < S; s++) {
        const o = (g * S + s) * q;
        const ws = w[g * S + s]!;
        for (let i = 0; i < q; i++) for (let j = 0; j < q; j++) S2[i * q + j] = S2[i * q + j]! + ws * latent.draws[o + i]! * latent.draws[o + j]!;
      }
    }
  } else {
    for (let g = 0; g < nGroups; g++) {
      for (let i = 0; i < q; i++) {
        for (let j = 0; j < q; j++) {
          S2[i * q + j] = S2[i * q + j]! + latent.covs[g * q * q + i * q + j]! + latent.means[g * q + i]! * latent.means[g * q + j]!;
        }
      }
    }
  }
  // Exact symmetry.
  for (let i = 0; i < q; i++) for (let j = 0; j < i; j++) S2[j * q + i] = S2[i * q + j]!;
  return { nGroups, q, secondMoment: S2 };
}

/**
 * Σ_b = S / G (full), or diag(S) / G (diagonal): the maximizer of Σ_g E_q log N(b_g; 0, Σ_b).
 * @returns `[q, q]` row-major.
 * @category GLMM
 */
export function sigmaMStep(stats: GlmmSigmaStats, covarianceType: RandomCovarianceType = 'full'): Float64Array {
  const { q, nGroups, secondMoment } = stats;
  const out = new Float64Array(q * q);
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < q; j++) {
      if (covarianceType === 'diagonal' && i !== j) continue;
      out[i * q + j] = secondMoment[i * q + j]! / nGroups;
    }
  }
  return out;
}

/**
 * Σ_g E_q log N(b_g; 0, Σ_b) = G (−(q/2) log 2π − ½ log|Σ_b|) − ½ tr(Σ_b⁻¹ S).
 * @throws EmError `INVALID_PARAMS` if Σ_b is not positive definite.
 * @category GLMM
 */
export function expectedLogPriorFromStats(stats: GlmmSigmaStats, sigma: Float64Array): number {
  const prior = randomEffectsPrior(sigma, stats.q);
  const q = stats.q;
  let tr = 0;
  for (let i = 0; i < q; i++) for (let j = 0; j < q; j++) tr += prior.precision[i * q + j]! * stats.secondMoment[j * q + i]!;
  return stats.nGroups * prior.logNormalizer - 0.5 * tr;
}

/**
 * The β part of the M-step prepared from a latent: per row, the distribution
 * of d_i = z_iᵀ b_g that the objective needs (see the module notes).
 * @category GLMM
 */
export interface BetaProblem {
  readonly data: GlmmData;
  /** `[n]` E_q d_i. */
  readonly meanOffset: Float64Array;
  /** Poisson: `[n]` log E_q e^{d_i}. */
  readonly logMgf?: Float64Array;
  /** Logistic: `[n + 1]` start of each row's nodes in `nodes`/`nodeWeights`. */
  readonly rowStart?: Int32Array;
  /** Logistic: node values d_ik. */
  readonly nodes?: Float64Array;
  /** Logistic: node weights (sum 1 per row, or the row's group mass). */
  readonly nodeWeights?: Float64Array;
  /**
   * `[G]` the mass of q over each group's b_g (1 for a probability distribution, the default): the
   * objective is linear in q, so statistics that were scaled or added carry their mass here.
   */
  readonly groupMass?: Float64Array;
}

/**
 * Prepares the β objective from a latent (independent of β).
 * @throws EmError `INVALID_ARGUMENT` (see {@link validateGlmmLatent}).
 * @category GLMM
 */
export function betaProblem(data: GlmmData, latent: GlmmLatent): BetaProblem {
  const { q, nGroups: G, nRows: n, z, groupStart, family } = data;
  validateGlmmLatent(latent, G, q);
  const meanOffset = new Float64Array(n);
  const poisson = family === 'poisson';
  const logMgf = poisson ? new Float64Array(n) : undefined;
  const rowStart = poisson ? undefined : new Int32Array(n + 1);
  const nodeList: number[] = [];
  const weightList: number[] = [];
  const weights = latent.kind === 'draws' ? drawWeights(latent, G) : undefined;
  for (let g = 0; g < G; g++) {
    for (let i = groupStart[g]!; i < groupStart[g + 1]!; i++) {
      if (latent.kind === 'draws') {
        const S = latent.nDraws;
        let mean = 0;
        let max = -Infinity;
        const d = new Float64Array(S);
        for (let s = 0; s < S; s++) {
          let v = 0;
          for (let k = 0; k < q; k++) v += z[i * q + k]! * latent.draws[(g * S + s) * q + k]!;
          d[s] = v;
          mean += weights![g * S + s]! * v;
          if (weights![g * S + s]! > 0 && v > max) max = v;
        }
        meanOffset[i] = mean;
        if (logMgf !== undefined) {
          let sum = 0;
          for (let s = 0; s < S; s++) sum += weights![g * S + s]! * Math.exp(d[s]! - max);
          logMgf[i] = max + Math.log(sum);
        } else {
          for (let s = 0; s < S; s++) {
            if (weights![g * S + s]! === 0) continue;
            nodeList.push(d[s]!);
            weightList.push(weights![g * S + s]!);
          }
          rowStart![i + 1] = nodeList.length;
        }
      } else {
        let mu = 0;
        let v = 0;
        for (let k = 0; k < q; k++) {
          const zk = z[i * q + k]!;
          mu += zk * latent.means[g * q + k]!;
          for (let l = 0; l < q; l++) v += zk * latent.covs[g * q * q + k * q + l]! * z[i * q + l]!;
        }
        v = Math.max(v, 0);
        meanOffset[i] = mu;
        if (logMgf !== undefined) {
          logMgf[i] = mu + 0.5 * v;
        } else {
          const sd = Math.sqrt(v);
          const rule = normalExpectationRule(sd);
          for (let k = 0; k < rule.nodes.length; k++) {
            nodeList.push(mu + sd * rule.nodes[k]!);
            weightList.push(rule.weights[k]!);
          }
          rowStart![i + 1] = nodeList.length;
        }
      }
    }
  }
  if (logMgf !== undefined) return { data, meanOffset, logMgf };
  return { data, meanOffset, rowStart: rowStart!, nodes: Float64Array.from(nodeList), nodeWeights: Float64Array.from(weightList) };
}

/** The β objective Σ_g E_q log p(y_g | b_g, β) with its derivatives. @category GLMM */
export interface BetaObjective {
  /** Σ_g E_q log p(y_g | b_g, β), every constant included. */
  readonly value: number;
  /** `[p]` Σ_i x_i (y_i − E A'(η_i)). */
  readonly gradient: Float64Array;
  /** `[p, p]` −Σ_i x_i x_iᵀ E A''(η_i). */
  readonly hessian: Float64Array;
  /** `[p]` Σ_i |x_ij| (|y_i| + E A'(η_i)): the size of the terms the gradient sums, for a relative test. */
  readonly gradientScale: Float64Array;
  /** Σ_i (|y_i (x_iᵀβ + E d_i)| + E A(η_i)) + Σ log y_i!: the size of the terms the value sums (its rounding is ≈ ε times this). */
  readonly valueScale: number;
}

/**
 * Evaluates the β objective, gradient and Hessian.
 * @param beta `[p]`.
 * @category GLMM
 */
export function betaObjective(problem: BetaProblem, beta: ArrayLike<number>): BetaObjective {
  const { data, meanOffset, logMgf, rowStart, nodes, nodeWeights, groupMass } = problem;
  const { nRows: n, p, x, y, family, groupStart } = data;
  const gradient = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  const gradientScale = new Float64Array(p);
  const d = new Float64Array(3);
  let value = 0;
  let valueScale = 0;
  let g = 0;
  for (let i = 0; i < n; i++) {
    while (i >= groupStart[g + 1]!) g++;
    const mass = groupMass === undefined ? 1 : groupMass[g]!;
    let eta0 = 0;
    for (let j = 0; j < p; j++) eta0 += x[i * p + j]! * beta[j]!;
    let ea: number;
    let ea1: number;
    let ea2: number;
    if (logMgf !== undefined) {
      ea = Math.exp(eta0 + logMgf[i]!);
      ea1 = ea;
      ea2 = ea;
    } else {
      ea = 0;
      ea1 = 0;
      ea2 = 0;
      const end = rowStart![i + 1]!;
      if (family === 'logistic') {
        // cumulantDerivatives inlined (the hot loop of Monte Carlo M-steps): e = exp(−|η|),
        // A = max(η, 0) + log1p(e), A' = σ(η), A'' = e / (1 + e)².
        for (let k = rowStart![i]!; k < end; k++) {
          const eta = eta0 + nodes![k]!;
          const e = Math.exp(-Math.abs(eta));
          const inv = 1 / (1 + e);
          const w = nodeWeights![k]!;
          ea += w * ((eta > 0 ? eta : 0) + Math.log1p(e));
          ea1 += w * (eta >= 0 ? inv : e * inv);
          ea2 += w * e * inv * inv;
        }
      } else {
        for (let k = rowStart![i]!; k < end; k++) {
          cumulantDerivatives(family, eta0 + nodes![k]!, d);
          const w = nodeWeights![k]!;
          ea += w * d[0]!;
          ea1 += w * d[1]!;
          ea2 += w * d[2]!;
        }
      }
    }
    const yi = y[i]!;
    value += yi * (mass * eta0 + meanOffset[i]!) - ea;
    valueScale += Math.abs(yi * (mass * eta0 + meanOffset[i]!)) + ea;
    const r = mass * yi - ea1;
    const sc = mass * Math.abs(yi) + ea1;
    for (let j = 0; j < p; j++) {
      const xj = x[i * p + j]!;
      gradient[j] = gradient[j]! + r * xj;
      gradientScale[j] = gradientScale[j]! + Math.abs(xj) * sc;
      for (let l = 0; l <= j; l++) hessian[j * p + l] = hessian[j * p + l]! - ea2 * xj * x[i * p + l]!;
    }
  }
  for (let j = 0; j < p; j++) for (let l = 0; l < j; l++) hessian[l * p + j] = hessian[j * p + l]!;
  let logFact = 0;
  for (let h = 0; h < data.nGroups; h++) logFact += (groupMass === undefined ? 1 : groupMass[h]!) * data.logFactorialSum[h]!;
  return { value: value - logFact, gradient, hessian, gradientScale, valueScale: valueScale + logFact };
}

/** Rounding allowance of a sum, in units of ε times the sum of its absolute terms. @category GLMM */
export const ROUNDING_FACTOR = 16;

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** ‖gradient‖ / ‖gradientScale‖. */
function relativeGradient(o: BetaObjective): number {
  const s = norm(o.gradientScale);
  return s > 0 ? norm(o.gradient) / s : norm(o.gradient);
}

/** Options of {@link betaMStep}. @category GLMM */
export interface BetaMStepOptions {
  /** Stop when ‖∇‖ ≤ tol · ‖gradientScale‖ (default 1e-10). */
  readonly tol?: number;
  /** Largest number of Newton steps (default 100). */
  readonly maxIter?: number;
}

/** Result of {@link betaMStep}. @category GLMM */
export interface BetaMStepResult {
  /** `[p]` the new β. */
  readonly beta: Float64Array;
  /** The objective at the new β. */
  readonly value: number;
  /** The objective at the starting β (value ≥ startValue − 16 ε · valueScale; see {@link betaMStep}). */
  readonly startValue: number;
  /** ‖∇‖ / ‖gradientScale‖ at the new β. */
  readonly relativeGradientNorm: number;
  readonly nIter: number;
  /** True when the relative gradient norm reached tol. */
  readonly converged: boolean;
}

/**
 * Maximizes Σ_g E_q log p(y_g | b_g, β) over β by Newton–Raphson (IRLS) from
 * `betaStart`: each step β + t·(−H)⁻¹∇ takes the largest t in {1, ½, …, 2⁻⁵⁰}
 * that does not lower the objective. Stops when
 * ‖∇‖ ≤ tol·‖Σ_i |x_i| (|y_i| + E A'(η_i))‖ (relative to the size of the terms
 * the gradient sums), or when no step is accepted.
 *
 * Near the optimum the increase a Newton step brings, ½ ∇ᵀ(−H)⁻¹∇, falls below
 * the rounding of the objective itself (δ = 16 ε · valueScale) long before the
 * gradient reaches 1e-10 relative (at δ the gradient is still ≈ √ε relative).
 * There a step is accepted when it lowers the gradient norm and changes the
 * objective by less than δ, so "never lowers the objective" holds up to the
 * objective's own rounding error δ, and exactly everywhere else.
 * @throws EmError `INVALID_ARGUMENT` for a bad start or options; `NOT_POSITIVE_DEFINITE` if −H cannot be factored even with jitter.
 * @category GLMM
 */
export function betaMStep(problem: BetaProblem, betaStart: ArrayLike<number>, options: BetaMStepOptions = {}): BetaMStepResult {
  const p = problem.data.p;
  const tol = options.tol ?? 1e-10;
  const maxIter = options.maxIter ?? 100;
  if (!(tol >= 0) || !Number.isFinite(tol)) throw emError('INVALID_ARGUMENT', ['options', 'tol'], tol, 'must be a finite number >= 0', 'pass e.g. tol: 1e-10');
  if (!Number.isInteger(maxIter) || maxIter < 0) throw emError('INVALID_ARGUMENT', ['options', 'maxIter'], maxIter, 'must be an integer >= 0', 'pass e.g. maxIter: 100');
  if (betaStart.length !== p) throw emError('INVALID_ARGUMENT', ['betaStart'], betaStart, `must have length p = ${p}`, 'pass the current β');
  let beta = Float64Array.from(betaStart);
  for (let j = 0; j < p; j++) if (!Number.isFinite(beta[j]!)) throw emError('INVALID_ARGUMENT', ['betaStart', j], beta[j], 'must be finite', 'pass a finite β');
  let cur = betaObjective(problem, beta);
  const startValue = cur.value;
  let nIter = 0;
  let rel = relativeGradient(cur);
  while (rel > tol && nIter < maxIter) {
    const neg = cur.hessian.map((v) => -v);
    const { L } = choleskyWithJitter(neg, p, { what: 'negative Hessian of the β objective', path: ['beta'] });
    const half = solveLower(L, p, cur.gradient);
    const step = solveLowerTransposed(L, p, half);
    const predicted = 0.5 * half.reduce((s, v) => s + v * v, 0);
    const delta = ROUNDING_FACTOR * Number.EPSILON * cur.valueScale;
    const gradNorm = norm(cur.gradient);
    let accepted = false;
    let t = 1;
    for (let h = 0; h <= 50; h++, t *= 0.5) {
      const next = beta.map((b, j) => b + t * step[j]!);
      const o = betaObjective(problem, next);
      const ok = o.value >= cur.value || (predicted <= delta && o.value >= cur.value - delta && norm(o.gradient) < gradNorm);
      if (ok) {
        beta = next;
        cur = o;
        accepted = true;
        break;
      }
    }
    if (!accepted) break;
    nIter++;
    rel = relativeGradient(cur);
  }
  return { beta, value: cur.value, startValue, relativeGradientNorm: rel, nIter, converged: rel <= tol };
}

/**
 * Q(β, Σ_b) = Σ_g E_q log p(y_g | b_g, β) + Σ_g E_q log N(b_g; 0, Σ_b), every
 * constant included; add the entropy of q for the bound L(q, θ).
 * @throws EmError `INVALID_ARGUMENT` for a bad latent; `INVALID_PARAMS` for a Σ_b that is not positive definite.
 * @category GLMM
 */
export function expectedCompleteLogLikelihood(data: GlmmData, latent: GlmmLatent, params: GlmmParams): number {
  const stats = glmmSigmaStats(latent, data.nGroups, data.q);
  return betaObjective(betaProblem(data, latent), params.beta).value + expectedLogPriorFromStats(stats, params.sigma);
}

/** Options of {@link glmmMStep}. @category GLMM */
export interface GlmmMStepOptions extends BetaMStepOptions {
  /** Structure of Σ_b (default `'full'`). */
  readonly covarianceType?: RandomCovarianceType;
}

/** Result of {@link glmmMStep}. @category GLMM */
export interface GlmmMStepResult {
  readonly params: GlmmParams;
  /** Q(β_new, Σ_new) (see {@link expectedCompleteLogLikelihood}). */
  readonly expectedCompleteLogLik: number;
  readonly beta: BetaMStepResult;
  readonly sigmaStats: GlmmSigmaStats;
}

/**
 * The M-step: Σ_b in closed form and β by Newton–Raphson from `prev.beta`.
 * @throws EmError `INVALID_ARGUMENT` for a bad latent or options; `NOT_POSITIVE_DEFINITE` if the new Σ_b is singular (e.g. all draws 0).
 * @category GLMM
 */
export function glmmMStep(data: GlmmData, latent: GlmmLatent, prev: GlmmParams, options: GlmmMStepOptions = {}): GlmmMStepResult {
  const sigmaStats = glmmSigmaStats(latent, data.nGroups, data.q);
  const sigma = sigmaMStep(sigmaStats, options.covarianceType ?? 'full');
  let logPrior: number;
  try {
    logPrior = expectedLogPriorFromStats(sigmaStats, sigma);
  } catch (e) {
    throw emError('NOT_POSITIVE_DEFINITE', ['sigma'], sigma, 'the updated Σ_b = S/G is singular (the random effects have no spread under q)', 'check the E-step; a random effect may be redundant', e);
  }
  const betaOptions: BetaMStepOptions = {
    ...(options.tol === undefined ? {} : { tol: options.tol }),
    ...(options.maxIter === undefined ? {} : { maxIter: options.maxIter }),
  };
  const beta = betaMStep(betaProblem(data, latent), prev.beta, betaOptions);
  return { params: { beta: beta.beta, sigma }, expectedCompleteLogLik: beta.value + logPrior, beta, sigmaStats };
}
