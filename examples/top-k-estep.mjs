// A plug-in E-step: the "top-k" sparse E-step (Neal & Hinton 1998, §4: sparse EM). q(z_n) is the
// posterior restricted to the k most probable components of row n and renormalized. It is the best q
// supported on k components, so L(q, θ) = Σ_n log Σ_{j in top k} p(x_n, j | θ) ≤ log p(x | θ), and it
// never decreases (the top-k set maximizes that sum over all sets of k components). Family
// `restricted`, bound kind lower bound. Core's block loop does everything else: row weights, H(q)
// including continuous latent parts, statistics, float64 sums. docs/guide-estep.md walks through it.
//
// Importing this module registers it as (finite, 'top-k'): `fit(model, data, { eStep: 'top-k' })`,
// `emlab fit --plugin examples/top-k-estep.mjs --estep top-k --estep-option keep=3`, and suites with
// "plugins": ["./top-k-estep.mjs"] find it.
// <guide:top-k>
import { parseOptions, reduceFiniteChunksAsync, registerEStep } from '@emlab/core';

/** The option table (validation, defaults, `--estep-option keep=3`). */
export const TOP_K_OPTIONS = {
  keep: { type: 'integer', min: 1, default: 2, description: 'components kept per row (k)' },
};

/** The top-k E-step. @throws EmError INVALID_ARGUMENT for an unknown or ill-typed option. */
export function topKEStep(options = {}) {
  const { keep } = parseOptions(TOP_K_OPTIONS, options, 'topKEStep');
  return {
    name: 'top-k',
    kind: 'finite',
    family: 'restricted',
    options: { keep },
    async run(structure, ctx) {
      const k = structure.nComponents;
      // The choice for one block of rows: q from the block's posterior, [rows × K].
      const choose = (block) => {
        const post = block.posterior();
        const q = new Float64Array(block.rows * k);
        for (let n = 0; n < block.rows; n++) {
          const o = n * k;
          const top = Array.from({ length: k }, (_, j) => j).sort((a, b) => post[o + b] - post[o + a] || a - b).slice(0, keep);
          const mass = top.reduce((s, j) => s + post[o + j], 0);
          if (mass > 0) for (const j of top) q[o + j] = post[o + j] / mass;
        }
        return { q };
      };
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, choose, ctx.signal === undefined ? {} : { signal: ctx.signal });
      return { stats: r.stats, bound: r.bound, entropy: r.entropy, logLikelihood: r.logLikelihood };
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'top-k',
  family: 'restricted',
  description: 'sparse E-step: the posterior restricted to the k most probable components of each row',
  options: TOP_K_OPTIONS,
  create: topKEStep,
});
// </guide:top-k>
