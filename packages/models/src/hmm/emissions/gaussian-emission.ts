/**
 * Gaussian emissions (full, diag, spherical, tied covariances) on the
 * Gaussian mixture's float64 host kernels: the same conditioning on the
 * observed part of a partly missing vector, the same statistics and M-step
 * (`gmmMStep`), with one component per state and no mixing weights.
 * @module
 */
import { choleskyWithJitter, emError, type Rng } from '@emlab/core';
import { reinitSource } from '../../gmm/gmm-init.js';
import { gmmExpectedLogJoint, gmmMStep, gmmStatsAlgebra, rereference } from '../../gmm/gmm-math.js';
import { COVARIANCE_TYPES, type CovarianceType, type GmmParams, type GmmStats } from '../../gmm/gmm-types.js';
import { validateGmmParams } from '../../gmm/gmm-validate.js';
import { FRAME_LIMIT } from '../../gmm/gmm-frame.js';
import type { EmissionBlock, EmissionInit, EmissionInitLayout, HmmEmission, ObservationMatrix } from '../hmm-types.js';
import { gaussianBlock, labelStats, prepareGaussian, type GaussianPrepared } from '../internal/gaussian-blocks.js';
import { kmeansLabels, windowAverage } from '../internal/kmeans.js';
import { rebaseErrors } from '../internal/rebase-error.js';

/** Parameters of Gaussian emissions. @category Hidden Markov models */
export interface GaussianEmissionParams {
  readonly type: 'gaussian';
  readonly covarianceType: CovarianceType;
  /** `[K][D]` state means. */
  readonly means: number[][];
  /** `[K][D][D]` state covariances (full matrices: zero off-diagonals for diag, one repeated matrix for tied). */
  readonly covariances: number[][][];
}

/** Options of {@link gaussianEmission}. @category Hidden Markov models */
export interface GaussianEmissionOptions {
  /** Default `'full'`. */
  readonly covarianceType?: CovarianceType;
  /** Added to covariance diagonals (original units²). Default 1e-6. */
  readonly regCovar?: number;
}

/** Number of free covariance parameters of K states in D dimensions. @category Hidden Markov models */
export function covarianceParameterCountOf(type: CovarianceType, k: number, d: number): number {
  return type === 'full' ? (k * d * (d + 1)) / 2 : type === 'diag' ? k * d : type === 'spherical' ? k : (d * (d + 1)) / 2;
}

/** A covariance of the data's spread in the structure of `type` (plus `regCovar`), `[D][D]`. @category Hidden Markov models */
export function spreadCovariance(type: CovarianceType, variance: Float64Array, regCovar: number): number[][] {
  const d = variance.length;
  const mean = variance.reduce((a, b) => a + b, 0) / d;
  return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? Math.max(type === 'spherical' ? mean : (variance[i] as number), 1e-12) + regCovar : 0)));
}

/**
 * Checks observations for a Gaussian family: at least one observed cell, and every column's spread
 * within [2⁻⁴⁰, 2⁴⁰] (the Gaussian mixture rescales such columns internally, HMM emissions do not:
 * their squares would leave float64).
 * @throws EmError `INVALID_DATA`
 */
export function validateGaussianObservations(x: ObservationMatrix, name: string): void {
  const { rows, cols, values } = x;
  const n = new Float64Array(cols);
  const mean = new Float64Array(cols);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    const c = i % cols;
    n[c] = (n[c] as number) + 1;
    mean[c] = (mean[c] as number) + (v - (mean[c] as number)) / (n[c] as number);
  }
  if (n.every((v) => v === 0)) throw emError('INVALID_DATA', ['data'], rows, `has no observed cell (every value is missing): ${name} emissions cannot be estimated`, 'pass observations with some values present');
  const maxDev = new Float64Array(cols);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    const c = i % cols;
    const dev = Math.abs(v - (mean[c] as number));
    maxDev[c] = Math.max(maxDev[c] as number, dev);
  }
  for (let c = 0; c < cols; c++) {
    // Spread: the largest deviation scaled by the RMS deviation relative to it (no overflow for 1e300 values).
    const m = maxDev[c] as number;
    let rel = 0;
    if (m > 0) for (let r = 0; r < rows; r++) {
      const v = values[r * cols + c] as number;
      if (!Number.isNaN(v)) rel += ((v - (mean[c] as number)) / m) ** 2;
    }
    const sd = m > 0 ? m * Math.sqrt(rel / Math.max(1, n[c] as number)) : 0;
    const spread = sd > 0 ? sd : m;
    if (spread > 0 && Math.abs(Math.log2(spread)) > FRAME_LIMIT) {
      throw emError('INVALID_DATA', ['data', 'column', c], spread, `has a spread (standard deviation) outside [2^-${FRAME_LIMIT}, 2^${FRAME_LIMIT}]: ${name} emissions of an HMM would leave float64 range`, 'rescale the column (e.g. to standard units) before fitting');
    }
  }
}

/** Lower Cholesky factors of every covariance, cached per parameter object (sampling). */
const factorCache = new WeakMap<object, Float64Array[]>();
function covarianceFactors(covariances: number[][][], key: object): Float64Array[] {
  let f = factorCache.get(key);
  if (f === undefined) {
    f = covariances.map((cov) => choleskyWithJitter(Float64Array.from(cov.flat()), cov.length, { maxJitter: 0 }).L);
    factorCache.set(key, f);
  }
  return f;
}

/** One draw of N(mean, L Lᵀ). */
export function gaussianDraw(mean: readonly number[], chol: Float64Array, rng: Rng): Float64Array {
  const d = mean.length;
  const eps = Float64Array.from({ length: d }, () => rng.normal());
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let v = mean[i] as number;
    for (let j = 0; j <= i; j++) v += (chol[i * d + j] as number) * (eps[j] as number);
    out[i] = v;
  }
  return out;
}

/**
 * The maximization of Gaussian components (the mixture's `gmmMStep`) with frozen means and/or
 * covariances: with means frozen, the covariances are estimated about the old means (statistics
 * re-referenced to them, first moments 0); with covariances frozen, they stay at `prev`.
 * @internal
 */
export function gaussianComponentsStep(stats: GmmStats, prev: GmmParams, type: CovarianceType, regCovar: number, rng: Rng, prepared: GaussianPrepared, update: string): { params: GmmParams; events: ReturnType<typeof gmmMStep>['events']; boundSlack: number } {
  const updateMeans = update.includes('m');
  const updateCovariances = update.includes('c');
  if (!updateMeans && !updateCovariances) return { params: prev, events: [], boundSlack: 0 };
  let used = stats;
  if (!updateMeans) {
    const ref = Float64Array.from(prev.means.flat());
    const about = rereference(stats, ref);
    used = { ...about, s1: new Float64Array(about.s1.length) };
  }
  const r = gmmMStep(used, type, regCovar, rng, reinitSource(prepared.gmm), prev);
  const params: GmmParams = {
    covarianceType: type,
    weights: r.params.weights,
    means: updateMeans ? r.params.means : prev.means.map((m) => [...m]),
    covariances: updateCovariances ? r.params.covariances : prev.covariances.map((m) => m.map((row) => [...row])),
  };
  const events = updateCovariances ? r.events : r.events.filter((e) => e.type !== 'regularized');
  return { params, events, boundSlack: updateCovariances ? r.boundSlack : 0 };
}

/**
 * Gaussian emissions: p(x_t | z_t = k) = N(μ_k, Σ_k) with `full`, `diag`, `spherical` or `tied`
 * covariances. A partly missing vector contributes through its observed cells (the missing ones
 * are latent, conditioned on the observed ones exactly as in the Gaussian mixture), a fully
 * missing step contributes 0 (only through the transitions). Parameter letters: `m` means,
 * `c` covariances. Initialization: `kmeans` (k-means++ then Lloyd, one M-step from the labels,
 * missing cells at the column means) or `random` (K random rows as means, the data's spread as
 * covariances).
 *
 * @example
 * ```ts
 * const model = hiddenMarkovModel({ nStates: 3, emission: 'gaussian', covarianceType: 'diag' });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option.
 * @category Hidden Markov models
 */
export function gaussianEmission(options: GaussianEmissionOptions = {}): HmmEmission<GaussianEmissionParams, GmmStats, GaussianPrepared> {
  const type = options.covarianceType ?? 'full';
  const regCovar = options.regCovar ?? 1e-6;
  if (!COVARIANCE_TYPES.includes(type)) throw emError('INVALID_ARGUMENT', ['options', 'covarianceType'], type, 'is not a covariance type', `use one of ${COVARIANCE_TYPES.join(', ')}`);
  if (!(Number.isFinite(regCovar) && regCovar >= 0)) throw emError('INVALID_ARGUMENT', ['options', 'regCovar'], regCovar, 'must be a finite number >= 0', 'pass e.g. regCovar: 1e-6');
  const asGmm = (p: GaussianEmissionParams): GmmParams => ({ covarianceType: p.covarianceType, weights: p.means.map(() => 1), means: p.means, covariances: p.covariances });
  const fromGmm = (g: GmmParams): GaussianEmissionParams => ({ type: 'gaussian', covarianceType: type, means: g.means, covariances: g.covariances });
  return {
    type: 'gaussian',
    options: { covarianceType: type, regCovar },
    letters: 'mc',
    initMethods: ['kmeans', 'random'],
    stats: gmmStatsAlgebra,
    validate: (x) => validateGaussianObservations(x, 'Gaussian'),
    prepare: (x) => prepareGaussian(x),
    init(prep, k, method, rng, layout): EmissionInit<GaussianEmissionParams> {
      const d = prep.cols;
      if (method === 'random') {
        const cov = spreadCovariance(type, prep.gmm.variance, regCovar);
        const means = Array.from({ length: k }, () => {
          const p = rng.int(prep.gmm.nRows);
          return Array.from({ length: d }, (_, i) => (prep.gmm.centred[p * d + i] as number) + (prep.gmm.offset[i] as number));
        });
        return { params: { type: 'gaussian', covarianceType: type, means, covariances: means.map(() => cov.map((row) => [...row])) } };
      }
      const labels = kmeansTimeLabels(prep, k, rng.child('kmeans'), layout);
      const r = gmmMStep(labelStats(prep, labels, k), type, regCovar, rng.child('reinit'), reinitSource(prep.gmm));
      return { params: fromGmm(r.params), labels };
    },
    block(prep, params, r0, rows): EmissionBlock<GmmStats> {
      const gb = gaussianBlock(prep, asGmm(params), r0, rows);
      return {
        logDensity: () => gb.table(),
        stats: (w) => gb.stats(w),
        ...(gb.anyMissing ? { latentEntropy: () => gb.latentEntropy(), sampleStats: (w: Parameters<typeof gb.sampleStats>[0], rng: Rng) => gb.sampleStats(w, rng) } : {}),
      };
    },
    mStep(stats, prev, ctx) {
      const r = gaussianComponentsStep(stats, asGmm(prev), type, regCovar, ctx.rng, ctx.prepared, ctx.update);
      return { params: fromGmm(r.params), events: r.events, boundSlack: r.boundSlack };
    },
    expectedLogLikelihood: (stats, params) => gmmExpectedLogJoint(stats, asGmm(params)),
    nParameters: (params, update) => {
      const k = params.means.length;
      const d = (params.means[0] as number[]).length;
      return (update.includes('m') ? k * d : 0) + (update.includes('c') ? covarianceParameterCountOf(type, k, d) : 0);
    },
    validateParams(params: unknown, k: number, x?: ObservationMatrix): asserts params is GaussianEmissionParams {
      const p = params as Partial<GaussianEmissionParams> | null;
      if (typeof p !== 'object' || p === null || p.type !== 'gaussian') {
        throw emError('INVALID_PARAMS', ['params', 'emission', 'type'], p?.type, "must be 'gaussian' for Gaussian emissions", 'pass parameters of a Gaussian-emission HMM');
      }
      rebaseErrors('params', ['params', 'emission'], () => validateGmmParams({ covarianceType: p.covarianceType ?? type, weights: Array.from({ length: k }, () => 1 / k), means: p.means as number[][], covariances: p.covariances as number[][][] }, k, x?.cols, type));
      if (p.covarianceType !== type) throw emError('INVALID_PARAMS', ['params', 'emission', 'covarianceType'], p.covarianceType, `must be '${type}' (the model's covariance type)`, 'pass parameters of a model with the same covariance type');
    },
    sample(params, state, rng) {
      const chol = covarianceFactors(params.covariances, params)[state] as Float64Array;
      return gaussianDraw(params.means[state] as number[], chol, rng);
    },
  };
}

/**
 * k-means labels of the time rows (centred, missing cells at the column means) averaged over the
 * layout's window; with a window of 1, rows with every cell missing get −1. @internal
 */
export function kmeansTimeLabels(prep: GaussianPrepared, k: number, rng: Rng, layout: EmissionInitLayout): Int32Array {
  const d = prep.cols;
  const { centred, nRows } = prep.gmm;
  let filled = centred;
  if (prep.rowOf !== undefined) {
    filled = new Float64Array(prep.rows * d);
    for (let p = 0; p < nRows; p++) filled.set(centred.subarray(p * d, (p + 1) * d), (prep.rowOf[p] as number) * d);
  }
  const labels = kmeansLabels(windowAverage(filled, prep.rows, d, layout.offsets, layout.window), prep.rows, d, k, rng);
  if (layout.window <= 1 && prep.present !== undefined) for (let r = 0; r < prep.rows; r++) if (prep.present[r] === 0) labels[r] = -1;
  return labels;
}
