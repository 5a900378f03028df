/**
 * The sampler contract shared by the Monte Carlo E-steps, MCEM and SAEM: a
 * kind-specific way to draw the latent variables at θ (the structure) and to
 * turn the draws into the model's statistics.
 *
 * Draws are grouped into *units*: batches of consecutive kept draws of one
 * chain (⌊√S⌋ batches of a chain's S draws), or batches of independent exact
 * draws, each with the statistics of its draws' average. Units are what
 * MCEM's ascent rule needs: Q is linear in the statistics, so the change
 * ΔQ = Q(θ') − Q(θ) of the average is the average of the units' changes, and
 * its standard error comes from their spread (batch means).
 * @module
 */
import { EmError, type LatentStructure, type Rng } from '@emlab/core';

/** Consecutive kept draws of one chain and their statistics. @category Samplers */
export interface DrawUnit<S = unknown> {
  /** Chain index (0 for independent draws). */
  readonly chain: number;
  /** Number of full-latent draws averaged in this unit. */
  readonly size: number;
  /** The statistics of the unit's draws (their average), computed on demand (units are many; their draws are small). */
  stats(): S;
  /** The average of log p(x, z | θ) over the unit's draws at the θ they were drawn at (row weights applied). */
  readonly logJoint: number;
}

/** An estimate with its Monte Carlo standard error. @category Samplers */
export interface Estimate {
  readonly value: number;
  readonly stdErr: number;
}

/** One call's draws. @category Samplers */
export interface DrawBatch<S = unknown> {
  /** Units in chain order (chain 0's units first, each chain's in time order). */
  readonly units: readonly DrawUnit<S>[];
  /** Total kept draws (Σ unit sizes). */
  readonly nDraws: number;
  /** The statistics of every kept draw (their average). */
  readonly stats: S;
  /** Estimate of log p(x | θ) with its standard error (when requested). */
  readonly estimate?: Estimate;
  /** log p(x | θ) exactly, when the structure can compute it. */
  readonly logLikelihood?: number;
  /** Sampler numbers: effective sample size, acceptance rate, R̂, ... */
  readonly diagnostics: Readonly<Record<string, number>>;
}

/** What one sampling call is asked for. @category Samplers */
export interface SampleRequest {
  /** The stream of this call's randomness (derived by path; never shared with another call). */
  readonly rng: Rng;
  /** Kept draws per chain (MCMC), or in total (independent draws). */
  readonly nDraws: number;
  /** Steps before the first kept draw (MCMC). */
  readonly burnIn: number;
  /** Keep every thin-th step (MCMC). */
  readonly thin: number;
  /** Compute the estimate of log p(x | θ) (and the exact value when available). */
  readonly estimate: boolean;
  readonly signal?: AbortSignal;
}

/**
 * A sampler for one structure kind.
 * @typeParam L - the structure.
 * @typeParam C - its chain state (MCMC chains kept across EM iterations; nothing for exact draws).
 * @category Samplers
 */
export interface LatentSampler<L extends LatentStructure = LatentStructure, C = unknown> {
  readonly kind: L['kind'];
  /** Whether draws are independent (exact posterior draws) rather than a Markov chain. */
  readonly independent: boolean;
  /** Creates the chains for one restart (`rng`: the restart's sampler-start stream). */
  start(structure: L, rng: Rng): C;
  /** A copy of a chain state (common random numbers restart every iteration from the same state). */
  clone(chains: C): C;
  /** Draws at θ; MCMC chains move on in place (their state is `chains`). */
  sample(structure: L, chains: C, request: SampleRequest): Promise<DrawBatch>;
}

/** Throws `ABORTED` when the signal fired. @internal */
export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EmError('ABORTED', 'the Monte Carlo E-step was aborted', { path: ['options', 'signal'] });
}
