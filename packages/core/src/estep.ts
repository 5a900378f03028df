/**
 * The E-step contract.
 *
 * An E-step chooses q (exactly, within a restricted family, or by sampling)
 * and returns the expected sufficient statistics with the complete bound
 * L(q, θ) = E_q[log p(x, z | θ)] + H(q), constants included, so that values
 * from different E-steps are comparable.
 *
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @module
 */
import type { Rng } from './rng.js';
import type { LatentStructure } from './structures.js';

/**
 * How the E-step relates to the exact posterior.
 * - `exact`: q = p(z | x, θ); L = log p(x | θ).
 * - `restricted`: q maximizes L over a restricted family; L ≤ log p(x | θ), never decreases.
 * - `monte-carlo`: statistics from samples; L is an estimate with a standard error.
 * @category Interfaces
 */
export type EStepFamily = 'exact' | 'restricted' | 'monte-carlo';

/** What the reported bound is. @category Interfaces */
export type BoundKind = 'log-likelihood' | 'lower-bound' | 'estimate';

/** The bound kind that goes with a family. @category Interfaces */
export function boundKindOf(family: EStepFamily): BoundKind {
  return family === 'exact' ? 'log-likelihood' : family === 'restricted' ? 'lower-bound' : 'estimate';
}

/** Context `fit` passes to every E-step call. @category Interfaces */
export interface EStepContext {
  /** Stream `seed/restart/r/iter/t/estep`. */
  readonly rng: Rng;
  /** 1-based iteration number. */
  readonly iteration: number;
  /** What this E-step returned as `state` last iteration (incremental / SAEM E-steps). */
  readonly state?: unknown;
}

/** What an E-step returns. @category Interfaces */
export interface EStepResult<S> {
  /** Expected sufficient statistics under q. */
  readonly stats: S;
  /** L(q, θ), every constant included (an estimate for Monte Carlo E-steps). */
  readonly bound: number;
  /** H(q) (for Monte Carlo E-steps, the entropy of the distribution sampled from). */
  readonly entropy: number;
  /** Standard error of `bound` (Monte Carlo E-steps). */
  readonly boundStdErr?: number;
  /** log p(x | θ) when the E-step could compute it (always for `finite`). */
  readonly logLikelihood?: number;
  /** Extra per-iteration numbers (effective sample size, number of changed assignments, ...). */
  readonly diagnostics?: Readonly<Record<string, number>>;
  /** Carried to the next call as `ctx.state`. */
  readonly state?: unknown;
}

/**
 * An E-step for one structure kind.
 * @typeParam L - the latent structure it understands.
 * @category Interfaces
 */
export interface EStep<L extends LatentStructure = LatentStructure> {
  /** Method name, e.g. `'exact'`, `'hard'`, `'stochastic'`. */
  readonly name: string;
  /** Structure kind it runs on. */
  readonly kind: L['kind'];
  readonly family: EStepFamily;
  /** Its options, as plain JSON (recorded in every result). */
  readonly options: Readonly<Record<string, unknown>>;
  /** One E-step. Must free every tensor it creates (run blocks in `tf.tidy`). */
  run(structure: L, ctx: EStepContext): EStepResult<unknown>;
}
