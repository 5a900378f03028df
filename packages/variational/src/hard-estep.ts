/**
 * The hard (delta) E-step over a finite latent: q puts all mass on the most
 * probable component of each row.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat, reduceFiniteChunks, registerEStep, rejectUnknownOptions, type EStep, type FiniteStructure } from '@emlab/core';

/**
 * Hard assignments: q(z_n) = δ(z_n = argmax_k log p(x_n, k | θ)) (ties go to
 * the lowest index). H(q) = 0 and the bound is the classification
 * log-likelihood Σ_n max_k log p(x_n, k | θ) ≤ log p(x | θ); it never
 * decreases. With spherical, equal, shrinking covariances it is k-means.
 * Rows with missing entries keep the exact conditional of those entries given
 * the chosen component, so H(q) = Σ_n h_{n,k*} (see `FiniteChunk.latentEntropy`)
 * and the bound is still Σ_n max_k log p(x_n,obs, k | θ).
 * Diagnostics: `emptyComponents` (components no row is assigned to).
 *
 * @example
 * ```ts
 * const result = await fit(gaussianMixture({ nComponents: 3 }), x, { eStep: hardEStep() });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for any option (it takes none).
 * @see Neal & Hinton (1998); Celeux & Govaert (1992), classification EM.
 * @category E-steps
 */
export function hardEStep(options: Readonly<Record<string, unknown>> = {}): EStep<FiniteStructure> {
  rejectUnknownOptions(options, [], 'hardEStep');
  return {
    name: 'hard',
    kind: 'finite',
    family: 'restricted',
    options: {},
    run(structure) {
      const k = structure.nComponents;
      const counts = new Float64Array(k);
      const { stats, sums } = reduceFiniteChunks(structure, (logJoint, _logNorm, chunk) => {
        const weights = oneHotFloat(tf.argMax(logJoint, 1) as tf.Tensor1D, k);
        const c = tf.sum(weights, 0).dataSync();
        for (let j = 0; j < k; j++) counts[j] = (counts[j] as number) + (c[j] as number);
        const bound = tf.max(logJoint, 1) as tf.Tensor1D;
        if (chunk.latentEntropy === undefined) return { weights, sums: { bound } };
        return { weights, sums: { bound, entropy: tf.sum(tf.mul(weights, chunk.latentEntropy()), 1) as tf.Tensor1D } };
      });
      const emptyComponents = counts.reduce((n, c) => n + (c === 0 ? 1 : 0), 0);
      return {
        stats,
        bound: sums['bound'] as number,
        entropy: sums['entropy'] ?? 0,
        logLikelihood: sums['logLikelihood'] as number,
        diagnostics: { emptyComponents },
      };
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'hard',
  family: 'restricted',
  description: 'hard/delta assignment to the most probable component (classification EM; k-means as a special case)',
  create: hardEStep,
});
