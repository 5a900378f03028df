/**
 * The hard (delta) E-step over hidden Markov chains: Viterbi decoding.
 * @module
 */
import { parseOptions, reduceChainChunksAsync, registerEStep, viterbi, type ChainBlock, type ChainChoice, type ChainStructure, type EStep } from '@emlab/core';

/**
 * The Viterbi choice for one block of sequences: q = δ(z = ẑ), ẑ the most probable state path of
 * each sequence (ties to the lowest state index, see core's `viterbi`), entropy 0. With core's
 * `reduceChainChunks` this is the whole E-step.
 * @category E-steps
 */
export function chainHardChoice(block: ChainBlock): ChainChoice {
  const v = viterbi(block.batch);
  return { gamma: v.gamma, transitionCounts: v.transitionCounts, initialCounts: v.initialCounts, entropy: 0 };
}

/**
 * Viterbi training (hard EM, segmental k-means): q puts all mass on the most probable path
 * ẑ_s = argmax_z log p(x_s, z | θ) of every sequence. H(q) over the paths is 0 and the bound is the
 * complete-data log-likelihood of the paths Σ_s w_s log p(x_s, ẑ_s | θ) ≤ log p(x | θ); it never
 * decreases (the E-step maximizes it over paths, the M-step over θ). Steps with missing Gaussian
 * entries keep the exact conditional of those entries given the chosen state, whose entropy core's
 * block loop adds, so the bound is still Σ_s w_s log p(x_s,obs, ẑ_s).
 * Diagnostics: `emptyStates` (states no path visits).
 *
 * @example
 * ```ts
 * const result = await fit(hiddenMarkovModel({ nStates: 3 }), data, { eStep: chainHardEStep() });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for any option (it takes none).
 * @see Juang, B.-H. & Rabiner, L. R. (1990). The segmental K-means algorithm for estimating parameters of hidden Markov models.
 * @see Viterbi, A. J. (1967). Error bounds for convolutional codes and an asymptotically optimum decoding algorithm.
 * @category E-steps
 */
export function chainHardEStep(options: Readonly<Record<string, unknown>> = {}): EStep<ChainStructure> {
  parseOptions({}, options, 'chainHardEStep');
  return {
    name: 'hard',
    kind: 'chain',
    family: 'restricted',
    options: {},
    shardable: true,
    async run(structure, ctx) {
      const k = structure.nStates;
      // States a path visits, per block, in the block loop's totals (so that shards can evaluate blocks).
      const r = await reduceChainChunksAsync(structure, ctx.rng, (block) => {
        const choice = chainHardChoice(block);
        const g = choice.gamma;
        const visited = new Float64Array(k);
        for (let i = 0; i < g.length; i++) if (g[i] === 1) visited[i % k] = 1;
        return { ...choice, totals: { visited } };
      }, { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      const visited = r.totals?.['visited'];
      let emptyStates = 0;
      for (let j = 0; j < k; j++) if (!((visited?.[j] ?? 0) > 0)) emptyStates++;
      return { stats: r.stats, bound: r.bound, entropy: r.entropy, diagnostics: { emptyStates } };
    },
  };
}

registerEStep({
  kind: 'chain',
  method: 'hard',
  family: 'restricted',
  description: 'Viterbi training: all mass on the most probable state path; the bound is its complete-data log-likelihood',
  options: {},
  create: chainHardEStep,
});
