/**
 * The block loop of `factor-graph` E-steps: distinct evidence patterns in
 * blocks of `evidence.batchSize` (block i holds patterns
 * `[i · batchSize, min((i + 1) · batchSize, nPatterns))`, the same blocks as
 * the uploaded batches), each evaluated from zero and the outcomes added in
 * block order. Evaluating blocks from zero (rather than adding every pattern
 * into one running total) is what lets a sharded fit evaluate them on other
 * threads or machines and still add exactly the same numbers in the same order.
 *
 * Same design as `finite` (`finite.ts`) and `chain` (`chain-structure.ts`).
 * @module
 */
import type { BlockShardView } from './block-shard.js';
import { EmError } from './errors.js';
import type { EvidenceBatch, FactorGraphStructure } from './factor-graph.js';
import { yielder } from './platform.js';
import type { Rng } from './rng.js';
import type { StatsAlgebra } from './stats.js';

/** A block of distinct evidence patterns as a factor-graph E-step sees it. @category Structures */
export interface FactorGraphBlock {
  /** Block index (0-based, in pattern order). */
  readonly index: number;
  /** First pattern and number of patterns. */
  readonly start: number;
  readonly size: number;
  /** The block's uploaded batch (indicator tensors) when the evidence was uploaded (float32 kernels), else undefined. */
  readonly batch: EvidenceBatch | undefined;
  /** Stream for this block: `<E-step stream>/block/<first pattern>`. */
  readonly rng: Rng;
}

/** What a factor-graph E-step computes for one block. @category Structures */
export interface FactorGraphChoice<S> {
  /** The model's statistics of the block's patterns (`structure.stats(familyCounts)`, counts weighted by multiplicities). */
  readonly stats: S;
  /** Σ_p m_p L(q_p, θ) over the block (every constant included: `logConstant` times the block's weight). */
  readonly bound: number;
  /** Σ_p m_p H(q_p) over the block. */
  readonly entropy: number;
  /** Σ_p m_p log p(e_p | θ) over the block, when the E-step computes it. */
  readonly logLikelihood?: number;
  /** Values to add up over blocks in float64 (standard-error terms, diagnostics). */
  readonly sums?: Readonly<Record<string, number>>;
}

/** A block's (or the whole structure's) contribution. @category Structures */
export interface FactorGraphOutcome<S> {
  readonly stats: S;
  readonly bound: number;
  readonly entropy: number;
  /** Σ_p m_p log p(e_p | θ) when every block's choice gave it, else undefined. */
  readonly logLikelihood: number | undefined;
  readonly sums: Readonly<Record<string, number>>;
  /** Distinct patterns covered. */
  readonly patterns: number;
}

/**
 * How {@link reduceFactorGraphBlocks} treats the blocks of a sharded fit (blocks owned by their first
 * pattern; see {@link BlockShardView}).
 * @category Structures
 */
export type FactorGraphShardView<S> = BlockShardView<FactorGraphOutcome<S>>;

/** The blocks of patterns of a structure: `[start, size]` per block, in order. @category Structures */
export function factorGraphBlockRanges(nPatterns: number, batchSize: number): { readonly start: number; readonly size: number }[] {
  const out: { start: number; size: number }[] = [];
  for (let start = 0; start < nPatterns; start += batchSize) out.push({ start, size: Math.min(batchSize, nPatterns - start) });
  return out;
}

/** Adds block outcomes in block order. */
class Totals<S> {
  private stats: S | undefined;
  private bound = 0;
  private entropy = 0;
  private logLikelihood: number | undefined = 0;
  private patterns = 0;
  private readonly sums: Record<string, number> = {};

  constructor(private readonly algebra: StatsAlgebra<S>) {}

  add(o: FactorGraphOutcome<S>): void {
    this.stats = this.stats === undefined ? o.stats : this.algebra.add(this.stats, o.stats);
    this.bound += o.bound;
    this.entropy += o.entropy;
    this.logLikelihood = this.logLikelihood === undefined || o.logLikelihood === undefined ? undefined : this.logLikelihood + o.logLikelihood;
    this.patterns += o.patterns;
    for (const [key, v] of Object.entries(o.sums)) this.sums[key] = (this.sums[key] ?? 0) + v;
  }

  result(shardWorker: boolean): FactorGraphOutcome<S> {
    if (this.stats === undefined && !shardWorker) throw new EmError('INTERNAL', 'reduceFactorGraphBlocks: no block was evaluated (the evidence has no patterns)');
    return { stats: this.stats as S, bound: this.bound, entropy: this.entropy, logLikelihood: this.logLikelihood, sums: this.sums, patterns: this.patterns };
  }
}

/**
 * The block loop of a factor-graph E-step: `evaluate` computes each block of distinct patterns from
 * zero, and the outcomes are added (statistics with the structure's algebra, the rest in float64) in
 * block order. It yields to the event loop between blocks and stops with `ABORTED` when `signal` fires.
 *
 * In a sharded fit (`structure.shard`, see `shard.ts`) the blocks are evaluated on workers and their
 * outcomes added here in the same order, so the result does not depend on the number of shards.
 * @example
 * ```ts
 * const r = await reduceFactorGraphBlocks(structure, ctx.rng, async (block) => {
 *   const counts = myCalibration(structure, block.start, block.size);
 *   return { stats: structure.stats(counts.family), bound: counts.logLikelihood, entropy: counts.entropy, logLikelihood: counts.logLikelihood };
 * });
 * ```
 * @throws EmError `ABORTED`, `INTERNAL` (no patterns).
 * @category Structures
 */
export async function reduceFactorGraphBlocks<S>(
  structure: FactorGraphStructure<S>,
  rng: Rng,
  evaluate: (block: FactorGraphBlock) => FactorGraphChoice<S> | Promise<FactorGraphChoice<S>>,
  options: { readonly signal?: AbortSignal } = {},
): Promise<FactorGraphOutcome<S>> {
  const totals = new Totals(structure.algebra);
  const view = structure.shard;
  const pause = yielder();
  const check = (): void => {
    if (options.signal?.aborted) throw new EmError('ABORTED', 'the E-step was aborted', { path: ['options', 'signal'] });
  };
  if (view?.outcomes !== undefined) {
    for (const o of view.outcomes) totals.add(o);
    return totals.result(false);
  }
  const evidence = structure.evidence;
  const batches = new Map(evidence.batches.map((b) => [b.start, b]));
  const ranges = factorGraphBlockRanges(evidence.nPatterns, evidence.batchSize);
  for (let i = 0; i < ranges.length; i++) {
    const { start, size } = ranges[i] as { start: number; size: number };
    if (view?.owns !== undefined && !view.owns(i, start)) continue;
    check();
    const c = await evaluate({ index: i, start, size, batch: batches.get(start), rng: rng.child('block', start) });
    const o: FactorGraphOutcome<S> = { stats: c.stats, bound: c.bound, entropy: c.entropy, logLikelihood: c.logLikelihood, sums: { ...c.sums }, patterns: size };
    view?.collect?.(i, o);
    totals.add(o);
    await pause();
  }
  return totals.result(view?.collect !== undefined);
}
