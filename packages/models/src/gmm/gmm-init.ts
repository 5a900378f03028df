/**
 * Gaussian-mixture initialization: k-means++ seeding or random
 * responsibilities, then one M-step (scikit-learn's `k-means++` and `random`
 * inits, without Lloyd iterations), row weights honoured throughout.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { emError, EmError, type Rng } from '@emlab/core';
import { BLOCK_ROWS, blockLayout, blockStats, gmmFeatures, type DataBlock, type GmmPrepared } from './gmm-data.js';
import { gmmMStep, gmmStatsAlgebra, type ReinitSource } from './gmm-math.js';
import { recomputeCancelled } from './gmm-structure.js';
import type { CovarianceType, GmmParams, GmmStats } from './gmm-types.js';
import { centredRows, eachCentredBlock } from './gmm-stream.js';

/** The initialization methods, the default first. @category Gaussian mixtures */
export const GMM_INIT_METHODS = ['kmeans++', 'random'] as const;

/** A row of the prepared data with positive weight, drawn uniformly (over rows, not weights). */
function pickRow(prepared: GmmPrepared, rng: Rng): number {
  const w = prepared.weights;
  if (w === undefined) return rng.int(prepared.nRows);
  for (;;) {
    const r = rng.int(prepared.nRows);
    if ((w[r] as number) > 0) return r;
  }
}

/** Where the M-step reinitializes an empty component: a data row (original units) with positive weight. @category Gaussian mixtures */
export function reinitSource(prepared: GmmPrepared): ReinitSource {
  const d = prepared.nFeatures;
  return {
    nRows: prepared.nRows,
    totalWeight: prepared.totalWeight,
    pick: (rng) => pickRow(prepared, rng),
    variance: prepared.variance,
    row(i: number): Float64Array {
      const out = centredRows(prepared, i, 1).slice();
      for (let j = 0; j < d; j++) out[j] = (out[j] as number) + (prepared.offset[j] as number);
      return out;
    },
  };
}

/**
 * Initial parameters: `kmeans++` (K centres by D² sampling weighted by the row weights, hard
 * assignment to the nearest) or `random` (uniform random responsibilities), then one M-step.
 * @throws EmError `INVALID_ARGUMENT` for an unknown method.
 * @category Gaussian mixtures
 */
export function gmmInit(prepared: GmmPrepared, method: string, k: number, covarianceType: CovarianceType, regCovar: number, rng: Rng): GmmParams {
  let weightsFor: (start: number, rows: number) => Float32Array;
  if (method === 'kmeans++') {
    const labels = kmeansPlusPlusLabels(prepared, k, rng);
    weightsFor = (start, rows) => {
      const w = new Float32Array(rows * k);
      for (let i = 0; i < rows; i++) w[i * k + (labels[start + i] as number)] = 1;
      return w;
    };
  } else if (method === 'random') {
    weightsFor = (start, rows) => {
      const w = new Float32Array(rows * k);
      const r = rng.child('block', start);
      for (let i = 0; i < rows; i++) {
        let sum = 0;
        for (let j = 0; j < k; j++) sum += w[i * k + j] = r.uniform();
        for (let j = 0; j < k; j++) w[i * k + j] = (w[i * k + j] as number) / sum;
      }
      return w;
    };
  } else {
    throw emError('INVALID_ARGUMENT', ['options', 'init'], method, 'is not an initialization method of gmm', `use ${GMM_INIT_METHODS.map((m) => `'${m}'`).join(', ')} or given parameters`);
  }
  const rowWeighted = (start: number, rows: number): Float32Array => {
    const w = weightsFor(start, rows);
    const rw = prepared.weights;
    if (rw !== undefined) for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) w[i * k + j] = (w[i * k + j] as number) * (rw[start + i] as number);
    return w;
  };
  const stats = prepared.missing === undefined && prepared.blocks.length > 0 ? statsFromWeights(prepared, k, rowWeighted) : statsFromWeightsOnHost(prepared, k, rowWeighted);
  return gmmMStep(stats, covarianceType, regCovar, rng.child('reinit'), reinitSource(prepared)).params;
}

/** Statistics for given weights `[rows, K]` per block, on the device (initialization). */
function statsFromWeights(prepared: GmmPrepared, k: number, weightsFor: (start: number, rows: number) => Float32Array): GmmStats {
  let acc: GmmStats | undefined;
  for (const block of prepared.blocks) {
    const w = weightsFor(block.start, block.rows);
    tf.tidy(() => {
      const phi = block.phi ?? gmmFeatures(block.x);
      const weights = tf.tensor2d(w, [block.rows, k]);
      const part = blockStats(phi, weights, prepared.nFeatures, prepared.offset, blockLayout(block as DataBlock));
      recomputeCancelled(part, block, weights, prepared.offset);
      acc = acc === undefined ? part : gmmStatsAlgebra.add(acc, part);
    });
    block.release?.();
  }
  if (acc === undefined) throw new EmError('INTERNAL', 'no data blocks');
  return acc as GmmStats;
}

/**
 * Statistics for given weights with missing entries at their column means
 * (float64 on the host): what initialization uses when entries are missing or nothing is uploaded.
 */
function statsFromWeightsOnHost(prepared: GmmPrepared, k: number, weightsFor: (start: number, rows: number) => Float32Array): GmmStats {
  const { nFeatures: d } = prepared;
  const stats: GmmStats = { k, d, n: new Float64Array(k), s1: new Float64Array(k * d), s2: new Float64Array(k * d * d), ref: new Float64Array(k * d) };
  for (let c = 0; c < k; c++) stats.ref.set(prepared.offset, c * d);
  // Weights per BLOCK_ROWS rows (the random init's streams are per such block); rows from any store.
  eachCentredBlock(prepared, (from, n, centred) => {
    for (let start = from; start < from + n; start += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, from + n - start);
      const w = weightsFor(start, rows);
      for (let i = 0; i < rows; i++) {
        const base = (start - from + i) * d;
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
  });
  return stats;
}

/** k-means++ seeding (D² sampling, weighted by row weights) and nearest-centre labels, float64 on the host. */
function kmeansPlusPlusLabels(prepared: GmmPrepared, k: number, rng: Rng): Int32Array {
  const { nRows: n, nFeatures: d } = prepared;
  const rw = prepared.weights;
  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const labels = new Int32Array(n);
  let centre = rw === undefined ? rng.int(n) : rng.categorical(rw);
  const score = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    if (c > 0) {
      let total = 0;
      for (let i = 0; i < n; i++) total += score[i] = (rw === undefined ? 1 : (rw[i] as number)) * (dist[i] as number);
      centre = total > 0 ? rng.categorical(score) : pickRow(prepared, rng);
    }
    const at = centredRows(prepared, centre, 1).slice();
    // Rows from any store (memory or a row source), in order.
    eachCentredBlock(prepared, (start, rows, x) => {
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const diff = (x[r * d + j] as number) - (at[j] as number);
          s += diff * diff;
        }
        if (s < (dist[i] as number)) {
          dist[i] = s;
          labels[i] = c;
        }
      }
    });
  }
  return labels;
}
