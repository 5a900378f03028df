/**
 * The option rows shared by every method that samples with a Markov chain
 * (Gibbs on factor graphs, Metropolis–Hastings on continuous latents), and
 * the sampler each structure kind gets.
 * @module
 */
import { emError, type LatentStructure, type OptionSchema } from '@emlab/core';
import { CONTINUOUS_PROPOSALS, continuousSampler } from '../samplers/continuous-sampler.js';
import { chainSampler } from '../samplers/chain-sampler.js';
import { finiteSampler } from '../samplers/finite-sampler.js';
import { gibbsSampler } from '../samplers/gibbs-sampler.js';
import type { LatentSampler } from '../samplers/sampler.js';

/** Structure kinds the Monte Carlo methods sample. @internal */
export const SAMPLED_KINDS = ['finite', 'chain', 'factor-graph', 'continuous'] as const;

/** A sampled kind. @internal */
export type SampledKind = (typeof SAMPLED_KINDS)[number];

/** Option rows of Markov-chain samplers (absent defaults are filled per kind by {@link samplerSettings}). @internal */
export const MCMC_OPTION_ROWS = {
  chains: { type: 'integer', min: 1, max: 64, description: 'Markov chains per group or evidence pattern (MCMC kinds; default 2, SAEM 1)' },
  burnIn: { type: 'integer', min: 0, max: 1_000_000, default: 5, description: 'MCMC steps (sweeps) before the first kept draw of every iteration; chains carry over between iterations' },
  initialBurnIn: { type: 'integer', min: 0, max: 1_000_000, default: 100, description: 'extra MCMC steps before the first iteration' },
  thin: { type: 'integer', min: 1, max: 10_000, default: 1, description: 'keep every thin-th MCMC step' },
  proposal: { type: 'enum', values: CONTINUOUS_PROPOSALS, default: 'random-walk', description: 'Metropolis-Hastings proposal for continuous latents: adaptive random walk shaped by the Laplace covariance, or independence at the Laplace mode' },
  df: { type: 'number', min: 0, exclusiveMin: true, default: 4, description: 'degrees of freedom of the Student-t independence and importance proposals (continuous latents)' },
  importanceDraws: { type: 'integer', min: 2, max: 100_000, description: 'proposal draws per group (continuous: default 100) or evidence pattern (factor-graph: default 16) of the importance-sampling estimate of log p(x)' },
} as const satisfies OptionSchema;

/** Keys of {@link MCMC_OPTION_ROWS}. @internal */
export const MCMC_KEYS = Object.keys(MCMC_OPTION_ROWS) as (keyof typeof MCMC_OPTION_ROWS)[];

/** Resolved sampler settings. @internal */
export interface SamplerSettings {
  readonly chains: number;
  readonly burnIn: number;
  readonly initialBurnIn: number;
  readonly thin: number;
  readonly proposal: (typeof CONTINUOUS_PROPOSALS)[number];
  readonly df: number;
  readonly importanceDraws: number;
}

/** Settings for a kind from parsed options, `chains` defaulting to `defaultChains`. @internal */
export function samplerSettings(o: Readonly<Record<string, unknown>>, kind: string, defaultChains: number): SamplerSettings {
  return {
    chains: kind === 'finite' || kind === 'chain' ? 1 : ((o['chains'] as number | undefined) ?? defaultChains),
    burnIn: o['burnIn'] as number,
    initialBurnIn: o['initialBurnIn'] as number,
    thin: o['thin'] as number,
    proposal: o['proposal'] as SamplerSettings['proposal'],
    df: o['df'] as number,
    importanceDraws: (o['importanceDraws'] as number | undefined) ?? (kind === 'factor-graph' ? 16 : 100),
  };
}

/**
 * The sampler of a structure kind: exact draws (`finite`), forward-filtering backward-sampling (`chain`), Gibbs (`factor-graph`), Metropolis–Hastings (`continuous`).
 * @throws EmError `INVALID_ARGUMENT` for another kind.
 * @internal
 */
export function samplerFor(kind: string, s: SamplerSettings, owner: string): LatentSampler<LatentStructure, unknown> {
  switch (kind) {
    case 'finite':
      return finiteSampler as unknown as LatentSampler<LatentStructure, unknown>;
    case 'chain':
      return chainSampler as unknown as LatentSampler<LatentStructure, unknown>;
    case 'factor-graph':
      return gibbsSampler({ chains: s.chains, importanceDraws: s.importanceDraws }) as unknown as LatentSampler<LatentStructure, unknown>;
    case 'continuous':
      return continuousSampler({ chains: s.chains, proposal: s.proposal, df: s.df, importanceDraws: s.importanceDraws }) as unknown as LatentSampler<LatentStructure, unknown>;
    default:
      throw emError('INVALID_ARGUMENT', ['options', 'eStep'], owner, `cannot sample structure kind "${kind}" (it samples ${SAMPLED_KINDS.join(', ')})`, 'use a model of one of those kinds, or another method');
  }
}

/**
 * Rejects MCMC options given explicitly for the `finite` and `chain` kinds (their draws are exact: they would be ignored).
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @internal
 */
export function rejectMcmcOptionsForFinite(given: Readonly<Record<string, unknown>>, kind: string, owner: string): void {
  if (kind !== 'finite' && kind !== 'chain') return;
  for (const k of MCMC_KEYS) {
    if (given[k] !== undefined) throw emError('INVALID_ARGUMENT', [owner, k], given[k], `does not apply to the ${kind} kind (its draws are exact posterior draws, no Markov chain)`, `drop ${k}`);
  }
}
