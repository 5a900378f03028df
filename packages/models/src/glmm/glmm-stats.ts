/**
 * The GLMM's sufficient statistics as the E-step/M-step interface: what a
 * distribution q over every b_g contributes to
 *
 *   Q(β, Σ_b) = Σ_i [y_i (x_iᵀβ + E d_i) − E A(x_iᵀβ + d_i)] − Σ_g c(y_g)
 *             + Σ_g (−(q/2) log 2π − ½ log|Σ_b|) − ½ tr(Σ_b⁻¹ Σ_g E b_g b_gᵀ),   d_i = z_iᵀ b_g.
 *
 * Q is linear in q, so the statistics are linear functionals of q and form an
 * algebra (zero, add, scale): what Monte Carlo averaging and SAEM's stochastic
 * approximation need. Per group the mass of q (1 for a distribution), the
 * second moment Σ_g E b bᵀ, per row E d_i, and
 * - Poisson: per row log E e^{d_i} (E A = e^{x_iᵀβ} E e^{d_i});
 * - logistic: per row the distribution of d_i itself, as weighted nodes (the
 *   draws, or the nodes of {@link normalExpectationRule} for a Gaussian q):
 *   E softplus(x_iᵀβ + d_i) has no finite-dimensional statistic. Adding
 *   statistics concatenates node lists; nodes of weight 0 are dropped (SAEM's
 *   burn-in, γ = 1, so keeps only the latest draws).
 * @module
 */
import { cholesky, emError, type StatsAlgebra } from '@emlab/core';
import { randomEffectsPrior } from './glmm-math.js';
import { betaMStep, betaObjective, betaProblem, glmmSigmaStats, type BetaMStepOptions, type BetaMStepResult, type BetaProblem, type GlmmLatent } from './glmm-mstep.js';
import type { GlmmData, GlmmFamily, GlmmParams, RandomCovarianceType } from './glmm-types.js';

/**
 * Expected sufficient statistics of the GLMM under a q over every b_g (plain float64 arrays).
 * @category GLMM
 */
export interface GlmmStats {
  /** The grouped data the statistics refer to (a reference: x, y and the groups enter Q through them). */
  readonly data: GlmmData;
  readonly family: GlmmFamily;
  /** Random effects per group q. */
  readonly q: number;
  /** `[G]` mass of q over each group's b_g (1 for a probability distribution). */
  readonly groupMass: Float64Array;
  /** `[q × q]` Σ_g E_q[b_g b_gᵀ]. */
  readonly secondMoment: Float64Array;
  /** `[n]` E_q d_i, rows in the sorted (grouped) order of {@link GlmmData}. */
  readonly meanOffset: Float64Array;
  /** Poisson: `[n]` log E_q e^{d_i} (−∞ where q has no mass). */
  readonly logMgf?: Float64Array;
  /** Logistic: `[n + 1]` start of each row's nodes. */
  readonly rowStart?: Int32Array;
  /** Logistic: node values d. */
  readonly nodes?: Float64Array;
  /** Logistic: node weights (a row's weights sum to its group's mass). */
  readonly nodeWeights?: Float64Array;
}

/**
 * The statistics of a latent (weighted draws or a Gaussian q per group).
 * @throws EmError `INVALID_ARGUMENT` for a malformed latent (see `validateGlmmLatent`).
 * @category GLMM
 */
export function glmmStatsFromLatent(data: GlmmData, latent: GlmmLatent): GlmmStats {
  const problem = betaProblem(data, latent);
  const sigma = glmmSigmaStats(latent, data.nGroups, data.q);
  const base = { data, family: data.family, q: data.q, groupMass: new Float64Array(data.nGroups).fill(1), secondMoment: sigma.secondMoment, meanOffset: problem.meanOffset };
  if (problem.logMgf !== undefined) return { ...base, logMgf: problem.logMgf };
  return { ...base, rowStart: problem.rowStart!, nodes: problem.nodes!, nodeWeights: problem.nodeWeights! };
}

/**
 * The statistics of weighted draws of every b_g directly (what Monte Carlo E-steps call once per
 * batch; the same numbers as {@link glmmStatsFromLatent} with a `draws` latent, without its detours).
 * @param draws `[G × S × q]` row-major.
 * @param weights `[G × S]` non-negative, normalized per group here (default equal).
 * @throws EmError `INVALID_ARGUMENT` for a wrong length, a non-finite draw, or a group whose weights sum to 0.
 * @category GLMM
 */
export function glmmStatsFromDraws(data: GlmmData, draws: Float64Array, S: number, weights?: Float64Array): GlmmStats {
  const { q, nGroups: G, nRows: n, z, groupStart, family } = data;
  if (!Number.isInteger(S) || S < 1 || !(draws instanceof Float64Array) || draws.length !== G * S * q) {
    throw emError('INVALID_ARGUMENT', ['latent', 'draws'], draws, `must be a Float64Array [G, S, q] of length ${G * S * q} (S = ${S})`, 'pass every group’s draws');
  }
  if (weights !== undefined && (!(weights instanceof Float64Array) || weights.length !== G * S)) {
    throw emError('INVALID_ARGUMENT', ['latent', 'weights'], weights, `must be a Float64Array [G, S] of length ${G * S}`, 'pass one weight per draw or omit them');
  }
  const w = new Float64Array(G * S);
  for (let g = 0; g < G; g++) {
    let sum = 0;
    for (let s = 0; s < S; s++) {
      const v = weights === undefined ? 1 : weights[g * S + s]!;
      if (!(v >= 0) || !Number.isFinite(v)) throw emError('INVALID_ARGUMENT', ['latent', 'weights', g * S + s], v, 'must be finite and >= 0', 'pass non-negative weights');
      sum += v;
    }
    if (!(sum > 0)) throw emError('INVALID_ARGUMENT', ['latent', 'weights', g], sum, `group ${g}'s weights sum to 0`, 'give every group a positive weight');
    for (let s = 0; s < S; s++) w[g * S + s] = (weights === undefined ? 1 : weights[g * S + s]!) / sum;
  }
  const secondMoment = new Float64Array(q * q);
  for (let g = 0; g < G; g++) {
    for (let s = 0; s < S; s++) {
      const o = (g * S + s) * q;
      const ws = w[g * S + s]!;
      for (let i = 0; i < q; i++) {
        const bi = draws[o + i]!;
        if (!Number.isFinite(bi)) throw emError('INVALID_ARGUMENT', ['latent', 'draws', o + i], bi, 'must be finite', 'check the sampler');
        for (let j = 0; j <= i; j++) secondMoment[i * q + j] = secondMoment[i * q + j]! + ws * bi * draws[o + j]!;
      }
    }
  }
  for (let i = 0; i < q; i++) for (let j = 0; j < i; j++) secondMoment[j * q + i] = secondMoment[i * q + j]!;
  const meanOffset = new Float64Array(n);
  const poisson = family === 'poisson';
  const logMgf = poisson ? new Float64Array(n) : undefined;
  const rowStart = poisson ? undefined : new Int32Array(n + 1);
  let positive = 0;
  for (let i = 0; i < G * S; i++) if (w[i]! > 0) positive++;
  const nodes = poisson ? undefined : new Float64Array(0 + (positive === G * S ? n * S : countRowsNodes(data, w, S)));
  const nodeWeights = poisson ? undefined : new Float64Array(nodes!.length);
  const d = new Float64Array(S);
  let at = 0;
  for (let g = 0; g < G; g++) {
    for (let i = groupStart[g]!; i < groupStart[g + 1]!; i++) {
      let mean = 0;
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        const o = (g * S + s) * q;
        let v = 0;
        for (let k = 0; k < q; k++) v += z[i * q + k]! * draws[o + k]!;
        d[s] = v;
        const ws = w[g * S + s]!;
        mean += ws * v;
        if (ws > 0 && v > max) max = v;
      }
      meanOffset[i] = mean;
      if (logMgf !== undefined) {
        let sum = 0;
        for (let s = 0; s < S; s++) sum += w[g * S + s]! * Math.exp(d[s]! - max);
        logMgf[i] = max + Math.log(sum);
      } else {
        for (let s = 0; s < S; s++) {
          const ws = w[g * S + s]!;
          if (ws === 0) continue;
          nodes![at] = d[s]!;
          nodeWeights![at] = ws;
          at++;
        }
        rowStart![i + 1] = at;
      }
    }
  }
  const base = { data, family, q, groupMass: new Float64Array(G).fill(1), secondMoment, meanOffset };
  if (logMgf !== undefined) return { ...base, logMgf };
  return { ...base, rowStart: rowStart!, nodes: nodes!, nodeWeights: nodeWeights! };
}

/** Nodes of positive weight over all rows. */
function countRowsNodes(data: GlmmData, w: Float64Array, S: number): number {
  let count = 0;
  for (let g = 0; g < data.nGroups; g++) {
    let k = 0;
    for (let s = 0; s < S; s++) if (w[g * S + s]! > 0) k++;
    count += k * (data.groupStart[g + 1]! - data.groupStart[g]!);
  }
  return count;
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** Merges two node lists row by row (a's nodes first), keeping nodes of positive weight, each list's weights times its factor. */
function mergeNodes(a: GlmmStats, ca: number, b: GlmmStats | undefined, cb: number): { rowStart: Int32Array; nodes: Float64Array; nodeWeights: Float64Array } {
  const n = a.meanOffset.length;
  const rowStart = new Int32Array(n + 1);
  let count = 0;
  const keep = (s: GlmmStats, c: number, i: number): number => {
    if (c === 0) return 0;
    let k = 0;
    for (let j = s.rowStart![i]!; j < s.rowStart![i + 1]!; j++) if (s.nodeWeights![j]! * c > 0) k++;
    return k;
  };
  for (let i = 0; i < n; i++) {
    count += keep(a, ca, i) + (b === undefined ? 0 : keep(b, cb, i));
    rowStart[i + 1] = count;
  }
  const nodes = new Float64Array(count);
  const nodeWeights = new Float64Array(count);
  let at = 0;
  const copy = (s: GlmmStats, c: number, i: number): void => {
    if (c === 0) return;
    for (let j = s.rowStart![i]!; j < s.rowStart![i + 1]!; j++) {
      const w = s.nodeWeights![j]! * c;
      if (w > 0) {
        nodes[at] = s.nodes![j]!;
        nodeWeights[at] = w;
        at++;
      }
    }
  };
  for (let i = 0; i < n; i++) {
    copy(a, ca, i);
    if (b !== undefined) copy(b, cb, i);
  }
  return { rowStart, nodes, nodeWeights };
}

function checkFactor(c: number): void {
  if (!(c >= 0) || !Number.isFinite(c)) throw emError('INVALID_ARGUMENT', ['scale'], c, 'must be a finite number >= 0 (GLMM statistics are a measure)', 'scale by a non-negative factor');
}

/** a·ca + b·cb, a new object. */
function combine(a: GlmmStats, ca: number, b: GlmmStats | undefined, cb: number): GlmmStats {
  checkFactor(ca);
  checkFactor(cb);
  const lin = (x: Float64Array, y: Float64Array | undefined): Float64Array => x.map((v, i) => ca * v + (y === undefined ? 0 : cb * y[i]!));
  const base = {
    data: a.data,
    family: a.family,
    q: a.q,
    groupMass: lin(a.groupMass, b?.groupMass),
    secondMoment: lin(a.secondMoment, b?.secondMoment),
    meanOffset: lin(a.meanOffset, b?.meanOffset),
  };
  if (a.logMgf !== undefined) {
    const la = ca === 0 ? -Infinity : Math.log(ca);
    const lb = cb === 0 ? -Infinity : Math.log(cb);
    const logMgf = a.logMgf.map((v, i) => logAddExp(la === -Infinity ? -Infinity : v + la, b === undefined || lb === -Infinity ? -Infinity : b.logMgf![i]! + lb));
    return { ...base, logMgf };
  }
  return { ...base, ...mergeNodes(a, ca, b, cb) };
}

/**
 * zero / add / scale of {@link GlmmStats} (scale factors must be ≥ 0: the statistics describe a measure).
 * @category GLMM
 */
export const glmmStatsAlgebra: StatsAlgebra<GlmmStats> = {
  zero: (like) => combine(like, 0, undefined, 0),
  add: (a, b) => {
    if (a.data !== b.data && (a.meanOffset.length !== b.meanOffset.length || a.q !== b.q || a.family !== b.family)) {
      throw emError('INVALID_ARGUMENT', ['stats'], b.meanOffset.length, `do not match: ${a.family}/${a.meanOffset.length} rows/q = ${a.q} vs ${b.family}/${b.meanOffset.length} rows/q = ${b.q}`, 'add statistics of the same data');
    }
    return combine(a, 1, b, 1);
  },
  scale: (a, c) => combine(a, c, undefined, 0),
};

/** The β objective's problem for statistics (see `betaObjective`). @category GLMM */
export function betaProblemFromStats(stats: GlmmStats): BetaProblem {
  const base = { data: stats.data, meanOffset: stats.meanOffset, groupMass: stats.groupMass };
  if (stats.logMgf !== undefined) return { ...base, logMgf: stats.logMgf };
  return { ...base, rowStart: stats.rowStart!, nodes: stats.nodes!, nodeWeights: stats.nodeWeights! };
}

function totalMass(stats: GlmmStats): number {
  let s = 0;
  for (let g = 0; g < stats.groupMass.length; g++) s += stats.groupMass[g]!;
  return s;
}

/**
 * Q(β, Σ_b) from statistics, every constant included (see the module notes).
 * @throws EmError `INVALID_PARAMS` for a Σ_b that is not positive definite.
 * @category GLMM
 */
export function glmmExpectedLogJoint(stats: GlmmStats, params: GlmmParams): number {
  const q = stats.q;
  const prior = randomEffectsPrior(params.sigma, q);
  let tr = 0;
  for (let i = 0; i < q; i++) for (let j = 0; j < q; j++) tr += prior.precision[i * q + j]! * stats.secondMoment[j * q + i]!;
  return betaObjective(betaProblemFromStats(stats), params.beta).value + totalMass(stats) * prior.logNormalizer - 0.5 * tr;
}

/** What {@link glmmMStepFromStats} returns. @category GLMM */
export interface GlmmStatsMStep {
  readonly params: GlmmParams;
  readonly beta: BetaMStepResult;
  /** Whether Σ_b = S / G needed a ridge to be positive definite (q has no spread in some direction). */
  readonly ridge: number;
}

/**
 * The M-step from statistics: Σ_b = S / Σ_g mass_g (its diagonal for `'diagonal'`), β by Newton–Raphson
 * from `prevBeta` (see `betaMStep`). A Σ_b that is not positive definite (every draw 0 in some
 * direction) gets the smallest ridge 2^k · 1e-12 · max(1, tr Σ_b / q) that makes it so, reported in `ridge`.
 * @throws EmError `INVALID_ARGUMENT` for statistics with no mass.
 * @category GLMM
 */
export function glmmMStepFromStats(stats: GlmmStats, prevBeta: Float64Array, covarianceType: RandomCovarianceType = 'full', options: BetaMStepOptions = {}): GlmmStatsMStep {
  const q = stats.q;
  const mass = totalMass(stats);
  if (!(mass > 0)) throw emError('INVALID_ARGUMENT', ['stats', 'groupMass'], mass, 'is 0: the statistics describe no group', 'pass statistics of at least one group');
  const sigma = new Float64Array(q * q);
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < q; j++) {
      if (covarianceType === 'diagonal' && i !== j) continue;
      sigma[i * q + j] = stats.secondMoment[i * q + j]! / mass;
    }
  }
  for (let i = 0; i < q; i++) for (let j = 0; j < i; j++) sigma[j * q + i] = sigma[i * q + j]!;
  let ridge = 0;
  if (cholesky(sigma, q) === null) {
    let tr = 0;
    for (let i = 0; i < q; i++) tr += sigma[i * q + i]!;
    let r = 1e-12 * Math.max(1, Math.abs(tr) / q);
    for (let k = 0; k < 200; k++, r *= 2) {
      const trial = sigma.slice();
      for (let i = 0; i < q; i++) trial[i * q + i] = trial[i * q + i]! + r;
      if (cholesky(trial, q) !== null) {
        sigma.set(trial);
        ridge = r;
        break;
      }
    }
  }
  const beta = betaMStep(betaProblemFromStats(stats), prevBeta, options);
  return { params: { beta: beta.beta, sigma }, beta, ridge };
}

/**
 * SAEM's simulated annealing for the GLMM: statistics whose Σ_b = S / G has every variance at least
 * `factor` times Σ_b's (S_ii raised to factor · G · Σ_ii where it is below; raising a diagonal keeps S
 * positive semi-definite).
 * @category GLMM
 */
export function annealGlmmStats(stats: GlmmStats, sigma: Float64Array, factor: number): GlmmStats {
  const q = stats.q;
  const mass = totalMass(stats);
  const secondMoment = stats.secondMoment.slice();
  for (let i = 0; i < q; i++) secondMoment[i * q + i] = Math.max(secondMoment[i * q + i]!, factor * mass * sigma[i * q + i]!);
  return { ...stats, secondMoment };
}
