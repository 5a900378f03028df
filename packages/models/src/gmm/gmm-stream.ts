/**
 * Gaussian mixtures over data larger than memory: prepared data whose rows
 * stay in a {@link RowSource} (a row cache on disk) and are read block by block
 * whenever a kernel needs them, so a fit holds O(block) rows, never the table.
 *
 * Preparation makes a few streaming passes (column means, the frame's spreads,
 * the centring moments) that repeat the in-memory arithmetic in the same
 * order, and every block read centres its rows exactly as the in-memory path
 * does; blocks have the in-memory boundaries and feature layout. So a
 * streamed fit equals the in-memory fit of the same rows, bit for bit.
 * Rows with missing entries and row weights are not supported streamed yet.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { EmError, emError, reopenRowSource, type RowSource } from '@emlab/core';
import { PHI_BUDGET_BYTES, blockRows, featureCount, gmmFeatures, type DataBlock, type GmmPrepared, type PrepareGmmOptions } from './gmm-data.js';
import { frameFor } from './gmm-frame.js';
import { MISSING_CHUNK_ROWS, hostChunks } from './gmm-missing.js';
import type { FiniteChunk } from '@emlab/core';
import type { GmmParams, GmmStats } from './gmm-types.js';

/** Rows per read of the preparation passes. */
const PASS_ROWS = 65_536;

/** Calls `fn` on consecutive blocks of raw rows (original units). */
function eachRaw(source: RowSource, fn: (start: number, rows: number, x: Float64Array) => void): void {
  const cols = source.nColumns;
  const buf = new Float64Array(Math.min(PASS_ROWS, source.nRows) * cols);
  for (let start = 0; start < source.nRows; start += PASS_ROWS) {
    const rows = Math.min(PASS_ROWS, source.nRows - start);
    fn(start, rows, source.read(start, rows, buf.subarray(0, rows * cols)));
  }
}

/** Column means by the running mean of `columnMeans` in `gmm-data.ts` (unweighted), over `scale`d values. */
function streamedMeans(source: RowSource, scale: Float64Array | undefined): { offset: Float64Array; seen: Float64Array; anyMissing: boolean } {
  const cols = source.nColumns;
  const offset = new Float64Array(cols);
  const seen = new Float64Array(cols);
  const w = 1;
  let anyMissing = false;
  eachRaw(source, (_s, rows, x) => {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let v = x[r * cols + c] as number;
        if (Number.isNaN(v)) {
          anyMissing = true;
          continue;
        }
        if (scale !== undefined) v = v / (scale[c] as number);
        const total = (seen[c] as number) + w;
        seen[c] = total;
        offset[c] = (offset[c] as number) + (w / total) * (v - (offset[c] as number));
      }
    }
  });
  return { offset, seen, anyMissing };
}

/**
 * Prepared Gaussian-mixture data over a row source (see the module comment).
 * @throws EmError `INVALID_DATA` (missing entries), `INVALID_ARGUMENT` (row weights).
 * @internal
 */
export function prepareStreamed(source: RowSource, options: PrepareGmmOptions): GmmPrepared {
  if (options.weights !== undefined) throw emError('INVALID_ARGUMENT', ['options', 'weights'], 'weights', 'are not supported for rows read from disk (a RowSource)', 'fit without weights, or load the rows into memory');
  const cols = source.nColumns;
  const w = 1;
  // The frame (applyFrame 'auto'): column spreads about the raw means, and the largest deviations.
  const first = streamedMeans(source, undefined);
  if (first.anyMissing) throw emError('INVALID_DATA', ['data'], source.locator ?? 'row source', 'has missing entries: rows read from disk must be complete (for now)', 'impute or drop the incomplete rows, or fit the data in memory');
  let frame: Float64Array | undefined;
  if (options.frame === undefined || options.frame === 'auto') {
    const variance = new Float64Array(cols);
    const maxDev = new Float64Array(cols);
    eachRaw(source, (_s, n, x) => {
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < cols; c++) {
          const v = (x[r * cols + c] as number) - (first.offset[c] as number);
          variance[c] = (variance[c] as number) + (w * v * v) / (first.seen[c] as number);
        }
      }
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < cols; c++) maxDev[c] = Math.max(maxDev[c] as number, Math.abs((x[r * cols + c] as number) - (first.offset[c] as number)));
      }
    });
    frame = frameFor(Float64Array.from(variance, Math.sqrt), maxDev);
  } else {
    frame = options.frame.every((s) => s === 1) ? undefined : options.frame;
  }
  // Centring (centreRows): means of the framed values, their variances and the largest row norm.
  const { offset, seen } = frame === undefined ? first : streamedMeans(source, frame);
  const variance = new Float64Array(cols);
  let maxNorm2 = 0;
  eachRaw(source, (_s, n, x) => {
    for (let r = 0; r < n; r++) {
      let norm2 = 0;
      for (let c = 0; c < cols; c++) {
        let raw = x[r * cols + c] as number;
        if (frame !== undefined) raw = raw / (frame[c] as number);
        const v = raw - (offset[c] as number);
        variance[c] = (variance[c] as number) + (w * v * v) / (seen[c] as number);
        norm2 += v * v;
      }
      maxNorm2 = Math.max(maxNorm2, norm2);
    }
  });
  return streamedPrepared(source, { offset, variance, maxNorm: Math.sqrt(maxNorm2), frame }, (options.precisions ?? ['float32', 'float64']).includes('float32'));
}

/** What the preparation passes find: enough to rebuild streamed prepared data anywhere the rows can be read. @internal */
export interface StreamedMoments {
  readonly offset: Float64Array;
  readonly variance: Float64Array;
  readonly maxNorm: number;
  readonly frame: Float64Array | undefined;
}

/**
 * Streamed prepared data from the moments of the preparation passes (on a shard worker: the source
 * reopened from its locator, no pass repeated).
 * @internal
 */
export function streamedPrepared(source: RowSource, moments: StreamedMoments, upload: boolean): GmmPrepared {
  const rows = source.nRows;
  const cols = source.nColumns;
  const { offset, variance, maxNorm, frame } = moments;
  /** Centred rows `[start, start + n)`: framed, then minus the offset (the in-memory arithmetic). */
  const read = (start: number, n: number): Float64Array => {
    const x = source.read(start, n);
    for (let i = 0; i < x.length; i++) {
      const c = i % cols;
      let raw = x[i] as number;
      if (frame !== undefined) raw = raw / (frame[c] as number);
      x[i] = raw - (offset[c] as number);
    }
    return x;
  };
  const packed = rows * featureCount(cols, 'packed') * 4 <= PHI_BUDGET_BYTES;
  const blocks: DataBlock[] = [];
  if (upload) {
    const per = blockRows(rows);
    for (let start = 0; start < rows; start += per) blocks.push(streamedBlock(read, start, Math.min(per, rows - start), cols, packed));
  }
  return {
    nRows: rows,
    nFeatures: cols,
    offset,
    centred: new Float64Array(0),
    variance,
    maxNorm,
    blocks,
    hostPatterns: [],
    weights: undefined,
    totalWeight: rows,
    frame,
    stream: { source, read },
    dispose: () => {
      for (const b of blocks) b.release?.();
    },
  };
}

/** A block of a streamed data set: its rows are read and uploaded on first use, freed by `release`. */
function streamedBlock(read: (start: number, rows: number) => Float64Array, start: number, rows: number, cols: number, packed: boolean): DataBlock {
  let x: tf.Tensor2D | undefined;
  let phi: tf.Tensor2D | undefined;
  const xOf = (): tf.Tensor2D => (x ??= tf.keep(tf.tensor2d(Float32Array.from(read(start, rows)), [rows, cols])));
  return {
    start,
    rows,
    layout: packed ? 'packed' : 'full',
    get x(): tf.Tensor2D {
      return xOf();
    },
    get phi(): tf.Tensor2D | undefined {
      if (!packed) return undefined;
      return (phi ??= tf.keep(tf.tidy(() => gmmFeatures(xOf(), 'packed'))));
    },
    release() {
      x?.dispose();
      phi?.dispose();
      x = undefined;
      phi = undefined;
    },
  };
}

/**
 * Centred rows `[start, start + rows)` of prepared data (prepared order): a view of `centred` in
 * memory, a fresh read of a streamed source.
 * @internal
 */
export function centredRows(prepared: GmmPrepared, start: number, rows: number): Float64Array {
  if (prepared.stream !== undefined) return prepared.stream.read(start, rows);
  const d = prepared.nFeatures;
  return prepared.centred.subarray(start * d, (start + rows) * d);
}

/** Rows per block of {@link eachCentredBlock}: a multiple of `BLOCK_ROWS` (16 × 4096; a literal, as gmm-data imports this module). */
const HOST_BLOCK_ROWS = 65_536;

/** Calls `fn` on consecutive blocks of centred rows (prepared order). @internal */
export function eachCentredBlock(prepared: GmmPrepared, fn: (start: number, rows: number, x: Float64Array) => void): void {
  const n = prepared.nRows;
  const per = prepared.stream === undefined ? n : HOST_BLOCK_ROWS;
  for (let start = 0; start < n; start += per) {
    const rows = Math.min(per, n - start);
    fn(start, rows, centredRows(prepared, start, rows));
  }
}

/**
 * The float64 chunks of a streamed data set at `params`: the in-memory host chunks of the complete
 * rows (same `MISSING_CHUNK_ROWS` boundaries), each reading its rows when first used and dropping them after its
 * statistics.
 * @internal
 */
export function streamedHostChunks(prepared: GmmPrepared, params: GmmParams, centredMeans: Float64Array): FiniteChunk<GmmStats>[] {
  const stream = prepared.stream;
  if (stream === undefined) return [];
  const d = prepared.nFeatures;
  const all = Int32Array.from({ length: d }, (_, c) => c);
  const per = MISSING_CHUNK_ROWS;
  const chunks: FiniteChunk<GmmStats>[] = [];
  for (let start = 0; start < prepared.nRows; start += per) {
    const rows = Math.min(per, prepared.nRows - start);
    let inner: FiniteChunk<GmmStats> | undefined;
    const open = (): FiniteChunk<GmmStats> => (inner ??= hostChunks([{ obs: all, mis: new Int32Array(0), start, count: rows, xo: stream.read(start, rows) }], params, centredMeans, prepared.offset, undefined)[0] as FiniteChunk<GmmStats>);
    chunks.push({
      rows,
      start,
      logJoint: () => open().logJoint(),
      stats: (w) => {
        const s = open().stats(w);
        inner = undefined;
        return s;
      },
    });
  }
  return chunks;
}

/**
 * Reopens a streamed source on a shard worker.
 * @throws EmError `INVALID_ARGUMENT` when the rows cannot be reopened there.
 * @internal
 */
export function reopenStream(locator: string): RowSource {
  const source = reopenRowSource(locator);
  if (source === undefined) throw new EmError('INVALID_ARGUMENT', `the rows at ${locator} cannot be reopened in this worker (no row-source opener: import '@emlab/core/node')`, { path: ['options', 'workers'] });
  return source;
}
