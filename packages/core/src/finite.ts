/**
 * The `finite` structure kind: a K-way discrete latent per row (mixtures),
 * and the shared block loop every finite E-step is written with.
 *
 * A model serves its rows in blocks (`chunks()`); each block gives its
 * `[rows, K]` table of log p(x_n, z_n = k | θ) as a plain host array (float32
 * when the model's kernels ran in float32, float64 otherwise) and turns a
 * `[rows, K]` weight table back into sufficient statistics. So a model can
 * be written without TensorFlow.js (plain JavaScript arrays) and an E-step
 * never touches tensors: it only chooses q from the table.
 *
 * {@link reduceFiniteChunks} does everything else, once for every finite
 * E-step: the log-sum-exp and posterior, row weights, H(q) including the
 * continuous part of the latent (`latentEntropy`: missing entries), drawn
 * statistics for Monte Carlo E-steps (`sampleStats`), and float64 sums. An
 * E-step cannot forget a hook that changes H(q), because it never computes
 * H(q) itself.
 *
 * @module
 */
import { shardedBlocks, type BlockShardView } from './block-shard.js';
import { EmError } from './errors.js';
import { yielder } from './platform.js';
import type { FloatArray, Precision } from './precision.js';
import type { Rng } from './rng.js';
import type { StatsAlgebra } from './stats.js';
import type { LatentStructure } from './structures.js';

/**
 * One block of rows of a {@link FiniteStructure}.
 * @category Structures
 */
export interface FiniteChunk<S> {
  /** Number of rows in this block. */
  readonly rows: number;
  /** Index of the block's first row in the prepared data. */
  readonly start: number;
  /** Row weights `[rows]` (frequency or importance weights); absent means every weight is 1. */
  readonly weights?: Float64Array;
  /** `[rows × K]` row-major table of log p(x_n, z_n = k | θ), every constant included. */
  logJoint(): FloatArray;
  /**
   * Sufficient statistics for a weight table `[rows × K]`: w_nk = (row weight) · q(z_n = k) for
   * exact or restricted E-steps, (row weight) · (fraction of draws equal to k) for Monte Carlo ones.
   * The chunk must not keep the array.
   */
  stats(weights: FloatArray): S;
  /**
   * Rows whose latent has a continuous part besides z (missing entries of a Gaussian row):
   * `[rows × K]` entropy h_nk of that part's exact conditional given x_n and z_n = k, so that
   * H(q) = Σ_nk q_nk (−log q_nk + h_nk). Absent means 0 (z is the only latent).
   */
  latentEntropy?(): FloatArray;
  /**
   * Like `stats`, but with the continuous part of the latent drawn from its exact conditional given
   * z instead of integrated out: what sampling E-steps use. Absent means `stats`.
   */
  sampleStats?(weights: FloatArray, rng: Rng): S;
  /**
   * `[rows × K]` variance v_nk of log p(x_n,cont | x_n, z_n = k) when x_n,cont is drawn from its exact
   * conditional (a Gaussian conditional of m entries: m/2, the variance of −χ²_m/2): what one
   * `sampleStats` draw adds to the variance of a Monte Carlo bound. Absent means 0. Models with
   * `sampleStats` should give it, so that Monte Carlo standard errors cover the continuous draws.
   */
  latentVariance?(): FloatArray;
}

/**
 * What an E-step may ask of {@link FiniteStructure.chunks}.
 * @category Structures
 */
export interface FiniteChunkOptions {
  /**
   * A hint: serve blocks of at most this many rows (an incremental E-step visits one small block
   * per call, and `logJoint()` is only computed for the blocks it visits). Models may ignore it
   * (a float32 kernel whose row blocks were uploaded once); E-steps must work with any block sizes.
   */
  readonly maxRows?: number;
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
  /**
   * The blocks, in row order. Iterating twice with the same options yields the same blocks.
   * `logJoint()` of a block should be computed lazily (when called), so that skipping a block is cheap.
   */
  chunks(options?: FiniteChunkOptions): Iterable<FiniteChunk<S>>;
  /**
   * Set by a sharded fit (see `shard.ts`), never by models: how the block loop treats the blocks.
   * Absent: every block is evaluated here.
   */
  readonly shard?: FiniteShardView<S>;
}

/**
 * How {@link reduceFiniteChunks} treats the blocks of a sharded fit (blocks owned by their first row;
 * see {@link BlockShardView}).
 * @category Structures
 */
export type FiniteShardView<S> = BlockShardView<FiniteOutcome<S>>;

/** Narrows a structure to `finite`. @category Structures */
export function isFiniteStructure(s: LatentStructure): s is FiniteStructure {
  return s.kind === 'finite';
}

/** A block as a finite E-step sees it. @category Structures */
export interface FiniteBlock {
  /** Block index (0-based, in row order) and its first row. */
  readonly index: number;
  readonly start: number;
  readonly rows: number;
  readonly nComponents: number;
  /** `[rows × K]` log p(x_n, z_n = k | θ). */
  readonly logJoint: FloatArray;
  /** `[rows]` log p(x_n | θ) (−∞ for a row impossible under every component). */
  readonly logNorm: Float64Array;
  /** `[rows × K]` p(z_n = k | x_n, θ) (a row of zeros for an impossible row); computed once. */
  posterior(): Float64Array;
  /** Row weights `[rows]`, or undefined (all 1). */
  readonly rowWeights: Float64Array | undefined;
  /** `[rows × K]` entropy h_nk of the latent's continuous part given z_n = k (`FiniteChunk.latentEntropy`), or undefined (none); read once. */
  latentEntropy(): FloatArray | undefined;
  /**
   * `[rows × K]` variance of the continuous part's log density given z_n = k (`FiniteChunk.latentVariance`),
   * or undefined (none): a Monte Carlo E-step's draw of row n has mean Σ_k a_nk (log p(x_n, k) − h_nk)
   * and adds Σ_k a_nk² v_nk of variance. Read once.
   */
  latentVariance(): FloatArray | undefined;
  /** Stream for this block: `<E-step stream>/block/<start>`. */
  readonly rng: Rng;
}

/** What a finite E-step chooses for a block. @category Structures */
export interface FiniteChoice {
  /**
   * q(z_n = k) `[rows × K]`, rows summing to 1: the distribution whose bound L(q, θ) and entropy are
   * reported. Returning `block.posterior()` itself is the exact E-step.
   */
  readonly q: FloatArray;
  /**
   * Monte Carlo E-steps: the fraction of draws equal to k `[rows × K]`. The statistics then come from
   * the draws (with `sampleStats`, which also draws the continuous part of the latent), and the bound
   * is the estimate Σ_n Σ_k draws_nk log p(x_n, k) + H_z(q).
   */
  readonly draws?: FloatArray;
  /** Per-row values `[rows]` to add up over all rows (weighted by row weights) in float64. */
  readonly sums?: Readonly<Record<string, ArrayLike<number>>>;
  /**
   * Per-block vectors (unweighted: counts, flags) added up elementwise over blocks in float64, in block
   * order: the E-step's diagnostics. An E-step must keep what it learns from blocks here (or in `sums`),
   * not in variables of its own, so that its result is the same when blocks are evaluated on other
   * threads or machines.
   */
  readonly totals?: Readonly<Record<string, ArrayLike<number>>>;
}

/** A block's (or the whole structure's) contribution. @category Structures */
export interface FiniteOutcome<S> {
  readonly stats: S;
  /** Σ_n w_n [Σ_k a_nk log p(x_n, k) + H_z(q_n)], a = draws or q. */
  readonly bound: number;
  /** Σ_n w_n [H_z(q_n) + Σ_k q_nk h_nk]: the entropy of the whole latent. */
  readonly entropy: number;
  /** Σ_n w_n log p(x_n | θ). */
  readonly logLikelihood: number;
  /** The E-step's extra sums. */
  readonly sums: Readonly<Record<string, number>>;
  /** The E-step's per-block vectors, added elementwise (absent when the E-step reports none). */
  readonly totals?: Readonly<Record<string, Float64Array>>;
  /** Rows (unweighted) covered. */
  readonly rows: number;
}

/** Row-wise max-shifted exp: fills `post` with the posterior and returns log p(x_n). */
function normalizeRows(table: FloatArray, rows: number, k: number, post: Float64Array, logNorm: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const v = table[o + j] as number;
      if (v > m) m = v;
    }
    if (m === Number.NEGATIVE_INFINITY) {
      // No component can produce this row: log p = −∞, a zero posterior (never NaN).
      logNorm[r] = Number.NEGATIVE_INFINITY;
      post.fill(0, o, o + k);
      continue;
    }
    let total = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp((table[o + j] as number) - m);
      post[o + j] = e;
      total += e;
    }
    logNorm[r] = m + Math.log(total);
    const inv = 1 / total;
    for (let j = 0; j < k; j++) post[o + j] = (post[o + j] as number) * inv;
  }
}

/**
 * Runs a finite E-step's choice on one block and accounts for it: statistics (row weights applied),
 * the bound, H(q) with the latent's continuous part, log p(x), and the E-step's sums.
 * @category Structures
 */
export function evaluateFiniteChunk<S>(chunk: FiniteChunk<S>, nComponents: number, index: number, rng: Rng, choose: (block: FiniteBlock) => FiniteChoice): FiniteOutcome<S> {
  const k = nComponents;
  const rows = chunk.rows;
  const table = chunk.logJoint();
  if (table.length !== rows * k) {
    throw new EmError('INTERNAL', `finite chunk at row ${chunk.start}: logJoint() has ${table.length} entries, expected rows × K = ${rows} × ${k}`);
  }
  const logNorm = new Float64Array(rows);
  let post: Float64Array | undefined;
  const posterior = (): Float64Array => {
    if (post === undefined) {
      post = new Float64Array(rows * k);
      normalizeRows(table, rows, k, post, logNorm);
    }
    return post;
  };
  // logNorm is needed by every E-step (the log-likelihood): computing the posterior gives it for free.
  posterior();
  const blockRng = rng.child('block', chunk.start);
  const rowWeights = chunk.weights;
  const sized = (name: string, v: FloatArray | undefined): FloatArray | undefined => {
    if (v !== undefined && v.length !== rows * k) throw new EmError('INTERNAL', `finite chunk at row ${chunk.start}: ${name}() has ${v.length} entries, expected rows × K = ${rows} × ${k}`);
    return v;
  };
  let entropyTable: { v: FloatArray | undefined } | undefined;
  let varianceTable: { v: FloatArray | undefined } | undefined;
  const latentEntropy = (): FloatArray | undefined => (entropyTable ??= { v: sized('latentEntropy', chunk.latentEntropy?.()) }).v;
  const latentVariance = (): FloatArray | undefined => (varianceTable ??= { v: sized('latentVariance', chunk.latentVariance?.()) }).v;
  const choice = choose({ index, start: chunk.start, rows, nComponents: k, logJoint: table, logNorm, posterior, rowWeights, rng: blockRng, latentEntropy, latentVariance });
  const q = choice.q;
  const a = choice.draws ?? q;
  if (q.length !== rows * k || a.length !== rows * k) {
    throw new EmError('INTERNAL', `finite E-step returned q or draws of length ${q.length}/${a.length}, expected rows × K = ${rows * k}`);
  }
  const exactQ = q === post;
  const h = latentEntropy();
  const weights = new Float64Array(rows * k);
  let bound = 0;
  let entropy = 0;
  let logLikelihood = 0;
  for (let r = 0; r < rows; r++) {
    const w = rowWeights === undefined ? 1 : (rowWeights[r] as number);
    const o = r * k;
    let rowBound = 0;
    let rowHz = 0;
    let rowLatent = 0;
    for (let j = 0; j < k; j++) {
      const qj = q[o + j] as number;
      const aj = a[o + j] as number;
      weights[o + j] = w * aj;
      // 0 · log 0 = 0 and 0 · (−∞) = 0: a component with no mass contributes nothing.
      if (aj > 0) rowBound += aj * (table[o + j] as number);
      if (qj > 0) {
        rowHz -= qj * (exactQ ? (table[o + j] as number) - (logNorm[r] as number) : Math.log(qj));
        if (h !== undefined) rowLatent += qj * (h[o + j] as number);
      }
    }
    if (w === 0) continue;
    bound += w * (rowBound + rowHz);
    entropy += w * (rowHz + rowLatent);
    logLikelihood += w * (logNorm[r] as number);
  }
  const stats = choice.draws !== undefined && chunk.sampleStats !== undefined ? chunk.sampleStats(weights, blockRng.child('latent')) : chunk.stats(weights);
  const sums: Record<string, number> = {};
  for (const [key, values] of Object.entries(choice.sums ?? {})) {
    let total = 0;
    for (let r = 0; r < rows; r++) total += (rowWeights === undefined ? 1 : (rowWeights[r] as number)) * (values[r] as number);
    sums[key] = total;
  }
  if (choice.totals === undefined) return { stats, bound, entropy, logLikelihood, sums, rows };
  const totals: Record<string, Float64Array> = {};
  for (const [key, values] of Object.entries(choice.totals)) totals[key] = Float64Array.from(values);
  return { stats, bound, entropy, logLikelihood, sums, totals, rows };
}

/** Adds block outcomes in block order (the one place the order of additions is fixed). */
class OutcomeSum<S> {
  private stats: S | undefined;
  private bound = 0;
  private entropy = 0;
  private logLikelihood = 0;
  private rows = 0;
  private readonly sums: Record<string, number> = {};
  private totals: Record<string, Float64Array> | undefined;

  constructor(private readonly algebra: StatsAlgebra<S>) {}

  add(o: FiniteOutcome<S>): void {
    this.stats = this.stats === undefined ? o.stats : this.algebra.add(this.stats, o.stats);
    this.bound += o.bound;
    this.entropy += o.entropy;
    this.logLikelihood += o.logLikelihood;
    this.rows += o.rows;
    for (const [key, v] of Object.entries(o.sums)) this.sums[key] = (this.sums[key] ?? 0) + v;
    if (o.totals !== undefined) {
      this.totals ??= {};
      for (const [key, v] of Object.entries(o.totals)) {
        const acc = this.totals[key];
        if (acc === undefined) this.totals[key] = Float64Array.from(v);
        else for (let i = 0; i < v.length; i++) acc[i] = (acc[i] as number) + (v[i] as number);
      }
    }
  }

  /** The total; on a shard worker (which may own no block) possibly without statistics. */
  result(shardWorker: boolean): FiniteOutcome<S> {
    if (this.stats === undefined && !shardWorker) throw new EmError('INTERNAL', 'reduceFiniteChunks: no block was selected (the structure has no rows)');
    const out = { stats: this.stats as S, bound: this.bound, entropy: this.entropy, logLikelihood: this.logLikelihood, sums: this.sums, rows: this.rows };
    return this.totals === undefined ? out : { ...out, totals: this.totals };
  }
}

type ReduceOptions<S> = { readonly select?: (index: number) => boolean; readonly onBlock?: (index: number, outcome: FiniteOutcome<S>) => void; readonly maxRows?: number };

/** The blocks of a finite structure as (index, outcome thunk) pairs (see `shardedBlocks`). */
function blockOutcomes<S>(structure: FiniteStructure<S>, rng: Rng, choose: (block: FiniteBlock) => FiniteChoice, options: ReduceOptions<S>): Generator<{ index: number; outcome: () => FiniteOutcome<S> }> {
  const { select, maxRows } = options;
  return shardedBlocks(
    structure.shard,
    () => structure.chunks(maxRows === undefined ? undefined : { maxRows }),
    (chunk) => chunk.start,
    (chunk, i) => evaluateFiniteChunk(chunk, structure.nComponents, i, rng, choose),
    select,
  );
}

/**
 * The shared block loop of every finite E-step: per block, the E-step's `choose` picks q (and, for
 * Monte Carlo E-steps, draws) from the block's table, and {@link evaluateFiniteChunk} accounts for it;
 * statistics are added with the structure's algebra and every sum in float64, in block order.
 *
 * In a sharded fit (`structure.shard`, see `shard.ts`) the blocks are evaluated on workers and their
 * outcomes added here in the same order, so the result does not depend on the number of shards.
 *
 * @param choose - gets each block (its table, log p(x_n), posterior on demand, row weights, a block stream).
 * @param options.select - only blocks for which it returns true (incremental E-steps); default all.
 * @param options.maxRows - passed to `structure.chunks` as the block-size hint (see {@link FiniteChunkOptions}).
 * @example
 * ```ts
 * // The exact E-step, whole:
 * run(structure, ctx) {
 *   const r = reduceFiniteChunks(structure, ctx.rng, (block) => ({ q: block.posterior() }));
 *   return { stats: r.stats, bound: r.logLikelihood, entropy: r.entropy, logLikelihood: r.logLikelihood };
 * }
 * ```
 * @category Structures
 */
export function reduceFiniteChunks<S>(structure: FiniteStructure<S>, rng: Rng, choose: (block: FiniteBlock) => FiniteChoice, options: ReduceOptions<S> = {}): FiniteOutcome<S> {
  const sum = new OutcomeSum(structure.algebra);
  for (const b of blockOutcomes(structure, rng, choose, options)) {
    const o = b.outcome();
    options.onBlock?.(b.index, o);
    sum.add(o);
  }
  return sum.result(structure.shard?.collect !== undefined);
}

/**
 * {@link reduceFiniteChunks} that yields to the event loop every few milliseconds between blocks and
 * stops with an `ABORTED` error when `signal` fires, so a long E-step stays responsive (what the
 * built-in finite E-steps use).
 * @throws EmError `ABORTED`
 * @category Structures
 */
export async function reduceFiniteChunksAsync<S>(
  structure: FiniteStructure<S>,
  rng: Rng,
  choose: (block: FiniteBlock) => FiniteChoice,
  options: ReduceOptions<S> & { readonly signal?: AbortSignal } = {},
): Promise<FiniteOutcome<S>> {
  const sum = new OutcomeSum(structure.algebra);
  const pause = yielder();
  for (const b of blockOutcomes(structure, rng, choose, options)) {
    if (options.signal?.aborted) throw new EmError('ABORTED', 'the E-step was aborted', { path: ['options', 'signal'] });
    const o = b.outcome();
    options.onBlock?.(b.index, o);
    sum.add(o);
    await pause();
  }
  return sum.result(structure.shard?.collect !== undefined);
}

/** The precision of a finite structure's tables (float64 unless it says otherwise). @category Structures */
export function structurePrecision(s: LatentStructure): Precision {
  return s.precision ?? 'float64';
}
