/**
 * Stochastic EM over hidden Markov chains: forward-filtering backward-sampling (FFBS).
 * @module
 */
import {
  ffbs,
  forwardBackward,
  parseOptions,
  reduceChainChunksAsync,
  registerEStep,
  type ChainBatch,
  type ChainBlock,
  type ChainChoice,
  type ChainStructure,
  type EStep,
  type OptionSchema,
  type Rng,
} from '@emlab/core';

/** Options of {@link chainStochasticEStep}. @category E-steps */
export interface ChainStochasticEStepOptions {
  /** State paths drawn per sequence (S). Default 1 (stochastic EM); larger S is Monte Carlo EM with a fixed sample size. */
  readonly nDraws?: number;
}

/** The option table of {@link chainStochasticEStep}. @category E-steps */
export const CHAIN_STOCHASTIC_OPTIONS = {
  nDraws: { type: 'integer', min: 1, max: 10_000, default: 1, description: 'state paths drawn per sequence by FFBS (1: stochastic EM; more: Monte Carlo EM with a fixed sample size)' },
} as const satisfies OptionSchema;

/**
 * The FFBS choice for one block of sequences with `nDraws` paths per sequence (see
 * {@link chainStochasticEStep}); `sums.variance` is Σ_s w_s² v̂_s, v̂_s the unbiased estimate of
 * Var_q[log p(x_s, z_s)] about its exact mean. With core's `reduceChainChunks` this is the whole E-step.
 * @param rng - the E-step's stream: sequence s (global index) then draws from
 *   `rng/ffbs/sequence/s`, whatever the blocking; without it, from the block's stream.
 * @category E-steps
 */
export function chainStochasticChoice(nDraws: number, rng?: Rng): (block: ChainBlock) => ChainChoice {
  const stream = rng?.child('ffbs');
  return (block) => {
    const { batch, rows, nStates: k } = block;
    const nSeq = batch.lengths.length;
    // Exact marginals, entropy and E_q[log p(x_s, z_s)] per sequence (for H(q) and the variance's mean).
    const marginals = new Float64Array(rows * k);
    const meanLogJoint = new Float64Array(nSeq);
    let entropy = 0;
    let logLikelihood = 0;
    let r0 = 0;
    for (let s = 0; s < nSeq; s++) {
      const len = batch.lengths[s] as number;
      const one: ChainBatch = {
        nStates: k,
        lengths: Int32Array.of(len),
        logEmission: batch.logEmission.subarray(r0 * k, (r0 + len) * k),
        logInitial: batch.logInitial,
        logTransition: batch.logTransition,
      };
      const fb = forwardBackward(one, { out: { gamma: marginals.subarray(r0 * k, (r0 + len) * k) } });
      const w = batch.weights === undefined ? 1 : (batch.weights[s] as number);
      meanLogJoint[s] = fb.expectedLogJoint;
      if (w !== 0) {
        logLikelihood += w * fb.logLikelihood;
        if (fb.logLikelihood !== Number.NEGATIVE_INFINITY) entropy += w * fb.entropy;
      }
      r0 += len;
    }
    const d = ffbs(batch, stream ?? block.rng, nDraws, { sequenceOffset: block.start, keepPaths: false });
    let variance = 0;
    for (let s = 0; s < nSeq; s++) {
      const w = batch.weights === undefined ? 1 : (batch.weights[s] as number);
      const mean = meanLogJoint[s] as number;
      if (w === 0 || !Number.isFinite(mean)) continue;
      let ss = 0;
      for (let p = 0; p < nDraws; p++) ss += ((d.logJoints[p * nSeq + s] as number) - mean) ** 2;
      variance += w * w * (ss / nDraws);
    }
    return {
      gamma: d.stateFrequencies,
      transitionCounts: d.transitionCounts,
      initialCounts: d.initialCounts,
      entropy,
      logLikelihood,
      draws: true,
      marginals,
      sums: { variance },
    };
  };
}

/**
 * Stochastic EM for HMMs: for every sequence, S state paths z_s^(p) ~ p(z | x_s, θ) by
 * forward-filtering backward-sampling (core's `ffbs`, one seeded stream per sequence,
 * `<E-step stream>/ffbs/sequence/<s>`, so the draws do not depend on how sequences are blocked); the statistics are the averages over draws.
 *
 * The bound is a Monte Carlo estimate of L(p(z | x, θ), θ) = log p(x | θ):
 * Σ_s w_s [(1/S) Σ_p log p(x_s, z_s^(p) | θ) + H(q_s)], with H(q_s), the entropy of the posterior
 * over paths, computed exactly by forward–backward (which also gives log p(x | θ) and the exact
 * marginals for the entropy of a latent's further part). Its standard error is
 * sqrt(Σ_s w_s² v̂_s / S), v̂_s = (1/S) Σ_p (log p(x_s, z_s^(p)) − E_q[log p(x_s, z_s)])², an unbiased
 * estimate of the variance about the exact mean (so it exists for S = 1 too). Steps with missing
 * Gaussian entries draw them with z from their exact conditional (the chunk's `sampleStats`).
 * Cost: one forward–backward plus FFBS per iteration.
 *
 * @example
 * ```ts
 * const result = await fit(hiddenMarkovModel({ nStates: 2 }), data, { eStep: chainStochasticEStep({ nDraws: 10 }) });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option.
 * @see Frühwirth-Schnatter, S. (1994). Data augmentation and dynamic linear models.
 * @see Celeux, G. & Diebolt, J. (1985). The SEM algorithm; Wei, G. C. G. & Tanner, M. A. (1990), Monte Carlo EM.
 * @category E-steps
 */
export function chainStochasticEStep(options: Readonly<Record<string, unknown>> & ChainStochasticEStepOptions = {}): EStep<ChainStructure> {
  const nDraws = parseOptions(CHAIN_STOCHASTIC_OPTIONS, options, 'chainStochasticEStep')['nDraws'] as number;
  return {
    name: 'stochastic',
    kind: 'chain',
    family: 'monte-carlo',
    options: { nDraws },
    // Draws come from per-sequence streams of the E-step's stream, and every per-block quantity is in the block loop.
    shardable: true,
    async run(structure, ctx) {
      const r = await reduceChainChunksAsync(structure, ctx.rng, chainStochasticChoice(nDraws, ctx.rng), { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      return {
        stats: r.stats,
        bound: r.bound,
        entropy: r.entropy,
        boundStdErr: Math.sqrt(Math.max(0, r.sums['variance'] ?? 0) / nDraws),
        ...(r.logLikelihood === undefined ? {} : { logLikelihood: r.logLikelihood }),
        diagnostics: { nDraws },
      };
    },
  };
}

registerEStep({
  kind: 'chain',
  method: 'stochastic',
  family: 'monte-carlo',
  description: 'forward-filtering backward-sampling: S state paths per sequence from the exact posterior; the bound is an estimate with a standard error',
  options: CHAIN_STOCHASTIC_OPTIONS,
  create: chainStochasticEStep,
});
