/**
 * The exact E-step over a finite latent: q(z_n = k) = p(z_n = k | x_n, θ).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { reduceFiniteChunks, registerEStep, rejectUnknownOptions, type EStep, type FiniteStructure } from '@emlab/core';

/**
 * Exact posterior over a finite latent, in log space:
 * log r_nk = log p(x_n, k | θ) − log Σ_j p(x_n, j | θ). The bound equals the
 * log-likelihood and H(q) = −Σ r log r (+ Σ r h for rows with missing
 * entries, whose exact conditional is part of q: see `FiniteChunk.latentEntropy`).
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
  rejectUnknownOptions(options, [], 'exactEStep');
  return {
    name: 'exact',
    kind: 'finite',
    family: 'exact',
    options: {},
    run(structure) {
      const { stats, sums } = reduceFiniteChunks(structure, (logJoint, logNorm, chunk, posterior) => {
        const logResp = tf.sub(logJoint, tf.expandDims(logNorm, 1));
        const resp = posterior();
        // −Σ r log r, plus Σ r h for a continuous part of the latent (missing entries) kept exact.
        const perCell = chunk.latentEntropy === undefined ? tf.neg(logResp) : tf.sub(chunk.latentEntropy(), logResp);
        const entropy = tf.sum(tf.where(tf.greater(resp, 0), tf.mul(resp, perCell), tf.zerosLike(resp)), 1) as tf.Tensor1D;
        return { weights: resp, sums: { entropy } };
      });
      const logLikelihood = sums['logLikelihood'] as number;
      return { stats, bound: logLikelihood, entropy: sums['entropy'] as number, logLikelihood };
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'exact',
  family: 'exact',
  description: 'exact posterior responsibilities (log-space); the bound is the log-likelihood',
  create: exactEStep,
});
