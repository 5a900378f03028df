/**
 * The exact E-step over a finite latent: q(z_n = k) = p(z_n = k | x_n, θ).
 * @module
 */
import { parseOptions, reduceFiniteChunksAsync, registerEStep, type EStep, type FiniteBlock, type FiniteChoice, type FiniteStructure } from '@emlab/core';

/**
 * The exact E-step's choice for one block: q = the posterior. With core's `reduceFiniteChunks`
 * this is the whole E-step (usable synchronously, e.g. in tests).
 * @category E-steps
 */
export function exactChoice(block: FiniteBlock): FiniteChoice {
  return { q: block.posterior() };
}

/**
 * Exact posterior over a finite latent: r_nk = p(x_n, k | θ) / Σ_j p(x_n, j | θ), computed from the
 * log table with a max shift. The bound equals the log-likelihood; H(q) = −Σ r log r (+ Σ r h for
 * rows with missing entries, whose exact conditional is part of q: see `FiniteChunk.latentEntropy`;
 * core's block loop adds it).
 *
 * @example
 * ```ts
 * const result = await fit(gaussianMixture({ nComponents: 3 }), x, { eStep: exactEStep() });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for any option (it takes none).
 * @see Dempster, Laird & Rubin (1977).
 * @category E-steps
 */
export function exactEStep(options: Readonly<Record<string, unknown>> = {}): EStep<FiniteStructure> {
  parseOptions({}, options, 'exactEStep');
  return {
    name: 'exact',
    kind: 'finite',
    family: 'exact',
    options: {},
    shardable: true,
    async run(structure, ctx) {
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, exactChoice, { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      return { stats: r.stats, bound: r.logLikelihood, entropy: r.entropy, logLikelihood: r.logLikelihood };
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'exact',
  family: 'exact',
  description: 'exact posterior responsibilities; the bound is the log-likelihood',
  options: {},
  create: exactEStep,
});
