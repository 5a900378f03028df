/**
 * The Gaussian-mixture model: a thin binding of the pure maths (`gmm-math.ts`),
 * the structure kernels (`gmm-structure.ts`: float32 tensors, float64 host),
 * initialization (`gmm-init.ts`), validation (`gmm-validate.ts`) and the
 * prediction API (`gmm-api.ts`) to core's `Model`.
 * @module
 */
import { parseOptions, type ConjugateHooks, type DegenerateComponent, type LouisTerms, type MStepContext, type MStepResult, type Model, type OptionSchema, type Parametrization, type PrepareContext, type Rng, type Seed, type StructureContext } from '@emlab/core';
import { gmmAic, gmmBic, gmmNParameters, gmmPredict, gmmPredictProba, gmmSample, gmmScoreSamples } from './gmm-api.js';
import { gmmConjugate } from './gmm-conjugate.js';
import { gmmCoordinates, gmmParametrization, gmmScale } from './gmm-coordinates.js';
import { featureCount, matrixShape, prepareGmmData, type GmmPrepared } from './gmm-data.js';
import { GMM_INIT_METHODS, gmmInit, reinitSource } from './gmm-init.js';
import { gmmLouisTerms } from './gmm-louis.js';
import { gmmSimulate } from './gmm-simulate.js';
import { gmmDegenerate, gmmExpectedLogJoint, gmmMStep, gmmRoundoffScale, gmmStatsAlgebra } from './gmm-math.js';
import { frameLogJacobian, paramsFromFrame, paramsToFrame } from './gmm-frame.js';
import { gmmShardHooks } from './gmm-shard.js';
import { GMM_NUMERICS, gmmStructure, type GmmNumerics, type GmmStructure } from './gmm-structure.js';
import { COVARIANCE_TYPES, type CovarianceType, type GmmData, type GmmParams, type GmmStats } from './gmm-types.js';
import { validateGmmData, validateGmmParams } from './gmm-validate.js';
import type { VbPosterior, VbPrior } from './vb/vb-types.js';

/** Options of {@link gaussianMixture} (scikit-learn names). @category Gaussian mixtures */
export interface GaussianMixtureOptions {
  /** K ≥ 1. */
  readonly nComponents: number;
  /** Default `'full'`. */
  readonly covarianceType?: CovarianceType;
  /** Added to covariance diagonals (original units²) so they stay positive definite. Default 1e-6. */
  readonly regCovar?: number;
  /**
   * How the float32 E-step table and statistics are computed. `'auto'` (default): the centred path
   * for every component when N·K ≤ 2¹⁶ and for ill-conditioned components otherwise; the fast
   * quadratic-feature path for the rest. `'fast'` and `'centred'` force one path (tests, benchmarks).
   */
  readonly numerics?: GmmNumerics;
}

/** The option table of {@link gaussianMixture} (validation, CLI flags, docs). @category Gaussian mixtures */
export const GAUSSIAN_MIXTURE_OPTIONS = {
  nComponents: { type: 'integer', min: 1, required: true, flag: 'components', description: 'number of components K' },
  covarianceType: { type: 'enum', values: COVARIANCE_TYPES, default: 'full', flag: 'covariance', description: 'covariance structure' },
  regCovar: { type: 'number', min: 0, default: 1e-6, flag: 'reg-covar', description: 'added to covariance diagonals (original units²)' },
  numerics: { type: 'enum', values: GMM_NUMERICS, default: 'auto', flag: 'numerics', description: 'float32 kernel path: auto, fast (quadratic features) or centred' },
} as const satisfies OptionSchema;

/**
 * Gaussian mixture with `full | diag | spherical | tied` covariances.
 *
 * Data are centred in float64 before anything else; parameters are always
 * reported in the original units. NaN entries are missing values, latent like
 * the component label (see `docs/missing-data.md`). Row weights are frequency
 * weights (a weight of 2 is a duplicated row). Kernels run in float64 on the
 * host or in float32 on TensorFlow.js tensors (see `gmm-structure.ts`), so
 * `fit`'s `precision` applies.
 *
 * @example
 * ```ts
 * const gmm = gaussianMixture({ nComponents: 3, covarianceType: 'full' });
 * const result = await fit(gmm, rows, { seed: 0, nInit: 3 });
 * const labels = gmm.predict(result.params, rows);
 * ```
 * @category Gaussian mixtures
 */
export class GaussianMixture implements Model<GmmData, GmmParams, GmmStats, GmmPrepared> {
  readonly name = 'gmm';
  readonly structureKind = 'finite';
  readonly initMethods = GMM_INIT_METHODS;
  readonly stats = gmmStatsAlgebra;
  readonly precisions = ['float32', 'float64'] as const;
  readonly acceptsWeights = true;
  /** Sharding hooks: `fit(…, { workers })` spreads the E-step's blocks over workers (see `gmm-shard.ts`). */
  readonly shard = gmmShardHooks;
  readonly nComponents: number;
  readonly covarianceType: CovarianceType;
  readonly regCovar: number;
  readonly numerics: GmmNumerics;
  /**
   * Variational Bayes over θ (the `vb` method): scikit-learn's `BayesianGaussianMixture` prior
   * (Dirichlet or stick-breaking weights, Normal–Wishart components); see `gmm-conjugate.ts`.
   */
  readonly conjugate: ConjugateHooks<GmmData, GmmParams, GmmStats, GmmPrepared, VbPrior, VbPosterior>;

  /** @throws EmError `INVALID_ARGUMENT` naming the option. */
  constructor(options: GaussianMixtureOptions) {
    const o = parseOptions(GAUSSIAN_MIXTURE_OPTIONS, options, { owner: 'gaussianMixture', pathOf: (k) => ['options', k] });
    this.nComponents = o['nComponents'] as number;
    this.covarianceType = o['covarianceType'] as CovarianceType;
    this.regCovar = o['regCovar'] as number;
    this.numerics = o['numerics'] as GmmNumerics;
    this.conjugate = gmmConjugate(this.nComponents, this.covarianceType, this.regCovar);
  }

  get options(): Readonly<Record<string, unknown>> {
    return { nComponents: this.nComponents, covarianceType: this.covarianceType, regCovar: this.regCovar, numerics: this.numerics };
  }

  /** @throws EmError `INVALID_DATA` (see `validateGmmData`). */
  validate(data: GmmData): void {
    validateGmmData(data, this.nComponents, this.covarianceType);
  }

  /** @throws EmError `INVALID_PARAMS` naming the field and component. */
  validateParams(params: unknown, data?: GmmData): asserts params is GmmParams {
    const d = data === undefined ? undefined : matrixShape(data).cols;
    validateGmmParams(params, this.nComponents, d, this.covarianceType);
  }

  prepare(data: GmmData, ctx: PrepareContext = { precisions: ['float32', 'float64'] }): GmmPrepared {
    return prepareGmmData(data, { ...(ctx.weights === undefined ? {} : { weights: ctx.weights }), precisions: ctx.precisions });
  }

  /**
   * `kmeans++`: K centres by D² sampling, hard assignment to the nearest, then
   * one M-step (scikit-learn's `k-means++` init without Lloyd iterations).
   * `random`: uniform random responsibilities, then one M-step.
   */
  init(prepared: GmmPrepared, method: string, rng: Rng): GmmParams {
    return paramsFromFrame(gmmInit(prepared, method, this.nComponents, this.covarianceType, this.regCovar, rng), prepared.frame);
  }

  structure(prepared: GmmPrepared, params: GmmParams, ctx: StructureContext = { precision: 'float64' }): GmmStructure {
    return gmmStructure(prepared, params, ctx.precision, this.numerics);
  }

  mStep(stats: GmmStats, prev: GmmParams, ctx: MStepContext<GmmPrepared>): MStepResult<GmmParams> {
    const frame = ctx.prepared.frame;
    const m = gmmMStep(stats, this.covarianceType, this.regCovar, ctx.rng, reinitSource(ctx.prepared), paramsToFrame(prev, frame));
    return frame === undefined ? m : { ...m, params: paramsFromFrame(m.params, frame) };
  }

  /** E_q[log p(x, z | θ)] in original units: in the statistics' frame, minus W · Σ_c log s_c. */
  expectedLogJoint(stats: GmmStats, params: GmmParams): number {
    const frame = stats.frame;
    const value = gmmExpectedLogJoint(stats, paramsToFrame(params, frame));
    return frame === undefined ? value : value - stats.n.reduce((a, b) => a + b, 0) * frameLogJacobian(frame);
  }

  roundoffScale(stats: GmmStats, params: GmmParams): number {
    return gmmRoundoffScale(stats, paramsToFrame(params, stats.frame));
  }

  /**
   * Degenerate components (spurious maxima): one whose variance along some axis is at the
   * regularization floor (its own scatter contributes less than `regCovar`), or that holds fewer
   * effective points than it has free parameters.
   */
  degenerate(stats: GmmStats, params: GmmParams): readonly DegenerateComponent[] {
    return gmmDegenerate(stats, paramsToFrame(params, stats.frame), this.covarianceType, this.regCovar);
  }

  /** float64 cost of an iteration: a triangular solve and a moment update per row and component. */
  iterationCost(prepared: GmmPrepared): number {
    const d = prepared.nFeatures;
    return prepared.nRows * this.nComponents * (featureCount(d, 'packed') + d * d);
  }

  /**
   * Missing cells: `nMissing`, `nRowsAllMissing` (left out of the fit: they contribute
   * nothing), `nPatterns` (distinct patterns of rows with some but not all entries
   * missing) and `nCompleteRows`.
   */
  summarizeData(prepared: GmmPrepared): Readonly<Record<string, number>> {
    const m = prepared.missing;
    if (m === undefined) return { nMissing: 0, nRowsAllMissing: 0, nPatterns: 0, nCompleteRows: prepared.nRows };
    return { nMissing: m.nMissingCells, nRowsAllMissing: m.allMissingRows.length, nPatterns: m.patterns.length, nCompleteRows: prepared.nRows - m.patterns.reduce((n, p) => n + p.count, 0) };
  }

  /**
   * The coordinates of the gradient adapter (`gmmCoordinates`: logits, standardized means,
   * log-Cholesky factors of the standardized precision), about the prepared data's column means and
   * scales (over observed entries), so the Fisher-identity stationarity check also works with missing entries.
   */
  parametrization(prepared: GmmPrepared): Parametrization<GmmParams> {
    const k = this.nComponents;
    const d = prepared.nFeatures;
    const coords = gmmCoordinates(k, d, this.covarianceType, prepared.offset, gmmScale(prepared.variance, this.covarianceType));
    return {
      description: gmmParametrization(this.covarianceType),
      dim: coords.dim,
      toVector: (params) => {
        validateGmmParams(params, k, d);
        return coords.toUnconstrained(paramsToFrame(params, prepared.frame));
      },
      fromVector: (v) => paramsFromFrame(coords.fromUnconstrained(v), prepared.frame),
    };
  }

  /**
   * Louis' identity in the natural coordinates (weights without the last, means, covariance entries):
   * see `gmm-louis.ts`. Missing entries are integrated out of the complete data exactly.
   */
  louis(prepared: GmmPrepared, params: GmmParams): LouisTerms<GmmParams> {
    return gmmLouisTerms(prepared, params, this.covarianceType);
  }

  /** Rows drawn at `params` with the missing cells of `like` (parametric bootstrap). */
  simulate(params: GmmParams, like: GmmData, rng: Rng): GmmData {
    return gmmSimulate(params, like, rng);
  }

  /** log p(x | θ) = Σ_n w_n log p(x_n | θ), in float64. */
  logLikelihood(prepared: GmmPrepared, params: GmmParams): number {
    const k = params.weights.length;
    const s = this.structure(prepared, params, { precision: 'float64' });
    let total = 0;
    for (const chunk of s.chunks()) {
      const t = chunk.logJoint();
      for (let r = 0; r < chunk.rows; r++) {
        const w = chunk.weights === undefined ? 1 : (chunk.weights[r] as number);
        if (w === 0) continue;
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < k; j++) m = Math.max(m, t[r * k + j] as number);
        let sum = 0;
        for (let j = 0; j < k; j++) sum += Math.exp((t[r * k + j] as number) - m);
        total += w * (m + Math.log(sum));
      }
    }
    return total;
  }

  nParameters(params: GmmParams): number {
    return gmmNParameters(this.covarianceType, params);
  }

  /** log p(x_n | θ) per row, `[nSamples]` (float64). @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  scoreSamples(params: GmmParams, data: GmmData): Float64Array {
    return gmmScoreSamples(params, data);
  }

  /** Mean log-likelihood per row (scikit-learn's `score`). */
  score(params: GmmParams, data: GmmData): number {
    const s = gmmScoreSamples(params, data);
    return s.reduce((a, b) => a + b, 0) / s.length;
  }

  /** Posterior responsibilities, `[nSamples][nComponents]`. */
  predictProba(params: GmmParams, data: GmmData): number[][] {
    return gmmPredictProba(params, data);
  }

  /** Most probable component per row, `[nSamples]`. */
  predict(params: GmmParams, data: GmmData): number[] {
    return gmmPredict(params, data);
  }

  /** Bayesian information criterion, −2 log L + p log N (lower is better). */
  bic(params: GmmParams, data: GmmData): number {
    return gmmBic(this.covarianceType, params, data);
  }

  /** Akaike information criterion, −2 log L + 2p (lower is better). */
  aic(params: GmmParams, data: GmmData): number {
    return gmmAic(this.covarianceType, params, data);
  }

  /**
   * Draws `n` rows from the mixture with a seed.
   * @returns rows `[n][D]` and their component labels.
   */
  sample(params: GmmParams, n: number, seed: Seed): { x: number[][]; labels: number[] } {
    return gmmSample(params, n, seed);
  }
}

/**
 * Creates a {@link GaussianMixture}.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @category Gaussian mixtures
 */
export function gaussianMixture(options: GaussianMixtureOptions): GaussianMixture {
  return new GaussianMixture(options);
}
