/**
 * The `chain` structure kind: a hidden Markov chain per sequence (HMMs), and
 * the shared block loop every chain E-step is written with.
 *
 * A model serves its sequences in blocks of whole sequences (`chunks()`); each
 * block gives its `[rows × K]` table of emission log-densities
 * log p(x_t | z_t = k, θ) as a plain host array (float64, or float32 from a
 * model's tensor kernels), the log initial distribution `[K]` and log
 * transition matrix `[K × K]`, sequence weights, and turns posterior state
 * marginals γ, expected transition counts Σξ and initial counts back into
 * sufficient statistics. A chain E-step never touches tensors: it only chooses
 * q for a block (forward–backward, Viterbi, forward-filtering
 * backward-sampling) from the float64 {@link ChainBatch} the loop builds.
 *
 * {@link reduceChainChunks} does everything else, once for every chain
 * E-step: the sequence weights (w_s γ_t into the statistics), the expected
 * complete-data log-likelihood of the choice (computed here from γ, the counts
 * and the block's tables, so every E-step's bound is measured the same way),
 * H(q) including the continuous part of the latent (`latentEntropy`: missing
 * Gaussian entries, mixture components within a state), drawn statistics for
 * Monte Carlo E-steps (`sampleStats`), float64 sums, yielding to the event loop
 * and the abort signal. Same design as `finite` (`finite.ts`).
 *
 * @module
 */
import type { ChainBatch } from './chain/types.js';
import { shardedBlocks, type BlockShardView } from './block-shard.js';
import { EmError } from './errors.js';
import { yielder } from './platform.js';
import type { FloatArray } from './precision.js';
import type { Rng } from './rng.js';
import type { StatsAlgebra } from './stats.js';
import type { LatentStructure } from './structures.js';

/**
 * One block of whole sequences of a {@link ChainStructure}.
 * @category Structures
 */
export interface ChainChunk<S> {
  /** Index of the block's first sequence. */
  readonly start: number;
  /** Index of the block's first row (time step) in the concatenated data. */
  readonly rowStart: number;
  /** `[S_b]` lengths of the block's sequences (each ≥ 1); they sum to the block's rows. */
  readonly lengths: Int32Array;
  /** `[S_b]` sequence weights (frequency weights, finite, ≥ 0); absent means every weight is 1. */
  readonly weights?: Float64Array;
  /** `[K]` log p(z_1 = k | θ) (−∞: a state no sequence starts in). */
  readonly logInitial: Float64Array;
  /** `[K × K]` row-major, row = from-state: log p(z_{t+1} = j | z_t = i, θ) (−∞: a structural zero). */
  readonly logTransition: Float64Array;
  /**
   * `[rows × K]` row-major log p(x_t | z_t = k, θ), every constant included: 0 in every column for a
   * fully missing step, the log-density of the observed part for a partly missing one.
   */
  logEmission(): FloatArray;
  /**
   * Sufficient statistics for weighted posterior quantities: `gamma` `[rows × K]` holds
   * w_s · q(z_t = k) (exact or restricted E-steps) or w_s · (fraction of draws in k) (Monte Carlo),
   * `transitionCounts` `[K × K]` Σ_s w_s Σ_t E[1(z_t = i, z_{t+1} = j)], `initialCounts` `[K]`
   * Σ_s w_s E[1(z_1 = k)]. The chunk must not keep the arrays.
   */
  stats(gamma: FloatArray, transitionCounts: Float64Array, initialCounts: Float64Array): S;
  /**
   * Steps whose latent has a continuous or further discrete part besides z_t (missing Gaussian
   * entries, the mixture component of a mixture emission): `[rows × K]` entropy h_tk of that part's
   * exact conditional given x_t and z_t = k, so H(q) = H(z) + Σ_t Σ_k q_tk h_tk. Absent means 0.
   */
  latentEntropy?(): FloatArray;
  /** Like `stats`, with that further part drawn from its exact conditional (sampling E-steps). Absent means `stats`. */
  sampleStats?(gamma: FloatArray, transitionCounts: Float64Array, initialCounts: Float64Array, rng: Rng): S;
}

/**
 * Options of {@link ChainStructure.chunks}.
 * @category Structures
 */
export interface ChainChunkOptions {
  /**
   * A hint: serve blocks of whole sequences with at most this many rows (time steps) each, a longer
   * sequence alone (an incremental E-step visits one small block per call, and `logEmission()` is only
   * computed for the blocks it visits). Models may ignore it; E-steps must work with any blocking.
   */
  readonly maxRows?: number;
}

/**
 * Hidden Markov chains, one per sequence, served in blocks of whole sequences
 * so that peak memory stays bounded; statistics from blocks are added with `algebra`.
 * @category Structures
 */
export interface ChainStructure<S = unknown> extends LatentStructure {
  readonly kind: 'chain';
  /** K, the number of hidden states. */
  readonly nStates: number;
  /** S, the number of sequences. */
  readonly nSequences: number;
  /** ΣT, the number of time steps over all sequences. */
  readonly nRows: number;
  readonly algebra: StatsAlgebra<S>;
  /**
   * The blocks, in sequence order. Iterating twice with the same options yields the same blocks.
   * `logEmission()` of a block should be computed lazily (when called), so that skipping a block is cheap.
   */
  chunks(options?: ChainChunkOptions): Iterable<ChainChunk<S>>;
  /**
   * Set by a sharded fit (see `shard.ts`), never by models: how the block loop treats the blocks.
   * Absent: every block is evaluated here.
   */
  readonly shard?: ChainShardView<S>;
}

/**
 * How {@link reduceChainChunks} treats the blocks of a sharded fit (blocks of whole sequences owned by
 * their first time step, `ChainChunk.rowStart`, so shards get similar numbers of time steps; see
 * {@link BlockShardView}).
 * @category Structures
 */
export type ChainShardView<S> = BlockShardView<ChainOutcome<S>>;

/** Narrows a structure to `chain`. @category Structures */
export function isChainStructure(s: LatentStructure): s is ChainStructure {
  return s.kind === 'chain';
}

/** A block as a chain E-step sees it. @category Structures */
export interface ChainBlock {
  /** Block index (0-based, in sequence order). */
  readonly index: number;
  /** Index of its first sequence (pass as `ffbs`'s `sequenceOffset`, so draws do not depend on blocking). */
  readonly start: number;
  /** Index of its first row. */
  readonly rowStart: number;
  readonly rows: number;
  readonly nStates: number;
  /** The block as a float64 batch for core's kernels (`forwardBackward`, `viterbi`, `ffbs`), sequence weights included. */
  readonly batch: ChainBatch;
  /** Stream for this block: `<E-step stream>/block/<first sequence>`. */
  readonly rng: Rng;
}

/** What a chain E-step chooses for a block. @category Structures */
export interface ChainChoice {
  /**
   * `[rows × K]` unweighted marginals q(z_t = k) of the chosen q (rows of an impossible sequence are
   * 0), or for Monte Carlo E-steps the fraction of draws in state k at step t.
   */
  readonly gamma: Float64Array;
  /** `[K × K]` Σ_s w_s Σ_t q(z_t = i, z_{t+1} = j) (weighted, as core's kernels return them). */
  readonly transitionCounts: Float64Array;
  /** `[K]` Σ_s w_s q(z_1 = k) (weighted). */
  readonly initialCounts: Float64Array;
  /** Σ_s w_s H(q_s) of the state paths (0 for a delta q); the loop adds the latent's further part. */
  readonly entropy: number;
  /** Σ_s w_s log p(x_s | θ), when the E-step computed it. */
  readonly logLikelihood?: number;
  /** The counts are Monte Carlo averages of draws: statistics come from `sampleStats` when the chunk has it. */
  readonly draws?: boolean;
  /** `[rows × K]` the marginals of q when `gamma` holds draws (for Σ q h of `latentEntropy`); default `gamma`. */
  readonly marginals?: Float64Array;
  /** Values to add up over blocks in float64 (standard-error terms, diagnostics). */
  readonly sums?: Readonly<Record<string, number>>;
  /**
   * Per-block vectors (counts, flags) added up elementwise over blocks in float64, in block order: the
   * E-step's diagnostics. An E-step must keep what it learns from blocks here (or in `sums`), not in
   * variables of its own, so that its result is the same when blocks are evaluated on other threads or
   * machines (`EStep.shardable`).
   */
  readonly totals?: Readonly<Record<string, ArrayLike<number>>>;
}

/** A block's (or the whole structure's) contribution. @category Structures */
export interface ChainOutcome<S> {
  readonly stats: S;
  /**
   * Σ_s w_s E_a[log p(x_s, z_s | θ)] + Σ_s w_s H(q_s) over the state paths, a = q or the draws;
   * −∞ when a sequence of positive weight is impossible under θ.
   */
  readonly bound: number;
  /** The expected complete-data log-likelihood part of `bound`. */
  readonly logJoint: number;
  /** Σ_s w_s [H(q_s) + Σ_t Σ_k q_tk h_tk]: the entropy of the whole latent. */
  readonly entropy: number;
  /** Σ_s w_s log p(x_s | θ) when every block's choice gave it, else undefined. */
  readonly logLikelihood: number | undefined;
  /** The E-step's sums. */
  readonly sums: Readonly<Record<string, number>>;
  /** The E-step's per-block vectors, added elementwise (absent when the E-step reports none). */
  readonly totals?: Readonly<Record<string, Float64Array>>;
  /** Rows (time steps) and sequences covered (unweighted). */
  readonly rows: number;
  readonly sequences: number;
}

/** Options of {@link reduceChainChunks}. @category Structures */
export interface ReduceChainOptions<S> {
  /** Only blocks for which it returns true (incremental E-steps); default all. */
  readonly select?: (index: number) => boolean;
  /** Called with every block's outcome. */
  readonly onBlock?: (index: number, outcome: ChainOutcome<S>) => void;
}

const asFloat64 = (a: FloatArray): Float64Array => (a instanceof Float64Array ? a : Float64Array.from(a));

/**
 * Runs a chain E-step's choice on one block and accounts for it: the float64 batch, statistics (sequence
 * weights applied to γ), the expected complete-data log-likelihood of the choice, H(q) with the
 * latent's further part, log p(x) when given, and the E-step's sums.
 * @throws EmError `INTERNAL` when the chunk or the choice has arrays of the wrong size.
 * @category Structures
 */
export function evaluateChainChunk<S>(chunk: ChainChunk<S>, nStates: number, index: number, rng: Rng, choose: (block: ChainBlock) => ChainChoice): ChainOutcome<S> {
  const k = nStates;
  const lengths = chunk.lengths;
  let rows = 0;
  for (let s = 0; s < lengths.length; s++) rows += lengths[s] as number;
  const e = asFloat64(chunk.logEmission());
  if (e.length !== rows * k) {
    throw new EmError('INTERNAL', `chain chunk at sequence ${chunk.start}: logEmission() has ${e.length} entries, expected rows × K = ${rows} × ${k}`);
  }
  const weights = chunk.weights;
  const batch: ChainBatch = {
    nStates: k,
    lengths,
    logEmission: e,
    logInitial: chunk.logInitial,
    logTransition: chunk.logTransition,
    ...(weights === undefined ? {} : { weights }),
  };
  const blockRng = rng.child('block', chunk.start);
  const choice = choose({ index, start: chunk.start, rowStart: chunk.rowStart, rows, nStates: k, batch, rng: blockRng });
  const { gamma, transitionCounts: trans, initialCounts: init } = choice;
  const marginals = choice.marginals ?? gamma;
  if (gamma.length !== rows * k || marginals.length !== rows * k || trans.length !== k * k || init.length !== k) {
    throw new EmError('INTERNAL', `chain E-step returned gamma/marginals/transitionCounts/initialCounts of lengths ${gamma.length}/${marginals.length}/${trans.length}/${init.length}, expected ${rows * k}/${rows * k}/${k * k}/${k}`);
  }
  // E_a[log p(x, z)]: initial and transition terms from the (weighted) counts, emission terms from γ.
  // 0 · (−∞) = 0: a state, transition or emission with no mass contributes nothing.
  let logJoint = 0;
  for (let j = 0; j < k; j++) {
    const c = init[j] as number;
    if (c > 0) logJoint += c * (chunk.logInitial[j] as number);
  }
  for (let ij = 0; ij < k * k; ij++) {
    const c = trans[ij] as number;
    if (c > 0) logJoint += c * (chunk.logTransition[ij] as number);
  }
  const h = chunk.latentEntropy?.();
  if (h !== undefined && h.length !== rows * k) {
    throw new EmError('INTERNAL', `chain chunk at sequence ${chunk.start}: latentEntropy() has ${h.length} entries, expected ${rows * k}`);
  }
  const weighted = weights === undefined ? gamma : new Float64Array(rows * k);
  let latent = 0;
  let impossible = false;
  let r = 0;
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s] as number;
    const w = weights === undefined ? 1 : (weights[s] as number);
    const from = r * k;
    const to = (r + len) * k;
    let emission = 0;
    let mass = 0;
    for (let i = from; i < to; i++) {
      const g = gamma[i] as number;
      if (g > 0) emission += g * (e[i] as number);
    }
    for (let j = 0; j < k; j++) mass += gamma[from + j] as number;
    if (h !== undefined) {
      let hs = 0;
      for (let i = from; i < to; i++) {
        const q = marginals[i] as number;
        if (q > 0) hs += q * (h[i] as number);
      }
      if (w !== 0) latent += w * hs;
    }
    if (weights !== undefined) for (let i = from; i < to; i++) weighted[i] = w * (gamma[i] as number);
    if (w !== 0) {
      // A sequence the choice gives no mass (impossible evidence under θ) has log p = −∞.
      if (!(mass > 0)) impossible = true;
      else logJoint += w * emission;
    }
    r += len;
  }
  if (impossible) logJoint = Number.NEGATIVE_INFINITY;
  const stats = choice.draws === true && chunk.sampleStats !== undefined
    ? chunk.sampleStats(weighted, trans, init, blockRng.child('latent'))
    : chunk.stats(weighted, trans, init);
  const bound = logJoint + choice.entropy;
  const out: ChainOutcome<S> = {
    stats,
    bound,
    logJoint,
    entropy: choice.entropy + latent,
    logLikelihood: choice.logLikelihood,
    sums: { ...choice.sums },
    rows,
    sequences: lengths.length,
  };
  if (choice.totals === undefined) return out;
  const totals: Record<string, Float64Array> = {};
  for (const [key, values] of Object.entries(choice.totals)) totals[key] = Float64Array.from(values);
  return { ...out, totals };
}

/** Adds a block's outcome to a running total. */
class Totals<S> {
  stats: S | undefined;
  bound = 0;
  logJoint = 0;
  entropy = 0;
  logLikelihood: number | undefined = 0;
  rows = 0;
  sequences = 0;
  readonly sums: Record<string, number> = {};
  totals: Record<string, Float64Array> | undefined;

  constructor(private readonly algebra: StatsAlgebra<S>) {}

  add(o: ChainOutcome<S>): void {
    this.stats = this.stats === undefined ? o.stats : this.algebra.add(this.stats, o.stats);
    this.bound += o.bound;
    this.logJoint += o.logJoint;
    this.entropy += o.entropy;
    this.logLikelihood = this.logLikelihood === undefined || o.logLikelihood === undefined ? undefined : this.logLikelihood + o.logLikelihood;
    this.rows += o.rows;
    this.sequences += o.sequences;
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
  result(shardWorker = false): ChainOutcome<S> {
    if (this.stats === undefined && !shardWorker) throw new EmError('INTERNAL', 'reduceChainChunks: no block was selected (the structure has no sequences)');
    const { bound, logJoint, entropy, logLikelihood, sums, rows, sequences, totals } = this;
    const out = { stats: this.stats as S, bound, logJoint, entropy, logLikelihood, sums, rows, sequences };
    return totals === undefined ? out : { ...out, totals };
  }
}

/** The blocks of a chain structure as (index, outcome thunk) pairs (see `shardedBlocks`). */
function chainBlockOutcomes<S>(structure: ChainStructure<S>, rng: Rng, choose: (block: ChainBlock) => ChainChoice, select: ((index: number) => boolean) | undefined): Generator<{ index: number; outcome: () => ChainOutcome<S> }> {
  return shardedBlocks(structure.shard, () => structure.chunks(), (chunk) => chunk.rowStart, (chunk, i) => evaluateChainChunk(chunk, structure.nStates, i, rng, choose), select);
}

/**
 * The shared block loop of every chain E-step: per block, the E-step's `choose` picks q (and, for Monte
 * Carlo E-steps, draws) from the block's float64 batch, and {@link evaluateChainChunk} accounts for it;
 * statistics are added with the structure's algebra and every sum in float64, in block order.
 *
 * In a sharded fit (`structure.shard`, see `shard.ts`) the blocks are evaluated on workers and their
 * outcomes added here in the same order, so the result does not depend on the number of shards.
 *
 * @param choose - gets each block (its batch, a block stream) and returns q's marginals and counts.
 * @example
 * ```ts
 * // The exact E-step, whole:
 * run(structure, ctx) {
 *   const r = reduceChainChunks(structure, ctx.rng, (block) => {
 *     const fb = forwardBackward(block.batch);
 *     return { gamma: fb.gamma, transitionCounts: fb.transitionCounts, initialCounts: fb.initialCounts, entropy: fb.entropy, logLikelihood: fb.logLikelihood };
 *   });
 *   return { stats: r.stats, bound: r.bound, entropy: r.entropy, logLikelihood: r.logLikelihood };
 * }
 * ```
 * @throws EmError `INTERNAL` when a chunk or a choice has arrays of the wrong size or nothing was selected.
 * @category Structures
 */
export function reduceChainChunks<S>(structure: ChainStructure<S>, rng: Rng, choose: (block: ChainBlock) => ChainChoice, options: ReduceChainOptions<S> = {}): ChainOutcome<S> {
  const totals = new Totals(structure.algebra);
  for (const b of chainBlockOutcomes(structure, rng, choose, options.select)) {
    const o = b.outcome();
    options.onBlock?.(b.index, o);
    totals.add(o);
  }
  return totals.result(structure.shard?.collect !== undefined);
}

/**
 * {@link reduceChainChunks} that yields to the event loop every few milliseconds between blocks and
 * stops with an `ABORTED` error when `signal` fires (what the built-in chain E-steps use).
 * @throws EmError `ABORTED`, `INTERNAL`
 * @category Structures
 */
export async function reduceChainChunksAsync<S>(
  structure: ChainStructure<S>,
  rng: Rng,
  choose: (block: ChainBlock) => ChainChoice,
  options: ReduceChainOptions<S> & { readonly signal?: AbortSignal } = {},
): Promise<ChainOutcome<S>> {
  const totals = new Totals(structure.algebra);
  const pause = yielder();
  for (const b of chainBlockOutcomes(structure, rng, choose, options.select)) {
    if (options.signal?.aborted) throw new EmError('ABORTED', 'the E-step was aborted', { path: ['options', 'signal'] });
    const o = b.outcome();
    options.onBlock?.(b.index, o);
    totals.add(o);
    await pause();
  }
  return totals.result(structure.shard?.collect !== undefined);
}
