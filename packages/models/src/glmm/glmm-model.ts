/**
 * The generalized linear mixed model (Poisson or logistic regression with
 * Gaussian random effects per group) as a core `Model`: structure kind
 * `continuous` (the random effects b_g are the latent variables), statistics
 * {@link GlmmStats}, M-step from them (Σ_b in closed form, β by Newton), and
 * the exact log-likelihood by adaptive Gauss–Hermite quadrature.
 *
 * No exact E-step exists: Monte Carlo E-steps (Metropolis–Hastings draws of
 * b_g, MCEM, SAEM) and the Laplace E-step (a Gaussian q per group) run on it.
 * @module
 */
import { emError, parseOptions, type MStepContext, type MStepResult, type Model, type ModelEvent, type OptionSchema, type Parametrization, type PrepareContext, type PreparedData, type Rng, type StructureContext } from '@emlab/core';
import { aghqLogLikelihood, DEFAULT_AGHQ_NODES, MAX_AGHQ_POINTS } from './aghq.js';
import { prepareGlmmData, validateGlmmParams } from './glmm-data.js';
import { betaMStep, betaProblem, ROUNDING_FACTOR } from './glmm-mstep.js';
import { glmmExpectedLogJoint, glmmMStepFromStats, glmmStatsAlgebra, glmmStatsFromLatent, type GlmmStats } from './glmm-stats.js';
import { glmmStructure } from './glmm-structure.js';
import { GLMM_FAMILIES, type GlmmData, type GlmmDataInput, type GlmmFamily, type GlmmParams, type RandomCovarianceType } from './glmm-types.js';
import { laplaceQEStep } from './laplace-q.js';

/** The covariance types of Σ_b. @category GLMM */
export const RANDOM_COVARIANCE_TYPES: readonly RandomCovarianceType[] = ['full', 'diagonal'];

/** Options of {@link glmm}. @category GLMM */
export interface GlmmOptions {
  /** `'poisson'` (log link) or `'logistic'` (Bernoulli, logit link). */
  readonly family: GlmmFamily;
  /** Σ_b `'full'` (default) or `'diagonal'`. */
  readonly covarianceType?: RandomCovarianceType;
  /** AGHQ nodes per dimension of the exact log-likelihood (default 25 for q ≤ 2, ⌊10^(6/q)⌋ capped at 25 above). */
  readonly nQuad?: number;
}

/** The option table of {@link glmm} (validation, CLI flags, docs). @category GLMM */
export const GLMM_OPTIONS = {
  family: { type: 'enum', values: GLMM_FAMILIES, required: true, flag: 'family', description: 'response family: poisson (log link) or logistic (Bernoulli, logit link)' },
  covarianceType: { type: 'enum', values: RANDOM_COVARIANCE_TYPES, default: 'full', flag: 'covariance', description: 'covariance of the random effects Σ_b: full or diagonal' },
  nQuad: { type: 'integer', min: 1, max: 100, flag: 'quad-nodes', description: 'adaptive Gauss–Hermite nodes per dimension of the exact log-likelihood (default 25 for q <= 2)' },
} as const satisfies OptionSchema;

/** GLMM data for the model: the family comes from the model (a `family` given here must agree). @category GLMM */
export type GlmmModelData = Omit<GlmmDataInput, 'family'> & { readonly family?: GlmmFamily; readonly levels?: readonly (number | string)[] };

/** GLMM parameters as plain JSON: β `[p]` and Σ_b `[q][q]`. @category GLMM */
export interface GlmmModelParams {
  readonly beta: readonly number[];
  readonly sigma: readonly (readonly number[])[];
}

/** Prepared GLMM data: the validated rows sorted by group. @category GLMM */
export interface GlmmPrepared extends PreparedData {
  readonly data: GlmmData;
}

/** The maths' typed-array parameters from JSON parameters (not validated). @category GLMM */
export function glmmParamsToArrays(params: GlmmModelParams): GlmmParams {
  return { beta: Float64Array.from(params.beta), sigma: Float64Array.from(params.sigma.flat()) };
}

/** JSON parameters from the maths' typed arrays. @category GLMM */
export function glmmParamsFromArrays(params: GlmmParams): GlmmModelParams {
  const q = Math.round(Math.sqrt(params.sigma.length));
  return { beta: Array.from(params.beta), sigma: Array.from({ length: q }, (_, i) => Array.from(params.sigma.subarray(i * q, (i + 1) * q))) };
}

function defaultNQuad(q: number): number {
  return q <= 2 ? DEFAULT_AGHQ_NODES : Math.max(1, Math.min(DEFAULT_AGHQ_NODES, Math.floor(Math.pow(MAX_AGHQ_POINTS, 1 / q))));
}

/**
 * A generalized linear mixed model: y_gi | b_g ~ Poisson(exp η) or Bernoulli(logistic η),
 * η = x_giᵀβ + z_giᵀb_g, b_g ~ N(0, Σ_b).
 *
 * - Data: {@link GlmmModelData} (rows in any order; x with an intercept column when wanted, z = [1]
 *   for a random intercept, [1, t] for intercept and slope).
 * - Structure kind `continuous` (`glmmStructure`): per group log p(y_g, b) with gradient and Hessian,
 *   statistics from draws or a Gaussian q, the exact log p(y_g) by AGHQ, SAEM annealing of Σ_b.
 * - M-step: Σ_b = Σ_g E b bᵀ / G (diagonal part for `'diagonal'`), β by Newton–Raphson (IRLS).
 * - `logLikelihood`: adaptive Gauss–Hermite quadrature (matched to lme4's nAGQ to 1e-9), so the gap of
 *   every approximate E-step and the stationarity check stay measurable.
 * - Init `glm` (default): β of the GLM without random effects, then Σ_b from one Laplace step at
 *   Σ_b = I; `random`: that β jittered (sd 0.25) and a random diagonal Σ_b in [0.1, 2.1].
 *
 * @example
 * ```ts
 * import { fit } from '@emlab/core';
 * import '@emlab/montecarlo';
 * const model = glmm({ family: 'poisson' });
 * const r = await fit(model, { group, y, x, z }, { eStep: 'mcem', eStepOptions: { schedule: 'auto' }, seed: 1 });
 * ```
 * @category GLMM
 */
export class GeneralizedLinearMixedModel implements Model<GlmmModelData, GlmmModelParams, GlmmStats, GlmmPrepared> {
  readonly name = 'glmm';
  readonly structureKind = 'continuous';
  readonly initMethods = ['glm', 'random'] as const;
  readonly precisions = ['float64'] as const;
  /** No exact E-step exists for random effects: `fit` without `eStep` runs MCEM (the ascent-based rule), which reaches the MLE. */
  readonly defaultMethod = 'mcem';
  readonly stats = glmmStatsAlgebra;
  readonly family: GlmmFamily;
  readonly covarianceType: RandomCovarianceType;
  readonly nQuad: number | undefined;
  private readonly cache = new WeakMap<object, GlmmData>();

  /** @throws EmError `INVALID_ARGUMENT` naming the option. */
  constructor(options: GlmmOptions) {
    const o = parseOptions(GLMM_OPTIONS, options, { owner: 'glmm', pathOf: (k) => ['options', k] });
    this.family = o['family'] as GlmmFamily;
    this.covarianceType = o['covarianceType'] as RandomCovarianceType;
    this.nQuad = o['nQuad'] as number | undefined;
  }

  get options(): Readonly<Record<string, unknown>> {
    return { family: this.family, covarianceType: this.covarianceType, ...(this.nQuad === undefined ? {} : { nQuad: this.nQuad }) };
  }

  /** The validated, grouped data (cached per input object). */
  private grouped(data: GlmmModelData): GlmmData {
    if (typeof data !== 'object' || data === null) throw emError('INVALID_DATA', ['data'], data, 'must be an object { group, y, x, z }', 'pass the rows as { group, y, x, z }');
    const hit = this.cache.get(data);
    if (hit !== undefined) return hit;
    if (data.family !== undefined && data.family !== this.family) {
      throw emError('INVALID_DATA', ['data', 'family'], data.family, `differs from the model's family "${this.family}"`, `drop data.family or build glmm({ family: '${data.family}' })`);
    }
    const prepared = prepareGlmmData({ ...data, family: this.family });
    this.cache.set(data, prepared);
    return prepared;
  }

  /** @throws EmError `INVALID_DATA` naming the field and row (see `prepareGlmmData`). */
  validate(data: GlmmModelData): void {
    this.grouped(data);
  }

  /** @throws EmError `INVALID_PARAMS` naming `params.beta[j]` or `params.sigma`. */
  validateParams(params: unknown, data?: GlmmModelData): asserts params is GlmmModelParams {
    const p = params as GlmmModelParams;
    if (typeof p !== 'object' || p === null || !Array.isArray(p.beta) || !Array.isArray(p.sigma)) {
      throw emError('INVALID_PARAMS', ['params'], params, 'must be { beta: number[], sigma: number[][] }', 'pass the fixed effects and the random-effect covariance');
    }
    const q = p.sigma.length;
    p.beta.forEach((v, j) => {
      if (typeof v !== 'number') throw emError('INVALID_PARAMS', ['params', 'beta', j], v, 'must be a number', 'give finite fixed effects');
    });
    p.sigma.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== q) throw emError('INVALID_PARAMS', ['params', 'sigma', i], row, `must be a row of ${q} numbers`, 'give Σ_b as a square q×q array');
      row.forEach((v, j) => {
        if (typeof v !== 'number') throw emError('INVALID_PARAMS', ['params', 'sigma', i, j], v, 'must be a number', 'give a finite covariance');
      });
    });
    const g = data === undefined ? undefined : this.grouped(data);
    if (g !== undefined && q !== g.q) throw emError('INVALID_PARAMS', ['params', 'sigma'], q, `is ${q}×${q} but the data have q = ${g.q} random effects`, `give a ${g.q}×${g.q} Σ_b`);
    const arrays = glmmParamsToArrays(p);
    validateGlmmParams(arrays, g?.p ?? p.beta.length, q, this.covarianceType);
  }

  prepare(data: GlmmModelData, _ctx?: PrepareContext): GlmmPrepared {
    const g = this.grouped(data);
    return { nRows: g.nRows, totalWeight: g.nRows, data: g, dispose() {} };
  }

  init(prepared: GlmmPrepared, method: string, rng: Rng): GlmmModelParams {
    const data = prepared.data;
    const { p, q, nGroups: G } = data;
    const zero = { kind: 'gaussian' as const, means: new Float64Array(G * q), covs: new Float64Array(G * q * q) };
    const beta = betaMStep(betaProblem(data, zero), new Float64Array(p)).beta;
    if (method === 'random') {
      const b = beta.map((v) => v + 0.25 * rng.normal());
      const sigma = new Float64Array(q * q);
      for (let i = 0; i < q; i++) sigma[i * q + i] = 0.1 + 2 * rng.uniform();
      return glmmParamsFromArrays({ beta: b, sigma });
    }
    if (method !== 'glm') throw emError('INVALID_ARGUMENT', ['options', 'init'], method, 'is not an initialization method of glmm', "use 'glm', 'random' or given parameters");
    const identity = new Float64Array(q * q);
    for (let i = 0; i < q; i++) identity[i * q + i] = 1;
    const lap = laplaceQEStep(data, { beta, sigma: identity });
    const stats = glmmStatsFromLatent(data, { kind: 'gaussian', means: lap.means, covs: lap.covs });
    const sigma = glmmMStepFromStats(stats, beta, this.covarianceType).params.sigma;
    return glmmParamsFromArrays({ beta, sigma });
  }

  structure(prepared: GlmmPrepared, params: GlmmModelParams, _ctx?: StructureContext): ReturnType<typeof glmmStructure> {
    return glmmStructure(prepared.data, glmmParamsToArrays(params), { nQuad: this.nQuad ?? defaultNQuad(prepared.data.q) });
  }

  mStep(stats: GlmmStats, prev: GlmmModelParams, ctx: MStepContext<GlmmPrepared>): MStepResult<GlmmModelParams> {
    const data = ctx.prepared.data;
    const r = glmmMStepFromStats(stats, Float64Array.from(prev.beta), this.covarianceType);
    const events: ModelEvent[] = [];
    if (r.ridge > 0) events.push({ type: 'regularized', detail: `Σ_b = S/G was singular (no spread of the random effects in some direction); a ridge ${r.ridge.toExponential(2)} was added`, value: r.ridge });
    // Newton's last steps may lower Q by up to the objective's own rounding (see betaMStep).
    const boundSlack = ROUNDING_FACTOR * Number.EPSILON * (Math.abs(r.beta.startValue) + Math.abs(r.beta.value) + data.nRows);
    return { params: glmmParamsFromArrays(r.params), boundSlack, ...(events.length > 0 ? { events } : {}) };
  }

  expectedLogJoint(stats: GlmmStats, params: GlmmModelParams): number {
    return glmmExpectedLogJoint(stats, glmmParamsToArrays(params));
  }

  logLikelihood(prepared: GlmmPrepared, params: GlmmModelParams): number {
    return aghqLogLikelihood(prepared.data, glmmParamsToArrays(params), { nQuad: this.nQuad ?? defaultNQuad(prepared.data.q) }).logLik;
  }

  nParameters(params: GlmmModelParams): number {
    const q = params.sigma.length;
    return params.beta.length + (this.covarianceType === 'full' ? (q * (q + 1)) / 2 : q);
  }

  summarizeData(prepared: GlmmPrepared): Readonly<Record<string, number>> {
    return { nGroups: prepared.data.nGroups, nFixed: prepared.data.p, nRandom: prepared.data.q };
  }

  /**
   * Unconstrained coordinates: β, then the lower Cholesky factor L of Σ_b row by row with log
   * diagonals (`'full'`), or ½ log Σ_ii (`'diagonal'`).
   */
  parametrization(prepared: GlmmPrepared): Parametrization<GlmmModelParams> {
    const { p, q } = prepared.data;
    const full = this.covarianceType === 'full';
    const dim = p + (full ? (q * (q + 1)) / 2 : q);
    return {
      description: `glmm: β (${p}), then ${full ? 'the lower Cholesky factor of Σ_b row by row with log diagonals' : '½ log Σ_ii'}`,
      dim,
      toVector: (params) => {
        const a = glmmParamsToArrays(params);
        const v = new Float64Array(dim);
        v.set(a.beta);
        let at = p;
        if (!full) {
          for (let i = 0; i < q; i++) v[at++] = 0.5 * Math.log(a.sigma[i * q + i]!);
          return v;
        }
        const L = new Float64Array(q * q);
        for (let i = 0; i < q; i++) {
          for (let j = 0; j <= i; j++) {
            let s = a.sigma[i * q + j]!;
            for (let k = 0; k < j; k++) s -= L[i * q + k]! * L[j * q + k]!;
            L[i * q + j] = i === j ? Math.sqrt(Math.max(s, 0)) : s / L[j * q + j]!;
            v[at++] = i === j ? Math.log(L[i * q + i]!) : L[i * q + j]!;
          }
        }
        return v;
      },
      fromVector: (v) => {
        const beta = Float64Array.from({ length: p }, (_, j) => v[j]!);
        const sigma = new Float64Array(q * q);
        let at = p;
        if (!full) {
          for (let i = 0; i < q; i++) sigma[i * q + i] = Math.exp(2 * v[at++]!);
          return glmmParamsFromArrays({ beta, sigma });
        }
        const L = new Float64Array(q * q);
        for (let i = 0; i < q; i++) for (let j = 0; j <= i; j++) L[i * q + j] = i === j ? Math.exp(v[at++]!) : v[at++]!;
        for (let i = 0; i < q; i++) {
          for (let j = 0; j < q; j++) {
            let s = 0;
            for (let k = 0; k <= Math.min(i, j); k++) s += L[i * q + k]! * L[j * q + k]!;
            sigma[i * q + j] = s;
          }
        }
        return glmmParamsFromArrays({ beta, sigma });
      },
    };
  }
}

/**
 * A generalized linear mixed model (see {@link GeneralizedLinearMixedModel}).
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @category GLMM
 */
export function glmm(options: GlmmOptions): GeneralizedLinearMixedModel {
  return new GeneralizedLinearMixedModel(options);
}
