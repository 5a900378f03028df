/**
 * Stochastic EM over a finite latent: S draws of z_n per row from the exact posterior.
 * @module
 */
import { parseOptions, reduceFiniteChunksAsync, registerEStep, type EStep, type FiniteStructure, type OptionSchema } from '@emlab/core';

/** Options of {@link stochasticEStep}. @category E-steps */
export interface StochasticEStepOptions {
  /** Draws of z per row (S). Default 1 (stochastic EM); larger S is Monte Carlo EM with a fixed sample size. */
  readonly nDraws?: number;
}

/** The option table of {@link stochasticEStep}. @category E-steps */
export const STOCHASTIC_OPTIONS = {
  nDraws: { type: 'integer', min: 1, max: 10_000, default: 1, description: 'draws of z per row (1: stochastic EM; more: Monte Carlo EM with a fixed sample size)' },
} as const satisfies OptionSchema;

/**
 * Stochastic EM: for every row, S draws z_ns ~ p(z | x_n, θ) (inverse CDF on
 * the responsibilities with uniforms from the block's seeded stream); the
 * statistics are averaged over draws.
 *
 * The reported bound is a Monte Carlo estimate of L(p(z|x,θ), θ) = log p(x | θ):
 * Σ_n w_n [(1/S) Σ_s log p(x_n, z_ns | θ) + H(q_n)], with H(q) computed exactly.
 * Its standard error is exact given θ: sqrt(Σ_n w_n² Var_n) (a row of weight w uses its draws w
 * times), Var_n = Var_q[log p(x_n, z | θ) − h_z] / S + Σ_k E[a_k²] v_k. Rows with missing entries draw
 * them with z from their exact conditional (`FiniteChunk.sampleStats`; core's block loop does it): h_k
 * is that conditional's entropy and v_k the variance of its log density (`latentVariance`), a_k the
 * fraction of the S draws equal to k, E[a_k²] = p_k(1 − p_k)/S + p_k².
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
  const nDraws = parseOptions(STOCHASTIC_OPTIONS, options, 'stochasticEStep')['nDraws'] as number;
  return {
    name: 'stochastic',
    kind: 'finite',
    family: 'monte-carlo',
    options: { nDraws },
    shardable: true,
    async run(structure, ctx) {
      const k = structure.nComponents;
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, (block) => {
        const { rows, logJoint, rng, rowWeights } = block;
        const post = block.posterior();
        const h = block.latentEntropy();
        const lv = block.latentVariance();
        const draws = new Float64Array(rows * k);
        const variance = new Float64Array(rows);
        for (let n = 0; n < rows; n++) {
          const o = n * k;
          for (let s = 0; s < nDraws; s++) {
            // Inverse CDF: the first component whose cumulative mass exceeds u (positive mass only).
            const u = rng.uniform();
            let acc = 0;
            let z = -1;
            for (let j = 0; j < k; j++) {
              const p = post[o + j] as number;
              if (p <= 0) continue;
              z = j;
              acc += p;
              if (u < acc) break;
            }
            if (z >= 0) draws[o + z] = (draws[o + z] as number) + 1 / nDraws;
          }
          // One draw of row n contributes log p(x_n, z) + log p(x_cont | x_n, z) with x_cont drawn once per
          // drawn component (sampleStats): mean log p(x_n, k) − h_k given z = k, variance v_k.
          let mean = 0;
          for (let j = 0; j < k; j++) if ((post[o + j] as number) > 0) mean += (post[o + j] as number) * ((logJoint[o + j] as number) - (h === undefined ? 0 : (h[o + j] as number)));
          let vz = 0;
          let vc = 0;
          for (let j = 0; j < k; j++) {
            const p = post[o + j] as number;
            if (!(p > 0)) continue;
            vz += p * ((logJoint[o + j] as number) - (h === undefined ? 0 : (h[o + j] as number)) - mean) ** 2;
            // E[a_k²] for the fraction a_k of S draws equal to k: p(1 − p)/S + p².
            if (lv !== undefined) vc += ((p * (1 - p)) / nDraws + p * p) * (lv[o + j] as number);
          }
          // Summed with weight w: w · (w · Var) = w² Var, the variance of w copies of one draw.
          variance[n] = (rowWeights === undefined ? 1 : (rowWeights[n] as number)) * (vz / nDraws + vc);
        }
        return { q: post, draws, sums: { variance } };
      }, { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      return {
        stats: r.stats,
        bound: r.bound,
        entropy: r.entropy,
        boundStdErr: Math.sqrt(Math.max(0, r.sums['variance'] ?? 0)),
        logLikelihood: r.logLikelihood,
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
  options: STOCHASTIC_OPTIONS,
  create: stochasticEStep,
});
