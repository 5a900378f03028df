/**
 * SQUAREM (Varadhan & Roland 2008): squared extrapolation along θ + 2α r + α² v with r = F(θ) − θ, v = F(F(θ)) − 2F(θ) + θ.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { Accelerator, AcceleratorStep } from './accelerator.js';
import type { EmMapEvaluation } from './em-map.js';
import { acceptedResult, checkNumber, emFallback, fallbackResult, fixedPointResult, moved, plainStep, startAt } from './step-helpers.js';
import { combine, dot, sub } from './vector.js';

/**
 * SQUAREM step-length scheme (signs as in the SQUAREM R package, so α > 0 extrapolates):
 * S1: α = −rᵀv / vᵀv; S2: α = −rᵀr / rᵀv; S3: α = ‖r‖ / ‖v‖.
 * @category Acceleration
 */
export type SquaremMethod = 'S1' | 'S2' | 'S3';

/** Options of {@link squarem}. @category Acceleration */
export interface SquaremOptions {
  /** Step-length scheme (default `'S3'`, the R package's default `method = 3`). */
  readonly method?: SquaremMethod;
  /** Initial lower bound on α (default 1, `step.min0`). */
  readonly stepMin0?: number;
  /** Initial upper bound on α (default 1, `step.max0`); the bound adapts by `mstep`. */
  readonly stepMax0?: number;
  /** Factor by which the bounds grow when α hits them and shrink on failure (default 4, `mstep`). */
  readonly mstep?: number;
  /**
   * Take one EM step from the extrapolated point before judging it when |α − 1| > 0.01
   * (default true, as `squarem1`); false judges the extrapolated point itself (one call fewer).
   */
  readonly stabilize?: boolean;
}

/** SQUAREM's memory: the current step-length bounds. @category Acceleration */
export interface SquaremMemory {
  readonly stepMin: number;
  readonly stepMax: number;
}

/**
 * SQUAREM acceleration of the EM map, following `squarem1` of the SQUAREM R package.
 *
 * One step from θ (with F(θ) = p1 known from θ's evaluation):
 * 1. evaluate p1 (ℓ(p1), p2 = F(p1)): the plain EM step and the safeguard floor;
 * 2. r = p1 − θ, v = p2 − 2p1 + θ, α from the scheme, clipped to [stepMin, stepMax];
 * 3. α = 1 makes θ + 2r + v = p2: keep p2 (one call to evaluate it); else
 *    θ' = θ + 2αr + α²v, and if |α − 1| > 0.01 and `stabilize` the candidate is
 *    F(θ') (one call at θ', one at F(θ') for its log-likelihood), else θ'
 *    itself (one call);
 * 4. accept the candidate iff it is valid and ℓ(candidate) ≥ ℓ(p1); otherwise
 *    fall back to p2 (one call; p1 if ℓ(p2) < ℓ(p1)) and, if α was at stepMax,
 *    set stepMax ← max(stepMax0, stepMax/mstep). Then, as in `squarem1`,
 *    α = stepMax (with α := 1 after a failure) multiplies stepMax by `mstep`,
 *    and α = stepMin < 0 multiplies stepMin by `mstep`.
 *
 * The one difference from `squarem1` is the safeguard: the candidate must not
 * fall below ℓ(F(θ)), where `squarem1` allows ℓ(θ) − `objfn.inc` (1 by
 * default), so every accepted step is at least as good as plain EM.
 * Map calls per step: 0 at an exact fixed point (F(θ) = θ); otherwise 1 for
 * p1, then 1 (α = 1), 2–3 for an accepted proposal (θ', F(θ')), or up to 4
 * for a rejected one (θ', F(θ'), p2); a non-finite θ' is rejected without a call.
 *
 * @throws `INVALID_ARGUMENT` for options out of range (before any work).
 * @see Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating the convergence of any EM algorithm. *Scand. J. Statist.* 35, 335–353.
 * @category Acceleration
 */
export function squarem(options: SquaremOptions = {}): Accelerator<SquaremMemory> {
  const method = options.method ?? 'S3';
  if (method !== 'S1' && method !== 'S2' && method !== 'S3') {
    throw emError('INVALID_ARGUMENT', ['options', 'method'], method, "must be 'S1', 'S2' or 'S3'", "omit it for the default 'S3'");
  }
  const stepMin0 = checkNumber(options.stepMin0 ?? 1, 'stepMin0', {}, 'pass a finite lower bound on the step length (default 1)');
  const stepMax0 = checkNumber(options.stepMax0 ?? 1, 'stepMax0', { min: 1 }, 'pass stepMax0 >= 1 (default 1)');
  if (stepMin0 > stepMax0) {
    throw emError('INVALID_ARGUMENT', ['options', 'stepMin0'], stepMin0, `must be <= stepMax0 = ${stepMax0}`, 'lower stepMin0 or raise stepMax0');
  }
  const mstep = checkNumber(options.mstep ?? 4, 'mstep', { min: 1, exclusiveMin: true }, 'pass a factor > 1 (default 4)');
  const stabilize = options.stabilize ?? true;
  if (typeof stabilize !== 'boolean') {
    throw emError('INVALID_ARGUMENT', ['options', 'stabilize'], stabilize, 'must be a boolean', 'pass true (default) or false');
  }
  const initial: SquaremMemory = { stepMin: stepMin0, stepMax: stepMax0 };

  return {
    name: 'squarem',
    options: { method, stepMin0, stepMax0, mstep, stabilize },
    start: (theta, map) => startAt(theta, map, initial),
    async step(state, map): Promise<AcceleratorStep<SquaremMemory>> {
      const mem = state?.memory;
      if (typeof mem?.stepMin !== 'number' || typeof mem.stepMax !== 'number') {
        throw emError('INVALID_ARGUMENT', ['state', 'memory'], mem, 'is not SQUAREM memory', 'pass the state returned by this accelerator');
      }
      const s = await plainStep(state, map);
      if (!moved(s)) return fixedPointResult(state, state.memory);
      const { theta, p1, e1 } = s;
      const p2 = e1.next;
      let { stepMin, stepMax } = mem;

      const r = sub(p1, theta);
      const v = sub(sub(p2, p1), r);
      const sr2 = dot(r, r);
      const sv2 = dot(v, v);
      const srv = dot(r, v);
      const raw = method === 'S1' ? -srv / sv2 : method === 'S2' ? -sr2 / srv : Math.sqrt(sr2 / sv2);
      if (!Number.isFinite(raw)) {
        // v = 0 (or rᵀv = 0 for S2): no curvature to extrapolate with; two plain EM steps.
        return fallbackResult(s, await emFallback(s), state.memory, {});
      }
      let alpha = Math.max(stepMin, Math.min(stepMax, raw));
      const stepLength = alpha;
      if (alpha === 1) {
        // θ + 2r + v = p2: the proposal is two plain EM steps.
        return fallbackResult(s, await emFallback(s), stepMax === 1 ? { stepMin, stepMax: mstep * stepMax } : state.memory, { stepLength });
      }
      const proposal = combine(theta, [2 * alpha, alpha * alpha], [r, v]);

      let candidate: { theta: Float64Array; evaluation: EmMapEvaluation } | null = null;
      const first = await s.counter.trial(proposal);
      if (first !== null) {
        if (stabilize && Math.abs(alpha - 1) > 0.01) {
          const second = await s.counter.trial(first.next);
          if (second !== null) candidate = { theta: first.next, evaluation: second };
        } else {
          candidate = { theta: proposal, evaluation: first };
        }
      }
      const accepted = candidate !== null && candidate.evaluation.logLikelihood >= e1.logLikelihood;
      if (!accepted) {
        if (alpha === stepMax) stepMax = Math.max(stepMax0, stepMax / mstep);
        alpha = 1;
      }
      if (alpha === stepMax) stepMax = mstep * stepMax;
      if (stepMin < 0 && alpha === stepMin) stepMin = mstep * stepMin;
      const memory: SquaremMemory = { stepMin, stepMax };

      if (candidate === null || !accepted) {
        return fallbackResult(s, await emFallback(s), memory, {
          extrapolated: true,
          rejection: candidate === null ? 'invalid' : 'decrease',
          stepLength,
          proposalLogLikelihood: candidate?.evaluation.logLikelihood,
        });
      }
      return acceptedResult(s, candidate, memory, stepLength);
    },
  };
}
