/**
 * Stochastic EM over a finite latent: S draws of z_n per row from the exact posterior.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { integerOption, oneHotFloat, reduceFiniteChunks, registerEStep, rejectUnknownOptions, type EStep, type FiniteStructure } from '@emlab/core';

/** Options of {@link stochasticEStep}. @category E-steps */
export interface StochasticEStepOptions {
  /** Draws of z per row (S). Default 1 (stochastic EM); larger S is Monte Carlo EM with a fixed sample size. */
  readonly nDraws?: number;
}

const BELOW_ONE = 1 - 2 ** -24; // largest float32 below 1: keeps u·C_K < C_K after the float32 upload

/**
 * Stochastic EM: for every row, S draws z_ns ~ p(z | x_n, θ) (inverse-CDF on
 * the responsibilities with uniforms from the iteration's seeded stream, one
 * stream per block of rows); the statistics are averaged over draws.
 *
 * The reported bound is a Monte Carlo estimate of L(p(z|x,θ), θ) = log p(x | θ):
 * (1/S) Σ_s Σ_n log p(x_n, z_ns | θ) + H(q), with H(q) computed exactly. Its
 * standard error is exact given θ: sqrt(Σ_n Var_q[log p(x_n, z_n | θ)] / S).
 * Rows with missing entries draw them with z from their exact conditional
 * (`FiniteChunk.sampleStats`), and their conditional entropy is part of the
 * reported H(q).
 *
 * @example
 * ```ts
 * const result = await fit(gaussianMixture({ nComponents: 3 }), x, { eStep: stochasticEStep({ nDraws: 4 }) });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option.
 * @see Celeux & Diebolt (1985), the SEM algorithm; Wei & Tanner (1990), Monte Carlo EM.
 * @category E-steps
 */
export function stochasticEStep(options: Readonly<Record<string, unknown>> & StochasticEStepOptions = {}): EStep<FiniteStructure> {
  rejectUnknownOptions(options, ['nDraws'], 'stochasticEStep');
  const nDraws = integerOption(options.nDraws ?? 1, ['stochasticEStep', 'nDraws'], 1, 10_000);
  return {
    name: 'stochastic',
    kind: 'finite',
    family: 'monte-carlo',
    options: { nDraws },
    run(structure, ctx) {
      const k = structure.nComponents;
      const { stats, sums } = reduceFiniteChunks(structure, (logJoint, logNorm, chunk, posterior) => {
        const n = chunk.rows;
        const logResp = tf.sub(logJoint, tf.expandDims(logNorm, 1));
        const resp = posterior();
        const positive = tf.greater(resp, 0);
        const cdf = tf.cumsum(resp, 1);
        const u = new Float32Array(n * nDraws);
        const rng = ctx.rng.child('block', chunk.start);
        for (let i = 0; i < u.length; i++) u[i] = Math.min(rng.uniform(), BELOW_ONE);
        // u' = u · C_K; z = #{k : C_k ≤ u'} ∈ [0, K−1] for u < 1.
        const target = tf.mul(tf.tensor3d(u, [n, nDraws, 1]), tf.reshape(tf.slice(cdf, [0, k - 1], [n, 1]), [n, 1, 1]));
        const z = tf.minimum(tf.sum(tf.cast(tf.lessEqual(tf.reshape(cdf, [n, 1, k]), target), 'int32'), 2), k - 1);
        const weights = tf.div(tf.sum(tf.reshape(oneHotFloat(tf.reshape(z, [n * nDraws]) as tf.Tensor1D, k), [n, nDraws, k]), 1), nDraws) as tf.Tensor2D;
        const safeJoint = tf.where(positive, logJoint, tf.zerosLike(logJoint));
        const sampled = tf.sum(tf.mul(weights, safeJoint), 1) as tf.Tensor1D;
        const entropy = tf.neg(tf.sum(tf.where(positive, tf.mul(resp, logResp), tf.zerosLike(resp)), 1)) as tf.Tensor1D;
        const mean = tf.sum(tf.mul(resp, safeJoint), 1, true);
        const variance = tf.sum(tf.mul(resp, tf.square(tf.sub(safeJoint, mean))), 1) as tf.Tensor1D;
        if (chunk.sampleStats === undefined || chunk.latentEntropy === undefined) return { weights, sums: { sampled, entropy, variance } };
        // Missing entries: drawn with z from their exact conditional; their entropy is part of H(q).
        const latent = tf.sum(tf.where(positive, tf.mul(resp, chunk.latentEntropy()), tf.zerosLike(resp)), 1) as tf.Tensor1D;
        return { weights, stats: chunk.sampleStats(weights, rng.child('latent')), sums: { sampled, entropy, variance, latent } };
      });
      const zEntropy = sums['entropy'] as number;
      return {
        stats,
        // log p(x_n, z | θ) already integrates the missing entries out, so only H(z) is added here.
        bound: (sums['sampled'] as number) + zEntropy,
        entropy: zEntropy + (sums['latent'] ?? 0),
        boundStdErr: Math.sqrt(Math.max(0, sums['variance'] as number) / nDraws),
        logLikelihood: sums['logLikelihood'] as number,
        diagnostics: { nDraws },
      };
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'stochastic',
  family: 'monte-carlo',
  description: 'stochastic EM: S draws of z per row from the exact posterior; the bound is an estimate with a standard error',
  create: stochasticEStep,
});
