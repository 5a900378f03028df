/**
 * Optimizers of the gradient baseline, on the host in float64 over the flat vector ϑ.
 * @see Nocedal, J. (1980). Updating quasi-Newton matrices with limited storage.
 * @see Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization.
 * @see Hager, W. W. & Zhang, H. (2005). A new conjugate gradient method with guaranteed descent and an efficient line search.
 * @module
 */
import type { GradientProblem } from './adapters.js';
import { dot, evaluate, maxAbs, norm2, type Evaluation } from './objective.js';

/** One optimizer step from `theta` (with its evaluation): the new point and its evaluation. */
export interface Stepper {
  step(theta: Float64Array, at: Evaluation): { theta: Float64Array; at: Evaluation; evaluations: number; stepSize: number; failed: boolean };
}

/** Adam on −(1/N) log p, bias-corrected (Kingma & Ba 2015), β₁ = 0.9, β₂ = 0.999, ε = 1e-8. */
export function adam<P>(problem: GradientProblem<P>, lr: number): Stepper {
  const m = new Float64Array(problem.dim);
  const v = new Float64Array(problem.dim);
  const b1 = 0.9;
  const b2 = 0.999;
  let t = 0;
  return {
    step(theta, at) {
      t++;
      const next = new Float64Array(theta.length);
      for (let i = 0; i < theta.length; i++) {
        const g = -(at.grad[i] as number); // minimize the negative
        m[i] = b1 * (m[i] as number) + (1 - b1) * g;
        v[i] = b2 * (v[i] as number) + (1 - b2) * g * g;
        const mh = (m[i] as number) / (1 - b1 ** t);
        const vh = (v[i] as number) / (1 - b2 ** t);
        next[i] = (theta[i] as number) - (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
      return { theta: next, at: evaluate(problem, next), evaluations: 1, stepSize: lr, failed: false };
    },
  };
}

/** Relative noise of the float32 objective the line search tolerates (2⁻²⁰ ≈ 1e-6). */
const VALUE_NOISE = 2 ** -20;

/**
 * L-BFGS on −(1/N) log p (two-loop recursion, Nocedal 1980) with a
 * backtracking Armijo line search (c₁ = 1e-4, halving, at most 40 trials).
 * Near the optimum the float32 objective cannot resolve the decrease, so a
 * step is also accepted when the value rose by at most {@link VALUE_NOISE}
 * relative and the approximate Wolfe conditions of Hager & Zhang (2005) hold
 * for the directional derivative: 0.9 φ'(0) ≤ φ'(α) ≤ −0.8 φ'(0).
 * A failed line search takes no step and clears the memory; a pair with
 * sᵀy ≤ 0 is not stored.
 */
export function lbfgs<P>(problem: GradientProblem<P>, history: number, firstStep: number): Stepper {
  const pairs: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  return {
    step(theta, at) {
      const g = at.grad.map((x) => -x); // gradient of the minimized −(1/N) log p
      const q = Float64Array.from(g);
      const alphas: number[] = [];
      for (let i = pairs.length - 1; i >= 0; i--) {
        const p = pairs[i] as (typeof pairs)[number];
        const a = p.rho * dot(p.s, q);
        alphas[i] = a;
        for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) - a * (p.y[j] as number);
      }
      const lastPair = pairs[pairs.length - 1];
      const gamma = lastPair === undefined ? 1 : dot(lastPair.s, lastPair.y) / dot(lastPair.y, lastPair.y);
      for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) * gamma;
      for (let i = 0; i < pairs.length; i++) {
        const p = pairs[i] as (typeof pairs)[number];
        const b = p.rho * dot(p.y, q);
        for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) + (p.s[j] as number) * ((alphas[i] as number) - b);
      }
      let d = q.map((x) => -x);
      let slope = dot(g, d);
      if (!(slope < 0)) {
        pairs.length = 0;
        d = g.map((x) => -x);
        slope = dot(g, d);
      }
      let alpha = pairs.length === 0 ? Math.min(firstStep, 1 / Math.max(maxAbs(g), 1e-12)) : 1;
      const f0 = -at.value;
      let evaluations = 0;
      for (let trial = 0; trial < 40; trial++) {
        const next = theta.map((x, i) => x + alpha * (d[i] as number));
        const e = evaluate(problem, next);
        evaluations++;
        const f1 = -e.value;
        // Armijo, or near the optimum where float32 values cannot show the decrease, the
        // approximate Wolfe conditions of Hager & Zhang (2005) checked on the (accurate) gradient.
        const armijo = f1 <= f0 + 1e-4 * alpha * slope && f1 < f0;
        let approxWolfe = false;
        if (!armijo && f1 <= f0 + VALUE_NOISE * Math.abs(f0)) {
          let slope1 = 0;
          for (let i = 0; i < d.length; i++) slope1 -= (d[i] as number) * (e.grad[i] as number);
          approxWolfe = slope1 >= 0.9 * slope && slope1 <= -0.8 * slope;
        }
        if (Number.isFinite(f1) && (armijo || approxWolfe)) {
          const s = next.map((x, i) => x - (theta[i] as number));
          const y = e.grad.map((x, i) => -x - (g[i] as number));
          const sy = dot(s, y);
          if (sy > 1e-12 * norm2(s) * norm2(y)) {
            pairs.push({ s, y, rho: 1 / sy });
            if (pairs.length > history) pairs.shift();
          }
          return { theta: next, at: e, evaluations, stepSize: alpha, failed: false };
        }
        alpha *= 0.5;
      }
      pairs.length = 0;
      return { theta, at, evaluations, stepSize: 0, failed: true };
    },
  };
}

