/**
 * The tempered (deterministic-annealing) E-step over hidden Markov chains
 * (Ueda & Nakano 1998): q(z_s) ∝ p(x_s, z_s | θ)^β, by forward–backward on the
 * tempered tables β · (log π, log A, log p(x_t | z_t)), with β rising to 1.
 * @module
 */
import { forwardBackward, reduceChainChunksAsync, registerEStep, type ChainBlock, type ChainChoice, type ChainStructure, type EStep, type OptionSchema } from '@emlab/core';
import { nextBeta, observeFreeEnergy, startAnnealing, type AnnealingState } from './internal/annealing.js';
import { annealingMarks, TEMPERED_OPTIONS, temperedSchedule, type TemperedOptions } from './tempered-estep.js';

/**
 * The option table of {@link chainTemperedEStep}: the finite tempered E-step's, with a larger default
 * `jitter` (0.1). Noise on the emission log-potentials of a chain averages out over the many steps a
 * state's statistics sum over, so 0.01 left the states of a 4-state Gaussian HMM (10,000 steps)
 * exactly coincident — a fixed point EM never leaves — where 0.1 and 0.5 let them split (benchmark).
 * @category E-steps
 */
export const CHAIN_TEMPERED_OPTIONS = {
  ...TEMPERED_OPTIONS,
  jitter: { ...TEMPERED_OPTIONS.jitter, default: 0.1, description: 'log-scale N(0, jitter²) noise on the emission log-potentials when β changes (< 1), so states that coincide exactly can split; 0: none' },
} as const satisfies OptionSchema;

/** β · a elementwise; −∞ stays −∞ and 0 stays 0 (a structural zero, a missing step). */
function tempered(a: Float64Array, beta: number): Float64Array {
  if (beta === 1) return a;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = beta * (a[i] as number);
  return out;
}

/**
 * The tempered choice for one block of sequences: q_s(z) ∝ exp(β log p(x_s, z | θ)), a Markov chain
 * again (the tables β log π, β log A, β log p(x_t | z_t)), whose marginals, expected transition counts
 * and exact path entropy H(q_s) come from one forward–backward on the tempered tables. At β = 1 it is
 * the exact posterior. With `jitter` ε > 0 each emission entry gets ε u_tk, u_tk ~ N(0, 1) from the
 * block's stream (`jitter`), so q is still a chain but not exactly symmetric in states that coincide.
 *
 * `logLikelihood` is Σ_s w_s log p(x_s | θ) (one more forward pass at β < 1), so the trace's gap is
 * KL(q ‖ posterior); `sums.pathEntropy` is Σ_s w_s H(q_s) and `sums.weight` Σ_s w_s T_s.
 * @category E-steps
 */
export function chainTemperedChoice(block: ChainBlock, beta: number, jitter = 0): ChainChoice {
  const b = block.batch;
  const logEmission = jitter === 0 ? tempered(b.logEmission, beta) : Float64Array.from(b.logEmission, (v) => beta * v);
  if (jitter > 0) {
    const noise = block.rng.child('jitter');
    for (let i = 0; i < logEmission.length; i++) {
      const v = logEmission[i] as number;
      if (v !== Number.NEGATIVE_INFINITY) logEmission[i] = v + jitter * noise.normal();
    }
  }
  const exact = beta === 1 && jitter === 0;
  const fb = forwardBackward(exact ? b : { ...b, logEmission, logInitial: tempered(b.logInitial, beta), logTransition: tempered(b.logTransition, beta) });
  const logLikelihood = exact ? fb.logLikelihood : forwardBackward(b, { likelihoodOnly: true }).logLikelihood;
  let weight = 0;
  b.lengths.forEach((len, s) => (weight += (b.weights === undefined ? 1 : (b.weights[s] as number)) * len));
  return {
    gamma: fb.gamma,
    transitionCounts: fb.transitionCounts,
    initialCounts: fb.initialCounts,
    entropy: fb.entropy,
    logLikelihood,
    sums: { pathEntropy: fb.entropy, weight },
  };
}

/**
 * Deterministic annealing (Ueda & Nakano 1998) over hidden Markov chains: q(z_s) ∝ p(x_s, z_s | θ)^β,
 * which maximizes F_β(q, θ) = E_q[log p(x, z | θ)] + H(q)/β over all distributions of the state paths
 * (the maximizer is a Markov chain: forward–backward on β times every log table), with β rising
 * through a schedule to 1 (then it is the exact E-step). Flat early posteriors keep the states'
 * emission parameters together until the data pull them apart.
 *
 * Bound: the true L(q, θ) = E_q[log p(x, z | θ)] + H(q) of the tempered q — a lower bound on
 * log p(x | θ), every constant included (H(q) is the exact path entropy of the tempered chain, plus
 * the further latent's part through core's block loop); the trace's gap is KL(q ‖ posterior). At
 * β < 1 the E-half maximizes F_β, not L, so those iterations are exempt from the monotonicity check
 * and unsettled (the trace says why, and whether β changed); F_β itself never decreases while β is
 * held (`diagnostics.freeEnergy`). The schedule and its options are those of the finite tempered
 * E-step (`temperedEStep`); the jitter here is log-scale noise on the emission entries, default 0.1
 * (see {@link CHAIN_TEMPERED_OPTIONS}).
 *
 * @example
 * ```ts
 * const r = await fit(hiddenMarkovModel({ nStates: 4 }), { x, lengths }, { eStep: 'tempered', eStepOptions: { beta0: 0.3 } });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option, or `betas` beside `beta0`/`growth`.
 * @see Ueda, N. & Nakano, R. (1998). Deterministic annealing EM algorithm. Neural Networks 11, 271–282.
 * @category E-steps
 */
export function chainTemperedEStep(options: TemperedOptions = {}): EStep<ChainStructure, AnnealingState> {
  const { schedule, recorded, jitter } = temperedSchedule(options as Readonly<Record<string, unknown>>, 'chainTemperedEStep', CHAIN_TEMPERED_OPTIONS);
  return {
    name: 'tempered',
    kind: 'chain',
    family: 'restricted',
    options: recorded,
    start: () => startAnnealing(),
    async run(structure, ctx) {
      const state = ctx.state;
      const { beta, stage, from } = nextBeta(schedule, state);
      const noise = from !== undefined && beta < 1 ? jitter : 0;
      const r = await reduceChainChunksAsync(structure, ctx.rng, (block) => chainTemperedChoice(block, beta, noise), { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      // F_β = E_q log p(x, z | θ) + H(q)/β over the paths (the further latent keeps its exact conditional).
      const freeEnergy = r.logJoint === Number.NEGATIVE_INFINITY ? r.logJoint : r.logJoint + (r.sums['pathEntropy'] as number) / beta;
      observeFreeEnergy(schedule, state, freeEnergy, r.sums['weight'] as number);
      return {
        stats: r.stats,
        bound: r.bound,
        entropy: r.entropy,
        ...(r.logLikelihood === undefined ? {} : { logLikelihood: r.logLikelihood }),
        diagnostics: { beta, stage, freeEnergy },
        ...annealingMarks(beta, from),
      };
    },
    dispose(state) {
      state.lastFreeEnergy = undefined;
    },
  };
}

registerEStep({
  kind: 'chain',
  method: 'tempered',
  family: 'restricted',
  description: 'deterministic annealing: q ∝ p(x, z | θ)^β over state paths (forward–backward on β · log tables), β rising to 1; L of the tempered q, β < 1 exempt',
  options: CHAIN_TEMPERED_OPTIONS,
  create: (options) => chainTemperedEStep((options ?? {}) as TemperedOptions),
});
