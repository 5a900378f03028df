/**
 * The tempered (deterministic-annealing) E-step over a finite latent
 * (Ueda & Nakano 1998): q(z_n) ∝ p(x_n, z_n | θ)^β with β rising to 1.
 * @module
 */
import { emError, parseOptions, reduceFiniteChunksAsync, registerEStep, type EStep, type FiniteBlock, type FiniteChoice, type FiniteStructure, type OptionSchema } from '@emlab/core';
import { betaList, nextBeta, observeFreeEnergy, startAnnealing, type AnnealingSchedule, type AnnealingState } from './internal/annealing.js';

/** The option table of {@link temperedEStep} (validation, CLI `--estep-option`, docs). @category E-steps */
export const TEMPERED_OPTIONS = {
  beta0: { type: 'number', min: 0, exclusiveMin: true, max: 1, default: 0.2, description: 'first inverse temperature β₀ in (0, 1]' },
  growth: { type: 'number', min: 1, exclusiveMin: true, default: 1.25, description: 'β_{j+1} = min(1, growth · β_j)' },
  betas: { type: 'number-list', min: 0, max: 1, description: 'the schedule itself: strictly increasing β in (0, 1] (1 is appended); instead of beta0 and growth' },
  itersPerBeta: { type: 'integer', min: 1, default: 5, description: 'at most this many iterations at each β < 1 (many iterations at small β can leave the components exactly coincident, a fixed point EM never leaves)' },
  stageTol: { type: 'number', min: 0, default: 1e-8, description: 'move on earlier once F_β changes by at most stageTol · max(|F_β|, W) between iterations (0: always itersPerBeta)' },
  jitter: { type: 'number', min: 0, default: 1e-2, description: 'log-scale N(0, jitter²) noise on q when β changes (< 1), so components that coincide exactly can split; 0: none' },
} as const satisfies OptionSchema;

/** Options of {@link temperedEStep}. @category E-steps */
export interface TemperedOptions {
  /** β₀ ∈ (0, 1]. Default 0.2. */
  readonly beta0?: number;
  /** Growth factor > 1 of β per stage. Default 1.25 (9 stages from 0.2). */
  readonly growth?: number;
  /** The schedule as a list (overrides `beta0` and `growth`). */
  readonly betas?: readonly number[];
  /** Iterations at most per β < 1. Default 5. */
  readonly itersPerBeta?: number;
  /** Relative change of F_β that ends a stage early. Default 1e-8. */
  readonly stageTol?: number;
  /** Log-scale noise on q at each change of β below 1 (symmetry breaking). Default 1e-2. */
  readonly jitter?: number;
}

/**
 * Checks tempered-E-step options (shared by every structure kind's tempered E-step).
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @internal
 */
export function temperedSchedule(options: Readonly<Record<string, unknown>>, owner: string): { schedule: AnnealingSchedule; recorded: Record<string, unknown>; jitter: number } {
  const o = parseOptions(TEMPERED_OPTIONS, options, owner);
  const given = options ?? {};
  if (given['betas'] !== undefined && (given['beta0'] !== undefined || given['growth'] !== undefined)) {
    throw emError('INVALID_ARGUMENT', [owner, 'betas'], given['betas'], 'conflicts with beta0/growth', 'give either the list betas or beta0 and growth');
  }
  const betas = betaList(o['beta0'] as number, o['growth'] as number, o['betas'] as number[] | undefined, [owner]);
  const schedule = { betas, itersPerBeta: o['itersPerBeta'] as number, stageTol: o['stageTol'] as number };
  const jitter = o['jitter'] as number;
  const recorded: Record<string, unknown> =
    o['betas'] === undefined
      ? { beta0: o['beta0'], growth: o['growth'], itersPerBeta: schedule.itersPerBeta, stageTol: schedule.stageTol, jitter }
      : { betas, itersPerBeta: schedule.itersPerBeta, stageTol: schedule.stageTol, jitter };
  return { schedule, recorded, jitter };
}

/**
 * The tempered choice for one block: q_nk ∝ exp(β · log p(x_n, k | θ)) (the posterior itself at β = 1),
 * and per row the free energy F_β,n = Σ_k q_nk log p(x_n, k) + H(q_n)/β (= (1/β) log Σ_k exp(β log p(x_n, k))
 * for this q) as `sums.freeEnergy` (0 for rows of weight 0). A row impossible under every component gets
 * no mass. With `jitter` ε > 0, q_nk ∝ exp(β log p(x_n, k) + ε u_nk) with u_nk ~ N(0, 1) from the
 * block's stream: what the E-step does when β changes, so that components that coincide exactly (a
 * fixed point EM never leaves) can split (Rose 1998 perturbs the code vectors for the same reason).
 * @category E-steps
 */
export function temperedChoice(block: FiniteBlock, beta: number, jitter = 0): FiniteChoice {
  const { rows, logJoint, nComponents: k, rowWeights } = block;
  const free = new Float64Array(rows);
  if (beta === 1 && jitter === 0) {
    const post = block.posterior();
    for (let n = 0; n < rows; n++) free[n] = rowWeights !== undefined && rowWeights[n] === 0 ? 0 : (block.logNorm[n] as number);
    return { q: post, sums: { freeEnergy: free, weight: new Float64Array(rows).fill(1) } };
  }
  const q = new Float64Array(rows * k);
  const a = new Float64Array(k);
  const noise = jitter === 0 ? undefined : block.rng.child('jitter');
  for (let n = 0; n < rows; n++) {
    const o = n * k;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const t = logJoint[o + j] as number;
      a[j] = beta * t + (noise === undefined || t === Number.NEGATIVE_INFINITY ? 0 : jitter * noise.normal());
      m = Math.max(m, a[j] as number);
    }
    if (m === Number.NEGATIVE_INFINITY) {
      free[n] = rowWeights !== undefined && rowWeights[n] === 0 ? 0 : Number.NEGATIVE_INFINITY;
      continue;
    }
    let total = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp((a[j] as number) - m);
      q[o + j] = e;
      total += e;
    }
    const logZ = m + Math.log(total);
    let f = 0;
    for (let j = 0; j < k; j++) {
      const qj = (q[o + j] as number) / total;
      q[o + j] = qj;
      // F_β,n = Σ q (t − (a − log Z)/β): equal to log Z / β when there is no jitter (a = β t).
      if (qj > 0) f += qj * ((logJoint[o + j] as number) - ((a[j] as number) - logZ) / beta);
    }
    free[n] = rowWeights !== undefined && rowWeights[n] === 0 ? 0 : noise === undefined ? logZ / beta : f;
  }
  return { q, sums: { freeEnergy: free, weight: new Float64Array(rows).fill(1) } };
}

/** The reasons recorded in the trace for an iteration at β. @internal */
export function annealingMarks(beta: number, from: number | undefined): { exempt?: string; unsettled?: string } {
  if (beta === 1) return {};
  const exempt =
    from === undefined
      ? `tempered q at β = ${beta.toPrecision(4)} maximizes F_β = E_q log p(x, z | θ) + H(q)/β, not L(q, θ)`
      : `β changed from ${from.toPrecision(4)} to ${beta.toPrecision(4)}; the tempered q maximizes F_β, not L(q, θ)`;
  return { exempt, unsettled: `annealing: β = ${beta.toPrecision(4)} < 1` };
}

/**
 * Deterministic annealing (Ueda & Nakano 1998) over a finite latent: q(z_n) ∝ p(x_n, z_n | θ)^β,
 * which maximizes the free energy F_β(q, θ) = E_q[log p(x, z | θ)] + H(q)/β, with β rising through a
 * schedule to 1 (then it is the exact E-step). Flat early posteriors keep the components together
 * until the data pull them apart, which avoids many poor local optima of EM.
 *
 * Bound: the true L(q, θ) = E_q[log p(x, z | θ)] + H(q) of the tempered q, every constant included
 * (≤ log p(x | θ); the gap KL(q ‖ posterior) is in the trace, because the E-step sees log p(x | θ)).
 * At β < 1 the E-step maximizes F_β, not L, so those E-halves are exempt from the monotonicity check
 * (the trace says why, and whether β changed) and unsettled (fit does not stop before β = 1); the
 * M-halves are checked. F_β never decreases while β is held (`diagnostics.freeEnergy`).
 *
 * Schedule (the E-step's state, one per restart): β₀, β₀·g, … (or `betas`), then 1; each β < 1 is
 * held until F_β changes by at most `stageTol` · max(|F_β|, W) between iterations, or for
 * `itersPerBeta` iterations. At small β the components can become exactly equal, a fixed point EM
 * never leaves; so at each change of β below 1 the E-step adds log-scale noise of size `jitter` to q
 * (from its seeded stream), which lets them split once β passes the critical temperature (Rose 1998).
 * Diagnostics: `beta`, `stage`, `freeEnergy` (F_β of the q returned, at θ_t).
 *
 * @example
 * ```ts
 * const r = await fit(gaussianMixture({ nComponents: 5 }), x, { eStep: 'tempered', eStepOptions: { beta0: 0.1 } });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option, or `betas` beside `beta0`/`growth`.
 * @see Ueda, N. & Nakano, R. (1998). Deterministic annealing EM algorithm. Neural Networks 11, 271–282.
 * @see Rose, K. (1998). Deterministic annealing for clustering, compression, classification, regression, and related optimization problems.
 * @category E-steps
 */
export function temperedEStep(options: TemperedOptions = {}): EStep<FiniteStructure, AnnealingState> {
  const { schedule, recorded, jitter } = temperedSchedule(options as Readonly<Record<string, unknown>>, 'temperedEStep');
  return {
    name: 'tempered',
    kind: 'finite',
    family: 'restricted',
    options: recorded,
    start: () => startAnnealing(),
    async run(structure, ctx) {
      const state = ctx.state;
      const { beta, stage, from } = nextBeta(schedule, state);
      // Noise only where β changed to a value below 1: the symmetric state is left at each new temperature.
      const noise = from !== undefined && beta < 1 ? jitter : 0;
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, (block) => temperedChoice(block, beta, noise), { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      const freeEnergy = r.sums['freeEnergy'] as number;
      observeFreeEnergy(schedule, state, freeEnergy, r.sums['weight'] as number);
      return {
        stats: r.stats,
        bound: r.bound,
        entropy: r.entropy,
        logLikelihood: r.logLikelihood,
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
  kind: 'finite',
  method: 'tempered',
  family: 'restricted',
  description: 'deterministic annealing: q ∝ p(x, z | θ)^β with β rising to 1 (Ueda & Nakano 1998); L of the tempered q, β < 1 exempt',
  options: TEMPERED_OPTIONS,
  create: (options) => temperedEStep((options ?? {}) as TemperedOptions),
});
