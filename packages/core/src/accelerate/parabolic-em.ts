/**
 * Parabolic EM (Berlinet & Roland 2009): a search for the best point on the parabola through three anchors.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { Accelerator, AcceleratorStep } from './accelerator.js';
import type { EmMapEvaluation } from './em-map.js';
import { acceptedResult, checkNumber, emResult, fallbackResult, fixedPointResult, moved, plainStep, startAt } from './step-helpers.js';

/** Options of {@link parabolicEm}. @category Acceleration */
export interface ParabolicEmOptions {
  /** Plain EM steps before the first search (default 10, turboEM's `l`; at least 2 to have three anchors). */
  readonly warmup?: number;
  /** Step increment h (default 0.1). */
  readonly h?: number;
  /** Geometric ratio a > 1 (default 1.5). */
  readonly a?: number;
  /** `'geometric'`: t_i = 1 + h·aⁱ (default); `'arithmetic'`: t_i = 1 + (i + 1)·h; i = 0, 1, … */
  readonly version?: 'geometric' | 'arithmetic';
  /** Most trial points per search (default 30); each is one map call. */
  readonly maxTrials?: number;
}

/** Parabolic EM memory: the two older anchors (θ is the third) and the warm-up left. @category Acceleration */
export interface ParabolicEmMemory {
  readonly a0: Float64Array | null;
  readonly a1: Float64Array | null;
  /** Plain EM steps still to take before searching. */
  readonly warmupLeft: number;
}

/** P(t) = (1 − t)² a0 + 2t(1 − t) a1 + t² a2: the Bézier parabola with P(0) = a0, P(1) = a2. */
function parabola(a0: Float64Array, a1: Float64Array, a2: Float64Array, t: number): Float64Array {
  const c0 = (1 - t) * (1 - t);
  const c1 = 2 * t * (1 - t);
  const c2 = t * t;
  const out = new Float64Array(a2.length);
  for (let i = 0; i < out.length; i++) out[i] = c0 * a0[i]! + c1 * a1[i]! + c2 * a2[i]!;
  return out;
}

/**
 * Parabolic EM acceleration (Berlinet & Roland 2009), with the bookkeeping of turboEM's `pem`.
 *
 * Three anchors (a0, a1, θ), initially successive EM iterates after `warmup`
 * plain steps, define P(t) = (1 − t)² a0 + 2t(1 − t) a1 + t² θ (P(1) = θ;
 * for successive iterates this is SQUAREM's curve). One step from θ:
 * 1. evaluate p1 = F(θ) (ℓ(p1), p2 = F(p1));
 * 2. search P(t) for t = t_0, t_1, … (geometric 1 + h·aⁱ or arithmetic),
 *    continuing while ℓ increases; the first trial must beat ℓ(θ) = ℓ(P(1));
 * 3. if it does, with `best` the last improving trial, return F(F(best))
 *    (two calls: F(best) is known from best's evaluation) and shift the anchors
 *    to (a1, θ); otherwise restart on the EM path: return p2 (one call) with
 *    anchors (θ, p1).
 * The returned point always has ℓ ≥ ℓ(p1): if F(F(best)) (or p2) falls below
 * ℓ(p1), the step returns the better of F(best) and best if that one does
 * not, else p1, and warms up again.
 * Map calls per step: 1 during warm-up; otherwise 1 + trials + 2 (accepted)
 * or 1 + 1 + 1 (rejected).
 *
 * @throws `INVALID_ARGUMENT` for options out of range (before any work).
 * @see Berlinet, A. & Roland, C. (2009). Parabolic acceleration of the EM algorithm. *Statistics and Computing* 19, 35–47.
 * @category Acceleration
 */
export function parabolicEm(options: ParabolicEmOptions = {}): Accelerator<ParabolicEmMemory> {
  const warmup = checkNumber(options.warmup ?? 10, 'warmup', { min: 2, integer: true }, 'pass an integer >= 2 (default 10)');
  const h = checkNumber(options.h ?? 0.1, 'h', { min: 0, exclusiveMin: true }, 'pass h > 0 (default 0.1)');
  const a = checkNumber(options.a ?? 1.5, 'a', { min: 1, exclusiveMin: true }, 'pass a > 1 (default 1.5)');
  const maxTrials = checkNumber(options.maxTrials ?? 30, 'maxTrials', { min: 1, integer: true }, 'pass an integer >= 1 (default 30)');
  const version = options.version ?? 'geometric';
  if (version !== 'geometric' && version !== 'arithmetic') {
    throw emError('INVALID_ARGUMENT', ['options', 'version'], version, "must be 'geometric' or 'arithmetic'", "omit it for the default 'geometric'");
  }
  const tOf = (i: number): number => (version === 'geometric' ? 1 + h * a ** i : 1 + (i + 1) * h);
  const initial: ParabolicEmMemory = { a0: null, a1: null, warmupLeft: warmup };

  return {
    name: 'parabolic',
    options: { warmup, h, a, version, maxTrials },
    start: (theta, map) => startAt(theta, map, initial),
    async step(state, map): Promise<AcceleratorStep<ParabolicEmMemory>> {
      const mem = state?.memory;
      if (typeof mem?.warmupLeft !== 'number') {
        throw emError('INVALID_ARGUMENT', ['state', 'memory'], mem, 'is not parabolic EM memory', 'pass the state returned by this accelerator');
      }
      const s = await plainStep(state, map);
      if (!moved(s)) return fixedPointResult(state, state.memory);
      const { theta, p1, e1, counter } = s;
      const floor = e1.logLikelihood;

      if (mem.warmupLeft > 0 || mem.a0 === null || mem.a1 === null) {
        return emResult(s, { a0: mem.a1, a1: theta, warmupLeft: Math.max(0, mem.warmupLeft - 1) });
      }
      const { a0, a1 } = mem;

      // Search along the parabola while the log-likelihood increases, from ℓ(θ) = ℓ(P(1)).
      let best: { theta: Float64Array; evaluation: EmMapEvaluation; t: number } | null = null;
      let bestLl = s.e0.logLikelihood;
      let firstLl: number | undefined;
      for (let i = 0; i < maxTrials; i++) {
        const t = tOf(i);
        const x = parabola(a0, a1, theta, t);
        const e = await counter.trial(x);
        if (i === 0) firstLl = e?.logLikelihood;
        if (e === null || !(e.logLikelihood > bestLl)) break;
        best = { theta: x, evaluation: e, t };
        bestLl = e.logLikelihood;
      }

      if (best === null) {
        // Restart on the EM path: p2 with anchors (θ, p1); p1 if ℓ(p2) < ℓ(p1).
        const p2 = e1.next;
        const e2 = await counter.plain(p2);
        const report = { extrapolated: true, rejection: firstLl === undefined ? ('invalid' as const) : ('decrease' as const), stepLength: tOf(0), proposalLogLikelihood: firstLl };
        if (e2.logLikelihood >= floor) {
          return fallbackResult(s, { theta: p2, evaluation: e2, emSteps: 2 }, { a0: theta, a1: p1, warmupLeft: 0 }, report);
        }
        return emResult(s, { a0: null, a1: theta, warmupLeft: 1 }, report);
      }

      // Two EM steps from the best trial; F(best) is known from its evaluation.
      const fb = best.evaluation.next;
      const efb = await counter.plain(fb);
      const ffb = efb.next;
      const effb = await counter.plain(ffb);
      if (effb.logLikelihood >= floor) {
        return acceptedResult(s, { theta: ffb, evaluation: effb }, { a0: a1, a1: theta, warmupLeft: 0 }, best.t);
      }
      // F(F(best)) fell below the floor: keep the better of F(best) and best if it clears the floor, and warm up again.
      const reset: ParabolicEmMemory = { a0: null, a1: null, warmupLeft: 2 };
      const fallback = efb.logLikelihood >= best.evaluation.logLikelihood ? { theta: fb, evaluation: efb } : { theta: best.theta, evaluation: best.evaluation };
      if (fallback.evaluation.logLikelihood >= floor) return acceptedResult(s, fallback, reset, best.t);
      return emResult(s, reset, { extrapolated: true, rejection: 'decrease', stepLength: best.t, proposalLogLikelihood: effb.logLikelihood });
    },
  };
}
