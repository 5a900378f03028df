/**
 * Hessian of a scalar function by central differences with Richardson extrapolation.
 *
 * @module
 */
import type { NumericalDerivativeOptions } from './richardson.js';
import { checkPoint, finiteValue, initialSteps, resolveDerivativeOptions, richardson } from './richardson.js';

/**
 * ∇²f(x), `[p, p]` row-major and exactly symmetric, by central differences with Richardson extrapolation.
 *
 * Steps h_i = relativeStep · max(|x_i|, typicalSize_i) (defaults 1e-2 and 1),
 * reduced r − 1 times by the factor v (`richardsonSteps` 4, `reduction` 2). Diagonal entries use
 * (f(x + h eᵢ) − 2f(x) + f(x − h eᵢ)) / h², off-diagonal entries the
 * four-point formula (f(+h_i,+h_j) − f(+h_i,−h_j) − f(−h_i,+h_j) + f(−h_i,−h_j)) / (4 h_i h_j);
 * both have errors in even powers of h, removed by Richardson extrapolation.
 * Cost: 1 + 2rp + 2rp(p − 1) evaluations of f. Entry (j, i) is set to entry (i, j).
 * Accuracy: the truncation error after extrapolation is O(h^2r); the rounding
 * error is about ε|f| / (h_i h_j), so coordinates much smaller than the others
 * need `typicalSize` (see {@link NumericalDerivativeOptions}).
 *
 * @param f Scalar function of a `[p]` Float64Array (it must not mutate its argument).
 * @param x Point, `[p]`.
 * @throws `INVALID_ARGUMENT` if x is not a non-empty finite Float64Array, an option is out of range, or f is not finite at x or at a step.
 * @example
 * ```ts
 * const H = numericalHessian((t) => logLik(t), thetaHat); // observed information = −H
 * ```
 * @category Standard errors
 */
export function numericalHessian(f: (x: Float64Array) => number, x: Float64Array, options: NumericalDerivativeOptions = {}): Float64Array {
  checkPoint(x);
  const o = resolveDerivativeOptions(options);
  const p = x.length;
  const f0 = finiteValue(f(Float64Array.from(x)), 'x');
  const h0 = initialSteps(x, o);
  const at = (di: number, i: number, dj: number, j: number): number => {
    const y = Float64Array.from(x);
    y[i] = y[i]! + di;
    if (j >= 0) y[j] = y[j]! + dj;
    return finiteValue(f(y), `x + step in coordinates ${i}${j >= 0 ? `, ${j}` : ''}`);
  };
  const nPairs = (p * (p + 1)) / 2;
  const estimates: Float64Array[] = [];
  for (let k = 0; k < o.richardsonSteps; k++) {
    const scale = o.reduction ** -k;
    const est = new Float64Array(nPairs);
    let idx = 0;
    for (let i = 0; i < p; i++) {
      const hi = h0[i]! * scale;
      for (let j = 0; j <= i; j++) {
        if (i === j) {
          est[idx++] = (at(hi, i, 0, -1) - 2 * f0 + at(-hi, i, 0, -1)) / (hi * hi);
        } else {
          const hj = h0[j]! * scale;
          est[idx++] = (at(hi, i, hj, j) - at(hi, i, -hj, j) - at(-hi, i, hj, j) + at(-hi, i, -hj, j)) / (4 * hi * hj);
        }
      }
    }
    estimates.push(est);
  }
  const tri = richardson(estimates, o.reduction);
  const H = new Float64Array(p * p);
  let idx = 0;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      const v = tri[idx++]!;
      H[i * p + j] = v;
      H[j * p + i] = v;
    }
  }
  return H;
}
