/**
 * The Gaussian mixture's `finite` structure at θ, in either precision.
 *
 * float64 (host): every row, complete or with missing entries, goes through
 * the host patterns (`hostChunks`): a triangular solve per row and component
 * for the table, moments about each component's mean for the statistics, all
 * in JavaScript doubles.
 *
 * float32 (tensors): complete rows through quadratic features (one matmul
 * per block for the table and one for the statistics) with a centred path for
 * ill-conditioned components, rows with missing entries through
 * `missingChunks`. Tables are handed to E-steps as host arrays.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { invertLower, inverseFromCholesky, type FiniteChunk, type FiniteChunkOptions, type FiniteStructure, type Precision, type Rng } from '@emlab/core';
import { frameLogJacobian, paramsToFrame } from './gmm-frame.js';
import { blockLayout, blockStats, featureCount, gmmFeatures, quadraticPairs, type DataBlock, type FeatureLayout, type GmmPrepared } from './gmm-data.js';
import { factorCovariances, gmmStatsAlgebra } from './gmm-math.js';
import { asFloat32, downloadTensor, hostChunks, missingChunks, MISSING_CHUNK_ROWS } from './gmm-missing.js';
import { streamedHostChunks } from './gmm-stream.js';
import type { GmmParams, GmmStats } from './gmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Choice of numerical path for the float32 Gaussian-mixture E-step table and statistics. @category Gaussian mixtures */
export type GmmNumerics = 'auto' | 'fast' | 'centred';

/** The numerics modes. @category Gaussian mixtures */
export const GMM_NUMERICS: readonly GmmNumerics[] = ['auto', 'fast', 'centred'];

/** Below this N·K, `numerics: 'auto'` uses the centred path for every component (float32). @category Gaussian mixtures */
export const SMALL_DATA_CELLS = 2 ** 16;

/** A Gaussian mixture's latent structure: `finite`, with the tensors it uploaded. @category Gaussian mixtures */
export type GmmStructure = FiniteStructure<GmmStats> & { dispose(): void };

/** Component means minus the data offset, `[K·D]`. */
function centredMeansOf(prepared: GmmPrepared, params: GmmParams): Float64Array {
  const k = params.weights.length;
  const d = prepared.nFeatures;
  const out = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let i = 0; i < d; i++) out[c * d + i] = ((params.means[c] as number[])[i] as number) - (prepared.offset[i] as number);
  return out;
}

/**
 * The `finite` structure of a Gaussian mixture at `params` (original units) in `precision`: the
 * kernels run in the prepared data's frame (`gmm-frame.ts`) and the tables and statistics come back
 * in original units.
 * @category Gaussian mixtures
 */
export function gmmStructure(prepared: GmmPrepared, params: GmmParams, precision: Precision, numerics: GmmNumerics = 'auto'): GmmStructure {
  const s = frameStructure(prepared, paramsToFrame(params, prepared.frame), precision, numerics);
  return prepared.frame === undefined ? s : inOriginalUnits(s, prepared.frame);
}

/**
 * A structure measured in a frame, reported in original units: every table entry loses
 * Σ_c log s_c (the log-Jacobian of x̃ = x / s), and the statistics carry their frame.
 */
function inOriginalUnits(s: GmmStructure, frame: Float64Array): GmmStructure {
  const jacobian = frameLogJacobian(frame);
  const wrap = (chunk: FiniteChunk<GmmStats>): FiniteChunk<GmmStats> => ({
    ...chunk,
    logJoint: () => {
      const t = chunk.logJoint();
      for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) - jacobian;
      return t;
    },
    stats: (w) => ({ ...chunk.stats(w), frame }),
    ...(chunk.sampleStats === undefined ? {} : { sampleStats: (w: Parameters<NonNullable<FiniteChunk<GmmStats>['sampleStats']>>[0], rng: Rng) => ({ ...(chunk.sampleStats as NonNullable<FiniteChunk<GmmStats>['sampleStats']>)(w, rng), frame }) }),
  });
  // One wrapped list per block-size hint (the inner structure honours it on the float64 path).
  const lists = new Map<number | undefined, FiniteChunk<GmmStats>[]>();
  const chunksOf = (o?: FiniteChunkOptions): FiniteChunk<GmmStats>[] => {
    let list = lists.get(o?.maxRows);
    if (list === undefined) {
      list = [...s.chunks(o)].map(wrap);
      lists.set(o?.maxRows, list);
    }
    return list;
  };
  return { ...s, chunks: chunksOf, dispose: () => s.dispose() };
}

function frameStructure(prepared: GmmPrepared, params: GmmParams, precision: Precision, numerics: GmmNumerics): GmmStructure {
  const k = params.weights.length;
  if (precision === 'float64') {
    if (prepared.stream !== undefined) {
      // Streamed data: blocks follow the row cache's blocks (the block-size hint is ignored).
      const streamed = streamedHostChunks(prepared, params, centredMeansOf(prepared, params));
      return { kind: 'finite', precision: 'float64', nRows: prepared.nRows, nComponents: k, algebra: gmmStatsAlgebra, chunks: () => streamed, dispose() {} };
    }
    // One list of chunks per block-size hint (incremental E-steps ask for small blocks); tables are computed lazily.
    const bySize = new Map<number, FiniteChunk<GmmStats>[]>();
    const chunksOf = (maxRows: number): FiniteChunk<GmmStats>[] => {
      let c = bySize.get(maxRows);
      if (c === undefined) {
        c = hostChunks(prepared.hostPatterns, params, centredMeansOf(prepared, params), prepared.offset, prepared.weights, maxRows);
        bySize.set(maxRows, c);
      }
      return c;
    };
    const size = (hint: number | undefined): number => (hint === undefined || !(hint >= 1) ? MISSING_CHUNK_ROWS : Math.min(MISSING_CHUNK_ROWS, Math.floor(hint)));
    return { kind: 'finite', precision: 'float64', nRows: prepared.nRows, nComponents: k, algebra: gmmStatsAlgebra, chunks: (o) => chunksOf(size(o?.maxRows)), dispose() {} };
  }
  return tensorStructure(prepared, params, numerics);
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
 * The float32 `finite` structure at `params`, with two paths per component.
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
function tensorStructure(prepared: GmmPrepared, params: GmmParams, numerics: GmmNumerics): GmmStructure {
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
  // Per block, the features Φ (when not precomputed) and the differences x − μ_k of centred-path
  // components are built once for the table and reused by the statistics, then freed; whatever a
  // caller left behind (a table without statistics) is freed with the structure.
  const caches: (() => void)[] = [];
  const chunks = prepared.blocks.map((block): FiniteChunk<GmmStats> => {
    let built: tf.Tensor2D | undefined;
    const diffs = new Map<number, tf.Tensor2D>();
    const release = (): void => {
      built?.dispose();
      built = undefined;
      for (const t of diffs.values()) t.dispose();
      diffs.clear();
      block.release?.();
    };
    caches.push(release);
    const phi = (): tf.Tensor2D => {
      if (block.phi !== undefined) return block.phi;
      built ??= tf.keep(gmmFeatures(block.x));
      return built;
    };
    const diff = (j: number): tf.Tensor2D => {
      let t = diffs.get(j);
      if (t === undefined) {
        t = tf.keep(tf.sub(block.x, (centredPath[j] as (typeof centredPath)[number]).mean) as tf.Tensor2D);
        diffs.set(j, t);
      }
      return t;
    };
    return {
      rows: block.rows,
      start: block.start,
      ...(prepared.weights === undefined ? {} : { weights: prepared.weights.subarray(block.start, block.start + block.rows) }),
      logJoint: () => downloadTensor(tf.tidy(() => {
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
      })),
      stats: (weights) => {
        try {
          let out: GmmStats | undefined;
          tf.tidy(() => {
            const w = tf.tensor2d(asFloat32(weights), [block.rows, k]);
            const stats = blockStats(phi(), w, d, prepared.offset, layout);
            const centredAt = (c: number, centredRef: Float64Array, diffOf: () => tf.Tensor2D): void => centredStats(stats, c, w, diffOf(), centredRef, prepared.offset);
            centredPath.forEach((cp, j) => centredAt(cp.c, cp.centredMean, () => diff(j)));
            // Also after the centred path: its reference is the old mean, and a mean can move by more than its width.
            recomputeCancelled(stats, block, w, prepared.offset, (c) => (centredPath.some((cp) => cp.c === c) ? CENTRED_CANCELLED_BITS : MAX_CANCELLED_BITS));
            out = stats;
          });
          return out as GmmStats;
        } finally {
          release();
        }
      },
    };
  });
  if (prepared.missing !== undefined) {
    const centredMeans = new Float64Array(k * d);
    for (let c = 0; c < k; c++) for (let i = 0; i < d; i++) centredMeans[c * d + i] = ((params.means[c] as number[])[i] as number) - (prepared.offset[i] as number);
    chunks.push(...missingChunks(prepared.missing, params, centredMeans, prepared.offset, prepared.weights, { mode: allCentred ? 'never' : numerics === 'fast' ? 'always' : 'auto', maxNorm: prepared.maxNorm }));
  }
  return {
    kind: 'finite',
    precision: 'float32',
    nRows: prepared.nRows,
    nComponents: k,
    algebra: gmmStatsAlgebra,
    chunks: () => chunks,
    dispose() {
      for (const release of caches) release();
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
export function recomputeCancelled(stats: GmmStats, block: DataBlock, w: tf.Tensor2D, offset: Float64Array, bitsOf: (c: number) => number = () => MAX_CANCELLED_BITS): void {
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

