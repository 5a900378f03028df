/**
 * The bookkeeping of incremental EM (Neal & Hinton 1998), shared by the
 * `finite` and `factor-graph` incremental E-steps: per block its statistics,
 * entropy and bound; the running totals updated by subtracting a block's old
 * contribution and adding its new one (with the structure's statistics
 * algebra); the visiting order; an exact re-summation at every pass end so
 * that rounding does not accumulate over passes.
 * @internal
 * @module
 */
import type { EStep, EStepContext, EStepResult, LatentStructure, Rng, StatsAlgebra } from '@emlab/core';

/** One block's latest contribution. */
export interface BlockContribution {
  readonly stats: unknown;
  readonly entropy: number;
  readonly bound: number;
}

/** The incremental E-step's state (created in `start`, freed in `dispose`). */
export interface IncrementalState {
  /** Number of blocks B. */
  nBlocks: number;
  /** Rows (finite) or row weight (factor graphs) per block, for `coverage`. */
  blockSize: Float64Array;
  totalSize: number;
  /** The inner E-step and its state (started once on the whole structure). */
  readonly inner: EStep;
  innerState: unknown;
  innerStarted: boolean;
  contributions: (BlockContribution | undefined)[];
  total: unknown;
  entropy: number;
  /** Visiting order of the current pass, and the position in it. */
  order: Int32Array;
  position: number;
  /** Block-specific data of the structure kind (chunk ranges, sub-evidence). */
  blocks: readonly unknown[];
  /** Whether the order is reshuffled at every pass. */
  readonly shuffle: boolean;
  disposed: boolean;
}

/** A fresh order 0 … B − 1, shuffled (Fisher–Yates) when asked. */
export function passOrder(nBlocks: number, shuffle: boolean, rng: Rng): Int32Array {
  const order = Int32Array.from({ length: nBlocks }, (_, i) => i);
  if (!shuffle) return order;
  for (let i = nBlocks - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** Σ of the blocks' statistics (in block order) and entropies. */
function resum(state: IncrementalState, algebra: StatsAlgebra<unknown>): void {
  let total: unknown;
  let entropy = 0;
  for (const c of state.contributions) {
    if (c === undefined) continue;
    total = total === undefined ? c.stats : algebra.add(total, c.stats);
    entropy += c.entropy;
  }
  state.total = total;
  state.entropy = entropy;
}

/**
 * One call of an incremental E-step. The first call visits every block (a full E-step, coverage 1);
 * each later call visits one block (coverage = its size / total) and replaces its contribution:
 * total ← total − old_b + new_b with the algebra. At the end of every pass the totals are
 * re-summed from the blocks, and the order is reshuffled when asked.
 *
 * @param runBlock - runs the inner E-step on block b (with the inner state).
 */
export async function incrementalRun(
  state: IncrementalState,
  algebra: StatsAlgebra<unknown>,
  ctx: EStepContext<IncrementalState>,
  runBlock: (b: number, innerCtx: EStepContext) => Promise<EStepResult>,
): Promise<EStepResult> {
  const innerCtx = (b: number): EStepContext => ({
    rng: ctx.rng.child('block', b),
    iteration: ctx.iteration,
    passes: ctx.passes,
    state: state.innerState,
    precision: ctx.precision,
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
  let marks: { exempt?: string; unsettled?: string } = {};
  const visit = async (b: number): Promise<BlockContribution> => {
    const e = await runBlock(b, innerCtx(b));
    if (e.exempt !== undefined) marks = { ...marks, exempt: `block ${b}: ${e.exempt}` };
    if (e.unsettled !== undefined) marks = { ...marks, unsettled: `block ${b}: ${e.unsettled}` };
    return { stats: e.stats, entropy: e.entropy, bound: e.bound };
  };
  const first = state.contributions.length === 0 || state.contributions.every((c) => c === undefined);
  let coverage: number;
  let block: number;
  if (first) {
    for (let b = 0; b < state.nBlocks; b++) state.contributions[b] = await visit(b);
    resum(state, algebra);
    coverage = 1;
    block = -1;
  } else {
    block = state.order[state.position] as number;
    const old = state.contributions[block] as BlockContribution;
    const now = await visit(block);
    state.contributions[block] = now;
    state.total = algebra.add(algebra.add(state.total, algebra.scale(old.stats, -1)), now.stats);
    state.entropy += now.entropy - old.entropy;
    coverage = (state.blockSize[block] as number) / state.totalSize;
    state.position++;
    if (state.position === state.nBlocks) {
      state.position = 0;
      resum(state, algebra);
      state.order = passOrder(state.nBlocks, state.shuffle, ctx.rng.child('order'));
    }
  }
  let bound = 0;
  for (const c of state.contributions) bound += (c as BlockContribution).bound;
  return {
    stats: state.total,
    // Σ_b L_b(q_b, θ at the block's last visit): fit's boundAfterE is the exact L(q, θ_t) from the statistics.
    bound,
    entropy: state.entropy,
    coverage,
    diagnostics: { block, blocks: state.nBlocks, blockBound: block < 0 ? bound : (state.contributions[block] as BlockContribution).bound },
    ...marks,
  };
}

/** Starts the inner E-step once, on the whole structure. */
export function startInner(state: IncrementalState, structure: LatentStructure, rng: Rng, restart: number): void {
  if (state.innerStarted) return;
  state.innerStarted = true;
  if (state.inner.start !== undefined) state.innerState = state.inner.start({ rng: rng.child('inner'), restart, structure });
}

/** Frees the inner state and the blocks' statistics. */
export function disposeIncremental(state: IncrementalState): void {
  if (state.disposed) return;
  state.disposed = true;
  if (state.innerStarted && state.inner.start !== undefined) state.inner.dispose?.(state.innerState);
  state.contributions = [];
  state.total = undefined;
}
