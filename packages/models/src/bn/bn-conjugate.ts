/**
 * The Bayesian network's conjugate hook (`Model.conjugate`): variational
 * Bayes over the CPTs with an independent Dirichlet(α, …, α) prior on every
 * CPT column of every non-frozen node.
 *
 * q(θ) = Π_columns Dirichlet(α + n_col) from the expected family counts of
 * q(z); the E-step on q(z) runs on the network with the sub-normalized tables
 * exp(E_q log θ) = exp(ψ(α'_jk) − ψ(Σ_k α'_jk)) (Beal 2003, §2.4), so any
 * registered `factor-graph` E-step (the junction tree, mean field) serves.
 * Frozen nodes keep their CPT at the start (a point mass: E log θ = log θ,
 * no KL term). The posterior predictive of a row is the likelihood at the
 * posterior-mean CPTs (every product of CPT entries in p(x) uses each column
 * at most once), so no separate predictive hook is needed.
 *
 * @see Beal, M. J. (2003). Variational algorithms for approximate Bayesian inference, ch. 2 and 6.
 * @see Heckerman, D. (1995). A tutorial on learning with Bayesian networks.
 * @module
 */
import { digamma, logGamma, type ConjugateHooks, type OptionSchema } from '@emlab/core';
import type { BnData } from './bn-types.js';
import type { BnParams, BnPrepared, BnStats, BnStructure } from './bn-model.js';
import type { BayesNet } from './bn-types.js';

/** The prior options of variational Bayes for a Bayesian network. @category Bayesian networks */
export const BN_VB_PRIOR_OPTIONS = {
  concentration: { type: 'number', min: 0, exclusiveMin: true, description: "Dirichlet α of every CPT entry; default 1 + the model's pseudoCount (the prior its MAP M-step uses)" },
} as const satisfies OptionSchema;

/** The prior of {@link bnConjugate}. @category Bayesian networks */
export interface BnVbPrior {
  /** α, the same for every entry of every non-frozen CPT. */
  readonly concentration: number;
  /** Per node (network order): its fixed CPT when frozen, else null. */
  readonly fixed: readonly (Float64Array | null)[];
  /** Per node: its number of states. */
  readonly cards: readonly number[];
}

/** q(θ): per node, the Dirichlet parameters α' of its CPT columns (CPT layout), or null for a frozen node. @category Bayesian networks */
export interface BnVbPosterior {
  readonly prior: BnVbPrior;
  readonly alphas: readonly (Float64Array | null)[];
}

/** E_q log θ per CPT entry: ψ(α'_jk) − ψ(Σ_k α'_jk), or log θ for a frozen node. */
function expectedLogCpt(posterior: BnVbPosterior, i: number): Float64Array {
  const fixed = posterior.prior.fixed[i];
  if (fixed !== null && fixed !== undefined) return fixed.map((p) => Math.log(p));
  const a = posterior.alphas[i] as Float64Array;
  const k = posterior.prior.cards[i] as number;
  const out = new Float64Array(a.length);
  for (let c = 0; c < a.length; c += k) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += a[c + j] as number;
    const psiSum = digamma(sum);
    for (let j = 0; j < k; j++) out[c + j] = digamma(a[c + j] as number) - psiSum;
  }
  return out;
}

/**
 * KL(Dir(α') ‖ Dir(α)) summed over the columns of one CPT (layout: columns of `k` entries):
 * log Γ(Σα') − Σ log Γ(α') − log Γ(Σα) + Σ log Γ(α) + Σ (α' − α)(ψ(α') − ψ(Σα')).
 * @category Bayesian networks
 */
export function dirichletKl(alpha: ArrayLike<number>, prior: number, k: number): number {
  let total = 0;
  for (let c = 0; c < alpha.length; c += k) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += alpha[c + j] as number;
    const psiSum = digamma(sum);
    let col = logGamma(sum) - logGamma(k * prior) + k * logGamma(prior);
    for (let j = 0; j < k; j++) {
      const a = alpha[c + j] as number;
      col += -logGamma(a) + (a - prior) * (digamma(a) - psiSum);
    }
    total += col;
  }
  return total;
}

/**
 * The conjugate hook of a Bayesian network model (`BayesianNetwork.conjugate`). See the module documentation.
 * @param net - the network (node order, states).
 * @param frozen - per node, whether its CPT is fixed.
 * @param pseudoCount - the model's MAP pseudo-count a (default prior α = 1 + a).
 * @param structureAt - the model's `structure` (factor tables from CPT-like arrays, sub-normalized allowed).
 * @category Bayesian networks
 */
export function bnConjugate(
  net: BayesNet,
  frozen: readonly boolean[],
  pseudoCount: number,
  structureAt: (prepared: BnPrepared, params: BnParams) => BnStructure,
): ConjugateHooks<BnData, BnParams, BnStats, BnPrepared, BnVbPrior, BnVbPosterior> {
  const cards = net.nodes.map((n) => n.states.length);
  return {
    priorOptions: BN_VB_PRIOR_OPTIONS,
    prior(_prepared, options, start) {
      const concentration = (options['concentration'] as number | undefined) ?? 1 + pseudoCount;
      return { concentration, cards, fixed: net.nodes.map((n, i) => (frozen[i] ? Float64Array.from(start.cpts[n.name] as readonly number[]) : null)) };
    },
    posterior(stats, prior) {
      return { posterior: { prior, alphas: stats.counts.map((c, i) => (prior.fixed[i] !== null ? null : Float64Array.from(c, (x) => x + prior.concentration))) } };
    },
    structure(prepared, posterior, ctx) {
      const cpts: Record<string, number[]> = {};
      net.nodes.forEach((n, i) => (cpts[n.name] = Array.from(expectedLogCpt(posterior, i), Math.exp)));
      return { ...structureAt(prepared, { cpts }), precision: ctx.precision };
    },
    expectedLogJoint(stats, posterior) {
      let total = 0;
      stats.counts.forEach((counts, i) => {
        const e = expectedLogCpt(posterior, i);
        for (let j = 0; j < counts.length; j++) {
          const c = counts[j] as number;
          if (c !== 0) total += c * (e[j] as number);
        }
      });
      return total;
    },
    klDivergence(posterior, prior) {
      let total = 0;
      posterior.alphas.forEach((a, i) => {
        if (a !== null) total += dirichletKl(a, prior.concentration, cards[i] as number);
      });
      return total;
    },
    pointEstimate(posterior) {
      const cpts: Record<string, number[]> = {};
      net.nodes.forEach((n, i) => {
        const fixed = posterior.prior.fixed[i];
        if (fixed !== null && fixed !== undefined) {
          cpts[n.name] = Array.from(fixed);
          return;
        }
        const a = posterior.alphas[i] as Float64Array;
        const k = cards[i] as number;
        const cpt = new Array<number>(a.length);
        for (let c = 0; c < a.length; c += k) {
          let sum = 0;
          for (let j = 0; j < k; j++) sum += a[c + j] as number;
          for (let j = 0; j < k; j++) cpt[c + j] = (a[c + j] as number) / sum;
        }
        cpts[n.name] = cpt;
      });
      return { cpts };
    },
    toJson(posterior) {
      const alphas: Record<string, number[] | null> = {};
      net.nodes.forEach((n, i) => (alphas[n.name] = posterior.alphas[i] === null ? null : Array.from(posterior.alphas[i] as Float64Array)));
      return { concentration: posterior.prior.concentration, frozen: net.nodes.filter((_, i) => frozen[i]).map((n) => n.name), alphas };
    },
  };
}
