/**
 * The sparse E-step over a finite latent (Neal & Hinton 1998, §4): per row,
 * only the m most plausible components are updated; the others keep frozen
 * responsibilities until the next full refresh.
 * @module
 */
import { emError, parseOptions, reduceFiniteChunksAsync, registerEStep, type EStep, type FiniteBlock, type FiniteChoice, type FiniteStructure, type OptionSchema } from '@emlab/core';

/** The option table of {@link sparseEStep}. @category E-steps */
export const SPARSE_OPTIONS = {
  m: { type: 'integer', min: 1, default: 2, description: 'components per row updated between refreshes (the top m of the last full posterior)' },
  refreshEvery: { type: 'integer', min: 1, default: 10, description: 'a full (exact) E-step every this many iterations, which also re-picks each row’s top m' },
} as const satisfies OptionSchema;

/** Options of {@link sparseEStep}. @category E-steps */
export interface SparseOptions {
  /** Components updated per row in a sparse step. Default 2. */
  readonly m?: number;
  /** Full refresh every r iterations (the first iteration is one). Default 10. */
  readonly refreshEvery?: number;
}

/** The sparse E-step's state: per row its q and its active components (allocated in `start`, freed in `dispose`). @category E-steps */
export interface SparseState {
  /** `[N × K]` q of every row (the frozen values of inactive components). */
  q: Float64Array;
  /** `[N × m]` the active components of every row. */
  active: Int32Array;
  /** Calls so far in this restart. */
  calls: number;
}

/**
 * A full refresh of one block: q = the posterior, and each row's m components of largest posterior
 * (ties: lower index) become its active set. Stores both in the state.
 * @internal
 */
export function refreshBlock(block: FiniteBlock, state: SparseState, m: number): FiniteChoice {
  const { rows, nComponents: k, start } = block;
  const post = block.posterior();
  state.q.set(post, start * k);
  const order = new Int32Array(k);
  for (let n = 0; n < rows; n++) {
    for (let j = 0; j < k; j++) order[j] = j;
    const o = n * k;
    // Partial selection sort: the m largest posteriors (ties: the lower component index).
    for (let a = 0; a < m; a++) {
      let best = a;
      for (let b = a + 1; b < k; b++) {
        const pb = post[o + (order[b] as number)] as number;
        const pBest = post[o + (order[best] as number)] as number;
        if (pb > pBest || (pb === pBest && (order[b] as number) < (order[best] as number))) best = b;
      }
      const t = order[a] as number;
      order[a] = order[best] as number;
      order[best] = t;
    }
    state.active.set(order.subarray(0, m), (start + n) * m);
  }
  return { q: post };
}

/**
 * A sparse step on one block: for each row with active set S and frozen mass 1 − μ_S
 * (μ_S = Σ_{k∈S} q_nk), q_nk = μ_S · p(x_n, k) / Σ_{j∈S} p(x_n, j) for k ∈ S, the rest unchanged: the
 * maximizer of L over the q that agree with the current one outside S. A row whose active components
 * all have probability 0 keeps its q. Updates the state.
 * @internal
 */
export function sparseBlock(block: FiniteBlock, state: SparseState, m: number): FiniteChoice {
  const { rows, nComponents: k, start, logJoint } = block;
  const q = state.q.slice(start * k, (start + rows) * k);
  for (let n = 0; n < rows; n++) {
    const o = n * k;
    const s = (start + n) * m;
    let mass = 0;
    let top = Number.NEGATIVE_INFINITY;
    for (let a = 0; a < m; a++) {
      const j = state.active[s + a] as number;
      mass += q[o + j] as number;
      top = Math.max(top, logJoint[o + j] as number);
    }
    if (top === Number.NEGATIVE_INFINITY || mass === 0) continue;
    let total = 0;
    for (let a = 0; a < m; a++) total += Math.exp((logJoint[o + (state.active[s + a] as number)] as number) - top);
    for (let a = 0; a < m; a++) {
      const j = state.active[s + a] as number;
      q[o + j] = (mass * Math.exp((logJoint[o + j] as number) - top)) / total;
    }
  }
  state.q.set(q, start * k);
  return { q };
}

/**
 * The sparse E-step (Neal & Hinton 1998): every `refreshEvery` iterations (starting with the first)
 * a full E-step sets q to the posterior and picks each row's `m` most probable components; in the
 * iterations between, only those m components are updated (renormalized within the mass they hold),
 * and every other q_nk stays frozen. Each sparse step maximizes L(q, θ) over the q that agree with
 * the current one on the frozen components, so the E-half never lowers L; a refresh maximizes it
 * over all q. The bound is L(q, θ) of the q kept, every constant included (≤ log p(x | θ); the gap is
 * in the trace). With `m` ≥ K it is the exact E-step.
 *
 * Sparse steps are marked unsettled (fit only stops on a refresh, an EM fixed point). In emlab the
 * model computes the whole `[rows × K]` table anyway, so the saving of Neal & Hinton's algorithm
 * (m instead of K density evaluations per row) shows only in `diagnostics.evaluations`.
 *
 * State: per row its q `[N × K]` and active set `[N × m]` (rows are identified by the block's first
 * row `start`, which models keep fixed across iterations). Diagnostics: `refresh` (1 on a full step),
 * `evaluations` (component evaluations the algorithm needs), `frozenMass` (Σ_n w_n (1 − μ_S,n): mass
 * held fixed in this step).
 *
 * @example
 * ```ts
 * const r = await fit(gaussianMixture({ nComponents: 20 }), x, { eStep: sparseEStep({ m: 3, refreshEvery: 5 }) });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option.
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @category E-steps
 */
export function sparseEStep(options: SparseOptions = {}): EStep<FiniteStructure, SparseState> {
  const o = parseOptions(SPARSE_OPTIONS, options, 'sparseEStep');
  const mOpt = o['m'] as number;
  const refreshEvery = o['refreshEvery'] as number;
  return {
    name: 'sparse',
    kind: 'finite',
    family: 'restricted',
    options: { m: mOpt, refreshEvery },
    start(ctx) {
      const s = ctx.structure;
      if (s.kind !== 'finite') throw emError('INVALID_ARGUMENT', ['options', 'eStep'], 'sparse', `runs on finite structures, not "${s.kind}"`, 'use a finite model');
      const f = s as FiniteStructure;
      const m = Math.min(mOpt, f.nComponents);
      return { q: new Float64Array(f.nRows * f.nComponents), active: new Int32Array(f.nRows * m), calls: 0 };
    },
    async run(structure, ctx) {
      const state = ctx.state;
      const k = structure.nComponents;
      const m = Math.min(mOpt, k);
      if (state.q.length !== structure.nRows * k) {
        throw emError('INTERNAL', ['sparseEStep', 'state'], state.q.length, `holds ${state.q.length} entries for ${structure.nRows} rows × ${k} components`, 'start the E-step on the structure it runs on');
      }
      const full = state.calls % refreshEvery === 0 || m === k;
      state.calls++;
      let frozen = 0;
      const r = await reduceFiniteChunksAsync(
        structure,
        ctx.rng,
        (block) => {
          if (full) return refreshBlock(block, state, m);
          // Mass outside each row's active set, for the diagnostic (weighted by core through `sums`).
          const out = new Float64Array(block.rows);
          for (let n = 0; n < block.rows; n++) {
            let mass = 0;
            for (let a = 0; a < m; a++) mass += state.q[(block.start + n) * k + (state.active[(block.start + n) * m + a] as number)] as number;
            out[n] = 1 - mass;
          }
          return { ...sparseBlock(block, state, m), sums: { frozenMass: out } };
        },
        { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) },
      );
      frozen = r.sums['frozenMass'] ?? 0;
      return {
        stats: r.stats,
        bound: r.bound,
        entropy: r.entropy,
        logLikelihood: r.logLikelihood,
        diagnostics: { refresh: full ? 1 : 0, evaluations: r.rows * (full ? k : m), frozenMass: frozen },
        ...(full ? {} : { unsettled: `sparse step (${m} of ${k} components per row; a full refresh every ${refreshEvery} iterations)` }),
      };
    },
    dispose(state) {
      state.q = new Float64Array(0);
      state.active = new Int32Array(0);
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'sparse',
  family: 'restricted',
  description: 'sparse EM: per row only the top-m components are updated, the rest frozen, a full refresh every r iterations (Neal & Hinton 1998)',
  options: SPARSE_OPTIONS,
  create: (options) => sparseEStep((options ?? {}) as SparseOptions),
});
