/**
 * A Monte Carlo E-step from a sampler: chains in the E-step state (kept
 * across EM iterations), one sampling call per iteration, the statistics of
 * every kept draw, and the bound as the sampler's estimate of log p(x | θ).
 * @module
 */
import type { EStep, LatentStructure } from '@emlab/core';
import type { LatentSampler } from '../samplers/sampler.js';
import type { SamplerSettings } from './sampler-options.js';

interface State {
  chains: unknown;
  first: boolean;
}

/**
 * The E-step: L(q, θ_t) is estimated by the sampler (± its standard error); the entropy reported is
 * estimate − (1/m) Σ_j log p(x, z_j | θ_t), so that E_q[log p(x, z | θ_t)] from the draws' statistics
 * plus it is the estimate again.
 * @internal
 */
export function samplerEStep<L extends LatentStructure>(name: string, sampler: LatentSampler<L, unknown>, settings: SamplerSettings, nDraws: number, options: Readonly<Record<string, unknown>>): EStep<L, State> {
  return {
    name,
    kind: sampler.kind,
    family: 'monte-carlo',
    options,
    precisions: ['float64'],
    start: (ctx) => ({ chains: sampler.start(ctx.structure as L, ctx.rng), first: true }),
    async run(structure, ctx) {
      const state = ctx.state;
      const burnIn = settings.burnIn + (state.first ? settings.initialBurnIn : 0);
      state.first = false;
      const batch = await sampler.sample(structure, state.chains, { rng: ctx.rng, nDraws, burnIn, thin: settings.thin, estimate: true, ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      let q = 0;
      for (const u of batch.units) q += (u.size / batch.nDraws) * u.logJoint;
      const est = batch.estimate!;
      return {
        stats: batch.stats,
        bound: est.value,
        entropy: est.value - q,
        boundStdErr: est.stdErr,
        ...(batch.logLikelihood === undefined ? {} : { logLikelihood: batch.logLikelihood }),
        diagnostics: { ...batch.diagnostics, logLikelihoodEstimate: est.value, logLikelihoodStdErr: est.stdErr },
      };
    },
  };
}
