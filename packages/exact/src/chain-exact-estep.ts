/**
 * The exact E-step over hidden Markov chains: forward–backward.
 * @module
 */
import {
  forwardBackward,
  parseOptions,
  reduceChainChunksAsync,
  registerEStep,
  type ChainBlock,
  type ChainChoice,
  type ChainStructure,
  type EStep,
  type ForwardBackwardVariant,
  type OptionSchema,
} from '@emlab/core';

/** Options of {@link chainExactEStep}. @category E-steps */
export interface ChainExactEStepOptions {
  /**
   * The forward–backward recursion: `'scaled'` (default; normalized probabilities, fast) or `'log'`
   * (log-sum-exp recursions, ~4× slower, keeps filtered probabilities below 1e-308 that the scaled
   * recursion loses). Both give the same posterior wherever the scaled one stays in range.
   */
  readonly variant?: 'scaled' | 'log';
}

/** The option table of {@link chainExactEStep}. @category E-steps */
export const CHAIN_EXACT_OPTIONS = {
  variant: { type: 'enum', values: ['scaled', 'log'], default: 'scaled', description: "forward–backward recursion: 'scaled' (fast) or 'log' (log-space, for extreme evidence)" },
} as const satisfies OptionSchema;

/**
 * The exact choice for one block of sequences: q = p(z | x, θ) by forward–backward in `variant`.
 * With core's `reduceChainChunks` this is the whole E-step (usable synchronously, e.g. in tests).
 * @category E-steps
 */
export function chainExactChoice(variant: ForwardBackwardVariant = 'scaled'): (block: ChainBlock) => ChainChoice {
  return (block) => {
    const fb = forwardBackward(block.batch, { variant });
    return { gamma: fb.gamma, transitionCounts: fb.transitionCounts, initialCounts: fb.initialCounts, entropy: fb.entropy, logLikelihood: fb.logLikelihood };
  };
}

/**
 * Exact posterior over the state paths of every sequence (Baum–Welch's E-step): forward–backward
 * gives the marginals γ_t(k), the expected transition counts Σ_t ξ_t(i, j) and log p(x_s | θ).
 * The bound is the log-likelihood Σ_s w_s log p(x_s | θ); H(q) is the entropy of the posterior
 * over paths (plus, through core's block loop, the entropy of a latent's further part: missing
 * Gaussian entries, mixture components within a state).
 *
 * @example
 * ```ts
 * const result = await fit(hiddenMarkovModel({ nStates: 3 }), { x, lengths }, { eStep: chainExactEStep({ variant: 'log' }) });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option.
 * @see Baum, L. E., Petrie, T., Soules, G. & Weiss, N. (1970). A maximization technique occurring in the statistical analysis of probabilistic functions of Markov chains.
 * @see Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech recognition.
 * @category E-steps
 */
export function chainExactEStep(options: Readonly<Record<string, unknown>> & ChainExactEStepOptions = {}): EStep<ChainStructure> {
  const variant = parseOptions(CHAIN_EXACT_OPTIONS, options, 'chainExactEStep')['variant'] as 'scaled' | 'log';
  const choose = chainExactChoice(variant);
  return {
    name: 'exact',
    kind: 'chain',
    family: 'exact',
    options: { variant },
    shardable: true,
    async run(structure, ctx) {
      const r = await reduceChainChunksAsync(structure, ctx.rng, choose, { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      const logLikelihood = r.logLikelihood as number;
      return { stats: r.stats, bound: logLikelihood, entropy: r.entropy, logLikelihood, diagnostics: { sequences: r.sequences } };
    },
  };
}

registerEStep({
  kind: 'chain',
  method: 'exact',
  family: 'exact',
  description: 'forward–backward (scaled or log-space): the exact posterior over state paths; the bound is the log-likelihood',
  options: CHAIN_EXACT_OPTIONS,
  create: chainExactEStep,
});
