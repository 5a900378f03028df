/**
 * Importance-sampling estimates of log p(x | θ) where no exact value is
 * available, with their standard errors: per group (or evidence pattern)
 * p̂ = (1/M) Σ_i p(x, z_i | θ) / r(z_i), z_i ~ r, an unbiased estimate of
 * p(x | θ); log p̂ has delta-method standard error sd(w) / (√M · mean(w)) and
 * a downward bias of about half its variance (Jensen). Groups are independent,
 * so the total's variance is the sum of theirs (a pattern that stands for m
 * rows counts m times, its variance m² times).
 *
 * Proposals r:
 * - `continuous`: a multivariate Student-t (ν = 4 by default) centred at the
 *   Laplace mode of p(x_g, b | θ) with the Laplace covariance as its scale:
 *   heavier tails than the posterior it approximates, so the weights have
 *   finite variance for the GLMM's log-concave posteriors.
 * - `factor-graph`: independent categorical distributions per unobserved
 *   variable (e.g. the Gibbs chain's marginals), smoothed toward uniform so
 *   that every state keeps positive probability.
 *
 * @see Geweke, J. (1989). Bayesian inference in econometric models using Monte Carlo integration. Econometrica 57, 1317–1339.
 * @module
 */
import { choleskyWithJitter, emError, inverseFromCholesky, isContinuousStructure, isFactorGraphStructure, type ContinuousStructure, type FactorGraphStructure, type LatentStructure, type Rng } from '@emlab/core';
import { conditionalFreeVariables, gibbsPlan, logFactorProduct } from './samplers/gibbs-plan.js';
import type { Estimate } from './samplers/sampler.js';
import { gammaDraw } from './internal/gamma-draw.js';
import { modeOf } from './internal/newton.js';

/** Options of {@link importanceLogLikelihood}. @category Estimates */
export interface ImportanceOptions {
  /** The stream of the proposal draws (`rng/group/g` or `rng/pattern/p`). */
  readonly rng: Rng;
  /** Proposal draws per group or pattern (default 100). */
  readonly nDraws?: number;
  /** Degrees of freedom of the Student-t proposal (`continuous`; default 4). */
  readonly df?: number;
  /** `continuous`: `[G × q]` starting points of the mode searches (e.g. the previous modes). */
  readonly starts?: Float64Array;
  /**
   * `factor-graph`: proposal marginals `[nPatterns × Σ cardinalities]` (counts or probabilities per
   * variable's states; e.g. a Gibbs chain's), smoothed by adding 0.5 to counts normalized to sum to
   * their number of draws; default uniform.
   */
  readonly marginals?: Float64Array;
  /** Draws the `marginals` counts came from (default: they are probabilities). */
  readonly marginalDraws?: number;
}

/** An estimate of log p(x | θ) with per-group parts. @category Estimates */
export interface ImportanceEstimate extends Estimate {
  /** `[G]` or `[nPatterns]` log p̂ of each group or pattern (one instance of it). */
  readonly parts: Float64Array;
  /** `[G]` or `[nPatterns]` their standard errors. */
  readonly partStdErr: Float64Array;
  /** The smallest effective sample size (Σw)²/Σw² of the importance weights over groups or patterns. */
  readonly minEss: number;
}

/** log of the mean of exp(logW) and its delta-method standard error. */
function logMeanExp(logW: Float64Array): { value: number; stdErr: number; ess: number } {
  const M = logW.length;
  let max = -Infinity;
  for (let i = 0; i < M; i++) if (logW[i]! > max) max = logW[i]!;
  if (max === -Infinity) return { value: -Infinity, stdErr: Number.POSITIVE_INFINITY, ess: 0 };
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < M; i++) {
    const w = Math.exp(logW[i]! - max);
    s += w;
    s2 += w * w;
  }
  const mean = s / M;
  const variance = M > 1 ? Math.max(0, (s2 - M * mean * mean) / (M - 1)) : Number.NaN;
  return { value: max + Math.log(mean), stdErr: Math.sqrt(variance / M) / mean, ess: (s * s) / s2 };
}

const LOG_2PI = Math.log(2 * Math.PI);

function lgamma(x: number): number {
  // Lanczos (g = 7, 9 terms), ~1e-15 relative for x > 0.5.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** IS over every group of a continuous structure with a Student-t proposal at the Laplace mode. */
function continuousImportance(structure: ContinuousStructure, options: ImportanceOptions): ImportanceEstimate {
  const M = options.nDraws ?? 100;
  const df = options.df ?? 4;
  const G = structure.nGroups;
  const q = structure.dim;
  const parts = new Float64Array(G);
  const partStdErr = new Float64Array(G);
  let value = 0;
  let se2 = 0;
  let minEss = Infinity;
  const logW = new Float64Array(M);
  const b = new Float64Array(q);
  const eps = new Float64Array(q);
  // log density of the t proposal: lgamma((ν+q)/2) − lgamma(ν/2) − (q/2) log(νπ) − ½ log|V| − ((ν+q)/2) log(1 + δ/ν).
  const logTConst = df === Infinity ? -0.5 * q * LOG_2PI : lgamma((df + q) / 2) - lgamma(df / 2) - 0.5 * q * Math.log(df * Math.PI);
  for (let g = 0; g < G; g++) {
    const m = modeOf(structure, g, options.starts?.subarray(g * q, (g + 1) * q));
    const { L: Lh } = choleskyWithJitter(m.negHessian, q, { what: 'negative Hessian at the mode', path: ['b', g] });
    const V = inverseFromCholesky(Lh, q);
    const { L } = choleskyWithJitter(V, q, { what: 'Laplace covariance', path: ['b', g] });
    let logDetL = 0;
    for (let i = 0; i < q; i++) logDetL += Math.log(L[i * q + i]!);
    const rng = options.rng.child('group', g);
    for (let s = 0; s < M; s++) {
      let sq = 0;
      for (let i = 0; i < q; i++) {
        eps[i] = rng.normal();
        sq += eps[i]! * eps[i]!;
      }
      const radial = df === Infinity ? 1 : Math.sqrt(df / (2 * gammaDraw(rng, df / 2)));
      for (let i = 0; i < q; i++) {
        let v = m.mode[i]!;
        for (let k = 0; k <= i; k++) v += radial * L[i * q + k]! * eps[k]!;
        b[i] = v;
      }
      // δ = (b − m)ᵀ V⁻¹ (b − m) = radial² |ε|².
      const delta = radial * radial * sq;
      const logR = logTConst - logDetL + (df === Infinity ? -0.5 * delta : -0.5 * (df + q) * Math.log1p(delta / df));
      const lj = structure.logJoint(g, b);
      logW[s] = (Number.isNaN(lj) ? -Infinity : lj) - logR;
    }
    const r = logMeanExp(logW);
    parts[g] = r.value;
    partStdErr[g] = r.stdErr;
    value += r.value;
    se2 += r.stdErr * r.stdErr;
    minEss = Math.min(minEss, r.ess);
  }
  return { value, stdErr: Math.sqrt(se2), parts, partStdErr, minEss };
}

/** IS over every evidence pattern of a factor graph with a product-of-categoricals proposal. */
function factorGraphImportance(structure: FactorGraphStructure, options: ImportanceOptions): ImportanceEstimate {
  const M = options.nDraws ?? 100;
  const plan = gibbsPlan(structure.spec);
  const ev = structure.evidence;
  const P = ev.nPatterns;
  const nv = plan.nVariables;
  const free = conditionalFreeVariables(ev);
  const tables = structure.factorTables;
  const logC = structure.logConstant ?? 0;
  const parts = new Float64Array(P);
  const partStdErr = new Float64Array(P);
  const x = new Int32Array(nv);
  const logW = new Float64Array(M);
  const probs = new Float64Array(plan.totalStates);
  let value = 0;
  let se2 = 0;
  let minEss = Infinity;
  if (options.marginals !== undefined && options.marginals.length !== P * plan.totalStates) {
    throw emError('INVALID_ARGUMENT', ['options', 'marginals'], options.marginals, `must have nPatterns × Σ cardinalities = ${P * plan.totalStates} entries`, 'pass per-pattern state counts of every variable');
  }
  for (let p = 0; p < P; p++) {
    const m = ev.counts[p]!;
    for (let v = 0; v < nv; v++) x[v] = ev.values[p * nv + v]!;
    const fv = free[p]!;
    if (fv.length === 0) {
      const lp = logFactorProduct(plan, tables, x, 0, logC);
      parts[p] = lp;
      value += m * lp;
      continue;
    }
    for (const v of fv) {
      const K = plan.cards[v]!;
      const o = plan.stateOffset[v]!;
      if (options.marginals === undefined) {
        for (let k = 0; k < K; k++) probs[o + k] = 1 / K;
        continue;
      }
      let total = 0;
      for (let k = 0; k < K; k++) total += options.marginals[p * plan.totalStates + o + k]!;
      // Counts n_k of D draws → (n_k + ½) / (D + K/2); probabilities (D absent) are used as counts of one draw.
      const D = options.marginalDraws ?? total;
      const scale = total > 0 ? D / total : 0;
      for (let k = 0; k < K; k++) probs[o + k] = (scale * options.marginals[p * plan.totalStates + o + k]! + 0.5) / (D + 0.5 * K);
    }
    const rng = options.rng.child('pattern', p);
    for (let s = 0; s < M; s++) {
      let logR = 0;
      for (const v of fv) {
        const K = plan.cards[v]!;
        const o = plan.stateOffset[v]!;
        let u = rng.uniform();
        let k = 0;
        for (; k < K - 1; k++) {
          u -= probs[o + k]!;
          if (u < 0) break;
        }
        x[v] = k;
        logR += Math.log(probs[o + k]!);
      }
      logW[s] = logFactorProduct(plan, tables, x, 0, logC) - logR;
    }
    const r = logMeanExp(logW);
    parts[p] = r.value;
    partStdErr[p] = r.stdErr;
    value += m * r.value;
    se2 += m * m * r.stdErr * r.stdErr;
    minEss = Math.min(minEss, r.ess);
  }
  return { value, stdErr: Math.sqrt(se2), parts, partStdErr, minEss: minEss === Infinity ? M : minEss };
}

/**
 * An importance-sampling estimate of log p(x | θ) for a `continuous` or `factor-graph` structure,
 * with its standard error (see the module notes for the proposals).
 * @example
 * ```ts
 * const est = importanceLogLikelihood(model.structure(prepared, params), { rng: createRng(1), nDraws: 200 });
 * console.log(est.value, '±', est.stdErr);
 * ```
 * @throws EmError `INVALID_ARGUMENT` for another structure kind or malformed marginals.
 * @category Estimates
 */
export function importanceLogLikelihood(structure: LatentStructure, options: ImportanceOptions): ImportanceEstimate {
  const M = options.nDraws ?? 100;
  if (!Number.isInteger(M) || M < 2) throw emError('INVALID_ARGUMENT', ['options', 'nDraws'], M, 'must be an integer >= 2', 'pass e.g. nDraws: 100');
  if (options.df !== undefined && !(options.df > 0)) throw emError('INVALID_ARGUMENT', ['options', 'df'], options.df, 'must be > 0 (Infinity for a Gaussian proposal)', 'pass e.g. df: 4');
  if (isContinuousStructure(structure)) return continuousImportance(structure, options);
  if (isFactorGraphStructure(structure)) return factorGraphImportance(structure, options);
  throw emError('INVALID_ARGUMENT', ['structure', 'kind'], structure.kind, 'has no importance-sampling estimate here (continuous and factor-graph only)', 'use the exact log-likelihood of finite structures (exact E-step)');
}
