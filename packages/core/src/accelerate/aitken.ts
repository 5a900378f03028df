/**
 * Multivariate Aitken extrapolation (Louis 1982) with the EM Jacobian estimated from successive increments.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { Accelerator, AcceleratorStep } from './accelerator.js';
import { leastSquares } from './least-squares.js';
import { acceptedResult, checkNumber, emFallback, emResult, fallbackResult, fixedPointResult, moved, plainStep, startAt } from './step-helpers.js';
import { combine, sub } from './vector.js';

/** Options of {@link aitken}. @category Acceleration */
export interface AitkenOptions {
  /**
   * Number m of difference pairs the Jacobian is estimated from (default min(p, 10)):
   * m = p gives the full Jacobian, m < p its restriction to the span of the increments.
   */
  readonly window?: number;
}

/** Aitken memory: EM increments along the current EM path before θ, oldest first. @category Acceleration */
export interface AitkenMemory {
  readonly increments: readonly Float64Array[];
}

/**
 * Multivariate Aitken acceleration (Louis 1982) with a Jacobian estimated from successive EM increments.
 *
 * Near the fixed point θ*, EM is linear: Δ_{t+1} ≈ J Δ_t with Δ_t = F(θ_t) − θ_t
 * and J = dF(θ*), so summing the remaining increments gives
 * θ* ≈ θ_t + (I − J)⁻¹ Δ_t. With m consecutive pairs U = [Δ_{t−m} … Δ_{t−1}],
 * V = [Δ_{t−m+1} … Δ_t] (`[p, m]`), the secant estimate J U = V gives
 * (I − J)⁻¹ Δ_t = U c with (U − V) c = Δ_t, solved in least squares (pivoted
 * QR, dropping directions below 1e-12 relative); for m = p and U invertible
 * this is exactly J = V U⁻¹.
 *
 * One step from θ: evaluate p1 = F(θ) (ℓ(p1), Δ at p1). Once the current
 * EM path holds m + 1 increments, evaluate θ_A = p1 + U c and accept it iff it is
 * valid and ℓ(θ_A) ≥ ℓ(p1): a new EM path then starts at θ_A. Otherwise
 * fall back to p2 = F(p1) (p1 if ℓ(p2) < ℓ(p1)) and extend the path (its
 * oldest increments beyond m + 1 are dropped, so the next step extrapolates
 * again from a shifted window). Map calls per step: 1 while the path grows,
 * 2 when an extrapolation is accepted, 3 when it is rejected (0 at an exact
 * fixed point). A cycle after an acceptance costs m − 1 plain steps and one
 * extrapolation step (m + 1 calls).
 *
 * @throws `INVALID_ARGUMENT` if `window` is not an integer ≥ 1.
 * @see Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm. *JRSS B* 44, 226–233.
 * @category Acceleration
 */
export function aitken(options: AitkenOptions = {}): Accelerator<AitkenMemory> {
  const window =
    options.window === undefined ? undefined : checkNumber(options.window, 'window', { min: 1, integer: true }, 'pass an integer >= 1 or omit it (default min(p, 10))');
  const initial: AitkenMemory = { increments: [] };
  return {
    name: 'aitken',
    options: { window: window ?? 'min(p, 10)' },
    start: (theta, map) => startAt(theta, map, initial),
    async step(state, map): Promise<AcceleratorStep<AitkenMemory>> {
      const prev = state?.memory?.increments;
      if (!Array.isArray(prev)) {
        throw emError('INVALID_ARGUMENT', ['state', 'memory'], state?.memory, 'is not Aitken memory', 'pass the state returned by this accelerator');
      }
      const s = await plainStep(state, map);
      if (!moved(s)) return fixedPointResult(state, state.memory);
      const { theta, p1, e1 } = s;
      const m = window ?? Math.min(theta.length, 10);
      // Increments along the EM path …, θ, p1.
      const path = [...prev, sub(p1, theta), sub(e1.next, p1)].slice(-(m + 1));
      const keep = (increments: Float64Array[]): AitkenMemory => ({ increments: increments.slice(-m) });
      if (path.length < m + 1) return emResult(s, keep(path.slice(0, -1)));

      const U = path.slice(0, m);
      const cols = U.map((uj, j) => sub(uj, path[j + 1]!));
      const c = leastSquares(cols, path[m]!);
      const proposal = c === null ? null : combine(p1, Array.from(c), U);
      const e = proposal === null ? null : await s.counter.trial(proposal);
      if (proposal !== null && e !== null && e.logLikelihood >= e1.logLikelihood) {
        return acceptedResult(s, { theta: proposal, evaluation: e }, initial);
      }
      // The EM path goes on through p2 (or stops at p1).
      const fb = await emFallback(s);
      const memory = keep(fb.emSteps === 2 ? path : path.slice(0, -1));
      return fallbackResult(s, fb, memory, proposal === null ? {} : { extrapolated: true, rejection: e === null ? 'invalid' : 'decrease', proposalLogLikelihood: e?.logLikelihood });
    },
  };
}
