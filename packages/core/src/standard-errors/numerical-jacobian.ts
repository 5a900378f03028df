/**
 * Jacobian of a vector function by central differences with Richardson extrapolation.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { NumericalDerivativeOptions } from './richardson.js';
import { checkPoint, initialSteps, resolveDerivativeOptions, richardson } from './richardson.js';

/**
 * dg(x), `[m, p]` row-major (row i = ∇g_i), by central differences with Richardson extrapolation.
 *
 * m is the length of g(x). Steps as in {@link numericalHessian}: column j uses
 * (g(x + h eⱼ) − g(x − h eⱼ)) / 2h at h = h_j, h_j/v, …, extrapolated.
 * Cost: 1 + 2rp evaluations of g.
 *
 * @param g Vector function of a `[p]` Float64Array returning `[m]` numbers (it must not mutate its argument).
 * @param x Point, `[p]`.
 * @throws `INVALID_ARGUMENT` if x is not a non-empty finite Float64Array, an option is out of range, or g is not finite, or changes length, at x or at a step.
 * @category Standard errors
 */
export function numericalJacobian(
  g: (x: Float64Array) => ArrayLike<number>,
  x: Float64Array,
  options: NumericalDerivativeOptions = {},
): Float64Array {
  checkPoint(x);
  const o = resolveDerivativeOptions(options);
  const p = x.length;
  const evaluate = (y: Float64Array, where: string, m: number): Float64Array => {
    const out = Float64Array.from(g(y));
    if ((m >= 0 && out.length !== m) || out.some((v) => !Number.isFinite(v))) {
      throw emError(
        'INVALID_ARGUMENT',
        ['g'],
        out,
        `is not a finite vector${m >= 0 ? ` of length ${m}` : ''} at ${where}`,
        'return a fixed-length finite vector; reduce options.relativeStep if a step leaves the function\'s domain',
      );
    }
    return out;
  };
  const m = evaluate(Float64Array.from(x), 'x', -1).length;
  const h0 = initialSteps(x, o);
  const J = new Float64Array(m * p);
  for (let j = 0; j < p; j++) {
    const estimates: Float64Array[] = [];
    for (let k = 0; k < o.richardsonSteps; k++) {
      const h = h0[j]! * o.reduction ** -k;
      const plus = Float64Array.from(x);
      plus[j] = plus[j]! + h;
      const minus = Float64Array.from(x);
      minus[j] = minus[j]! - h;
      const gp = evaluate(plus, `x + step in coordinate ${j}`, m);
      const gm = evaluate(minus, `x − step in coordinate ${j}`, m);
      estimates.push(Float64Array.from(gp, (v, i) => (v - gm[i]!) / (2 * h)));
    }
    const col = richardson(estimates, o.reduction);
    for (let i = 0; i < m; i++) J[i * p + j] = col[i]!;
  }
  return J;
}
