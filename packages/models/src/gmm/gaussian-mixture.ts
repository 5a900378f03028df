/**
 * The Gaussian-mixture model: a thin binding of the pure maths in
 * `gmm-math.ts` and the block tensor ops in `gmm-data.ts` to core's `Model`.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  choleskyWithJitter,
  createRng,
  emError,
  EmError,
  integerOption,
  inverseFromCholesky,
  invertLower,
  logSumExpRows,
  numberOption,
  rejectUnknownOptions,
  type FiniteChunk,
  type FiniteStructure,
  type Model,
  type MStepContext,
  type MStepResult,
  type Parametrization,
  type Rng,
  type Seed,
} from '@emlab/core';
import { BLOCK_ROWS, blockLayout, blockStats, featureCount, gmmFeatures, inspectMatrix, matrixShape, prepareGmmData, quadraticPairs, type DataBlock, type FeatureLayout, type GmmPrepared } from './gmm-data.js';
import { factorCovariances, gmmExpectedLogJoint, gmmRoundoffScale, gmmMStep, gmmParameterCount, gmmStatsAlgebra } from './gmm-math.js';
import { gmmCoordinates, gmmParametrization, gmmScale } from './gmm-coordinates.js';
import { missingChunks } from './gmm-missing.js';
import { COVARIANCE_TYPES, type CovarianceType, type GmmData, type GmmParams, type GmmStats } from './gmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Options of {@link gaussianMixture} (scikit-learn names). @category Gaussian mixtures */
export interface GaussianMixtureOptions {
  /** K ≥ 1. */
  readonly nComponents: number;
  /** Default `'full'`. */
  readonly covarianceType?: CovarianceType;
  /** Added to covariance diagonals (original units²) so they stay positive definite. Default 1e-6. */
  readonly regCovar?: number;
  /**
   * How the E-step table and statistics are computed (see the class docs). `'auto'` (default):
   * the centred path for every component when N·K ≤ 2¹⁶ (small data: it costs little) and for
   * ill-conditioned components otherwise; the fast quadratic-feature path for the rest.
   * `'fast'` and `'centred'` force one path (tests, benchmarks).
   */
  readonly numerics?: GmmNumerics;
}

/** Choice of numerical path for the Gaussian-mixture E-step table and statistics. @category Gaussian mixtures */
export type GmmNumerics = 'auto' | 'fast' | 'centred';

const NUMERICS: readonly GmmNumerics[] = ['auto', 'fast', 'centred'];

/** Below this N·K, `numerics: 'auto'` uses the centred path for every component. */
export const SMALL_DATA_CELLS = 2 ** 16;

/** A Gaussian mixture's latent structure: `finite`, with the tensors it uploaded. @category Gaussian mixtures */
export type GmmStructure = FiniteStructure<GmmStats> & { dispose(): void };

/**
 * Gaussian mixture with `full | diag | spherical | tied` covariances.
 *
 * The E-step table is log π_k + log N(x_n | μ_k, Σ_k), computed for all
 * components with one matmul per block of rows against quadratic features
 * (see `gmmFeatures`); the statistics are one more matmul. Data are centred in float64 before
 * upload; parameters are always reported in the original units.
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
  readonly initMethods = ['kmeans++', 'random'] as const;
  readonly stats = gmmStatsAlgebra;
  readonly nComponents: number;
  readonly covarianceType: CovarianceType;
  readonly regCovar: number;
  readonly numerics: GmmNumerics;

  /** @throws EmError `INVALID_ARGUMENT` naming the option. */
  constructor(options: GaussianMixtureOptions) {
    if (typeof options !== 'object' || options === null) {
      throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an object', 'pass { nComponents: K }');
    }
    rejectUnknownOptions(options as unknown as Record<string, unknown>, ['nComponents', 'covarianceType', 'regCovar', 'numerics'], 'gaussianMixture');
    this.nComponents = integerOption(options.nComponents, ['options', 'nComponents'], 1);
    const type = options.covarianceType ?? 'full';
    if (!COVARIANCE_TYPES.includes(type)) {
      throw emError('INVALID_ARGUMENT', ['options', 'covarianceType'], type, `is not a covariance type`, `use one of ${COVARIANCE_TYPES.join(', ')}`);
    }
    this.covarianceType = type;
    this.regCovar = numberOption(options.regCovar ?? 1e-6, ['options', 'regCovar'], 0);
    const numerics = options.numerics ?? 'auto';
    if (!NUMERICS.includes(numerics)) {
      throw emError('INVALID_ARGUMENT', ['options', 'numerics'], numerics, 'is not a numerics mode', `use one of ${NUMERICS.join(', ')}`);
    }
    this.numerics = numerics;
  }

  get options(): Readonly<Record<string, unknown>> {
    return { nComponents: this.nComponents, covarianceType: this.covarianceType, regCovar: this.regCovar, numerics: this.numerics };
  }

  /**
   * NaN entries are missing values (fitted through, see the class docs).
   * @throws EmError `INVALID_DATA`: shape, ±Infinity, fewer rows (with an
   * observed entry) than components, a column with no observed value or fewer
   * observed values than components, and for `full`/`tied` covariances two
   * columns never observed in the same row (their covariance is not identifiable).
   */
  validate(data: GmmData): void {
    const { rows, cols, at } = inspectMatrix(data, 'data');
    const k = this.nComponents;
    if (k > rows) {
      throw emError('INVALID_DATA', ['data'], rows, `has ${rows} rows, fewer than nComponents = ${k}`, 'reduce nComponents or pass more rows');
    }
    const observed = new Float64Array(cols);
    const together = new Uint8Array(cols * cols);
    let anyMissing = false;
    let usable = 0;
    const row = new Int32Array(cols);
    for (let r = 0; r < rows; r++) {
      let o = 0;
      for (let c = 0; c < cols; c++) if (!Number.isNaN(at(r * cols + c))) row[o++] = c;
      if (o < cols) anyMissing = true;
      if (o > 0) usable++;
      for (let a = 0; a < o; a++) {
        const i = row[a] as number;
        observed[i] = (observed[i] as number) + 1;
        for (let b = a; b < o; b++) together[i * cols + (row[b] as number)] = 1;
      }
    }
    if (!anyMissing) return;
    if (k > usable) {
      throw emError('INVALID_DATA', ['data'], usable, `has ${usable} rows with an observed entry (${rows - usable} rows are entirely missing), fewer than nComponents = ${k}`, 'reduce nComponents or pass more rows with observed values');
    }
    for (let c = 0; c < cols; c++) {
      const n = observed[c] as number;
      if (n === 0) throw emError('INVALID_DATA', ['data', 'column', c], 0, `column ${c} has no observed value`, 'drop the column: nothing can be learned about it');
      if (n < k) {
        throw emError('INVALID_DATA', ['data', 'column', c], n, `column ${c} has ${n} observed values, fewer than nComponents = ${k}: not enough to estimate every component's variance of it`, 'reduce nComponents, drop the column, or pass more rows with it observed');
      }
    }
    if (this.covarianceType === 'full' || this.covarianceType === 'tied') {
      for (let i = 0; i < cols; i++) {
        for (let j = i + 1; j < cols; j++) {
          if (together[i * cols + j] === 0) {
            throw emError('INVALID_DATA', ['data', 'columns', `${i},${j}`], 0, `columns ${i} and ${j} are never observed in the same row, so their covariance cannot be estimated`, "use covarianceType 'diag' or 'spherical', or pass rows where both are observed");
          }
        }
      }
    }
  }

  /** @throws EmError `INVALID_PARAMS` naming the field and component. */
  validateParams(params: unknown, data?: GmmData): asserts params is GmmParams {
    const d = data === undefined ? undefined : matrixShape(data).cols;
    validateGmmParams(params, this.nComponents, d);
  }

  prepare(data: GmmData): GmmPrepared {
    return prepareGmmData(data);
  }

  /**
   * `kmeans++`: K centres by D² sampling, hard assignment to the nearest, then
   * one M-step (scikit-learn's `k-means++` init without Lloyd iterations).
   * `random`: uniform random responsibilities, then one M-step.
   */
  init(prepared: GmmPrepared, method: string, rng: Rng): GmmParams {
    const k = this.nComponents;
    let weightsFor: (block: DataBlock) => Float32Array;
    if (method === 'kmeans++') {
      const labels = kmeansPlusPlusLabels(prepared, k, rng);
      weightsFor = (b) => {
        const w = new Float32Array(b.rows * k);
        for (let i = 0; i < b.rows; i++) w[i * k + (labels[b.start + i] as number)] = 1;
        return w;
      };
    } else if (method === 'random') {
      weightsFor = (b) => {
        const w = new Float32Array(b.rows * k);
        const r = rng.child('block', b.start);
        for (let i = 0; i < b.rows; i++) {
          let sum = 0;
          for (let j = 0; j < k; j++) sum += w[i * k + j] = r.uniform();
          for (let j = 0; j < k; j++) w[i * k + j] = (w[i * k + j] as number) / sum;
        }
        return w;
      };
    } else {
      throw emError('INVALID_ARGUMENT', ['options', 'init'], method, 'is not an initialization method of gmm', "use 'kmeans++', 'random' or given parameters");
    }
    const stats = prepared.missing === undefined ? statsFromWeights(prepared, k, weightsFor) : statsFromWeightsOnHost(prepared, k, weightsFor);
    return gmmMStep(stats, this.covarianceType, this.regCovar, rng.child('reinit'), reinitSource(prepared)).params;
  }

  structure(prepared: GmmPrepared, params: GmmParams): GmmStructure {
    return gmmStructure(prepared, params, this.numerics);
  }

  mStep(stats: GmmStats, prev: GmmParams, ctx: MStepContext<GmmPrepared>): MStepResult<GmmParams> {
    return gmmMStep(stats, this.covarianceType, this.regCovar, ctx.rng, reinitSource(ctx.prepared), prev);
  }

  expectedLogJoint(stats: GmmStats, params: GmmParams): number {
    return gmmExpectedLogJoint(stats, params);
  }

  roundoffScale(stats: GmmStats, params: GmmParams): number {
    return gmmRoundoffScale(stats, params);
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
        return coords.toUnconstrained(params);
      },
      fromVector: (v) => coords.fromUnconstrained(v),
    };
  }

  logLikelihood(prepared: GmmPrepared, params: GmmParams): number {
    let total = 0;
    forEachBlockLogNorm(prepared, params, this.numerics, (lse) => {
      for (const v of lse) total += v;
    });
    return total;
  }

  /** log p(x_n | θ) per row, `[nSamples]`. @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  scoreSamples(params: GmmParams, data: GmmData): Float64Array {
    return this.withData(params, data, (prepared) => {
      const out = new Float64Array(prepared.nRows);
      forEachBlockLogNorm(prepared, params, this.numerics, (lse, start) => out.set(lse, start));
      // A row with every entry missing has log p = log 1 = 0.
      return prepared.missing === undefined ? out : Float64Array.from(inCallerOrder(prepared, Array.from(out), () => 0));
    });
  }

  /** Mean log-likelihood per row (scikit-learn's `score`). */
  score(params: GmmParams, data: GmmData): number {
    const s = this.scoreSamples(params, data);
    return s.reduce((a, b) => a + b, 0) / s.length;
  }

  /** Posterior responsibilities, `[nSamples][nComponents]`. */
  predictProba(params: GmmParams, data: GmmData): number[][] {
    return this.withData(params, data, (prepared) => {
      const out: number[][] = [];
      const s = gmmStructure(prepared, params, this.numerics);
      try {
        for (const chunk of s.chunks()) {
          const p = tf.tidy(() => {
            const lj = chunk.logJoint();
            return tf.exp(tf.sub(lj, tf.expandDims(logSumExpRows(lj), 1)));
          });
          const v = p.dataSync();
          p.dispose();
          for (let i = 0; i < chunk.rows; i++) out.push(Array.from(v.subarray(i * s.nComponents, (i + 1) * s.nComponents)));
        }
      } finally {
        s.dispose();
      }
      return inCallerOrder(prepared, out, () => params.weights.slice());
    });
  }

  /** Most probable component per row, `[nSamples]`. */
  predict(params: GmmParams, data: GmmData): number[] {
    return this.withData(params, data, (prepared) => {
      const out: number[] = [];
      const s = gmmStructure(prepared, params, this.numerics);
      try {
        for (const chunk of s.chunks()) {
          const a = tf.tidy(() => tf.argMax(chunk.logJoint(), 1));
          out.push(...Array.from(a.dataSync()));
          a.dispose();
        }
      } finally {
        s.dispose();
      }
      return inCallerOrder(prepared, out, () => params.weights.indexOf(Math.max(...params.weights)));
    });
  }

  /** Bayesian information criterion, −2 log L + p log N (lower is better). */
  bic(params: GmmParams, data: GmmData): number {
    const s = this.scoreSamples(params, data);
    return -2 * s.reduce((a, b) => a + b, 0) + this.nParameters(params) * Math.log(s.length);
  }

  /** Akaike information criterion, −2 log L + 2p (lower is better). */
  aic(params: GmmParams, data: GmmData): number {
    const s = this.scoreSamples(params, data);
    return -2 * s.reduce((a, b) => a + b, 0) + 2 * this.nParameters(params);
  }

  /** Number of free parameters. */
  nParameters(params: GmmParams): number {
    return gmmParameterCount(this.covarianceType, params.weights.length, (params.means[0] as number[]).length);
  }

  /**
   * Draws `n` rows from the mixture with a seed.
   * @returns rows `[n][D]` and their component labels.
   */
  sample(params: GmmParams, n: number, seed: Seed): { x: number[][]; labels: number[] } {
    integerOption(n, ['n'], 1);
    validateGmmParams(params, params.weights.length, undefined);
    const rng = createRng(seed).child('gmm-sample');
    const { chol } = factorCovariances(params);
    const d = (params.means[0] as number[]).length;
    const x: number[][] = [];
    const labels: number[] = [];
    const eps = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const c = rng.categorical(params.weights);
      const L = chol[c] as Float64Array;
      const mu = params.means[c] as number[];
      for (let j = 0; j < d; j++) eps[j] = rng.normal();
      const row: number[] = [];
      for (let r = 0; r < d; r++) {
        let v = mu[r] as number;
        for (let j = 0; j <= r; j++) v += (L[r * d + j] as number) * (eps[j] as number);
        row.push(v);
      }
      x.push(row);
      labels.push(c);
    }
    return { x, labels };
  }

  private withData<T>(params: GmmParams, data: GmmData, fn: (prepared: GmmPrepared) => T): T {
    validateGmmParams(params, params.weights.length, undefined);
    const prepared = prepareGmmData(data);
    try {
      const d = (params.means[0] as number[]).length;
      if (prepared.nFeatures !== d) {
        throw emError('INVALID_DATA', ['data'], prepared.nFeatures, `has ${prepared.nFeatures} features but the parameters have ${d}`, 'pass data with the columns the model was fitted on');
      }
      return fn(prepared);
    } finally {
      prepared.dispose();
    }
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

/**
 * Per-row results from prepared order back to the caller's row order; rows
 * with every entry missing (left out of the prepared data) get `fill`.
 */
function inCallerOrder<T>(prepared: GmmPrepared, perPosition: T[], fill: () => T): T[] {
  const m = prepared.missing;
  if (m === undefined) return perPosition;
  const out = new Array<T>(m.nOriginalRows);
  perPosition.forEach((v, p) => (out[m.order[p] as number] = v));
  for (const r of m.allMissingRows) out[r] = fill();
  return out;
}

function reinitSource(prepared: GmmPrepared) {
  const d = prepared.nFeatures;
  return {
    nRows: prepared.nRows,
    variance: prepared.variance,
    row(i: number): Float64Array {
      const out = prepared.centred.slice(i * d, (i + 1) * d);
      for (let j = 0; j < d; j++) out[j] = (out[j] as number) + (prepared.offset[j] as number);
      return out;
    },
  };
}

/**
 * Components whose float32 conditioning ρ_k = tr(Σ_k⁻¹)·(R + ‖μ_k − x̄‖)²
 * (R the largest centred row norm) exceeds this take the centred path.
 * The quadratic-feature path's terms are ρ-sized and cancel, so 2⁻²⁴·ρ_k
 * nats per row bounds its error (≤ 0.06 at 2²⁰); measured on mixtures with
 * D = 4–16, K = 5–16 (ρ ≈ 10³–10⁵) the error of the total log-likelihood was
 * 1e-7 relative, while the centred path was 6–14× slower. Collapsed or narrow
 * components far from the data mean (ρ ≈ 10⁸–10¹²) are the ones that need it.
 * The monotonicity check does not depend on this choice: both half-step bounds
 * are computed from the statistics, whose cancellation is guarded separately.
 */
export const CENTRED_PATH_CONDITION = 2 ** 20;

/**
 * The `finite` structure at `params`, with two paths per component.
 *
 * Fast path: with Φ(x) = [vec(x xᵀ), x, 1] of the centred data,
 * log π_k + log N(x | μ_k, Σ_k) = Φ(x) · Q_k where, for the precision
 * P_k = Σ_k⁻¹ and centred mean c_k, Q_k holds −½ vec(P_k), P_k c_k, and
 * log π_k − D/2 log 2π − ½ log|Σ_k| − ½ c_kᵀ P_k c_k; so the table of a block is
 * one matmul `[n, F] × [F, K]` and the statistics one more (about x̄).
 *
 * Centred path, for components with conditioning above
 * {@link CENTRED_PATH_CONDITION}: the difference x − μ_k is formed first, the
 * Mahalanobis term is ‖(x − μ_k) L_k⁻ᵀ‖², and the statistics are taken about
 * μ_k, so nothing large cancels in float32.
 */
function gmmStructure(prepared: GmmPrepared, params: GmmParams, numerics: GmmNumerics): GmmStructure {
  const k = params.weights.length;
  const allCentred = numerics === 'centred' || (numerics === 'auto' && prepared.nRows * k <= SMALL_DATA_CELLS);
  const d = prepared.nFeatures;
  // Every block of a prepared data set has the same layout (all precomputed or none).
  const layout: FeatureLayout = prepared.blocks[0] === undefined ? 'full' : blockLayout(prepared.blocks[0]);
  const pairs = quadraticPairs(d, layout);
  const f = featureCount(d, layout);
  const p = pairs.length;
  const { chol, logDet } = factorCovariances(params);
  const q = new Float32Array(f * k);
  const centredPath: { c: number; mean: tf.Tensor2D; centredMean: Float64Array; inverseT: tf.Tensor2D; constant: number }[] = [];
  for (let c = 0; c < k; c++) {
    const prec = inverseFromCholesky(chol[c] as Float64Array, d);
    const mu = params.means[c] as number[];
    const centred = new Float64Array(d);
    let trace = 0;
    let norm2 = 0;
    for (let i = 0; i < d; i++) {
      centred[i] = (mu[i] as number) - (prepared.offset[i] as number);
      trace += prec[i * d + i] as number;
      norm2 += (centred[i] as number) ** 2;
    }
    const constant = Math.log(params.weights[c] as number) - 0.5 * d * LOG_2PI - 0.5 * (logDet[c] as number);
    if (allCentred || (numerics === 'auto' && trace * (prepared.maxNorm + Math.sqrt(norm2)) ** 2 > CENTRED_PATH_CONDITION)) {
      const inv = invertLower(chol[c] as Float64Array, d);
      const inverseT = new Float32Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) inverseT[i * d + j] = inv[j * d + i] as number;
      centredPath.push({ c, mean: tf.tensor2d(Float32Array.from(centred), [1, d]), centredMean: centred, inverseT: tf.tensor2d(inverseT, [d, d]), constant });
      continue; // its column of Q stays 0
    }
    pairs.forEach(([i, j], r) => {
      q[r * k + c] = -0.5 * (prec[i * d + j] as number) * (layout === 'packed' && i !== j ? 2 : 1);
    });
    let quad = 0;
    for (let i = 0; i < d; i++) {
      let pc = 0;
      for (let j = 0; j < d; j++) pc += (prec[i * d + j] as number) * (centred[j] as number);
      q[(p + i) * k + c] = pc;
      quad += pc * (centred[i] as number);
    }
    q[(f - 1) * k + c] = constant - 0.5 * quad;
  }
  const tQ = tf.tensor2d(q, [f, k]);
  const chunks = prepared.blocks.map((block): FiniteChunk<GmmStats> => {
    let built: tf.Tensor2D | undefined;
    const phi = (): tf.Tensor2D => {
      if (block.phi !== undefined) return block.phi;
      if (built === undefined || built.isDisposed) built = gmmFeatures(block.x);
      return built;
    };
    const diffs = new Map<number, tf.Tensor2D>();
    const diff = (j: number): tf.Tensor2D => {
      let t = diffs.get(j);
      if (t === undefined || t.isDisposed) {
        t = tf.sub(block.x, (centredPath[j] as (typeof centredPath)[number]).mean) as tf.Tensor2D;
        diffs.set(j, t);
      }
      return t;
    };
    return {
      rows: block.rows,
      start: block.start,
      logJoint: () => {
        if (centredPath.length === 0) return tf.matMul(phi(), tQ);
        // Centred columns: const_k − ½‖(x − μ_k) L_k⁻ᵀ‖²; the rest sliced from the fast table.
        const fast = centredPath.length < k ? tf.matMul(phi(), tQ) : undefined;
        const columns: tf.Tensor2D[] = [];
        for (let c = 0; c < k; c++) {
          const j = centredPath.findIndex((cp) => cp.c === c);
          if (j < 0) {
            columns.push(tf.slice(fast as tf.Tensor2D, [0, c], [block.rows, 1]));
            continue;
          }
          const cp = centredPath[j] as (typeof centredPath)[number];
          const y = tf.matMul(diff(j), cp.inverseT);
          columns.push(tf.sub(cp.constant, tf.mul(tf.sum(tf.square(y), 1, true), 0.5)) as tf.Tensor2D);
        }
        return tf.concat(columns, 1);
      },
      stats: (w) => {
        const stats = blockStats(phi(), w, d, prepared.offset, layout);
        const centredAt = (c: number, centredRef: Float64Array, diffOf: () => tf.Tensor2D): void => centredStats(stats, c, w, diffOf(), centredRef, prepared.offset);
        centredPath.forEach((cp, j) => centredAt(cp.c, cp.centredMean, () => diff(j)));
        // Also after the centred path: its reference is the old mean, and a mean can move by more than its width.
        recomputeCancelled(stats, block, w, prepared.offset, (c) => (centredPath.some((cp) => cp.c === c) ? CENTRED_CANCELLED_BITS : MAX_CANCELLED_BITS));
        return stats;
      },
    };
  });
  if (prepared.missing !== undefined) {
    const centredMeans = new Float64Array(k * d);
    for (let c = 0; c < k; c++) for (let i = 0; i < d; i++) centredMeans[c * d + i] = ((params.means[c] as number[])[i] as number) - (prepared.offset[i] as number);
    chunks.push(...missingChunks(prepared.missing, params, centredMeans, prepared.offset, { mode: allCentred ? 'never' : numerics === 'fast' ? 'always' : 'auto', maxNorm: prepared.maxNorm }));
  }
  return {
    kind: 'finite',
    nRows: prepared.nRows,
    nComponents: k,
    algebra: gmmStatsAlgebra,
    chunks: () => chunks,
    dispose() {
      tQ.dispose();
      for (const cp of centredPath) {
        cp.mean.dispose();
        cp.inverseT.dispose();
      }
    },
  };
}

/** Bits of float32's 24 a block's scatter may lose to cancellation before the block is recomputed centred. */
const MAX_CANCELLED_BITS = 10;

/**
 * The same for centred-path components, whose statistics are taken about the
 * component's previous mean: when that mean is far from the rows it now
 * weights (early iterations, or a start far from the data), float32 error is
 * amplified by (distance/spread)²; 4 bits keeps that below 16×. The recompute
 * costs little there (small data, or a few ill-conditioned components).
 */
const CENTRED_CANCELLED_BITS = 4;

/**
 * When the scatter M = s2 − s1 s1ᵀ/n of component `c` (statistics about its
 * reference point) is below 2⁻¹⁰ of the raw second moment s2, float32
 * cancellation has eaten more than 10 bits: returns the component's weighted
 * mean (centred coordinates) to recompute about, else undefined.
 */
function cancelledMean(stats: GmmStats, c: number, offset: Float64Array, bits = MAX_CANCELLED_BITS): Float64Array | undefined {
  const { d } = stats;
  const n = stats.n[c] as number;
  if (!(n > 0)) return undefined;
  let raw = 0;
  let scatter = 0;
  for (let i = 0; i < d; i++) {
    const s2 = stats.s2[c * d * d + i * d + i] as number;
    const s1 = stats.s1[c * d + i] as number;
    raw += s2;
    scatter += s2 - (s1 * s1) / n;
  }
  if (scatter > raw * 2 ** -bits) return undefined;
  const mean = new Float64Array(d);
  // s1/n is relative to the statistics' reference (original units); return centred coordinates.
  for (let i = 0; i < d; i++) mean[i] = (stats.ref[c * d + i] as number) - (offset[i] as number) + (stats.s1[c * d + i] as number) / n;
  return mean;
}

/**
 * Fast-path components of a block whose scatter cancelled (more than
 * {@link MAX_CANCELLED_BITS} of float32's 24 bits lost): recomputed about the
 * block's weighted mean of that component.
 */
function recomputeCancelled(stats: GmmStats, block: DataBlock, w: tf.Tensor2D, offset: Float64Array, bitsOf: (c: number) => number = () => MAX_CANCELLED_BITS): void {
  for (let c = 0; c < stats.k; c++) {
    const local = cancelledMean(stats, c, offset, bitsOf(c));
    if (local !== undefined) centredStats(stats, c, w, tf.sub(block.x, tf.tensor2d(Float32Array.from(local), [1, stats.d])) as tf.Tensor2D, local, offset);
  }
}

/**
 * Overwrites component `c` of `stats` with moments about `centredRef` (centred
 * coordinates; stored in original units), from the block's `diff` = x − centredRef.
 */
function centredStats(stats: GmmStats, c: number, w: tf.Tensor2D, diff: tf.Tensor2D, centredRef: Float64Array, offset: Float64Array): void {
  const { d } = stats;
  for (let i = 0; i < d; i++) stats.ref[c * d + i] = (centredRef[i] as number) + (offset[i] as number);
  const rows = w.shape[0];
  const wc = tf.slice(w, [0, c], [rows, 1]);
  const weighted = tf.mul(diff, wc);
  const moments = tf.concat([tf.matMul(tf.transpose(weighted), diff), tf.reshape(tf.sum(weighted, 0), [d, 1]), tf.mul(tf.ones([d, 1]), tf.sum(wc))], 1).dataSync();
  stats.n[c] = moments[d + 1] as number;
  for (let i = 0; i < d; i++) {
    stats.s1[c * d + i] = moments[i * (d + 2) + d] as number;
    for (let j = i; j < d; j++) {
      const v = 0.5 * ((moments[i * (d + 2) + j] as number) + (moments[j * (d + 2) + i] as number));
      stats.s2[c * d * d + i * d + j] = v;
      stats.s2[c * d * d + j * d + i] = v;
    }
  }
}

/** Calls `fn` with log p(x_n | θ) (float64 copy) for each block. */
function forEachBlockLogNorm(prepared: GmmPrepared, params: GmmParams, numerics: GmmNumerics, fn: (lse: Float64Array, start: number) => void): void {
  const s = gmmStructure(prepared, params, numerics);
  try {
    for (const chunk of s.chunks()) {
      const t = tf.tidy(() => logSumExpRows(chunk.logJoint()));
      const v = Float64Array.from(t.dataSync());
      t.dispose();
      fn(v, chunk.start);
    }
  } finally {
    s.dispose();
  }
}

/** Statistics for given weights `[rows, K]` per block (initialization). */
function statsFromWeights(prepared: GmmPrepared, k: number, weightsFor: (block: DataBlock) => Float32Array): GmmStats {
  let acc: GmmStats | undefined;
  for (const block of prepared.blocks) {
    const w = weightsFor(block);
    tf.tidy(() => {
      const phi = block.phi ?? gmmFeatures(block.x);
      const weights = tf.tensor2d(w, [block.rows, k]);
      const part = blockStats(phi, weights, prepared.nFeatures, prepared.offset, blockLayout(block));
      recomputeCancelled(part, block, weights, prepared.offset);
      acc = acc === undefined ? part : gmmStatsAlgebra.add(acc, part);
    });
  }
  if (acc === undefined) throw new EmError('INTERNAL', 'no data blocks');
  return acc as GmmStats;
}

/**
 * Statistics for given weights with missing entries at their column means
 * (float64 on the host): what initialization uses when entries are missing.
 */
function statsFromWeightsOnHost(prepared: GmmPrepared, k: number, weightsFor: (block: DataBlock) => Float32Array): GmmStats {
  const { nRows, nFeatures: d, centred } = prepared;
  const stats: GmmStats = { k, d, n: new Float64Array(k), s1: new Float64Array(k * d), s2: new Float64Array(k * d * d), ref: new Float64Array(k * d) };
  for (let c = 0; c < k; c++) stats.ref.set(prepared.offset, c * d);
  for (let start = 0; start < nRows; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, nRows - start);
    const w = weightsFor({ start, rows } as DataBlock);
    for (let i = 0; i < rows; i++) {
      const base = (start + i) * d;
      for (let c = 0; c < k; c++) {
        const wc = w[i * k + c] as number;
        if (wc === 0) continue;
        stats.n[c] = (stats.n[c] as number) + wc;
        for (let a = 0; a < d; a++) {
          const wa = wc * (centred[base + a] as number);
          stats.s1[c * d + a] = (stats.s1[c * d + a] as number) + wa;
          for (let j = 0; j < d; j++) stats.s2[c * d * d + a * d + j] = (stats.s2[c * d * d + a * d + j] as number) + wa * (centred[base + j] as number);
        }
      }
    }
  }
  return stats;
}

/** k-means++ seeding (D² sampling) and nearest-centre labels, float64 on the host. */
function kmeansPlusPlusLabels(prepared: GmmPrepared, k: number, rng: Rng): Int32Array {
  const { nRows: n, nFeatures: d, centred: x } = prepared;
  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const labels = new Int32Array(n);
  let centre = rng.int(n);
  for (let c = 0; c < k; c++) {
    if (c > 0) {
      const total = dist.reduce((a, b) => a + b, 0);
      centre = total > 0 ? rng.categorical(dist) : rng.int(n);
    }
    const base = centre * d;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = (x[i * d + j] as number) - (x[base + j] as number);
        s += diff * diff;
      }
      if (s < (dist[i] as number)) {
        dist[i] = s;
        labels[i] = c;
      }
    }
  }
  return labels;
}

/**
 * Checks Gaussian-mixture parameters: shapes `[K]`, `[K][D]`, `[K][D][D]`,
 * finite values, weights ≥ 0 summing to 1 (within 1e-6), symmetric positive
 * definite covariances.
 * @throws EmError `INVALID_PARAMS` naming the field and component.
 * @category Gaussian mixtures
 */
export function validateGmmParams(params: unknown, k: number, d: number | undefined): asserts params is GmmParams {
  const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
    throw emError('INVALID_PARAMS', ['params', ...path], value, problem, remedy);
  };
  if (typeof params !== 'object' || params === null) bad([], params, 'must be an object { weights, means, covariances }', 'pass parameters from a FitResult or build them with that shape');
  const p = params as Partial<GmmParams>;
  if (p.covarianceType !== undefined && !COVARIANCE_TYPES.includes(p.covarianceType)) bad(['covarianceType'], p.covarianceType, 'is not a covariance type', `use one of ${COVARIANCE_TYPES.join(', ')}`);
  const w = p.weights;
  if (!Array.isArray(w) || w.length !== k) bad(['weights'], w, `must be an array of nComponents = ${k} numbers`, `pass ${k} weights`);
  let sum = 0;
  (w as number[]).forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(['weights', i], v, 'must be a finite number >= 0', 'pass non-negative weights');
    sum += v;
  });
  if (Math.abs(sum - 1) > 1e-6) bad(['weights'], sum, 'sum to this, not 1 (within 1e-6)', 'normalize the weights to sum to 1');
  const m = p.means;
  if (!Array.isArray(m) || m.length !== k) bad(['means'], m, `must be an array of nComponents = ${k} rows`, `pass ${k} mean vectors`);
  const dim = d ?? (Array.isArray(m?.[0]) ? (m[0] as number[]).length : 0);
  if (dim < 1) bad(['means', 0], m?.[0], 'must be a non-empty array of numbers', 'pass mean vectors of length D');
  (m as number[][]).forEach((row, c) => {
    if (!Array.isArray(row) || row.length !== dim) bad(['means', c], row, `must have length D = ${dim}`, 'pass mean vectors with one entry per feature');
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(['means', c, j], v, 'must be a finite number', 'fix the mean');
    });
  });
  const s = p.covariances;
  if (!Array.isArray(s) || s.length !== k) bad(['covariances'], s, `must be an array of nComponents = ${k} matrices`, `pass ${k} D×D matrices`);
  (s as number[][][]).forEach((mat, c) => {
    if (!Array.isArray(mat) || mat.length !== dim) bad(['covariances', c], mat, `must be a ${dim}×${dim} matrix`, 'pass full D×D covariance matrices');
    const flat = new Float64Array(dim * dim);
    let scale = 0;
    mat.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== dim) bad(['covariances', c, i], row, `must have length ${dim}`, 'pass full D×D covariance matrices');
      row.forEach((v, j) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(['covariances', c, i, j], v, 'must be a finite number', 'fix the covariance');
        flat[i * dim + j] = v;
        scale = Math.max(scale, Math.abs(v));
      });
    });
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < i; j++) {
        if (Math.abs((flat[i * dim + j] as number) - (flat[j * dim + i] as number)) > 1e-8 * Math.max(scale, 1e-300)) {
          bad(['covariances', c, i, j], flat[i * dim + j], `differs from entry [${j}][${i}] = ${flat[j * dim + i]}: the matrix is not symmetric`, 'symmetrize it, e.g. (S + Sᵀ)/2');
        }
      }
    }
    try {
      choleskyWithJitter(flat, dim, { component: c, maxJitter: 0 });
    } catch (e) {
      if (!(e instanceof EmError)) throw e;
      bad(['covariances', c], mat, `is not positive definite (component ${c})`, 'pass a positive definite covariance, e.g. add a small multiple of the identity');
    }
  });
}
