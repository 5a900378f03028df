/**
 * Gaussian emission blocks on the Gaussian mixture's float64 host kernels
 * (`hostChunks`): the observations are prepared like mixture data (centred,
 * rows grouped by missingness pattern, rows with every cell missing left
 * out), and a block of consecutive time steps is served by the pattern
 * segments of its rows, with the tables and weights moved between time order
 * and pattern order. Shared by the Gaussian and the Gaussian-mixture emissions.
 * @module
 * @internal
 */
import { type FiniteChunk, type FloatArray, type Rng } from '@emlab/core';
import { prepareGmmData, type GmmPrepared } from '../../gmm/gmm-data.js';
import { gmmStatsAlgebra } from '../../gmm/gmm-math.js';
import { hostChunks, type PatternSegment } from '../../gmm/gmm-missing.js';
import type { GmmParams, GmmStats } from '../../gmm/gmm-types.js';
import type { ObservationMatrix } from '../hmm-types.js';

/** Gaussian observations prepared for the host kernels. */
export interface GaussianPrepared {
  /** The mixture code's prepared data (host only). */
  readonly gmm: GmmPrepared;
  /** Prepared position → time row; undefined when nothing is missing (the identity). */
  readonly rowOf: Int32Array | undefined;
  /** `[rows]` 1 where the row has an observed cell; undefined when nothing is missing. */
  readonly present: Uint8Array | undefined;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Prepares Gaussian observations (float64, no tensors), in original units: the mixture's column
 * frames are off (unit scales), so means, covariances and statistics need no conversion; columns of
 * extreme scale are refused by `validateGaussianObservations` instead.
 */
export function prepareGaussian(x: ObservationMatrix): GaussianPrepared {
  const gmm = prepareGmmData(x, { precisions: ['float64'], frame: new Float64Array(x.cols).fill(1) });
  const m = gmm.missing;
  if (m === undefined) return { gmm, rowOf: undefined, present: undefined, rows: x.rows, cols: x.cols };
  const present = new Uint8Array(x.rows).fill(1);
  for (const r of m.allMissingRows) present[r] = 0;
  return { gmm, rowOf: m.order, present, rows: x.rows, cols: x.cols };
}

/** First position p in [lo, hi) of a pattern with rowOf[p] ≥ row (rows increase within a pattern). */
function lowerBound(rowOf: Int32Array, lo: number, hi: number, row: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rowOf[mid] as number) < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The pattern segments of the time rows [r0, r1). */
function blockPatterns(prep: GaussianPrepared, r0: number, r1: number): PatternSegment[] {
  const out: PatternSegment[] = [];
  for (const p of prep.gmm.hostPatterns) {
    const o = p.obs.length;
    const a = prep.rowOf === undefined ? Math.max(p.start, r0) : lowerBound(prep.rowOf, p.start, p.start + p.count, r0);
    const b = prep.rowOf === undefined ? Math.min(p.start + p.count, r1) : lowerBound(prep.rowOf, a, p.start + p.count, r1);
    if (b <= a) continue;
    const from = a - p.start;
    out.push({ obs: p.obs, mis: p.mis, start: a, count: b - a, xo: p.xo.subarray(from * o, (b - p.start) * o) });
  }
  return out;
}

/** A block of time rows at C Gaussian components (each state, or each state's mixture component). */
export interface GaussianBlock {
  /** Whether a row of the block has some but not all cells missing. */
  readonly anyMissing: boolean;
  /** 1 where time row r0 + i has an observed cell (undefined: all do). */
  readonly present: Uint8Array | undefined;
  /** `[rows × C]` log w_c + log N(x_t,obs | μ_c, Σ_c) in time order (0 rows for fully missing steps). */
  table(): Float64Array;
  /** Statistics for weights `[rows × C]` in time order (fully missing steps add nothing). */
  stats(w: FloatArray): GmmStats;
  /** `[rows × C]` entropy of the missing cells given the observed ones and the component (0 elsewhere). */
  latentEntropy(): Float64Array;
  /** `stats` with the missing cells drawn from their conditional. */
  sampleStats(w: FloatArray, rng: Rng): GmmStats;
}

/**
 * Time rows [r0, r0 + rows) at `params` (C components; `weights` enter the table as log w_c, so
 * pass ones for plain state densities).
 */
export function gaussianBlock(prep: GaussianPrepared, params: GmmParams, r0: number, rows: number): GaussianBlock {
  const c = params.weights.length;
  const d = prep.cols;
  const offset = prep.gmm.offset;
  const centred = new Float64Array(c * d);
  const ref = new Float64Array(c * d);
  for (let j = 0; j < c; j++) {
    for (let i = 0; i < d; i++) {
      const mu = (params.means[j] as number[])[i] as number;
      centred[j * d + i] = mu - (offset[i] as number);
      ref[j * d + i] = mu;
    }
  }
  const patterns = blockPatterns(prep, r0, r0 + rows);
  const chunks = hostChunks(patterns, params, centred, offset, undefined);
  const rowOf = prep.rowOf;
  const present = prep.present?.subarray(r0, r0 + rows);
  const anyMissing = patterns.some((p) => p.mis.length > 0);
  /** Block row of the i-th row of a chunk. */
  const rowIn = (chunk: FiniteChunk<GmmStats>, i: number): number => (rowOf === undefined ? chunk.start + i : (rowOf[chunk.start + i] as number)) - r0;
  const scatter = (get: (chunk: FiniteChunk<GmmStats>) => FloatArray | undefined): Float64Array => {
    const out = new Float64Array(rows * c);
    for (const chunk of chunks) {
      const t = get(chunk);
      if (t === undefined) continue;
      if (rowOf === undefined) {
        out.set(t, (chunk.start - r0) * c);
        continue;
      }
      for (let i = 0; i < chunk.rows; i++) {
        const dst = rowIn(chunk, i) * c;
        for (let j = 0; j < c; j++) out[dst + j] = t[i * c + j] as number;
      }
    }
    return out;
  };
  const gather = (w: FloatArray, chunk: FiniteChunk<GmmStats>): FloatArray => {
    if (rowOf === undefined) return w.subarray((chunk.start - r0) * c, (chunk.start - r0 + chunk.rows) * c);
    const out = new Float64Array(chunk.rows * c);
    for (let i = 0; i < chunk.rows; i++) {
      const src = rowIn(chunk, i) * c;
      for (let j = 0; j < c; j++) out[i * c + j] = w[src + j] as number;
    }
    return out;
  };
  const zero = (): GmmStats => ({ k: c, d, n: new Float64Array(c), s1: new Float64Array(c * d), s2: new Float64Array(c * d * d), ref: ref.slice() });
  const sum = (part: (chunk: FiniteChunk<GmmStats>, index: number) => GmmStats): GmmStats => {
    let acc: GmmStats | undefined;
    chunks.forEach((chunk, index) => {
      const s = part(chunk, index);
      acc = acc === undefined ? s : gmmStatsAlgebra.add(acc, s);
    });
    return acc ?? zero();
  };
  return {
    anyMissing,
    present,
    table: () => scatter((chunk) => chunk.logJoint()),
    stats: (w) => sum((chunk) => chunk.stats(gather(w, chunk))),
    latentEntropy: () => scatter((chunk) => chunk.latentEntropy?.()),
    sampleStats: (w, rng) => sum((chunk, index) => {
      const sub = gather(w, chunk);
      return chunk.sampleStats === undefined ? chunk.stats(sub) : chunk.sampleStats(sub, rng.child('chunk', index));
    }),
  };
}

/** Empty statistics of C components about `ref` (original units), `[C·D]`. */
export function emptyGaussianStats(c: number, d: number, ref: Float64Array): GmmStats {
  return { k: c, d, n: new Float64Array(c), s1: new Float64Array(c * d), s2: new Float64Array(c * d * d), ref: ref.slice() };
}

/**
 * Statistics of hard labels (time rows, −1: none) with missing cells at their column means: what
 * initialization uses before any parameters exist.
 */
export function labelStats(prep: GaussianPrepared, labels: Int32Array, c: number): GmmStats {
  const d = prep.cols;
  const { centred, offset } = prep.gmm;
  const ref = new Float64Array(c * d);
  for (let j = 0; j < c; j++) ref.set(offset, j * d);
  const stats = emptyGaussianStats(c, d, ref);
  const n = prep.gmm.nRows;
  for (let p = 0; p < n; p++) {
    const row = prep.rowOf === undefined ? p : (prep.rowOf[p] as number);
    const z = labels[row] as number;
    if (z < 0) continue;
    stats.n[z] = (stats.n[z] as number) + 1;
    for (let a = 0; a < d; a++) {
      const v = centred[p * d + a] as number;
      stats.s1[z * d + a] = (stats.s1[z * d + a] as number) + v;
      for (let b = 0; b < d; b++) stats.s2[z * d * d + a * d + b] = (stats.s2[z * d * d + a * d + b] as number) + v * (centred[p * d + b] as number);
    }
  }
  return stats;
}
