/**
 * The hard (delta) E-step over a finite latent: q puts all mass on the most
 * probable component of each row.
 * @module
 */
import { parseOptions, reduceFiniteChunksAsync, registerEStep, type EStep, type FiniteBlock, type FiniteChoice, type FiniteStructure } from '@emlab/core';

/**
 * The hard E-step's choice for one block: all mass on argmax_k log p(x_n, k) (ties: lowest index;
 * a row impossible under every component gets no mass). With core's `reduceFiniteChunks` this is
 * the whole E-step.
 * @category E-steps
 */
export function hardChoice(block: FiniteBlock): FiniteChoice {
  const { rows, logJoint, nComponents: k } = block;
  const q = new Float64Array(rows * k);
  for (let n = 0; n < rows; n++) {
    let best = -1;
    let top = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const v = logJoint[n * k + j] as number;
      if (v > top) {
        top = v;
        best = j;
      }
    }
    if (best >= 0) q[n * k + best] = 1;
  }
  return { q };
}

/**
 * Hard assignments: q(z_n) = δ(z_n = argmax_k log p(x_n, k | θ)) (ties go to
 * the lowest index). H(q) = 0 and the bound is the classification
 * log-likelihood Σ_n max_k log p(x_n, k | θ) ≤ log p(x | θ); it never
 * decreases. With spherical, equal, shrinking covariances it is k-means.
 * Rows with missing entries keep the exact conditional of those entries given
 * the chosen component, so H(q) = Σ_n h_{n,k*} (core's block loop adds it)
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
  parseOptions({}, options, 'hardEStep');
  return {
    name: 'hard',
    kind: 'finite',
    family: 'restricted',
    options: {},
    shardable: true,
    async run(structure, ctx) {
      const k = structure.nComponents;
      // Per-block counts go through the block loop's totals (not a variable of ours), so a sharded fit counts the same.
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, (block) => {
        const choice = hardChoice(block);
        const counts = new Float64Array(k);
        for (let i = 0; i < choice.q.length; i++) if (choice.q[i] === 1) counts[i % k] = (counts[i % k] as number) + 1;
        return { ...choice, totals: { assigned: counts } };
      }, { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      const counts = r.totals?.['assigned'] ?? new Float64Array(k);
      const emptyComponents = counts.reduce((n, c) => n + (c === 0 ? 1 : 0), 0);
      return { stats: r.stats, bound: r.bound, entropy: r.entropy, logLikelihood: r.logLikelihood, diagnostics: { emptyComponents } };
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'hard',
  family: 'restricted',
  description: 'hard/delta assignment to the most probable component (classification EM; k-means as a special case)',
  options: {},
  create: hardEStep,
});
