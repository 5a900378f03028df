/**
 * Gaussian-mixture data: validation, centring, upload in row blocks, and the
 * block computations (log-joint table and weighted statistics) as tensor ops.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { emError, type PreparedData } from '@emlab/core';
import type { DenseMatrix, GmmData, GmmStats } from './gmm-types.js';

/** Target size of the largest per-block temporary, in float32 elements (32 MiB). */
const BLOCK_ELEMENTS = 8 * 1024 * 1024;

/** Rows per block so that a `[rows, K·D]` temporary stays near 32 MiB. @category Gaussian mixtures */
export function blockRows(nRows: number, k: number, d: number): number {
  return Math.max(1024, Math.min(nRows, Math.floor(BLOCK_ELEMENTS / Math.max(1, k * d))));
}

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

function isDense(x: unknown): x is DenseMatrix {
  return typeof x === 'object' && x !== null && 'values' in x && 'rows' in x && 'cols' in x;
}

/**
 * Reads any accepted data form into a row-major Float64Array, checking shape
 * and values. NaN and ±Infinity are rejected (missing values need the
 * missing-data model, which is planned).
 * @throws EmError `INVALID_DATA` naming the row and column.
 * @category Gaussian mixtures
 */
export function readMatrix(data: GmmData, name = 'data'): { values: Float64Array; rows: number; cols: number } {
  let values: Float64Array;
  let rows: number;
  let cols: number;
  if (isTensor(data)) {
    if (data.rank !== 2) throw emError('INVALID_DATA', [name], data, `must be a 2-D tensor [nSamples, nFeatures], got rank ${data.rank}`, 'reshape it to [nSamples, nFeatures]');
    [rows, cols] = data.shape as [number, number];
    values = Float64Array.from(data.dataSync());
  } else if (Array.isArray(data)) {
    rows = data.length;
    const first: unknown = data[0];
    if (rows > 0 && !Array.isArray(first)) throw emError('INVALID_DATA', [name, 0], first, 'must be an array of rows (number[][]), got a flat array', 'wrap a single feature as [[x0], [x1], ...]');
    cols = rows > 0 ? (first as number[]).length : 0;
    values = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row: unknown = data[r];
      if (!Array.isArray(row)) throw emError('INVALID_DATA', [name, r], row, 'must be an array of numbers', 'give every row as number[]');
      if (row.length !== cols) throw emError('INVALID_DATA', [name, r], row, `has ${row.length} values but row 0 has ${cols}`, 'give every row the same number of features');
      for (let c = 0; c < cols; c++) {
        const v: unknown = row[c];
        if (typeof v !== 'number') throw emError('INVALID_DATA', [name, r, c], v, 'must be a number', 'convert cells to numbers');
        values[r * cols + c] = v;
      }
    }
  } else if (isDense(data)) {
    ({ rows, cols } = data);
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.values.length !== rows * cols) {
      throw emError('INVALID_DATA', [name, 'values'], data.values, `must have rows·cols = ${rows}·${cols} entries`, 'pass { values, rows, cols } with values.length === rows * cols');
    }
    values = Float64Array.from(data.values);
  } else {
    throw emError('INVALID_DATA', [name], data, 'must be number[][], a 2-D tensor or { values, rows, cols }', 'pass the data in one of those forms');
  }
  if (rows === 0) throw emError('INVALID_DATA', [name], data, 'has zero rows', 'pass at least one row');
  if (cols === 0) throw emError('INVALID_DATA', [name], data, 'has zero columns', 'pass at least one feature');
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      const r = Math.floor(i / cols);
      const c = i % cols;
      throw emError('INVALID_DATA', [name, r, c], v,
        Number.isNaN(v) ? 'is NaN: missing values are not supported by this model yet (EM through missing entries is planned in emlab)' : 'is infinite',
        Number.isNaN(v) ? 'drop or impute the rows with missing values for now' : 'remove or clip infinite values');
    }
  }
  return { values, rows, cols };
}

/** One block of centred rows on the device. @category Gaussian mixtures */
export interface DataBlock {
  readonly start: number;
  readonly rows: number;
  readonly x: tf.Tensor2D;
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
  readonly blocks: readonly DataBlock[];
}

/**
 * Centres the data (column means in float64) and uploads it as float32 blocks.
 * @category Gaussian mixtures
 */
export function prepareGmmData(data: GmmData, nComponents: number): GmmPrepared {
  const { values, rows, cols } = readMatrix(data);
  const offset = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) offset[c] = (offset[c] as number) + (values[r * cols + c] as number);
  for (let c = 0; c < cols; c++) offset[c] = (offset[c] as number) / rows;
  const centred = values;
  const variance = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = (values[r * cols + c] as number) - (offset[c] as number);
      centred[r * cols + c] = v;
      variance[c] = (variance[c] as number) + (v * v) / rows;
    }
  }
  const per = blockRows(rows, nComponents, cols);
  const blocks: DataBlock[] = [];
  for (let start = 0; start < rows; start += per) {
    const n = Math.min(per, rows - start);
    blocks.push({ start, rows: n, x: tf.tensor2d(Float32Array.from(centred.subarray(start * cols, (start + n) * cols)), [n, cols]) });
  }
  return {
    nRows: rows,
    nFeatures: cols,
    offset,
    centred,
    variance,
    blocks,
    dispose() {
      for (const b of blocks) b.x.dispose();
    },
  };
}

/**
 * Weighted statistics of one block about reference points `ref` (centred
 * coordinates, `[K, D]` tensor): n, s1 and s2 of {@link GmmStats}, computed as
 * a broadcast difference and one batched matmul `[K, D, n] × [K, n, D]`.
 * Creates tensors: call inside `tf.tidy`.
 * @param weights - `[n, K]`.
 * @param refOriginal - the same reference points in original units (stored in the statistics).
 * @category Gaussian mixtures
 */
export function blockStats(x: tf.Tensor2D, weights: tf.Tensor2D, ref: tf.Tensor2D, refOriginal: Float64Array): GmmStats {
  const [n, d] = x.shape;
  const k = weights.shape[1];
  const diff = tf.sub(tf.reshape(x, [1, n, d]), tf.reshape(ref, [k, 1, d])) as tf.Tensor3D;
  const w = tf.reshape(tf.transpose(weights), [k, n, 1]);
  const weighted = tf.mul(diff, w) as tf.Tensor3D;
  const s2 = tf.matMul(weighted, diff, true, false);
  const s1 = tf.sum(weighted, 1);
  const nk = tf.sum(weights, 0);
  return {
    k,
    d,
    n: Float64Array.from(nk.dataSync()),
    s1: Float64Array.from(s1.dataSync()),
    s2: Float64Array.from(s2.dataSync()),
    ref: refOriginal.slice(),
  };
}
