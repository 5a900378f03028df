/**
 * Stochastic EM for `continuous` structures: Metropolis–Hastings draws of
 * every group's latent vector (see `samplers/continuous-sampler.ts`).
 * @module
 */
import { parseOptions, registerEStep, type ContinuousStructure, type EStep, type OptionSchema } from '@emlab/core';
import { samplerEStep } from './internal/sampler-estep.js';
import { MCMC_OPTION_ROWS, samplerSettings } from './internal/sampler-options.js';
import { continuousSampler } from './samplers/continuous-sampler.js';

/** The option table of {@link metropolisEStep}. @category E-steps */
export const METROPOLIS_OPTIONS = {
  nDraws: { type: 'integer', min: 1, max: 1_000_000, default: 10, description: 'kept draws per chain and iteration' },
  ...MCMC_OPTION_ROWS,
} as const satisfies OptionSchema;

/** Options of {@link metropolisEStep}. @category E-steps */
export interface MetropolisEStepOptions {
  readonly nDraws?: number;
  readonly chains?: number;
  readonly burnIn?: number;
  readonly initialBurnIn?: number;
  readonly thin?: number;
  readonly proposal?: 'random-walk' | 'independence';
  readonly df?: number;
  readonly importanceDraws?: number;
}

/**
 * Stochastic EM with Metropolis–Hastings draws of the random effects: per group `chains` chains
 * (random walk shaped by the Laplace covariance with adaptive scale, or independence proposals at the
 * Laplace mode), kept across EM iterations. The statistics are those of every kept draw
 * (`structure.drawStats`); the bound is an importance-sampling estimate of log p(x | θ) with its
 * standard error; the exact log p(x | θ) is reported when the model has it (the GLMM's quadrature),
 * so the trace shows the gap. Diagnostics: `nDraws`, `acceptanceRate`, `ess`, `essMedian`, `rHat`,
 * `importanceEss`, `logLikelihoodEstimate`, `logLikelihoodStdErr`.
 *
 * Randomness: chain c of group g uses `<E-step stream>/chain/(g·C + c)/block/k` (see `metropolisRun`).
 * @example
 * ```ts
 * const r = await fit(glmm({ family: 'poisson' }), data, { eStep: metropolisEStep({ nDraws: 20, chains: 3 }), seed: 0 });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option.
 * @see Metropolis et al. (1953); Hastings (1970); McCulloch, C. E. (1997). Maximum likelihood algorithms for generalized linear mixed models. JASA 92, 162–170.
 * @category E-steps
 */
export function metropolisEStep(options: Readonly<Record<string, unknown>> & MetropolisEStepOptions = {}): EStep<ContinuousStructure> {
  const o = parseOptions(METROPOLIS_OPTIONS, options, 'metropolisEStep');
  const settings = samplerSettings(o, 'continuous', 2);
  const recorded = { ...o, chains: settings.chains, importanceDraws: settings.importanceDraws };
  const sampler = continuousSampler({ chains: settings.chains, proposal: settings.proposal, df: settings.df, importanceDraws: settings.importanceDraws });
  return samplerEStep('stochastic', sampler, settings, o['nDraws'] as number, recorded) as unknown as EStep<ContinuousStructure>;
}

registerEStep({
  kind: 'continuous',
  method: 'stochastic',
  family: 'monte-carlo',
  description: 'stochastic EM with Metropolis-Hastings draws of every group (chains kept across iterations); the bound is an importance-sampling estimate with a standard error',
  options: METROPOLIS_OPTIONS,
  create: metropolisEStep,
});
