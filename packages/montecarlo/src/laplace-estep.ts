/**
 * The Laplace E-step for `continuous` structures: a Gaussian q_g = N(m_g, V_g)
 * per group at the mode of p(x_g, b | θ) with V_g the inverse negative Hessian
 * there — the deterministic, restricted-family comparison for the Monte Carlo
 * E-steps.
 * @module
 */
import { choleskyWithJitter, inverseFromCholesky, parseOptions, registerEStep, type ContinuousStructure, type EStep, type OptionSchema } from '@emlab/core';
import { modeOf } from './internal/newton.js';

/** The option table of {@link laplaceEStep}. @category E-steps */
export const LAPLACE_OPTIONS = {} as const satisfies OptionSchema;

/**
 * The Laplace E-step's state across iterations of a restart: the last modes and covariances per
 * group (`[G·q]` and `[G·q·q]`), which warm-start the next mode search. @category E-steps
 */
export interface LaplaceState {
  means: Float64Array | undefined;
  covs: Float64Array | undefined;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** H(N(m, V)) = (q/2)(1 + log 2π) + ½ log|V|, from V's Cholesky factor. */
function gaussianEntropy(cov: Float64Array, q: number, group: number): number {
  const { L } = choleskyWithJitter(cov, q, { what: 'Gaussian q covariance', path: ['q', group] });
  let logDet = 0;
  for (let i = 0; i < q; i++) logDet += 2 * Math.log(L[i * q + i]!);
  return 0.5 * q * (1 + LOG_2PI) + 0.5 * logDet;
}

/**
 * The Laplace E-step (no options): per group q_g = N(m_g, V_g) with m_g the mode of log p(x_g, b | θ) (Newton,
 * warm-started from the previous iteration's mode) and V_g = (−∇² log p(x_g, b | θ) at m_g)⁻¹. The
 * bound is the Gaussian-q lower bound with every constant,
 * Σ_g E_{q_g}[log p(x_g, b | θ)] + H(q_g) ≤ log p(x | θ) (exact expectations:
 * `gaussianExpectedLogJoint`), and the statistics are the model's for those Gaussians.
 *
 * The Laplace q does not maximize that bound over Gaussians, so the fresh Laplace q at θ_t can have a
 * slightly lower bound than the previous iteration's q: the E-step then reports the drop and marks the
 * E-half `exempt` from the monotonicity check (keeping the previous q instead would freeze EM where
 * the two are nearly equal: the statistics, hence θ, would stop moving). The M-half is an exact
 * maximization and stays checked. Its fixed points are those of Laplace–EM, not the MLE; the gap to
 * the model's exact log p(x | θ) (`logMarginal`, the GLMM's quadrature, reported with the record)
 * shows how far the Gaussian q is from the posterior. Diagnostics: `eHalfDrop` (≥ 0),
 * `modeNotConverged` (groups).
 * @example
 * ```ts
 * const r = await fit(glmm({ family: 'logistic' }), data, { eStep: laplaceEStep() });
 * r.trace.at(-1)?.gap; // KL(q ‖ posterior), ≥ 0
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option.
 * @see Tierney, L. & Kadane, J. B. (1986). Accurate approximations for posterior moments and marginal densities. JASA 81, 82–86.
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @category E-steps
 */
export function laplaceEStep(options: Readonly<Record<string, unknown>> = {}): EStep<ContinuousStructure, LaplaceState> {
  const o = parseOptions(LAPLACE_OPTIONS, options, 'laplaceEStep');
  return {
    name: 'laplace',
    kind: 'continuous',
    family: 'restricted',
    options: o,
    precisions: ['float64'],
    start: () => ({ means: undefined, covs: undefined }),
    run(structure, ctx) {
      const G = structure.nGroups;
      const q = structure.dim;
      const state = ctx.state;
      const means = new Float64Array(G * q);
      const covs = new Float64Array(G * q * q);
      let bound = 0;
      let entropy = 0;
      let previous = 0;
      let notConverged = 0;
      for (let g = 0; g < G; g++) {
        const m = modeOf(structure, g, state.means?.subarray(g * q, (g + 1) * q));
        if (!m.converged) notConverged++;
        const { L } = choleskyWithJitter(m.negHessian, q, { what: 'negative Hessian at the mode', path: ['b', g] });
        const mean = m.mode;
        const cov = inverseFromCholesky(L, q);
        const h = gaussianEntropy(cov, q, g);
        const lg = structure.gaussianExpectedLogJoint(g, mean, cov) + h;
        if (state.means !== undefined && state.covs !== undefined) {
          const pc = state.covs.subarray(g * q * q, (g + 1) * q * q);
          previous += structure.gaussianExpectedLogJoint(g, state.means.subarray(g * q, (g + 1) * q), pc) + gaussianEntropy(pc, q, g);
        }
        means.set(mean, g * q);
        covs.set(cov, g * q * q);
        bound += lg;
        entropy += h;
      }
      const drop = state.means === undefined ? 0 : Math.max(0, previous - bound);
      state.means = means;
      state.covs = covs;
      let logLikelihood: number | undefined;
      if (structure.logMarginal !== undefined) {
        logLikelihood = 0;
        for (let g = 0; g < G; g++) logLikelihood += structure.logMarginal(g);
      }
      return {
        stats: structure.gaussianStats(means, covs),
        bound,
        entropy,
        ...(logLikelihood === undefined ? {} : { logLikelihood }),
        diagnostics: { eHalfDrop: drop, modeNotConverged: notConverged },
        ...(drop > 0 ? { exempt: `the Laplace q is not the Gaussian maximizer of the bound: this E-half lowered L by ${drop.toExponential(2)}` } : {}),
      };
    },
  };
}

registerEStep({
  kind: 'continuous',
  method: 'laplace',
  family: 'restricted',
  description: 'Laplace: a Gaussian q per group at the mode with the inverse negative Hessian (restricted family; the bound is the Gaussian-q ELBO with every constant)',
  options: LAPLACE_OPTIONS,
  create: laplaceEStep,
});
