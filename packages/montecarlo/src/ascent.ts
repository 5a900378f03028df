/**
 * The ascent-based rule of Caffo, Jank & Jones (2005) for MCEM.
 *
 * At θ_t with m draws, the M-step gives θ_{t+1} = argmax Q̃_m(θ); the change
 * ΔQ = Q(θ_{t+1} | θ_t) − Q(θ_t | θ_t) is estimated by the same draws,
 * ΔQ̂ = (1/m) Σ_j [log p(x, z_j | θ_{t+1}) − log p(x, z_j | θ_t)] (≥ 0 by the
 * M-step), with an asymptotic standard error σ̂/√m by batch means (the
 * sampler's units: batches of independent draws, or ⌊√S⌋ consecutive batches
 * of each Markov chain's S draws). Then
 *
 * - if the lower bound ΔQ̂ − z_α·ASE ≤ 0, the step cannot be told from Monte
 *   Carlo noise: m/k more draws are appended (the same θ_t) and θ_{t+1} is
 *   recomputed;
 * - otherwise θ_{t+1} is accepted, and the next iteration starts with
 *   m_{t+1} = max(m_t, σ̂² (z_α + z_β)² / ΔQ̂²) draws (enough for the next
 *   lower bound to be positive with probability 1 − β if ΔQ stays the same);
 * - MCEM stops when the upper bound ΔQ̂ + z_γ·ASE falls below the tolerance.
 *
 * Defaults α = β = 0.25, γ = 0.05, k = 3 (as NIMBLE's buildMCEM, which follows
 * the paper). emlab's tolerance is relative like its other policies:
 * UB ≤ tol · max(|L|, W) (tol 1e-6 by default).
 *
 * @see Caffo, B. S., Jank, W. & Jones, G. L. (2005). Ascent-based Monte Carlo expectation–maximization. JRSS B 67, 235–251.
 * @module
 */
import type { ConvergencePolicy, Model } from '@emlab/core';
import { unitMeanAndStdErr } from './internal/unit-stats.js';
import type { DrawUnit } from './samplers/sampler.js';

/** Default tolerance of {@link ascentPolicy}. @category MCEM */
export const ASCENT_TOL = 1e-6;

/** ΔQ̂ and its asymptotic standard error. @category MCEM */
export interface DeltaQ {
  readonly value: number;
  readonly stdErr: number;
}

/**
 * ΔQ̂ = Q(θ') − Q(θ) averaged over the units' draws, with its batch-means standard error (NaN when it
 * cannot be estimated: a single unit).
 * @category MCEM
 */
export function deltaQ<P, S>(model: Model<any, P, S, any>, units: readonly DrawUnit[], before: P, after: P): DeltaQ { // eslint-disable-line @typescript-eslint/no-explicit-any
  const values = new Float64Array(units.length);
  const sizes = new Float64Array(units.length);
  units.forEach((u, i) => {
    const s = u.stats() as S;
    values[i] = model.expectedLogJoint(s, after) - model.expectedLogJoint(s, before);
    sizes[i] = u.size;
  });
  const r = unitMeanAndStdErr(values, sizes);
  return { value: r.mean, stdErr: r.stdErr };
}

/**
 * The ascent-based stopping rule as a convergence policy: converged when the last iteration's upper
 * confidence bound of ΔQ (its `deltaQUpper` diagnostic) is at most tol · max(|L|, W), after at least two
 * iterations. The policy's value is that bound divided by max(|L|, W).
 * @category MCEM
 */
export function ascentPolicy(tol: number = ASCENT_TOL): ConvergencePolicy {
  return {
    name: 'mcem-ascent',
    tol,
    description: `upper confidence bound of ΔQ ≤ ${tol} · max(|L|, W) (Caffo, Jank & Jones 2005)`,
    check(input) {
      const t = input.trace;
      const last = t[t.length - 1];
      const ub = last?.diagnostics['deltaQUpper'];
      if (last === undefined || ub === undefined || t.length < 2) return { converged: false, value: Number.NaN, threshold: tol };
      const scale = Math.max(Math.abs(last.boundAfterM), input.totalWeight);
      const value = ub / scale;
      return { converged: value <= tol, value, threshold: tol };
    },
    withTol: (t) => ascentPolicy(t),
  };
}
