// A plug-in E-step with state and its own convergence policy: deterministic annealing (Ueda &
// Nakano 1998). q(z_n = k) ∝ p(x_n, z_n = k | θ)^β with β growing from β₀ to 1 (β ← min(1, γβ) after
// each iteration), so early iterations see flattened posteriors and escape poor starts. q is a
// distribution, so L(q, θ) ≤ log p(x | θ) (family `restricted`, a lower bound); while β < 1 q maximizes
// the tempered free energy E_q log p + H(q)/β, not L, so those E-halves are marked `exempt` from the
// monotonicity check; from β = 1 on it is the exact E-step. docs/guide-estep.md walks through it.
// <guide:tempered>
import { convergencePolicy, parseOptions, reduceFiniteChunksAsync, registerEStep } from '@emlab/core';

export const TEMPERED_OPTIONS = {
  beta0: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.5, description: 'starting inverse temperature β₀' },
  growth: { type: 'number', min: 1, exclusiveMin: true, default: 1.5, description: 'β ← min(1, growth · β) after each iteration' },
};

/** Deterministic annealing. @throws EmError INVALID_ARGUMENT for an unknown or ill-typed option. */
export function temperedEStep(options = {}) {
  const { beta0, growth } = parseOptions(TEMPERED_OPTIONS, options, 'temperedEStep');
  const aitken = convergencePolicy('aitken');
  return {
    name: 'tempered',
    kind: 'finite',
    family: 'restricted',
    options: { beta0, growth },
    // State, once per restart: the schedule starts over for every restart. (Tensors, sampler chains or
    // per-block statistics would live here too, and `dispose(state)` would free them.)
    start: () => ({ beta: beta0 }),
    async run(structure, ctx) {
      const { beta } = ctx.state;
      const k = structure.nComponents;
      const choose = (block) => {
        if (beta === 1) return { q: block.posterior() };
        const q = new Float64Array(block.rows * k);
        for (let n = 0; n < block.rows; n++) {
          const o = n * k;
          const top = Math.max(...block.logJoint.subarray(o, o + k));
          if (top === -Infinity) continue; // a row no component can produce: no mass
          let sum = 0;
          for (let j = 0; j < k; j++) sum += q[o + j] = Math.exp(beta * (block.logJoint[o + j] - top));
          for (let j = 0; j < k; j++) q[o + j] /= sum;
        }
        return { q };
      };
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, choose, ctx.signal === undefined ? {} : { signal: ctx.signal });
      ctx.state.beta = Math.min(1, growth * beta);
      return {
        stats: r.stats,
        bound: r.bound,
        entropy: r.entropy,
        logLikelihood: r.logLikelihood,
        diagnostics: { beta },
        ...(beta < 1 ? { exempt: `tempered E-step at β = ${beta}: q maximizes the tempered free energy, not L` } : {}),
      };
    },
    // Never converged while β < 1; from β = 1 on, the default rule on the exact iterations only.
    convergence: {
      name: 'tempered-aitken',
      tol: aitken.tol,
      description: `no convergence before β = 1; then ${aitken.description}`,
      check(input) {
        const exact = input.trace.filter((rec) => rec.diagnostics.beta === 1);
        if (exact.length === 0) return { converged: false, value: Number.NaN, threshold: aitken.tol };
        return aitken.check({ ...input, trace: exact });
      },
    },
  };
}

registerEStep({
  kind: 'finite',
  method: 'tempered',
  family: 'restricted',
  description: 'deterministic annealing: q ∝ p(x, z | θ)^β with β growing to 1',
  options: TEMPERED_OPTIONS,
  create: temperedEStep,
});
// </guide:tempered>
