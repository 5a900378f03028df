/**
 * The E-step contract.
 *
 * An E-step chooses q (exactly, within a restricted family, or by sampling)
 * and returns the expected sufficient statistics with the complete bound
 * L(q, θ) = E_q[log p(x, z | θ)] + H(q), constants included, so that values
 * from different E-steps are comparable.
 *
 * Lifecycle (once per restart): `start` creates the E-step's state (mean-field
 * q, sampler chains, SAEM running statistics, per-block statistics of an
 * incremental E-step, tensors included), `run` is called once per iteration
 * with that state (it may return a Promise: sharded and remote E-steps), and
 * `dispose` frees the state. `fit` calls `dispose` exactly once per `start`,
 * on success, on error and on abort.
 *
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @module
 */
import type { ConvergencePolicy } from './convergence.js';
import type { Precision } from './precision.js';
import type { Rng } from './rng.js';
import type { LatentStructure } from './structures.js';

/**
 * How a method relates to the exact posterior.
 * - `exact`: q = p(z | x, θ); L = log p(x | θ).
 * - `restricted`: q maximizes L over a restricted family; L ≤ log p(x | θ), never decreases.
 * - `monte-carlo`: statistics from samples; L is an estimate with a standard error.
 * - `gradient`: not EM: direct ascent on log p(x | θ) (the gradient baseline); its bound is the log-likelihood.
 * @category Interfaces
 */
export type MethodFamily = 'exact' | 'restricted' | 'monte-carlo' | 'gradient';

/** The families an E-step can have. @category Interfaces */
export type EStepFamily = Exclude<MethodFamily, 'gradient'>;

/** What the reported bound is. @category Interfaces */
export type BoundKind = 'log-likelihood' | 'lower-bound' | 'estimate';

/** The bound kind that goes with a family. @category Interfaces */
export function boundKindOf(family: MethodFamily): BoundKind {
  return family === 'exact' || family === 'gradient' ? 'log-likelihood' : family === 'restricted' ? 'lower-bound' : 'estimate';
}

/** What `start` gets: once per restart, before the first `run`. @category Interfaces */
export interface EStepStartContext {
  /** Stream `seed/restart/r/estep-start`. */
  readonly rng: Rng;
  /** 0-based restart index. */
  readonly restart: number;
  /** The structure at the starting parameters (the same object the first `run` receives). */
  readonly structure: LatentStructure;
}

/** Context `fit` passes to every E-step call. @category Interfaces */
export interface EStepContext<St = unknown> {
  /** Stream `seed/restart/r/iter/t/estep`. */
  readonly rng: Rng;
  /** 1-based iteration number (calls to `run` in this restart). */
  readonly iteration: number;
  /** Passes over the data completed before this call (see {@link EStepResult.coverage}). */
  readonly passes: number;
  /** The state `start` created (undefined when the E-step has no `start`). */
  readonly state: St;
  /** The precision the structure was built in (and the E-step should compute in). */
  readonly precision: Precision;
  /** Aborts a long `run` (checked between blocks by E-steps that yield). */
  readonly signal?: AbortSignal;
}

/** What an E-step returns. @category Interfaces */
export interface EStepResult<S = unknown> {
  /** Expected sufficient statistics under q (for all rows, also when only part of q was updated). */
  readonly stats: S;
  /** L(q, θ), every constant included (an estimate for Monte Carlo E-steps), in the E-step's own arithmetic. */
  readonly bound: number;
  /** H(q), including every continuous part of the latent (for Monte Carlo E-steps, the entropy of the distribution sampled from). */
  readonly entropy: number;
  /** Standard error of `bound` (Monte Carlo E-steps). */
  readonly boundStdErr?: number;
  /** log p(x | θ) when the E-step could compute it (always for exact `finite` E-steps). */
  readonly logLikelihood?: number;
  /** Extra per-iteration numbers (effective sample size, changed assignments, inner iterations, ...). */
  readonly diagnostics?: Readonly<Record<string, number>>;
  /**
   * Fraction of the data whose q this call updated (incremental E-steps: one block of B → 1/B).
   * `maxIter` counts passes, i.e. sums of coverage. Default 1.
   */
  readonly coverage?: number;
  /**
   * This half-step is not expected to raise L (a tempered E-step whose β changed, a sparse
   * E-step's full refresh, ...): the monotonicity check skips it and the trace marks it, with the reason.
   */
  readonly exempt?: string;
  /**
   * This iteration is not a complete update of the method (a tempered step at β < 1, a sparse step
   * between full refreshes): its q is not the one the method converges to, so `fit` does not stop
   * on it even when the convergence policy is met. The trace records the reason.
   */
  readonly unsettled?: string;
}

/**
 * An E-step for one structure kind.
 * @typeParam L - the latent structure it understands.
 * @typeParam St - its state (created by `start`, freed by `dispose`).
 * @category Interfaces
 */
export interface EStep<L extends LatentStructure = LatentStructure, St = unknown> {
  /** Method name, e.g. `'exact'`, `'hard'`, `'stochastic'`. */
  readonly name: string;
  /** Structure kind it runs on. */
  readonly kind: L['kind'];
  readonly family: EStepFamily;
  /** Its options, as plain JSON (recorded in every result). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Precisions it can compute in (default both). */
  readonly precisions?: readonly Precision[];
  /**
   * The E-step can run sharded (`fit`'s `workers`): it has no state (`start`), it is rebuilt exactly by
   * `createEStep(kind, name, options)`, and its `run` depends on the data only through the block loop
   * (`reduceFiniteChunks*`: its block choices keep what they learn in `sums` or `totals`, not in
   * variables of their own), over the structure's default blocks (no `maxRows` hint: workers own blocks
   * by the default partition). Default false (a sharded fit then refuses it with a typed error).
   */
  readonly shardable?: boolean;
  /** Creates the state for one restart (tensors allowed: `dispose` frees them). */
  start?(ctx: EStepStartContext): St;
  /** One E-step. Must free every tensor it creates that is not part of its state. */
  run(structure: L, ctx: EStepContext<St>): EStepResult | Promise<EStepResult>;
  /** Frees the state; called exactly once per `start`, also after errors and aborts. */
  dispose?(state: St): void;
  /**
   * A convergence policy this E-step supplies (e.g. MCEM's ascent-based rule); used unless the
   * user passes `convergence` explicitly.
   */
  readonly convergence?: ConvergencePolicy;
}

