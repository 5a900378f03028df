/**
 * The mode of log p(x_g, b | θ) for a continuous structure: the structure's
 * own search when it has one, else damped Newton (step halving, jittered
 * Cholesky of −H) on its derivatives.
 * @module
 */
import { choleskyWithJitter, solveLower, solveLowerTransposed, type ContinuousMode, type ContinuousStructure } from '@emlab/core';

/** The mode of group g (from `start` when given). @internal */
export function modeOf(structure: ContinuousStructure, g: number, start?: ArrayLike<number>): ContinuousMode {
  if (structure.mode !== undefined) return structure.mode(g, start);
  const q = structure.dim;
  let b = new Float64Array(q);
  if (start !== undefined) for (let i = 0; i < q; i++) b[i] = start[i]!;
  let cur = structure.logJointDerivatives(g, b);
  if (!Number.isFinite(cur.value)) {
    b = new Float64Array(q);
    cur = structure.logJointDerivatives(g, b);
  }
  let converged = false;
  for (let it = 0; it < 100; it++) {
    const neg = cur.hessian.map((v) => -v);
    const { L } = choleskyWithJitter(neg, q, { what: 'negative Hessian of log p(x_g, b)', path: ['b', g] });
    const half = solveLower(L, q, cur.gradient);
    const step = solveLowerTransposed(L, q, half);
    let dec = 0;
    for (let i = 0; i < q; i++) dec += half[i]! * half[i]!;
    if (dec <= 1e-20 * Math.max(1, Math.abs(cur.value))) {
      converged = true;
      break;
    }
    let t = 1;
    let moved = false;
    for (let h = 0; h < 50; h++, t *= 0.5) {
      const next = b.map((v, i) => v + t * step[i]!);
      const d = structure.logJointDerivatives(g, next);
      if (d.value >= cur.value) {
        b = next;
        cur = d;
        moved = true;
        break;
      }
    }
    if (!moved) break;
  }
  return { mode: b, logJoint: cur.value, negHessian: cur.hessian.map((v) => -v), converged };
}
