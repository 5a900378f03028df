/**
 * Latent-structure types: what an E-step sees of a model.
 *
 * Models never import E-step packages and E-step packages never import
 * models: they meet here. A model's `structure(prepared, params)` returns one
 * of these; the registry maps (structure kind, method) to E-steps.
 *
 * Kinds: `finite` (this file; rows with missing Gaussian entries are `finite`
 * too, their chunks adding `latentEntropy` and `sampleStats`), `factor-graph`
 * (discrete factors per instance after evidence: `factor-graph.ts`), planned
 * `chain` (HMM tables per sequence). A new kind is a new interface with a new `kind`
 * string; nothing in `fit` changes.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng.js';
import type { StatsAlgebra } from './stats.js';

/** Base of every latent structure. @category Structures */
export interface LatentStructure {
  /** The structure kind, e.g. `'finite'`. The registry key together with the method name. */
  readonly kind: string;
  /** Frees tensors the structure holds (uploaded parameters). Called by `fit`. */
  dispose?(): void;
}

/**
 * One block of rows of a {@link FiniteStructure}.
 *
 * Both methods create tensors; the E-step calls them inside its own
 * `tf.tidy`, so everything they create is freed when the block is done.
 * @category Structures
 */
export interface FiniteChunk<S> {
  /** Number of rows in this block. */
  readonly rows: number;
  /** Index of the block's first row in the data. */
  readonly start: number;
  /** `[rows, nComponents]` table of log p(x_n, z_n = k | θ), every constant included. */
  logJoint(): tf.Tensor2D;
  /**
   * Sufficient statistics for weights `[rows, nComponents]`: w_nk = q(z_n = k)
   * for exact or hard E-steps, the fraction of draws equal to k for Monte Carlo ones.
   */
  stats(weights: tf.Tensor2D): S;
  /**
   * Rows whose latent has a continuous part besides z (missing entries of a
   * Gaussian row): `[rows, K]` entropy h_nk of that part's exact conditional
   * given x_n and z_n = k, so that H(q) = Σ_nk q_nk (−log q_nk + h_nk) when q
   * keeps the exact conditional. Absent means 0 (z is the only latent).
   */
  latentEntropy?(): tf.Tensor2D;
  /**
   * Like `stats`, but with the continuous part of the latent drawn from its
   * exact conditional given z (one draw per row and component with positive
   * weight) instead of integrated out: what sampling E-steps use. Absent means
   * `stats` (z is the only latent).
   */
  sampleStats?(weights: tf.Tensor2D, rng: Rng): S;
}

/**
 * A K-way discrete latent per row (mixtures). Rows are served in blocks so
 * peak memory stays bounded for any N; statistics from blocks are added with
 * `algebra`.
 * @category Structures
 */
export interface FiniteStructure<S = unknown> extends LatentStructure {
  readonly kind: 'finite';
  readonly nRows: number;
  readonly nComponents: number;
  readonly algebra: StatsAlgebra<S>;
  /** The blocks, in row order. Iterating twice yields the same blocks. */
  chunks(): Iterable<FiniteChunk<S>>;
}

/** Narrows a structure to `finite`. @category Structures */
export function isFiniteStructure(s: LatentStructure): s is FiniteStructure {
  return s.kind === 'finite';
}

/**
 * Per-row quantities `[rows]` a finite E-step asks {@link reduceFiniteChunks}
 * to add up. They are downloaded and summed in JS doubles: a float32 `tf.sum`
 * over 10⁵ rows loses digits the monotonicity check needs.
 * @category Structures
 */
export type ChunkSums = Readonly<Record<string, tf.Tensor1D>>;

/** What a finite E-step computes for one block. @category Structures */
export interface FiniteBlockResult<S = unknown> {
  /** `[rows, K]` weights handed to `chunk.stats`. */
  readonly weights: tf.Tensor2D;
  /** The block's statistics when the step made them itself (e.g. with `chunk.sampleStats`); else `chunk.stats(weights)`. */
  readonly stats?: S;
  /** Per-row values `[rows]` to add up over all rows in JS doubles (e.g. `bound`, `entropy`). */
  readonly sums: ChunkSums;
}

/**
 * The shared block loop of every finite E-step: for each block, inside one
 * `tf.tidy`, computes log p(x_n, z_n = k | θ), its row-wise log-sum-exp
 * log p(x_n | θ) and (on demand) the posterior, lets `step` choose the weights, turns them into statistics,
 * and adds statistics and per-row sums (the log-likelihood under the key
 * `logLikelihood` always included) across rows and blocks in float64.
 *
 * @param step - gets `logJoint` `[rows, K]`, `logNorm` `[rows]`, the block and `posterior()` `[rows, K]`.
 * @category Structures
 */
export function reduceFiniteChunks<S>(
  structure: FiniteStructure<S>,
  step: (logJoint: tf.Tensor2D, logNorm: tf.Tensor1D, chunk: FiniteChunk<S>, posterior: () => tf.Tensor2D) => FiniteBlockResult<S>,
): { stats: S; sums: Record<string, number> } {
  let stats: S | undefined;
  const sums: Record<string, number> = {};
  for (const chunk of structure.chunks()) {
    tf.tidy(() => {
      const logJoint = chunk.logJoint();
      // One exp per block serves both the log-sum-exp and the posterior (exp is a third of an
      // exact E-step's time on tfjs-backend-wasm). A row that is all −∞ gives −∞, never NaN.
      const m = tf.max(logJoint, 1, true);
      const shift = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
      const scaled = tf.exp(tf.sub(logJoint, shift));
      const total = tf.sum(scaled, 1, true);
      const logNorm = tf.reshape(tf.add(tf.log(total), shift), [chunk.rows]) as tf.Tensor1D;
      const posterior = (): tf.Tensor2D => tf.div(scaled, total) as tf.Tensor2D;
      const res = step(logJoint, logNorm, chunk, posterior);
      const part = res.stats ?? chunk.stats(res.weights);
      stats = stats === undefined ? part : structure.algebra.add(stats, part);
      const keys = ['logLikelihood', ...Object.keys(res.sums)];
      const values = tf.stack([logNorm, ...Object.values(res.sums)]).dataSync();
      const n = chunk.rows;
      keys.forEach((key, i) => {
        let total = 0;
        for (let r = i * n; r < (i + 1) * n; r++) total += values[r] as number;
        sums[key] = (sums[key] ?? 0) + total;
      });
    });
  }
  if (stats === undefined) throw new Error('reduceFiniteChunks: the structure has no rows');
  return { stats, sums };
}
