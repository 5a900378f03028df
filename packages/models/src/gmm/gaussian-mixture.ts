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
  logSumExpRows,
  numberOption,
  rejectUnknownOptions,
  type FiniteChunk,
  type FiniteStructure,
  type Model,
  type MStepContext,
  type MStepResult,
  type Rng,
  type Seed,
} from '@emlab/core';
import { blockStats, featureCount, gmmFeatures, prepareGmmData, readMatrix, type DataBlock, type GmmPrepared } from './gmm-data.js';
import { factorCovariances, gmmExpectedLogJoint, gmmMStep, gmmParameterCount, gmmStatsAlgebra } from './gmm-math.js';
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
}

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

  /** @throws EmError `INVALID_ARGUMENT` naming the option. */
  constructor(options: GaussianMixtureOptions) {
    if (typeof options !== 'object' || options === null) {
      throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an object', 'pass { nComponents: K }');
    }
    rejectUnknownOptions(options as unknown as Record<string, unknown>, ['nComponents', 'covarianceType', 'regCovar'], 'gaussianMixture');
    this.nComponents = integerOption(options.nComponents, ['options', 'nComponents'], 1);
    const type = options.covarianceType ?? 'full';
    if (!COVARIANCE_TYPES.includes(type)) {
      throw emError('INVALID_ARGUMENT', ['options', 'covarianceType'], type, `is not a covariance type`, `use one of ${COVARIANCE_TYPES.join(', ')}`);
    }
    this.covarianceType = type;
    this.regCovar = numberOption(options.regCovar ?? 1e-6, ['options', 'regCovar'], 0);
  }

  get options(): Readonly<Record<string, unknown>> {
    return { nComponents: this.nComponents, covarianceType: this.covarianceType, regCovar: this.regCovar };
  }

  /** @throws EmError `INVALID_DATA` (shape, NaN, Infinity, fewer rows than components). */
  validate(data: GmmData): void {
    const { rows } = readMatrix(data);
    if (this.nComponents > rows) {
      throw emError('INVALID_DATA', ['data'], rows, `has ${rows} rows, fewer than nComponents = ${this.nComponents}`, 'reduce nComponents or pass more rows');
    }
  }

  /** @throws EmError `INVALID_PARAMS` naming the field and component. */
  validateParams(params: unknown, data?: GmmData): asserts params is GmmParams {
    const d = data === undefined ? undefined : readMatrix(data).cols;
    validateGmmParams(params, this.nComponents, d);
  }

  prepare(data: GmmData): GmmPrepared {
    return prepareGmmData(data, this.nComponents);
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
    const stats = statsFromWeights(prepared, k, weightsFor);
    return gmmMStep(stats, this.covarianceType, this.regCovar, rng.child('reinit'), reinitSource(prepared)).params;
  }

  structure(prepared: GmmPrepared, params: GmmParams): GmmStructure {
    return gmmStructure(prepared, params);
  }

  mStep(stats: GmmStats, _prev: GmmParams, ctx: MStepContext<GmmPrepared>): MStepResult<GmmParams> {
    return gmmMStep(stats, this.covarianceType, this.regCovar, ctx.rng, reinitSource(ctx.prepared));
  }

  expectedLogJoint(stats: GmmStats, params: GmmParams): number {
    return gmmExpectedLogJoint(stats, params);
  }

  logLikelihood(prepared: GmmPrepared, params: GmmParams): number {
    let total = 0;
    forEachBlockLogNorm(prepared, params, (lse) => {
      for (const v of lse) total += v;
    });
    return total;
  }

  /** log p(x_n | θ) per row, `[nSamples]`. @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  scoreSamples(params: GmmParams, data: GmmData): Float64Array {
    return this.withData(params, data, (prepared) => {
      const out = new Float64Array(prepared.nRows);
      forEachBlockLogNorm(prepared, params, (lse, start) => out.set(lse, start));
      return out;
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
      const s = gmmStructure(prepared, params);
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
      return out;
    });
  }

  /** Most probable component per row, `[nSamples]`. */
  predict(params: GmmParams, data: GmmData): number[] {
    return this.withData(params, data, (prepared) => {
      const out: number[] = [];
      const s = gmmStructure(prepared, params);
      try {
        for (const chunk of s.chunks()) {
          const a = tf.tidy(() => tf.argMax(chunk.logJoint(), 1));
          out.push(...Array.from(a.dataSync()));
          a.dispose();
        }
      } finally {
        s.dispose();
      }
      return out;
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
    const prepared = prepareGmmData(data, params.weights.length);
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
 * The `finite` structure at `params`. With Φ(x) = [vec(x xᵀ), x, 1] of the
 * centred data, log π_k + log N(x | μ_k, Σ_k) = Φ(x) · Q_k where, for the
 * precision P_k = Σ_k⁻¹ and centred mean c_k, Q_k holds −½ vec(P_k), P_k c_k, and log π_k − D/2 log 2π − ½ log|Σ_k| − ½ c_kᵀ P_k c_k.
 * So the E-step table of a block is one matmul `[n, F] × [F, K]`.
 */
function gmmStructure(prepared: GmmPrepared, params: GmmParams): GmmStructure {
  const k = params.weights.length;
  const d = prepared.nFeatures;
  const f = featureCount(d);
  const p = d * d;
  const { chol, logDet } = factorCovariances(params);
  const q = new Float32Array(f * k);
  for (let c = 0; c < k; c++) {
    const prec = inverseFromCholesky(chol[c] as Float64Array, d);
    const mu = params.means[c] as number[];
    const centred = new Float64Array(d);
    for (let i = 0; i < d; i++) centred[i] = (mu[i] as number) - (prepared.offset[i] as number);
    for (let i = 0; i < p; i++) q[i * k + c] = -0.5 * (prec[i] as number);
    let quad = 0;
    for (let i = 0; i < d; i++) {
      let pc = 0;
      for (let j = 0; j < d; j++) pc += (prec[i * d + j] as number) * (centred[j] as number);
      q[(p + i) * k + c] = pc;
      quad += pc * (centred[i] as number);
    }
    q[(f - 1) * k + c] = Math.log(params.weights[c] as number) - 0.5 * d * LOG_2PI - 0.5 * (logDet[c] as number) - 0.5 * quad;
  }
  const tQ = tf.tensor2d(q, [f, k]);
  const chunks = prepared.blocks.map((block): FiniteChunk<GmmStats> => {
    let built: tf.Tensor2D | undefined;
    const phi = (): tf.Tensor2D => {
      if (block.phi !== undefined) return block.phi;
      if (built === undefined || built.isDisposed) built = gmmFeatures(block.x);
      return built;
    };
    return {
      rows: block.rows,
      start: block.start,
      logJoint: () => tf.matMul(phi(), tQ),
      stats: (w) => blockStats(phi(), w, d, prepared.offset),
    };
  });
  return {
    kind: 'finite',
    nRows: prepared.nRows,
    nComponents: k,
    algebra: gmmStatsAlgebra,
    chunks: () => chunks,
    dispose() {
      tQ.dispose();
    },
  };
}

/** Calls `fn` with log p(x_n | θ) (float64 copy) for each block. */
function forEachBlockLogNorm(prepared: GmmPrepared, params: GmmParams, fn: (lse: Float64Array, start: number) => void): void {
  const s = gmmStructure(prepared, params);
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
      const part = blockStats(phi, tf.tensor2d(w, [block.rows, k]), prepared.nFeatures, prepared.offset);
      acc = acc === undefined ? part : gmmStatsAlgebra.add(acc, part);
    });
  }
  if (acc === undefined) throw new EmError('INTERNAL', 'no data blocks');
  return acc as GmmStats;
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
