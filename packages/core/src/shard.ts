/**
 * Sharding one fit: the E-step's blocks are evaluated on several workers
 * (threads of this process, or other machines) and their outcomes added on
 * the main thread in block order, so a sharded fit is bit-identical to an
 * unsharded one for every number of workers.
 *
 * The pieces, all browser-safe (the worker-thread engine is in
 * `@emlab/core/node`, the Redis/BullMQ one in `@emlab/bench`):
 *
 * - A model that can shard supplies {@link ModelShardHooks}: its prepared data
 *   as JSON metadata plus typed arrays (`exportPrepared`), and the same
 *   prepared data rebuilt on a worker (`importPrepared`), uploading to the
 *   device only the blocks that worker owns. Workers rebuild the model itself
 *   from the registry (`findModel(name).create(options)`).
 * - A shard owns the blocks whose first unit lies in its range of units
 *   ({@link shardRange}); the units are prepared rows for `finite` structures
 *   (mixtures), time steps for `chain` structures (HMMs: a block is a set of
 *   whole sequences, owned by the shard that holds its first time step), and
 *   distinct evidence patterns for `factor-graph` structures (Bayesian
 *   networks: a block is `evidence.batchSize` consecutive patterns).
 *   {@link ShardWorker} builds the structure at θ, runs the E-step (rebuilt
 *   from the registry) over the blocks it owns, and returns each block's
 *   outcome with its index, tagged with the structure kind.
 * - The main thread merges the outcomes ({@link mergeShardOutcomes}) and runs
 *   its own E-step over a {@link replayShardStructure}: the kind's block loop
 *   (`reduceFiniteChunks`, `reduceChainChunks`, `reduceFactorGraphBlocks`) adds
 *   the outcomes in block order, exactly as it would have added its own.
 * - A {@link ShardEngine} moves θ out and outcomes back.
 *
 * Only stateless E-steps that keep what they learn from blocks in the block
 * loop's `sums`/`totals` can shard (`EStep.shardable`).
 *
 * @module
 */
import type { ChainOutcome, ChainStructure } from './chain-structure.js';
import { EmError, emError } from './errors.js';
import type { EStep } from './estep.js';
import { factorGraphBlockRanges, type FactorGraphOutcome } from './factor-graph-blocks.js';
import type { FactorGraphStructure } from './factor-graph.js';
import type { FiniteOutcome, FiniteStructure } from './finite.js';
import type { Model, PreparedData } from './model.js';
import type { Precision } from './precision.js';
import { createEStep, findModel } from './registry.js';
import { createRng } from './rng.js';
import type { StatsAlgebra } from './stats.js';
import type { LatentStructure } from './structures.js';

/** The structure kinds whose E-steps can be sharded. @category Sharding */
export const SHARDABLE_KINDS = ['finite', 'chain', 'factor-graph'] as const;

/** A structure kind whose E-steps can be sharded. @category Sharding */
export type ShardableKind = (typeof SHARDABLE_KINDS)[number];

/** A typed array of prepared data (shared memory between threads, bytes between machines). @category Sharding */
export type ShardArray = Float64Array | Float32Array | Int32Array | Uint8Array;

/** Prepared data as they travel to workers: JSON-safe metadata and typed arrays. @category Sharding */
export interface ShardPayload {
  /**
   * Plain JSON (finite numbers, strings, arrays, objects) with `nRows`: the number of units blocks are
   * owned by (prepared rows; time steps of a `chain`), or `shardUnits` when that differs from
   * `nRows` (distinct evidence patterns of a `factor-graph`).
   */
  readonly meta: unknown;
  readonly arrays: Readonly<Record<string, ShardArray>>;
}

/** What `exportPrepared` gets. @category Sharding */
export interface ShardExportContext {
  /**
   * The array as it will travel: copied once into shared memory for worker threads (so no worker
   * copies it), returned unchanged for engines that serialize. Call it on every large array.
   */
  share<T extends ShardArray>(array: T): T;
}

/** What `importPrepared` gets on a worker. @category Sharding */
export interface ShardImportContext {
  /** The precisions the fit may ask for (upload float32 blocks only when float32 is among them). */
  readonly precisions: readonly Precision[];
  /**
   * Whether this shard evaluates the block whose first unit is `start` (upload only those): its first
   * prepared row (`finite`), first time step (`chain`) or first distinct pattern (`factor-graph`).
   */
  owns(start: number): boolean;
}

/**
 * A model's sharding hooks (`Model.shard`).
 * @typeParam PD - its prepared data.
 * @category Sharding
 */
export interface ModelShardHooks<PD> {
  /** The prepared data as metadata and arrays (main thread, once per fit). */
  exportPrepared(prepared: PD, ctx: ShardExportContext): ShardPayload;
  /**
   * The same prepared data on a worker: `structure(prepared, θ, ctx)` there must serve the same blocks
   * (indices, first rows, contents) as on the main thread; blocks the shard does not own may be left
   * without device data (they are never evaluated there).
   */
  importPrepared(payload: ShardPayload, ctx: ShardImportContext): PD;
  /**
   * The options that rebuild this model on a worker through the registry
   * (`findModel(name).create(options)`), when `Model.options` (what results record) is not enough: a
   * Bayesian network adds its network. Default `Model.options`.
   */
  workerOptions?(): Readonly<Record<string, unknown>>;
}

/** How workers rebuild a model: its registry name and options (see {@link ModelShardHooks.workerOptions}). @category Sharding */
export function shardModelSpec(model: Model<any, any, any, any>): ShardModelSpec { // eslint-disable-line @typescript-eslint/no-explicit-any
  return { name: model.name, options: model.shard?.workerOptions?.() ?? model.options };
}

/** Rows `[from, to)` of the prepared order that shard `shard` of `nShards` owns (balanced, contiguous). @category Sharding */
export function shardRange(nRows: number, shard: number, nShards: number): { readonly from: number; readonly to: number } {
  return { from: Math.floor((nRows * shard) / nShards), to: Math.floor((nRows * (shard + 1)) / nShards) };
}

/** The E-step of a sharded fit, as workers rebuild it from the registry. @category Sharding */
export interface ShardEStepSpec {
  readonly kind: string;
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** The model of a sharded fit, as workers rebuild it from the registry. @category Sharding */
export interface ShardModelSpec {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** What an engine gets to open a sharded session (once per fit). @category Sharding */
export interface ShardSessionSpec {
  readonly model: Model<any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly prepared: PreparedData;
  readonly eStep: ShardEStepSpec;
  /** The precisions the fit may use. */
  readonly precisions: readonly Precision[];
}

/** One E-step over the shards: θ and where the random streams come from. @category Sharding */
export interface ShardRequest {
  /** θ as plain JSON. */
  readonly params: unknown;
  readonly precision: Precision;
  /** Path of the E-step's stream (`seed/restart/r/iter/t/estep`); blocks draw from `<path>/block/<first row>`. */
  readonly rngPath: string;
  readonly iteration: number;
  readonly passes: number;
}

/** A block's outcome in the block loop of its structure kind. @category Sharding */
export type ShardOutcome = FiniteOutcome<unknown> | ChainOutcome<unknown> | FactorGraphOutcome<unknown>;

/** One block's outcome, with its index in the structure's block order. @category Sharding */
export interface ShardBlockOutcome {
  readonly index: number;
  readonly outcome: ShardOutcome;
}

/** What one shard returns for one request. @category Sharding */
export interface ShardReply {
  /** The structure kind the outcomes belong to (absent: `finite`). */
  readonly kind?: ShardableKind;
  /** K of the structure: components (`finite`), states (`chain`), variables (`factor-graph`); the same on every shard. */
  readonly nComponents: number;
  /** Number of blocks of the whole structure (the same on every shard). */
  readonly nBlocks: number;
  readonly blocks: readonly ShardBlockOutcome[];
}

/** An open sharded fit. @category Sharding */
export interface ShardSession {
  readonly shards: number;
  /** Evaluates every block at θ; the replies of all shards (any order). @throws EmError `WORKER_LOST` */
  evaluate(request: ShardRequest): Promise<readonly ShardReply[]>;
  /** Stops the workers; called exactly once. */
  close(): Promise<void>;
}

/**
 * Moves θ to the shards and their block outcomes back: worker threads (`threadShards` in
 * `@emlab/core/node`), or workers on other machines (`queueShards` in `@emlab/bench`).
 * @category Sharding
 */
export interface ShardEngine {
  /** e.g. `'threads'`, `'queue'` (recorded nowhere: results do not depend on it). */
  readonly kind: string;
  readonly shards: number;
  open(spec: ShardSessionSpec): Promise<ShardSession>;
}

/** Whether a value is a {@link ShardEngine}. @category Sharding */
export function isShardEngine(v: unknown): v is ShardEngine {
  return typeof v === 'object' && v !== null && typeof (v as ShardEngine).open === 'function' && typeof (v as ShardEngine).shards === 'number';
}

const FACTORY_KEY = Symbol.for('emlab.shardEngineFactory.v1');

/**
 * Registers what `fit(…, { workers: n })` uses for n > 1 (`@emlab/core/node` registers worker threads
 * on import). One per realm.
 * @category Sharding
 */
export function registerShardEngineFactory(factory: (workers: number) => ShardEngine): void {
  (globalThis as unknown as Record<symbol, unknown>)[FACTORY_KEY] = factory;
}

/**
 * The engine for `fit`'s `workers` option: none for 1, the registered factory's for n > 1, a given engine as is.
 * @throws EmError `INVALID_ARGUMENT` (bad value, or no factory registered).
 * @category Sharding
 */
export function resolveShardEngine(workers: unknown): ShardEngine | undefined {
  if (isShardEngine(workers)) return workers;
  if (typeof workers !== 'number' || !Number.isSafeInteger(workers) || workers < 1 || workers > 1024) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], workers, 'must be an integer in [1, 1024] or a shard engine', 'pass workers: 2 (worker threads) or an engine such as threadShards({ workers: 4 })');
  }
  if (workers === 1) return undefined;
  const factory = (globalThis as unknown as Record<symbol, ((n: number) => ShardEngine) | undefined>)[FACTORY_KEY];
  if (factory === undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], workers, 'needs a shard engine, and none is registered (worker threads live in the Node entry)', "import '@emlab/core/node' once (it registers worker threads), or pass an engine object");
  }
  return factory(workers);
}

/**
 * Checks before any work that a model and an E-step can run sharded.
 * @throws EmError `INVALID_ARGUMENT` naming `options.workers`.
 * @category Sharding
 */
export function checkShardable(model: Model<any, any, any, any>, eStep: EStep | undefined, methodName: string): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!(SHARDABLE_KINDS as readonly string[]).includes(model.structureKind)) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], model.name, `cannot shard: its structure kind ${model.structureKind} does not shard (sharded kinds: ${SHARDABLE_KINDS.join(', ')})`, 'fit it with workers: 1');
  }
  if (model.shard === undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], model.name, 'cannot shard: the model has no sharding hooks (Model.shard)', 'fit it with workers: 1');
  }
  try {
    findModel(model.name);
  } catch (e) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], model.name, 'cannot shard: workers rebuild the model from the registry, and it is not registered', 'register the model (registerModel) in a module the workers import (threadShards({ modules }))', e);
  }
  if (eStep === undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], methodName, 'is not an E-step: only EM E-steps shard', 'fit this method with workers: 1');
  }
  if (eStep.shardable !== true || eStep.start !== undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], eStep.name, eStep.start !== undefined ? 'keeps state across iterations, so its blocks cannot be spread over workers' : 'is not marked shardable (EStep.shardable)', 'fit it with workers: 1, or use a stateless E-step such as exact, hard or stochastic');
  }
}

/** Everything a worker needs to serve one shard of one fit. @category Sharding */
export interface ShardWorkerSetup {
  readonly model: ShardModelSpec;
  readonly eStep: ShardEStepSpec;
  readonly payload: ShardPayload;
  readonly precisions: readonly Precision[];
  readonly shard: number;
  readonly nShards: number;
}

/**
 * One shard of a sharded fit on a worker (thread or machine): the model and E-step rebuilt from the
 * registries, the prepared data imported once, then one {@link ShardReply} per request: the outcomes
 * of the blocks it owns, in the block loop of the structure's kind (`finite`, `chain`, `factor-graph`).
 * The caller must have initialized the TensorFlow.js backend and imported the modules that register
 * the model and the E-step.
 * @throws EmError `INVALID_ARGUMENT` when the model or E-step cannot be rebuilt, or the structure kind does not shard.
 * @category Sharding
 */
export class ShardWorker {
  private readonly model: Model<any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  private readonly eStep: EStep;
  private readonly prepared: PreparedData;
  private readonly from: number;
  private readonly to: number;
  private disposed = false;

  constructor(readonly setup: ShardWorkerSetup) {
    this.model = findModel(setup.model.name, ['workers', 'model']).create(setup.model.options);
    const made = createEStep(setup.eStep.kind, setup.eStep.name, setup.eStep.options);
    if (typeof (made as EStep).run !== 'function') throw emError('INVALID_ARGUMENT', ['workers', 'eStep'], setup.eStep.name, 'is not an E-step in this worker', 'register the same E-step in the modules the workers import');
    this.eStep = made as EStep;
    if (this.model.shard === undefined) throw emError('INVALID_ARGUMENT', ['workers', 'model'], setup.model.name, 'has no sharding hooks in this worker', 'use the same emlab version on every worker');
    const { from, to } = shardRange(this.unitsOf(setup.payload), setup.shard, setup.nShards);
    this.from = from;
    this.to = to;
    this.prepared = this.model.shard.importPrepared(setup.payload, { precisions: setup.precisions, owns: (start) => start >= from && start < to });
  }

  private unitsOf(payload: ShardPayload): number {
    const meta = payload.meta as { nRows?: unknown; shardUnits?: unknown } | null;
    const n = meta?.shardUnits ?? meta?.nRows;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new EmError('INTERNAL', 'a shard payload must carry meta.nRows (the prepared rows) or meta.shardUnits');
    return n;
  }

  /** The outcomes of the blocks this shard owns at θ. */
  async evaluate(request: ShardRequest): Promise<ShardReply> {
    if (this.disposed) throw new EmError('INTERNAL', 'ShardWorker.evaluate after dispose');
    const { from, to } = this;
    const mine = (start: number): boolean => start >= from && start < to;
    const structure = this.model.structure(this.prepared, request.params, { precision: request.precision });
    const blocks: ShardBlockOutcome[] = [];
    const collect = (index: number, outcome: ShardOutcome): void => {
      blocks.push({ index, outcome });
    };
    // The E-step runs over the structure with a shard view only when this shard owns a block.
    const run = async (view: LatentStructure): Promise<void> => {
      await this.eStep.run(view, { rng: createRng(request.rngPath), iteration: request.iteration, passes: request.passes, state: undefined, precision: request.precision });
    };
    try {
      if (structure.kind === 'finite') {
        const finite = structure as FiniteStructure;
        let nBlocks = 0;
        let owned = 0;
        for (const chunk of finite.chunks()) {
          nBlocks++;
          if (mine(chunk.start)) owned++;
        }
        if (owned > 0) await run({ ...finite, chunks: (o) => finite.chunks(o), shard: { owns: (_i, start) => mine(start), collect } } as FiniteStructure);
        return { nComponents: finite.nComponents, nBlocks, blocks };
      }
      if (structure.kind === 'chain') {
        const chain = structure as ChainStructure;
        let nBlocks = 0;
        let owned = 0;
        for (const chunk of chain.chunks()) {
          nBlocks++;
          if (mine(chunk.rowStart)) owned++;
        }
        if (owned > 0) await run({ ...chain, chunks: (o) => chain.chunks(o), shard: { owns: (_i, rowStart) => mine(rowStart), collect } } as ChainStructure);
        return { kind: 'chain', nComponents: chain.nStates, nBlocks, blocks };
      }
      if (structure.kind === 'factor-graph') {
        const graph = structure as FactorGraphStructure;
        const ranges = factorGraphBlockRanges(graph.evidence.nPatterns, graph.evidence.batchSize);
        if (ranges.some((r) => mine(r.start))) await run({ ...graph, shard: { owns: (_i, start) => mine(start), collect } } as FactorGraphStructure);
        return { kind: 'factor-graph', nComponents: graph.spec.variables.length, nBlocks: ranges.length, blocks };
      }
      throw emError('INVALID_ARGUMENT', ['options', 'workers'], structure.kind, `is a structure kind that does not shard (sharded kinds: ${SHARDABLE_KINDS.join(', ')})`, 'fit with workers: 1');
    } finally {
      structure.dispose?.();
    }
  }

  /** Frees the prepared data (device blocks). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.prepared.dispose();
  }
}

/** The block outcomes of all shards, merged: one per block, in block order. @category Sharding */
export interface MergedShardOutcomes {
  readonly kind: ShardableKind;
  /** K as the shards report it (see {@link ShardReply.nComponents}). */
  readonly nComponents: number;
  readonly outcomes: ShardOutcome[];
}

/**
 * The replies of all shards as one outcome per block, in block order.
 * @throws EmError `INTERNAL` when the shards disagree on the structure, or a block is missing or doubled.
 * @category Sharding
 */
export function mergeShardOutcomes(replies: readonly ShardReply[]): MergedShardOutcomes {
  const first = replies[0];
  if (first === undefined) throw new EmError('INTERNAL', 'a sharded E-step got no replies');
  const kind = first.kind ?? 'finite';
  const outcomes: (ShardOutcome | undefined)[] = new Array(first.nBlocks);
  for (const r of replies) {
    if (r.nBlocks !== first.nBlocks || r.nComponents !== first.nComponents || (r.kind ?? 'finite') !== kind) {
      throw new EmError('INTERNAL', `shards disagree on the structure (${r.kind ?? 'finite'} vs ${kind}, ${r.nBlocks} vs ${first.nBlocks} blocks, K ${r.nComponents} vs ${first.nComponents}): they must run the same emlab version and data`);
    }
    for (const b of r.blocks) {
      if (!(b.index >= 0 && b.index < first.nBlocks) || outcomes[b.index] !== undefined) throw new EmError('INTERNAL', `block ${b.index} came back twice or out of range`);
      outcomes[b.index] = b.outcome;
    }
  }
  // biome-ignore lint/complexity/useIndexOf: holes of a sparse array must count (indexOf skips them)
  const missing = outcomes.findIndex((o) => o === undefined);
  if (missing >= 0) throw new EmError('INTERNAL', `block ${missing} of ${first.nBlocks} was evaluated by no shard`);
  return { kind, nComponents: first.nComponents, outcomes: outcomes as ShardOutcome[] };
}

/**
 * The structure the main thread's E-step runs over in a sharded fit: its block loop adds the given
 * outcomes in order instead of evaluating blocks (`chunks()` must not be called).
 * @category Sharding
 */
export function replayStructure<S>(outcomes: readonly FiniteOutcome<S>[], nRows: number, nComponents: number, algebra: StatsAlgebra<S>, precision: Precision): FiniteStructure<S> {
  return {
    kind: 'finite',
    precision,
    nRows,
    nComponents,
    algebra,
    chunks: () => {
      throw new EmError('INTERNAL', 'a sharded structure serves outcomes, not blocks: use reduceFiniteChunks');
    },
    shard: { outcomes },
  };
}

/** What {@link replayShardStructure} needs from the main thread. @category Sharding */
export interface ReplayContext<S> {
  /** Prepared rows (`finite`) or time steps (`chain`). */
  readonly nRows: number;
  readonly algebra: StatsAlgebra<S>;
  readonly precision: Precision;
  /**
   * The model's structure at θ on the main thread, for kinds whose E-step reads more than the outcomes
   * (`factor-graph`: the spec and evidence for its diagnostics); never called for `finite` and `chain`.
   */
  readonly structure: () => LatentStructure;
}

/**
 * The structure the main thread's E-step runs over in a sharded fit, for any shardable kind: the kind's
 * block loop adds the merged outcomes in block order instead of evaluating blocks.
 * @category Sharding
 */
export function replayShardStructure<S>(merged: MergedShardOutcomes, ctx: ReplayContext<S>): LatentStructure {
  const { kind, nComponents, outcomes } = merged;
  if (kind === 'finite') return replayStructure(outcomes as FiniteOutcome<S>[], ctx.nRows, nComponents, ctx.algebra, ctx.precision);
  if (kind === 'chain') {
    const chain = outcomes as ChainOutcome<S>[];
    const replay: ChainStructure<S> = {
      kind: 'chain',
      precision: ctx.precision,
      nStates: nComponents,
      nSequences: chain.reduce((n, o) => n + o.sequences, 0),
      nRows: ctx.nRows,
      algebra: ctx.algebra,
      chunks: () => {
        throw new EmError('INTERNAL', 'a sharded structure serves outcomes, not blocks: use reduceChainChunks');
      },
      shard: { outcomes: chain },
    };
    return replay;
  }
  const base = ctx.structure();
  if (base.kind !== 'factor-graph') throw new EmError('INTERNAL', `the shards replied for a factor-graph structure, but the model's is ${base.kind}`);
  const replay: FactorGraphStructure<S> = { ...(base as FactorGraphStructure<S>), shard: { outcomes: outcomes as FactorGraphOutcome<S>[] } };
  return replay;
}
