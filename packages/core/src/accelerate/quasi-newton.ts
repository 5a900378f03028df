/**
 * Quasi-Newton acceleration of Zhou, Alexander & Lange (2011): a secant approximation of dF from the last q pairs.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { Accelerator, AcceleratorStep } from './accelerator.js';
import { leastSquares } from './least-squares.js';
import { acceptedResult, checkNumber, emFallback, emResult, fallbackResult, fixedPointResult, moved, plainStep, startAt } from './step-helpers.js';
import { combine, dot, sub } from './vector.js';

/** Options of {@link quasiNewton}. @category Acceleration */
export interface QuasiNewtonOptions {
  /** Number of secant pairs q (default 2; capped at the dimension p). */
  readonly q?: number;
}

/** Quasi-Newton memory: the most recent secant pairs, oldest first. @category Acceleration */
export interface QuasiNewtonMemory {
  /** u_i = F(θ_i) − θ_i. */
  readonly u: readonly Float64Array[];
  /** v_i = F(F(θ_i)) − F(θ_i). */
  readonly v: readonly Float64Array[];
}

/**
 * The quasi-Newton acceleration of Zhou, Alexander & Lange (2011) with q secant pairs.
 *
 * EM seeks a root of G(θ) = θ − F(θ). With secant pairs u_i = F(θ_i) − θ_i,
 * v_i = F(F(θ_i)) − F(θ_i) (columns of U, V, `[p, q]`), the least-change
 * secant approximation of dF is M = V (UᵀU)⁻¹ Uᵀ, and the Newton step with
 * (I − M)⁻¹ = I + V (UᵀU − UᵀV)⁻¹ Uᵀ (Woodbury) is
 *
 *   θ_QN = F(θ) − V (UᵀU − UᵀV)⁻¹ Uᵀ (θ − F(θ)).
 *
 * One step from θ: evaluate p1 = F(θ) (giving ℓ(p1) and p2 = F(p1), hence a
 * new pair (p1 − θ, p2 − p1); the oldest pair beyond q is dropped); once q
 * pairs are held, evaluate θ_QN and accept it iff it is valid and
 * ℓ(θ_QN) ≥ ℓ(p1), else fall back to p2 = F(p1) (p1 if ℓ(p2) < ℓ(p1)), as
 * turboEM's `qn` falls back to F(F(θ)). Pairs are taken at the points steps
 * start from. The q × q system is solved by pivoted QR, dropping directions
 * below 1e-12 relative (nearly parallel pairs). Map calls per step: 1 while
 * the first q pairs accumulate (plain EM, as in the paper and turboEM), then
 * 2 (accepted) or 3 (rejected); 0 at an exact fixed point.
 *
 * @throws `INVALID_ARGUMENT` if q is not an integer ≥ 1.
 * @see Zhou, H., Alexander, D. & Lange, K. (2011). A quasi-Newton acceleration for high-dimensional optimization algorithms. *Statistics and Computing* 21, 261–273.
 * @category Acceleration
 */
export function quasiNewton(options: QuasiNewtonOptions = {}): Accelerator<QuasiNewtonMemory> {
  const q = checkNumber(options.q ?? 2, 'q', { min: 1, integer: true }, 'pass a number of secant pairs >= 1 (default 2)');
  const initial: QuasiNewtonMemory = { u: [], v: [] };
  return {
    name: 'quasi-newton',
    options: { q },
    start: (theta, map) => startAt(theta, map, initial),
    async step(state, map): Promise<AcceleratorStep<QuasiNewtonMemory>> {
      const mem = state?.memory;
      if (!Array.isArray(mem?.u) || !Array.isArray(mem?.v) || mem.u.length !== mem.v.length) {
        throw emError('INVALID_ARGUMENT', ['state', 'memory'], mem, 'is not quasi-Newton memory', 'pass the state returned by this accelerator');
      }
      const s = await plainStep(state, map);
      if (!moved(s)) return fixedPointResult(state, state.memory);
      const { theta, p1, e1 } = s;
      const qEff = Math.min(q, theta.length);
      const u0 = sub(p1, theta);
      const v0 = sub(e1.next, p1);
      const U = [...mem.u, u0].slice(-qEff);
      const V = [...mem.v, v0].slice(-qEff);
      const memory: QuasiNewtonMemory = { u: U, v: V };
      if (U.length < qEff) return emResult(s, memory);

      // (UᵀU − UᵀV) c = Uᵀ u0, so θ_QN = p1 + V c  (θ − F(θ) = −u0).
      const cols = V.map((vj, j) => {
        const uj = U[j]!;
        const col = new Float64Array(qEff);
        for (let i = 0; i < qEff; i++) col[i] = dot(U[i]!, uj) - dot(U[i]!, vj);
        return col;
      });
      const rhs = Float64Array.from(U, (ui) => dot(ui, u0));
      const c = leastSquares(cols, rhs);
      if (c === null) return fallbackResult(s, await emFallback(s), memory, {});
      const proposal = combine(p1, Array.from(c), V);
      const e = await s.counter.trial(proposal);
      if (e === null || !(e.logLikelihood >= e1.logLikelihood)) {
        return fallbackResult(s, await emFallback(s), memory, {
          extrapolated: true,
          rejection: e === null ? 'invalid' : 'decrease',
          proposalLogLikelihood: e?.logLikelihood,
        });
      }
      return acceptedResult(s, { theta: proposal, evaluation: e }, memory);
    },
  };
}
