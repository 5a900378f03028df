/**
 * The Gibbs E-step for `factor-graph` structures: stochastic EM whose draws
 * come from Gibbs chains per distinct evidence pattern (see
 * `samplers/gibbs-sampler.ts`), for networks whose junction tree is too large.
 * @module
 */
import { parseOptions, registerEStep, type EStep, type FactorGraphStructure, type OptionSchema } from '@emlab/core';
import { samplerEStep } from './internal/sampler-estep.js';
import { MCMC_OPTION_ROWS, samplerSettings } from './internal/sampler-options.js';
import { gibbsSampler } from './samplers/gibbs-sampler.js';

const { chains, burnIn, initialBurnIn, thin, importanceDraws } = MCMC_OPTION_ROWS;

/** The option table of {@link gibbsEStep}. @category E-steps */
export const GIBBS_OPTIONS = {
  nDraws: { type: 'integer', min: 1, max: 1_000_000, default: 10, description: 'kept sweeps per chain and iteration' },
  chains: { ...chains, description: 'Gibbs chains per distinct evidence pattern (default 2)' },
  burnIn,
  initialBurnIn,
  thin,
  importanceDraws: { ...importanceDraws, description: 'proposal draws per evidence pattern of the importance-sampling estimate of log p(x) (default 16)' },
} as const satisfies OptionSchema;

/** Options of {@link gibbsEStep}. @category E-steps */
export interface GibbsEStepOptions {
  readonly nDraws?: number;
  readonly chains?: number;
  readonly burnIn?: number;
  readonly initialBurnIn?: number;
  readonly thin?: number;
  readonly importanceDraws?: number;
}

/**
 * Gibbs sampling E-step on factor graphs: per distinct evidence pattern, `chains` chains of systematic
 * sweeps over the unobserved variables, kept across EM iterations (`initialBurnIn` sweeps before the
 * first iteration, `burnIn` before every iteration's `nDraws` kept sweeps, every `thin`-th kept). The
 * statistics are the averaged family counts (times the patterns' multiplicities); the bound is an
 * importance-sampling estimate of log p(x | θ) with its standard error (proposal: the chains' smoothed
 * marginals). Diagnostics: `nDraws`, `ess`, `rHat`, `zeroConditionals`, `importanceEss`,
 * `logLikelihoodEstimate`, `logLikelihoodStdErr`.
 *
 * Randomness: chain c of pattern p draws from `<E-step stream>/chain/c/pattern/p` (starts from
 * `seed/restart/r/estep-start/chain/c/pattern/p`): independent of how patterns are batched.
 * @example
 * ```ts
 * const r = await fit(bayesianNetwork(net, { hidden: ['either'] }), data, { eStep: gibbsEStep({ nDraws: 20 }), seed: 0 });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option.
 * @see Geman & Geman (1984); Wei & Tanner (1990).
 * @category E-steps
 */
export function gibbsEStep(options: Readonly<Record<string, unknown>> & GibbsEStepOptions = {}): EStep<FactorGraphStructure> {
  const o = parseOptions(GIBBS_OPTIONS, options, 'gibbsEStep');
  const settings = samplerSettings({ ...o, proposal: 'random-walk', df: 4 }, 'factor-graph', 2);
  const recorded = { ...o, chains: settings.chains, importanceDraws: settings.importanceDraws };
  return samplerEStep('gibbs', gibbsSampler({ chains: settings.chains, importanceDraws: settings.importanceDraws }), settings, o['nDraws'] as number, recorded) as unknown as EStep<FactorGraphStructure>;
}

registerEStep({
  kind: 'factor-graph',
  method: 'gibbs',
  family: 'monte-carlo',
  description: 'Gibbs sampling per distinct evidence pattern (chains kept across iterations); the bound is an importance-sampling estimate with a standard error',
  options: GIBBS_OPTIONS,
  create: gibbsEStep,
});
