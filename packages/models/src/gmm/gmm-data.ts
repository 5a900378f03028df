/**
 * Gaussian-mixture data: validation, centring, upload in row blocks, and the
 * block computations (log-joint table and weighted statistics) as tensor ops.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { emError, isRowSource, type Precision, type PreparedData } from '@emlab/core';
import type { DenseMatrix, GmmData, GmmStats } from './gmm-types.js';
import { frameFor } from './gmm-frame.js';
import type { MissingPrepared, PatternSegment } from './gmm-missing.js';
import { prepareStreamed } from './gmm-stream.js';

/**
 * Rows per block: 4096. Each block's statistics are one float32 matmul
 * accumulating over its rows, then added across blocks in float64; on
 * tfjs-backend-wasm 4096 rows is as fast as any larger block (measured at
 * N = 10⁵ and 10⁶) while keeping the accumulation error of the second moments
 * near 1e-7 relative (16384-row blocks showed 3e-6 on the `mix5` demo data).
 */
export const BLOCK_ROWS = 4096;

/** Rows per block for a data set (see {@link BLOCK_ROWS}). @category Gaussian mixtures */
export function blockRows(nRows: number): number {
  return Math.min(nRows, BLOCK_ROWS);
}

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

function isDense(x: unknown): x is DenseMatrix {
  return typeof x === 'object' && x !== null && 'values' in x && 'rows' in x && 'cols' in x;
}

/**
 * Reads any accepted data form into a row-major Float64Array, checking shape
 * and values. NaN is a missing entry; ±Infinity is rejected.
 * @throws EmError `INVALID_DATA` naming the row and column.
 * @category Gaussian mixtures
 */
export function readMatrix(data: GmmData, name = 'data'): { values: Float64Array; rows: number; cols: number } {
  const { rows, cols, at } = inspectMatrix(data, name);
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = at(i);
  return { values, rows, cols };
}

/**
 * Checks shape and values like {@link readMatrix} without copying the data
 * (what `validate` uses, so a fit holds one copy, not two).
 * @throws EmError `INVALID_DATA` naming the row and column.
 * @category Gaussian mixtures
 */
export function matrixShape(data: GmmData, name = 'data'): { rows: number; cols: number } {
  const { rows, cols } = inspectMatrix(data, name);
  return { rows, cols };
}

/**
 * Shape checks, then a value check through a row-major accessor (no copy,
 * except a tensor's download). NaN entries are missing values.
 * @throws EmError `INVALID_DATA` naming the row and column.
 * @category Gaussian mixtures
 */
export function inspectMatrix(data: GmmData, name: string): { rows: number; cols: number; at: (i: number) => number } {
  let rows: number;
  let cols: number;
  let at: (i: number) => number;
  if (isRowSource(data)) {
    ({ rows, cols } = { rows: data.nRows, cols: data.nColumns });
    // Sequential reads through a block buffer (validation walks the rows in order).
    const per = Math.max(1, Math.floor(65_536 / Math.max(1, cols)));
    let buf: Float64Array = new Float64Array(0);
    let first = -1;
    at = (i) => {
      const r = Math.floor(i / cols);
      if (first < 0 || r < first || r >= first + per) {
        first = r - (r % per);
        buf = data.read(first, Math.min(per, rows - first));
      }
      return buf[i - first * cols] as number;
    };
  } else if (isTensor(data)) {
    if (data.rank !== 2) throw emError('INVALID_DATA', [name], data, `must be a 2-D tensor [nSamples, nFeatures], got rank ${data.rank}`, 'reshape it to [nSamples, nFeatures]');
    [rows, cols] = data.shape as [number, number];
    const v = data.dataSync();
    at = (i) => v[i] as number;
  } else if (Array.isArray(data)) {
    rows = data.length;
    const first: unknown = data[0];
    if (rows > 0 && !Array.isArray(first)) throw emError('INVALID_DATA', [name, 0], first, 'must be an array of rows (number[][]), got a flat array', 'wrap a single feature as [[x0], [x1], ...]');
    cols = rows > 0 ? (first as number[]).length : 0;
    for (let r = 0; r < rows; r++) {
      const row: unknown = data[r];
      if (!Array.isArray(row)) throw emError('INVALID_DATA', [name, r], row, 'must be an array of numbers', 'give every row as number[]');
      if (row.length !== cols) throw emError('INVALID_DATA', [name, r], row, `has ${row.length} values but row 0 has ${cols}`, 'give every row the same number of features');
      for (let c = 0; c < cols; c++) {
        const v: unknown = row[c];
        if (typeof v !== 'number') throw emError('INVALID_DATA', [name, r, c], v, 'must be a number', 'convert cells to numbers');
      }
    }
    const rowsOf = data as readonly (readonly number[])[];
    const width = cols;
    at = (i) => (rowsOf[Math.floor(i / width)] as readonly number[])[i % width] as number;
  } else if (isDense(data)) {
    ({ rows, cols } = data);
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.values.length !== rows * cols) {
      throw emError('INVALID_DATA', [name, 'values'], data.values, `must have rows·cols = ${rows}·${cols} entries`, 'pass { values, rows, cols } with values.length === rows * cols');
    }
    const v = data.values;
    at = (i) => v[i] as number;
  } else {
    throw emError('INVALID_DATA', [name], data, 'must be number[][], a 2-D tensor or { values, rows, cols }', 'pass the data in one of those forms');
  }
  if (rows === 0) throw emError('INVALID_DATA', [name], data, 'has zero rows', 'pass at least one row');
  if (cols === 0) throw emError('INVALID_DATA', [name], data, 'has zero columns', 'pass at least one feature');
  const n = rows * cols;
  for (let i = 0; i < n; i++) {
    const v = at(i);
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      throw emError('INVALID_DATA', [name, Math.floor(i / cols), i % cols], v, 'is infinite (NaN marks a missing entry; infinity is not a value)', 'remove or clip infinite values, or mark the cell missing with NaN');
    }
  }
  return { rows, cols, at };
}

/** One block of centred rows on the device. @category Gaussian mixtures */
export interface DataBlock {
  readonly start: number;
  readonly rows: number;
  /** Centred rows `[rows, D]`. */
  readonly x: tf.Tensor2D;
  /** Precomputed features Φ `[rows, F]` (packed layout) when they fit the memory budget (see {@link gmmFeatures}). */
  readonly phi: tf.Tensor2D | undefined;
  /** The block's feature layout when it cannot be read from `phi` (a block a shard worker does not hold, a streamed block). */
  readonly layout?: FeatureLayout;
  /** Streamed blocks: frees the tensors read for one use (they are read again next time). */
  release?(): void;
}

/** Data prepared for a Gaussian mixture. @category Gaussian mixtures */
export interface GmmPrepared extends PreparedData {
  readonly nFeatures: number;
  /** Column means (float64), subtracted before upload. */
  readonly offset: Float64Array;
  /** Centred rows on the host, float64 (initialization, reinitialization). */
  readonly centred: Float64Array;
  /** Per-feature variance. */
  readonly variance: Float64Array;
  /** Largest Euclidean norm of a centred row (for the float32 conditioning of a component). */
  readonly maxNorm: number;
  /** Blocks of complete rows (all rows when nothing is missing), on the device. */
  readonly blocks: readonly DataBlock[];
  /**
   * Present when some entries are missing: then the prepared row order is the
   * complete rows, then the other rows grouped by pattern (`centred` holds
   * them in that order with missing entries at the column mean, i.e. 0), and
   * rows with every entry missing are left out.
   */
  readonly missing?: MissingPrepared;
  /**
   * Every prepared row as host patterns, in prepared order: the complete rows as one pattern with
   * nothing missing (its `xo` is a view of `centred`), then the patterns of `missing`. The float64
   * kernels run on these.
   */
  readonly hostPatterns: readonly PatternSegment[];
  /** Row weights in prepared order, or undefined (every weight 1). */
  readonly weights: Float64Array | undefined;
  /** Per-column scales the data were divided by (`gmm-frame.ts`), or undefined when every scale is 1. */
  readonly frame: Float64Array | undefined;
  /** Σ weights (nRows when unweighted). */
  readonly totalWeight: number;
  /**
   * Streamed data (a `RowSource`): centred rows are read from it block by block (`centred` is then
   * empty). See `gmm-stream.ts`.
   */
  readonly stream?: { readonly source: import('@emlab/core').RowSource; read(start: number, rows: number): Float64Array };
}

/** Options of {@link prepareGmmData}. @category Gaussian mixtures */
export interface PrepareGmmOptions {
  /** Row weights in the caller's row order (checked by `fit`). */
  readonly weights?: Float64Array;
  /** Precisions the kernels will run in: float32 tensor blocks are uploaded only when float32 is among them. Default both. */
  readonly precisions?: readonly Precision[];
  /** Column scales: `'auto'` (default: see `frameFor`), or given (e.g. a fitted model's `params.scale`). */
  readonly frame?: 'auto' | Float64Array;
}

/**
 * Missingness patterns with at least this many rows are also uploaded as tensor
 * blocks (one matmul per block per E-step); smaller ones are served in float64
 * JS, where a row costs less than the dispatch of per-pattern tensor ops.
 */
export const TENSOR_PATTERN_ROWS = 512;

/** Budget for precomputed features Φ over all rows (bytes); above it Φ is built per block and iteration. @internal */
export const PHI_BUDGET_BYTES = 256 * 1024 * 1024;

/**
 * Column layout of the quadratic features: `'full'` holds every x_i x_j (D²
 * columns, built per block with one broadcast multiply, ~7× faster than a
 * column gather on tfjs-backend-wasm), `'packed'` only i ≤ j (D(D+1)/2
 * columns: less memory and a smaller matmul, used when Φ is precomputed once,
 * where the gather's cost does not matter).
 * @category Gaussian mixtures
 */
export type FeatureLayout = 'full' | 'packed';

/** The (i, j) index pairs of the quadratic columns of Φ, in column order. @category Gaussian mixtures */
export function quadraticPairs(d: number, layout: FeatureLayout): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < d; i++) for (let j = layout === 'full' ? 0 : i; j < d; j++) pairs.push([i, j]);
  return pairs;
}

/** Number of features F of Φ: quadratic columns + D + 1. @category Gaussian mixtures */
export function featureCount(d: number, layout: FeatureLayout = 'full'): number {
  return (layout === 'full' ? d * d : (d * (d + 1)) / 2) + d + 1;
}

/**
 * The features that make a Gaussian log-density linear:
 * Φ(x) = [x_i x_j, x, 1] `[rows, F]` (see {@link FeatureLayout}). With them the
 * E-step table is one matmul Φ Q `[rows, K]` and the M-step statistics one
 * matmul Wᵀ Φ `[K, F]`. Creates tensors: call inside `tf.tidy`.
 * @category Gaussian mixtures
 */
export function gmmFeatures(x: tf.Tensor2D, layout: FeatureLayout = 'full'): tf.Tensor2D {
  const [n, d] = x.shape;
  let quad: tf.Tensor2D;
  if (layout === 'full') {
    quad = tf.reshape(tf.mul(tf.reshape(x, [n, d, 1]), tf.reshape(x, [n, 1, d])), [n, d * d]);
  } else {
    const pairs = quadraticPairs(d, 'packed');
    quad = tf.mul(tf.gather(x, tf.tensor1d(pairs.map((p) => p[0]), 'int32'), 1), tf.gather(x, tf.tensor1d(pairs.map((p) => p[1]), 'int32'), 1));
  }
  return tf.concat([quad, x, tf.ones([n, 1])], 1) as tf.Tensor2D;
}

/** The layout of a block's features: packed when precomputed, full when built per iteration. @category Gaussian mixtures */
export function blockLayout(block: DataBlock): FeatureLayout {
  return block.layout ?? (block.phi === undefined ? 'full' : 'packed');
}

/**
 * Centres the data (column means in float64) and uploads it as float32 blocks,
 * with the features Φ precomputed when they fit in 256 MiB.
 * @category Gaussian mixtures
 */
export function prepareGmmData(data: GmmData, options: PrepareGmmOptions = {}): GmmPrepared {
  if (isRowSource(data)) return prepareStreamed(data, options);
  const { values, rows, cols } = readMatrix(data);
  if (options.weights !== undefined && options.weights.length !== rows) {
    throw emError('INVALID_ARGUMENT', ['options', 'weights'], options.weights, `has ${options.weights.length} entries but the data has ${rows} rows`, 'pass one weight per row');
  }
  const upload = (options.precisions ?? ['float32', 'float64']).includes('float32');
  const frame = applyFrame(values, rows, cols, options.frame ?? 'auto', options.weights);
  if (!values.some(Number.isNaN)) {
    const { offset, variance, centred, maxNorm } = centreRows(values, rows, cols, undefined, options.weights);
    const blocks = upload ? uploadBlocks(centred, rows, cols) : [];
    const weights = options.weights;
    const complete: PatternSegment = { obs: Int32Array.from({ length: cols }, (_, c) => c), mis: new Int32Array(0), start: 0, count: rows, xo: centred };
    return { nRows: rows, nFeatures: cols, offset, centred, variance, maxNorm, blocks, hostPatterns: [complete], weights, totalWeight: totalOf(weights, rows), frame, dispose: () => disposeBlocks(blocks) };
  }
  return prepareWithMissing(values, rows, cols, upload, options.weights, frame);
}

/** Divides each column by its frame scale in place (see `gmm-frame.ts`); returns the frame or undefined. */
function applyFrame(values: Float64Array, rows: number, cols: number, given: 'auto' | Float64Array, weights: Float64Array | undefined): Float64Array | undefined {
  let frame: Float64Array | undefined;
  if (given === 'auto') {
    const { offset, variance } = columnMoments(values, rows, cols, weights);
    const maxDev = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = values[r * cols + c] as number;
        if (!Number.isNaN(v)) maxDev[c] = Math.max(maxDev[c] as number, Math.abs(v - (offset[c] as number)));
      }
    }
    frame = frameFor(Float64Array.from(variance, Math.sqrt), maxDev);
  } else {
    frame = given.every((s) => s === 1) ? undefined : given;
  }
  if (frame !== undefined) for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) / (frame[i % cols] as number);
  return frame;
}

function totalOf(weights: Float64Array | undefined, rows: number): number {
  if (weights === undefined) return rows;
  let t = 0;
  for (const w of weights) t += w;
  return t;
}

/**
 * Column means over the observed (non-NaN) entries (weighted by row weights), float64, and the
 * (weighted) counts they average. A running mean (m ← m + (w/W)(x − m)) so that columns of values
 * near the float64 limit (1e308) do not overflow a sum.
 */
function columnMeans(values: Float64Array, rows: number, cols: number, weights?: Float64Array): { offset: Float64Array; seen: Float64Array } {
  const offset = new Float64Array(cols);
  const seen = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const w = weights === undefined ? 1 : (weights[r] as number);
    if (w === 0) continue;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c] as number;
      if (Number.isNaN(v)) continue;
      const total = (seen[c] as number) + w;
      seen[c] = total;
      offset[c] = (offset[c] as number) + (w / total) * (v - (offset[c] as number));
    }
  }
  return { offset, seen };
}

/**
 * Column means and variances over the observed entries (float64), without
 * changing `values`: what `prepare` centres and scales by.
 * @category Gaussian mixtures
 */
export function columnMoments(values: Float64Array, rows: number, cols: number, weights?: Float64Array): { offset: Float64Array; variance: Float64Array } {
  const { offset, seen } = columnMeans(values, rows, cols, weights);
  const variance = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const w = weights === undefined ? 1 : (weights[r] as number);
    if (w === 0) continue;
    for (let c = 0; c < cols; c++) {
      const raw = values[r * cols + c] as number;
      if (Number.isNaN(raw)) continue;
      const v = raw - (offset[c] as number);
      variance[c] = (variance[c] as number) + (w * v * v) / (seen[c] as number);
    }
  }
  return { offset, variance };
}

/**
 * Column means and variances over the observed entries (float64), and the
 * rows listed in `order` (default: all, in place) centred, with missing
 * entries at the mean (0).
 */
function centreRows(values: Float64Array, rows: number, cols: number, order?: ArrayLike<number>, weights?: Float64Array): { offset: Float64Array; variance: Float64Array; centred: Float64Array; maxNorm: number } {
  const { offset, seen } = columnMeans(values, rows, cols, weights);
  const n = order === undefined ? rows : order.length;
  const centred = order === undefined ? values : new Float64Array(n * cols);
  const variance = new Float64Array(cols);
  let maxNorm2 = 0;
  for (let p = 0; p < n; p++) {
    const r = order === undefined ? p : (order[p] as number);
    const w = weights === undefined ? 1 : (weights[r] as number);
    let norm2 = 0;
    for (let c = 0; c < cols; c++) {
      const raw = values[r * cols + c] as number;
      const v = Number.isNaN(raw) ? 0 : raw - (offset[c] as number);
      centred[p * cols + c] = v;
      if (!Number.isNaN(raw) && w > 0) variance[c] = (variance[c] as number) + (w * v * v) / (seen[c] as number);
      norm2 += v * v;
    }
    if (w > 0) maxNorm2 = Math.max(maxNorm2, norm2);
  }
  return { offset, variance, centred, maxNorm: Math.sqrt(maxNorm2) };
}

function disposeBlocks(blocks: readonly DataBlock[]): void {
  for (const b of blocks) {
    b.x.dispose();
    b.phi?.dispose();
  }
}

/** Uploads centred rows `from … from + rows − 1` as float32 blocks (with Φ when it fits the budget). */
function uploadBlocks(centred: Float64Array, rows: number, cols: number, from = 0, precompute = rows * featureCount(cols, 'packed') * 4 <= PHI_BUDGET_BYTES): DataBlock[] {
  const per = blockRows(rows);
  const blocks: DataBlock[] = [];
  for (let start = from; start < from + rows; start += per) blocks.push(uploadBlock(centred, start, Math.min(per, from + rows - start), cols, precompute));
  return blocks;
}

/**
 * Uploads centred rows `start … start + rows − 1` as one float32 block, with packed Φ when `precompute`.
 * @category Gaussian mixtures
 */
export function uploadBlock(centred: Float64Array, start: number, rows: number, cols: number, precompute: boolean): DataBlock {
  const x = tf.tensor2d(Float32Array.from(centred.subarray(start * cols, (start + rows) * cols)), [rows, cols]);
  return { start, rows, x, phi: precompute ? tf.tidy(() => gmmFeatures(x, 'packed')) : undefined };
}

/** Rows grouped by missingness pattern (no tensors): see {@link groupRowsByPattern}. @category Gaussian mixtures */
export interface RowPatterns {
  /** Rows with every entry observed, in order. */
  readonly complete: readonly number[];
  /** Rows with every entry missing, in order. */
  readonly allMissing: readonly number[];
  /** The other patterns, fewer missing entries first (ties by pattern), each with its rows in order. */
  readonly patterns: readonly { readonly obs: Int32Array; readonly mis: Int32Array; readonly rows: readonly number[] }[];
  /** Per row: its index in `patterns`, or −1 (complete) or −2 (every entry missing). */
  readonly patternOf: Int32Array;
}

/**
 * Groups the rows of a row-major matrix by missingness pattern (NaN = missing),
 * what the missing-data E-step conditions on once per pattern.
 * @category Gaussian mixtures
 */
export function groupRowsByPattern(values: Float64Array, rows: number, cols: number): RowPatterns {
  const groups = new Map<string, number[]>();
  const complete: number[] = [];
  const allMissing: number[] = [];
  const keyOf = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    let key = '';
    let observed = 0;
    for (let c = 0; c < cols; c++) {
      const miss = Number.isNaN(values[r * cols + c] as number);
      key += miss ? '0' : '1';
      if (!miss) observed++;
    }
    keyOf[r] = key;
    if (observed === cols) complete.push(r);
    else if (observed === 0) allMissing.push(r);
    else {
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(r);
    }
  }
  const missingOf = (key: string): number => key.split('').filter((ch) => ch === '0').length;
  const keys = [...groups.keys()].sort((a, b) => missingOf(a) - missingOf(b) || (a < b ? 1 : a > b ? -1 : 0));
  const index = new Map(keys.map((key, p) => [key, p]));
  const patternOf = new Int32Array(rows);
  for (let r = 0; r < rows; r++) patternOf[r] = index.get(keyOf[r] as string) ?? (keyOf[r]?.includes('1') ? -1 : -2);
  const patterns = keys.map((key) => ({
    obs: Int32Array.from([...key].flatMap((ch, c) => (ch === '1' ? [c] : []))),
    mis: Int32Array.from([...key].flatMap((ch, c) => (ch === '0' ? [c] : []))),
    rows: groups.get(key) as number[],
  }));
  return { complete, allMissing, patterns, patternOf };
}

/**
 * Prepares data with missing (NaN) entries: column means and variances over
 * the observed entries; complete rows first (uploaded as tensor blocks), then
 * the other rows grouped by pattern ({@link groupRowsByPattern}), rows with
 * every entry missing left out.
 */
function prepareWithMissing(values: Float64Array, rows: number, cols: number, upload: boolean, rowWeights: Float64Array | undefined, frame: Float64Array | undefined): GmmPrepared {
  const { complete, allMissing, patterns: groups } = groupRowsByPattern(values, rows, cols);
  const order = Int32Array.from([...complete, ...groups.flatMap((g) => g.rows)]);
  const { offset, variance, centred, maxNorm } = centreRows(values, rows, cols, order, rowWeights);
  const weights = rowWeights === undefined ? undefined : Float64Array.from(order, (r) => rowWeights[r] as number);
  const patterns: PatternSegment[] = [];
  let pos = complete.length;
  for (const { obs, mis, rows: members } of groups) {
    const xo = new Float64Array(members.length * obs.length);
    for (let i = 0; i < members.length; i++) obs.forEach((c, j) => (xo[i * obs.length + j] = centred[(pos + i) * cols + c] as number));
    patterns.push({ obs, mis, start: pos, count: members.length, xo });
    pos += members.length;
  }
  const nMissingCells = groups.reduce((n, g) => n + g.mis.length * g.rows.length, allMissing.length * cols);
  const blocks = complete.length > 0 && upload ? uploadBlocks(centred, complete.length, cols) : [];
  // Large patterns also go to the device (missing entries at 0, Φ precomputed): one matmul per block then.
  const tensorRows = patterns.reduce((n, p) => n + (p.count >= TENSOR_PATTERN_ROWS ? p.count : 0), 0);
  const precompute = (complete.length + tensorRows) * featureCount(cols, 'packed') * 4 <= PHI_BUDGET_BYTES;
  const withBlocks = patterns.map((p) => (upload && p.count >= TENSOR_PATTERN_ROWS && precompute ? { ...p, blocks: uploadBlocks(centred, p.count, cols, p.start, true) } : p));
  const allBlocks = [...blocks, ...withBlocks.flatMap((p) => p.blocks ?? [])];
  const completePattern: PatternSegment[] = complete.length === 0 ? [] : [{ obs: Int32Array.from({ length: cols }, (_, c) => c), mis: new Int32Array(0), start: 0, count: complete.length, xo: centred.subarray(0, complete.length * cols) }];
  return {
    nRows: order.length,
    nFeatures: cols,
    offset,
    centred,
    variance,
    maxNorm,
    blocks,
    missing: { order, nOriginalRows: rows, allMissingRows: Int32Array.from(allMissing), patterns: withBlocks, nMissingCells },
    hostPatterns: [...completePattern, ...patterns],
    weights,
    totalWeight: totalOf(weights, order.length),
    frame,
    dispose: () => disposeBlocks(allBlocks),
  };
}

/**
 * Statistics of one block from its features Φ `[n, F]` and weights `[n, K]`:
 * Wᵀ Φ gives, per component, Σ w x xᵀ, Σ w x and Σ w, about the data mean
 * (the reference point stored as `offset`), accumulated in float32 over the
 * block's rows (at most {@link BLOCK_ROWS}) and returned in float64.
 * Creates tensors: call inside `tf.tidy`.
 * @category Gaussian mixtures
 */
export function blockStats(phi: tf.Tensor2D, weights: tf.Tensor2D, d: number, offset: Float64Array, layout: FeatureLayout = 'full'): GmmStats {
  const k = weights.shape[1];
  const f = featureCount(d, layout);
  const pairs = quadraticPairs(d, layout);
  // An explicit transpose then a plain matmul: ~10× faster than transposeA (or a batched matmul) on tfjs-backend-wasm.
  const acc = tf.matMul(tf.transpose(weights), phi).dataSync();
  const p = pairs.length;
  const nk = new Float64Array(k);
  const s1 = new Float64Array(k * d);
  const s2 = new Float64Array(k * d * d);
  const ref = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    const row = c * f;
    nk[c] = acc[row + f - 1] as number;
    // full: each off-diagonal product appears twice, half to each side; packed: once, mirrored
    pairs.forEach(([i, j], q) => {
      const v = acc[row + q] as number;
      if (layout === 'packed' || i === j) {
        s2[c * d * d + i * d + j] = v;
        s2[c * d * d + j * d + i] = v;
      } else {
        s2[c * d * d + i * d + j] = (s2[c * d * d + i * d + j] as number) + 0.5 * v;
        s2[c * d * d + j * d + i] = (s2[c * d * d + j * d + i] as number) + 0.5 * v;
      }
    });
    for (let i = 0; i < d; i++) s1[c * d + i] = acc[row + p + i] as number;
    ref.set(offset, c * d);
  }
  return { k, d, n: nk, s1, s2, ref };
}
