/**
 * Seeded synthetic data: Gaussian mixtures with known ground truth.
 *
 * All randomness comes from `createRng(seed).child('mixture', ...)` streams,
 * so the same options always give bit-identical data.
 *
 * @module
 */
import { createRng, emError, validateSeed, type Rng, type Seed } from '@emlab/core';

/**
 * The parameters a mixture sample was drawn from.
 * @category Data
 */
export interface MixtureTruth {
  /** Mixing weights, `K` entries summing to 1. */
  weights: number[];
  /** Component means, `K × D`. */
  means: number[][];
  /** Component covariances, `K × D × D` (for `'tied'` all `K` are equal). */
  covariances: number[][][];
}

/**
 * Shapes of the true covariances drawn by {@link makeGaussianMixture}.
 * @category Data
 */
export type MixtureCovarianceShape = 'full' | 'diag' | 'spherical' | 'tied';

const COVARIANCE_SHAPES: readonly MixtureCovarianceShape[] = ['full', 'diag', 'spherical', 'tied'];

/**
 * Options of {@link makeGaussianMixture}.
 * @category Data
 */
export interface GaussianMixtureOptions {
  /** Number of rows to draw (integer >= 1). */
  nSamples: number;
  /** Number of components K (integer >= 1). */
  nComponents: number;
  /** Number of features D (integer >= 1). */
  nFeatures: number;
  /** Root seed: a safe integer or a non-empty string. */
  seed: Seed;
  /**
   * Minimum distance between any two means, in units of the cluster scale
   * (the square root of the largest covariance eigenvalue). Default 4.
   */
  separation?: number;
  /** Shape of the true covariances. Default `'full'`. */
  covariance?: MixtureCovarianceShape;
  /** Mixing weights (K non-negative numbers summing to 1). Default: random, each >= 0.5/K. */
  weights?: number[];
}

/**
 * A drawn Gaussian-mixture sample.
 * @category Data
 */
export interface GeneratedMixture {
  /** Row-major samples, `rows × cols`. */
  x: Float64Array;
  /** The same array as `x`, so the result can be passed as `{ values, rows, cols }` data. */
  values: Float64Array;
  /** Number of samples. */
  rows: number;
  /** Number of features. */
  cols: number;
  /** The component each row was drawn from, in [0, K). */
  labels: Int32Array;
  /** The generating parameters. */
  truth: MixtureTruth;
}

const KNOWN_OPTIONS = ['nSamples', 'nComponents', 'nFeatures', 'seed', 'separation', 'covariance', 'weights'];

function positiveInteger(opts: Record<string, unknown>, key: string): number {
  const v = opts[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw emError('INVALID_ARGUMENT', ['options', key], v, 'must be an integer >= 1', `pass a positive integer ${key}`);
  }
  return v;
}

interface CheckedOptions {
  n: number;
  k: number;
  d: number;
  seed: Seed;
  separation: number;
  covariance: MixtureCovarianceShape;
  weights: number[] | undefined;
}

function checkOptions(opts: unknown): CheckedOptions {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw emError('INVALID_ARGUMENT', ['options'], opts, 'must be an options object', 'pass e.g. { nSamples: 500, nComponents: 3, nFeatures: 2, seed: 0 }');
  }
  const o = opts as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw emError('INVALID_ARGUMENT', ['options', key], o[key], 'is not an option of makeGaussianMixture', `use one of: ${KNOWN_OPTIONS.join(', ')}`);
    }
  }
  const n = positiveInteger(o, 'nSamples');
  const k = positiveInteger(o, 'nComponents');
  const d = positiveInteger(o, 'nFeatures');
  validateSeed(o.seed, ['options', 'seed']);
  const separation = o.separation ?? 4;
  if (typeof separation !== 'number' || !Number.isFinite(separation) || separation < 0) {
    throw emError('INVALID_ARGUMENT', ['options', 'separation'], separation, 'must be a finite number >= 0', 'pass e.g. separation: 4 (well separated) or 1 (overlapping)');
  }
  const covariance = o.covariance ?? 'full';
  if (!COVARIANCE_SHAPES.includes(covariance as MixtureCovarianceShape)) {
    throw emError('INVALID_ARGUMENT', ['options', 'covariance'], covariance, 'is not a covariance shape', `pass one of ${COVARIANCE_SHAPES.join(', ')}`);
  }
  let weights: number[] | undefined;
  if (o.weights !== undefined) {
    const w = o.weights;
    if (!Array.isArray(w) || w.length !== k) {
      throw emError('INVALID_ARGUMENT', ['options', 'weights'], w, `must be an array of nComponents = ${k} numbers`, 'pass one weight per component, or omit weights for random ones');
    }
    let sum = 0;
    w.forEach((v: unknown, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw emError('INVALID_ARGUMENT', ['options', 'weights', i], v, 'must be a finite number >= 0', 'pass non-negative weights summing to 1');
      }
      sum += v;
    });
    if (Math.abs(sum - 1) > 1e-6) {
      throw emError('INVALID_ARGUMENT', ['options', 'weights'], w, `must sum to 1 (sum is ${sum})`, 'divide every weight by their sum');
    }
    weights = (w as number[]).map((v) => v / sum);
  }
  return { n, k, d, seed: o.seed, separation, covariance: covariance as MixtureCovarianceShape, weights };
}

/** Lower Cholesky factor of a symmetric positive definite matrix (row-major d×d). */
function cholesky(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j] as number;
      for (let p = 0; p < j; p++) s -= (l[i * d + p] as number) * (l[j * d + p] as number);
      if (i === j) {
        if (!(s > 0)) throw emError('INTERNAL', ['truth', 'covariance'], s, 'a generated covariance is not positive definite', 'please report this with the generator options');
        l[i * d + i] = Math.sqrt(s);
      } else {
        l[i * d + j] = s / (l[j * d + j] as number);
      }
    }
  }
  return l;
}

/** Largest eigenvalue of a symmetric PSD matrix by power iteration. */
function largestEigenvalue(a: Float64Array, d: number): number {
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < 200; it++) {
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (a[i * d + j] as number) * (v[j] as number);
      w[i] = s;
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += (w[i] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) return 0;
    for (let i = 0; i < d; i++) w[i] = (w[i] as number) / norm;
    const converged = Math.abs(norm - lambda) <= 1e-12 * norm;
    lambda = norm;
    v = w;
    if (converged) break;
  }
  return lambda;
}

/** A random covariance of the given shape with average variance (trace / d) of about 1. */
function randomCovariance(rng: Rng, d: number, shape: MixtureCovarianceShape): Float64Array {
  const s = new Float64Array(d * d);
  if (shape === 'spherical') {
    const v = 0.5 + rng.uniform();
    for (let i = 0; i < d; i++) s[i * d + i] = v;
    return s;
  }
  if (shape === 'diag') {
    let total = 0;
    for (let i = 0; i < d; i++) {
      const v = 0.25 + 1.5 * rng.uniform();
      s[i * d + i] = v;
      total += v;
    }
    const scale = d / total;
    for (let i = 0; i < d; i++) s[i * d + i] = (s[i * d + i] as number) * scale;
    return s;
  }
  // full / tied: A Aᵀ / d + 0.1 I, rescaled to trace d.
  const a = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) a[i] = rng.normal();
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let p = 0; p < d; p++) dot += (a[i * d + p] as number) * (a[j * d + p] as number);
      const v = dot / d + (i === j ? 0.1 : 0);
      s[i * d + j] = v;
      s[j * d + i] = v;
    }
  }
  let trace = 0;
  for (let i = 0; i < d; i++) trace += s[i * d + i] as number;
  const scale = d / trace;
  for (let i = 0; i < d * d; i++) s[i] = (s[i] as number) * scale;
  return s;
}

/** Means with pairwise distance >= separation · (mean of the two cluster scales), by seeded rejection. */
function drawMeans(rng: Rng, k: number, d: number, scales: number[], separation: number): number[][] {
  const maxScale = Math.max(...scales);
  let radius = Math.max(separation, 1) * maxScale * Math.max(1, Math.pow(k, 1 / d));
  const means: number[][] = [];
  let failures = 0;
  while (means.length < k) {
    const candidate = Array.from({ length: d }, () => radius * (2 * rng.uniform() - 1));
    const j = means.length;
    const ok = means.every((m, i) => {
      let dist2 = 0;
      for (let p = 0; p < d; p++) dist2 += ((m[p] as number) - (candidate[p] as number)) ** 2;
      const need = (separation * ((scales[i] as number) + (scales[j] as number))) / 2;
      return Math.sqrt(dist2) >= need;
    });
    if (ok) {
      means.push(candidate);
      failures = 0;
    } else if (++failures >= 200) {
      radius *= 1.25;
      failures = 0;
    }
  }
  return means;
}

function toNested(s: Float64Array, d: number): number[][] {
  return Array.from({ length: d }, (_, i) => Array.from(s.subarray(i * d, (i + 1) * d)));
}

/**
 * Draws a seeded sample from a random Gaussian mixture with known truth.
 *
 * Covariances have average variance about 1 (full: `A Aᵀ/d + 0.1·I` rescaled);
 * means are placed at least `separation` cluster scales apart; weights are
 * random but each at least `0.5/K` unless given; labels are drawn
 * categorically and each sample is `mean + chol(cov) · z`, `z ~ N(0, I)`.
 * Only `createRng(seed).child('mixture', ...)` streams are used.
 *
 * @throws EmError `INVALID_ARGUMENT` for a non-positive or non-integer size,
 *   a bad seed, separation or covariance shape, weights of the wrong length or
 *   not summing to 1, or an unknown option (checked before any work).
 * @example
 * ```ts
 * const { x, rows, cols, labels, truth } = makeGaussianMixture({
 *   nSamples: 600, nComponents: 3, nFeatures: 2, seed: 7,
 * });
 * ```
 * @category Data
 */
export function makeGaussianMixture(opts: GaussianMixtureOptions): GeneratedMixture {
  const { n, k, d, seed, separation, covariance, weights: given } = checkOptions(opts);
  const root = createRng(seed);

  let weights: number[];
  if (given !== undefined) {
    weights = given;
  } else {
    const wr = root.child('mixture', 'weights');
    const g = Array.from({ length: k }, () => {
      let u = 0;
      while (u === 0) u = wr.uniform();
      return -Math.log(u); // Gamma(1) draws → Dirichlet(1, ..., 1)
    });
    const total = g.reduce((a, b) => a + b, 0);
    weights = g.map((v) => 0.5 / k + (0.5 * v) / total);
    const sum = weights.reduce((a, b) => a + b, 0);
    weights = weights.map((w) => w / sum);
  }

  const cr = root.child('mixture', 'covariances');
  const covs: Float64Array[] = [];
  if (covariance === 'tied') {
    const shared = randomCovariance(cr, d, 'full');
    for (let c = 0; c < k; c++) covs.push(shared);
  } else {
    for (let c = 0; c < k; c++) covs.push(randomCovariance(cr, d, covariance));
  }
  const scales = covs.map((s) => Math.sqrt(largestEigenvalue(s, d)));
  const means = drawMeans(root.child('mixture', 'means'), k, d, scales, separation);
  const chols = covs.map((s) => cholesky(s, d));

  const labelRng = root.child('mixture', 'labels');
  const sampleRng = root.child('mixture', 'samples');
  const x = new Float64Array(n * d);
  const labels = new Int32Array(n);
  const z = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const c = labelRng.categorical(weights);
    labels[r] = c;
    const l = chols[c] as Float64Array;
    const m = means[c] as number[];
    for (let p = 0; p < d; p++) z[p] = sampleRng.normal();
    for (let i = 0; i < d; i++) {
      let v = m[i] as number;
      for (let p = 0; p <= i; p++) v += (l[i * d + p] as number) * (z[p] as number);
      x[r * d + i] = v;
    }
  }

  return {
    x,
    values: x,
    rows: n,
    cols: d,
    labels,
    truth: { weights, means, covariances: covs.map((s) => toNested(s, d)) },
  };
}

/**
 * Converts a row-major matrix to an array of rows.
 *
 * @throws EmError `INVALID_ARGUMENT` if `x.length !== rows * cols` or a size is not a non-negative integer.
 * @example
 * ```ts
 * toRows(new Float64Array([1, 2, 3, 4]), 2, 2); // [[1, 2], [3, 4]]
 * ```
 * @category Data
 */
export function toRows(x: ArrayLike<number>, rows: number, cols: number): number[][] {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0 || x.length !== rows * cols) {
    throw emError('INVALID_ARGUMENT', ['x'], x, `must have rows·cols = ${rows}·${cols} entries`, 'pass non-negative integer rows and cols with x.length === rows * cols');
  }
  const out: number[][] = new Array<number[]>(rows);
  for (let r = 0; r < rows; r++) {
    const row = new Array<number>(cols);
    for (let c = 0; c < cols; c++) row[c] = x[r * cols + c] as number;
    out[r] = row;
  }
  return out;
}
