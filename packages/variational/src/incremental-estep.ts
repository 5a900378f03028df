/**
 * The incremental E-step (Neal & Hinton 1998, §3): one block of the data per
 * call, statistics updated by replacing that block's contribution, for
 * `finite` structures (blocks of rows), `factor-graph` structures (blocks
 * of distinct evidence patterns) and `chain` structures (blocks of whole
 * sequences).
 * @module
 */
import {
  emError,
  type ChainChunk,
  type ChainStructure,
  parseOptions,
  registerEStep,
  type EStep,
  type EStepResult,
  type EvidencePatterns,
  type FactorGraphStructure,
  type FiniteChunk,
  type FiniteStructure,
  type OptionSchema,
  type Precision,
  type StatsAlgebra,
} from '@emlab/core';
import { disposeIncremental, incrementalRun, passOrder, startInner, type IncrementalState } from './internal/incremental-core.js';
import { innerEStep } from './internal/inner-estep.js';

/** The option table of the incremental E-steps. @category E-steps */
export const INCREMENTAL_OPTIONS = {
  blocks: { type: 'integer', min: 1, default: 10, description: 'B: blocks of rows (finite), of distinct evidence patterns (factor graphs) or of whole sequences (chains); one is visited per call' },
  order: { type: 'enum', values: ['cyclic', 'random'], default: 'cyclic', description: 'visiting order of the blocks within a pass (random: reshuffled every pass)' },
  inner: { type: 'string', default: 'exact', description: 'the registered E-step run on each block (exact by default; any exact or restricted E-step of the structure kind)' },
} as const satisfies OptionSchema;

/** Options of the incremental E-steps. @category E-steps */
export interface IncrementalOptions {
  /** Number of blocks B ≥ 1. Default 10. */
  readonly blocks?: number;
  /** `'cyclic'` (default) or `'random'` (a fresh permutation every pass). */
  readonly order?: 'cyclic' | 'random';
  /** The E-step run on each block, by registered name. Default `'exact'` (import `@emlab/exact`). */
  readonly inner?: string;
}

function parse(options: IncrementalOptions, owner: string): { blocks: number; shuffle: boolean; inner: string; recorded: Record<string, unknown> } {
  const o = parseOptions(INCREMENTAL_OPTIONS, options, owner);
  return { blocks: o['blocks'] as number, shuffle: o['order'] === 'random', inner: o['inner'] as string, recorded: { blocks: o['blocks'], order: o['order'], inner: o['inner'] } };
}

const DESCRIPTION = (what: string): string => `incremental EM: one block of ${what} per call, its statistics replaced in the totals (Neal & Hinton 1998); passes counted by coverage`;

// ---------------------------------------------------------------------------
// finite
// ---------------------------------------------------------------------------

/** A block of a finite or chain structure: a run of consecutive chunks. */
interface RowBlock {
  readonly from: number;
  readonly to: number;
  readonly rows: number;
}

/** The state before the first call: no blocks planned yet (every kind starts from it). */
function initialState(inner: EStep, shuffle: boolean): IncrementalState {
  return {
    nBlocks: 0,
    blockSize: new Float64Array(0),
    totalSize: 0,
    inner,
    innerState: undefined,
    innerStarted: false,
    contributions: [],
    total: undefined,
    entropy: 0,
    order: new Int32Array(0),
    position: 0,
    blocks: [],
    shuffle,
    disposed: false,
  };
}

/** State of the kinds whose blocks are runs of the structure's chunks (finite, chain). */
interface RowBlockState extends IncrementalState {
  maxRows: number;
  nChunks: number;
}

/** Consecutive chunks of `sizes` rows grouped into at most `b` blocks of about n/b rows each (no empty block). */
function groupChunks(sizes: readonly number[], n: number, b: number): RowBlock[] {
  const out: RowBlock[] = [];
  let from = 0;
  let rows = 0;
  let seen = 0;
  sizes.forEach((r, i) => {
    rows += r;
    seen += r;
    // Close a block once the rows so far reach the next of the B equal shares.
    if (seen >= ((out.length + 1) * n) / b - 1e-9 || i === sizes.length - 1) {
      out.push({ from, to: i + 1, rows });
      from = i + 1;
      rows = 0;
    }
  });
  return out;
}

/** Number of chunks a structure serves for the hint `maxRows` (a changed layout means planning again). */
function countChunks(structure: { chunks(options: { maxRows: number }): Iterable<unknown> }, maxRows: number): number {
  let c = 0;
  for (const _ of structure.chunks({ maxRows })) c++;
  return c;
}

/** Takes a new plan of row blocks: every block's contribution is forgotten, so the next call is a full E-step. */
function adoptPlan(state: RowBlockState, plan: { blocks: RowBlock[]; maxRows: number; nChunks: number }, totalSize: number, rng: Parameters<typeof passOrder>[2]): void {
  state.blocks = plan.blocks;
  state.nBlocks = plan.blocks.length;
  state.blockSize = Float64Array.from(plan.blocks, (b) => b.rows);
  state.totalSize = totalSize;
  state.maxRows = plan.maxRows;
  state.nChunks = plan.nChunks;
  state.contributions = new Array(plan.blocks.length).fill(undefined);
  state.total = undefined;
  state.entropy = 0;
  state.order = passOrder(plan.blocks.length, state.shuffle, rng);
  state.position = 0;
}

interface FiniteIncrementalState extends RowBlockState {
  precision: Precision | undefined;
}

/** Consecutive chunks grouped into at most B blocks of about N/B rows each (no empty block). */
function planRowBlocks(structure: FiniteStructure, blocks: number): { blocks: RowBlock[]; maxRows: number; nChunks: number } {
  const n = structure.nRows;
  const b = Math.max(1, Math.min(blocks, n));
  const maxRows = Math.ceil(n / b);
  const sizes = Array.from(structure.chunks({ maxRows }), (c: FiniteChunk<unknown>) => c.rows);
  return { blocks: groupChunks(sizes, n, b), maxRows, nChunks: sizes.length };
}

function replan(state: FiniteIncrementalState, structure: FiniteStructure, blocks: number, rng: Parameters<typeof passOrder>[2]): void {
  adoptPlan(state, planRowBlocks(structure, blocks), structure.nRows, rng);
  state.precision = structure.precision;
}

/**
 * Incremental EM over a finite latent: blocks of about N/B consecutive rows (the structure is asked
 * for chunks of at most ⌈N/B⌉ rows, so only the visited block's log-joint table is computed when the
 * model honours the hint; otherwise its chunks are grouped). The first call is a full E-step; each
 * later call runs the inner E-step (exact by default) on one block and replaces its statistics in the
 * totals. Because the new q of the block maximizes L over that block with the rest fixed, L(q, θ)
 * never decreases at any partial step, and the M-step after each call keeps its own guarantee.
 *
 * `coverage` is the block's share of the rows, so `maxIter` counts passes and convergence is checked
 * at pass ends. The E-step's own `bound` is Σ_b L_b at each block's last visit (fit's `boundAfterE`
 * is the exact L(q, θ_t), from the statistics); no log-likelihood is reported (it would need every
 * block). If the model changes its chunk layout (precision `auto` moving to float64), the blocks are
 * planned again and the next call is a full E-step.
 *
 * State: per block its statistics, entropy and bound, the totals, the pass order, the inner E-step's
 * state. Diagnostics: `block` (−1 for a full pass), `blocks`, `blockBound`.
 *
 * @example
 * ```ts
 * const r = await fit(gaussianMixture({ nComponents: 4 }), x, { eStep: 'incremental', eStepOptions: { blocks: 20 } });
 * console.log(r.passes, r.nIter); // passes over the data, calls of the E-step
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option; `UNKNOWN_ESTEP` when the inner E-step is not
 *   registered (import `@emlab/exact`).
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @category E-steps
 */
export function incrementalEStep(options: IncrementalOptions = {}): EStep<FiniteStructure, IncrementalState> {
  const o = parse(options, 'incrementalEStep');
  return {
    name: 'incremental',
    kind: 'finite',
    family: 'restricted',
    options: o.recorded,
    start(ctx) {
      const inner = innerEStep('finite', o.inner, ['options', 'eStepOptions', 'inner'], 'the incremental E-step', ['incremental']);
      const state: FiniteIncrementalState = { ...initialState(inner, o.shuffle), maxRows: 0, nChunks: 0, precision: undefined };
      startInner(state, ctx.structure, ctx.rng, ctx.restart);
      return state;
    },
    async run(structure, ctx) {
      const state = ctx.state as FiniteIncrementalState;
      if (state.nBlocks === 0 || state.precision !== structure.precision || countChunks(structure, state.maxRows) !== state.nChunks) replan(state, structure, o.blocks, ctx.rng.child('order'));
      const runBlock = async (b: number, innerCtx: Parameters<EStep['run']>[1]): Promise<EStepResult> => {
        const block = state.blocks[b] as RowBlock;
        const sub: FiniteStructure = {
          kind: 'finite',
          ...(structure.precision === undefined ? {} : { precision: structure.precision }),
          nRows: block.rows,
          nComponents: structure.nComponents,
          algebra: structure.algebra,
          chunks: () => Array.from(structure.chunks({ maxRows: state.maxRows })).slice(block.from, block.to),
        };
        return await state.inner.run(sub, innerCtx);
      };
      return await incrementalRun(state, structure.algebra as StatsAlgebra<unknown>, ctx, runBlock);
    },
    dispose: disposeIncremental,
  };
}

// ---------------------------------------------------------------------------
// factor-graph
// ---------------------------------------------------------------------------

/**
 * The evidence of patterns [from, to) as evidence of its own (host arrays only: no tensors), so any
 * host E-step runs on a block. One object per block and fit, so plans cached on it stay valid.
 * @internal
 */
export function evidenceBlock(evidence: EvidencePatterns, from: number, to: number): EvidencePatterns {
  const nv = evidence.nVariables;
  const counts = evidence.counts.subarray(from, to);
  let totalWeight = 0;
  for (const c of counts) totalWeight += c;
  return {
    nVariables: nv,
    nRows: 0,
    totalWeight,
    nPatterns: to - from,
    values: evidence.values.subarray(from * nv, to * nv),
    counts,
    rowPattern: new Int32Array(0),
    batches: [],
    batchSize: evidence.batchSize,
    dispose() {},
  };
}

/** Blocks of consecutive patterns with about equal total weight (multiplicity): at most B, none empty. */
function planPatternBlocks(evidence: EvidencePatterns, blocks: number): EvidencePatterns[] {
  const p = evidence.nPatterns;
  const b = Math.max(1, Math.min(blocks, p));
  const out: EvidencePatterns[] = [];
  let from = 0;
  let seen = 0;
  for (let i = 0; i < p; i++) {
    seen += evidence.counts[i] as number;
    if (seen >= ((out.length + 1) * evidence.totalWeight) / b - 1e-9 * evidence.totalWeight || i === p - 1) {
      out.push(evidenceBlock(evidence, from, i + 1));
      from = i + 1;
    }
  }
  return out;
}

/**
 * Incremental EM over a factor graph (Bayesian networks with hidden nodes or missing cells): blocks
 * of consecutive distinct evidence patterns with about equal multiplicity, so a block's cost is its
 * share of the patterns. Otherwise as {@link incrementalEStep}: the first call is a full E-step, each
 * later call runs the inner E-step (the junction tree by default; `mean-field` also works) on one
 * block and replaces its statistics; `coverage` is the block's share of the row weight. float64 only
 * (blocks are host evidence, without the float32 indicator tensors).
 *
 * @example
 * ```ts
 * const r = await fit(bayesianNetwork(net, { hidden: ['Z'] }), data, { eStep: 'incremental', eStepOptions: { blocks: 8 } });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option; `UNKNOWN_ESTEP` when the inner E-step is not registered.
 * @see Neal, R. M. & Hinton, G. E. (1998).
 * @see Thiesson, B., Meek, C. & Heckerman, D. (2001). Accelerating EM for large databases. Machine Learning 45, 279–299.
 * @category E-steps
 */
export function factorGraphIncrementalEStep(options: IncrementalOptions = {}): EStep<FactorGraphStructure, IncrementalState> {
  const o = parse(options, 'factorGraphIncrementalEStep');
  return {
    name: 'incremental',
    kind: 'factor-graph',
    family: 'restricted',
    options: o.recorded,
    precisions: ['float64'],
    start(ctx) {
      const structure = ctx.structure;
      if (structure.kind !== 'factor-graph') throw emError('INVALID_ARGUMENT', ['options', 'eStep'], 'incremental', `this E-step runs on factor graphs, not "${structure.kind}"`, 'use the finite incremental E-step');
      const evidence = (structure as FactorGraphStructure).evidence;
      const inner = innerEStep('factor-graph', o.inner, ['options', 'eStepOptions', 'inner'], 'the incremental E-step', ['incremental']);
      const blocks = planPatternBlocks(evidence, o.blocks);
      const state: IncrementalState = {
        ...initialState(inner, o.shuffle),
        nBlocks: blocks.length,
        blockSize: Float64Array.from(blocks, (b) => b.totalWeight),
        totalSize: evidence.totalWeight,
        contributions: new Array(blocks.length).fill(undefined),
        order: passOrder(blocks.length, o.shuffle, ctx.rng.child('order')),
        blocks,
      };
      startInner(state, structure, ctx.rng, ctx.restart);
      return state;
    },
    async run(structure, ctx) {
      const state = ctx.state;
      const runBlock = async (b: number, innerCtx: Parameters<EStep['run']>[1]): Promise<EStepResult> => {
        const sub: FactorGraphStructure = {
          kind: 'factor-graph',
          precision: 'float64',
          spec: structure.spec,
          factorTables: structure.factorTables,
          ...(structure.logConstant === undefined ? {} : { logConstant: structure.logConstant }),
          evidence: state.blocks[b] as EvidencePatterns,
          algebra: structure.algebra,
          stats: (counts) => structure.stats(counts),
        };
        return await state.inner.run(sub, { ...innerCtx, precision: 'float64' });
      };
      return await incrementalRun(state, structure.algebra as StatsAlgebra<unknown>, ctx, runBlock);
    },
    dispose: disposeIncremental,
  };
}

// ---------------------------------------------------------------------------
// chain
// ---------------------------------------------------------------------------

/**
 * Blocks of whole sequences for a chain structure: it is asked for chunks of at most ⌈ΣT/B⌉ rows
 * (whole sequences), which are grouped into at most B blocks of about ΣT/B time steps (no empty
 * block; a sequence is never split, so B is at most the number of sequences).
 */
function planSequenceBlocks(structure: ChainStructure, blocks: number): { blocks: RowBlock[]; maxRows: number; nChunks: number } {
  const n = structure.nRows;
  const b = Math.max(1, Math.min(blocks, structure.nSequences));
  const maxRows = Math.ceil(n / b);
  const sizes = Array.from(structure.chunks({ maxRows }), (c: ChainChunk<unknown>) => c.lengths.reduce((a, len) => a + len, 0));
  return { blocks: groupChunks(sizes, n, b), maxRows, nChunks: sizes.length };
}

/**
 * Incremental EM over hidden Markov chains (Neal & Hinton 1998, §3): blocks of whole sequences of
 * about ΣT/B time steps each (the structure is asked for chunks of at most ⌈ΣT/B⌉ rows, so only the
 * visited block's emission table is computed when the model honours the hint, as the HMM does;
 * otherwise its chunks are grouped). The first call is a full E-step; each later call runs the inner
 * E-step (`exact` forward–backward by default, or any registered exact or restricted chain E-step) on
 * one block and replaces that block's statistics, entropy and bound in the totals. The block's new q
 * maximizes L over its sequences with the rest of q fixed (for the exact inner E-step), so
 * L(q, θ) never decreases at any partial step, and the M-step after each call keeps its guarantee.
 *
 * Bound: fit's `boundAfterE` is the exact L(q, θ_t) = E_q log p(x, z | θ_t) + H(q) from the totals
 * (every constant; the blocks not visited keep their q from an older θ, so it is a lower bound on
 * log p(x | θ_t)); the E-step's own `bound` is Σ_b L_b at each block's last visit, and no
 * log-likelihood is reported. `coverage` is the block's share of the time steps, so `maxIter` counts
 * passes and convergence is checked at pass ends.
 *
 * @example
 * ```ts
 * const r = await fit(hiddenMarkovModel({ nStates: 3 }), { x, lengths }, { eStep: 'incremental', eStepOptions: { blocks: 20 } });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option; `UNKNOWN_ESTEP` when the inner E-step is not registered (import `@emlab/exact`).
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @category E-steps
 */
export function chainIncrementalEStep(options: IncrementalOptions = {}): EStep<ChainStructure, IncrementalState> {
  const o = parse(options, 'chainIncrementalEStep');
  return {
    name: 'incremental',
    kind: 'chain',
    family: 'restricted',
    options: o.recorded,
    start(ctx) {
      const inner = innerEStep('chain', o.inner, ['options', 'eStepOptions', 'inner'], 'the incremental E-step', ['incremental']);
      const state: RowBlockState = { ...initialState(inner, o.shuffle), maxRows: 0, nChunks: 0 };
      startInner(state, ctx.structure, ctx.rng, ctx.restart);
      return state;
    },
    async run(structure, ctx) {
      const state = ctx.state as RowBlockState;
      if (state.nBlocks === 0 || state.totalSize !== structure.nRows || countChunks(structure, state.maxRows) !== state.nChunks) {
        adoptPlan(state, planSequenceBlocks(structure, o.blocks), structure.nRows, ctx.rng.child('order'));
      }
      const runBlock = async (b: number, innerCtx: Parameters<EStep['run']>[1]): Promise<EStepResult> => {
        const block = state.blocks[b] as RowBlock;
        const chunks = Array.from(structure.chunks({ maxRows: state.maxRows })).slice(block.from, block.to);
        const sub: ChainStructure = {
          kind: 'chain',
          ...(structure.precision === undefined ? {} : { precision: structure.precision }),
          nStates: structure.nStates,
          nSequences: chunks.reduce((a, c) => a + c.lengths.length, 0),
          nRows: block.rows,
          algebra: structure.algebra,
          chunks: () => chunks,
        };
        return await state.inner.run(sub, innerCtx);
      };
      return await incrementalRun(state, structure.algebra as StatsAlgebra<unknown>, ctx, runBlock);
    },
    dispose: disposeIncremental,
  };
}

const REGISTERED = {
  family: 'restricted',
  method: 'incremental',
  options: INCREMENTAL_OPTIONS,
} as const;

registerEStep({ ...REGISTERED, kind: 'finite', description: DESCRIPTION('rows'), create: (options) => incrementalEStep((options ?? {}) as IncrementalOptions) });
registerEStep({ ...REGISTERED, kind: 'chain', description: DESCRIPTION('whole sequences'), create: (options) => chainIncrementalEStep((options ?? {}) as IncrementalOptions) });
registerEStep({ ...REGISTERED, kind: 'factor-graph', description: DESCRIPTION('distinct evidence patterns'), create: (options) => factorGraphIncrementalEStep((options ?? {}) as IncrementalOptions) });
