/**
 * The central-difference gradient every stationarity figure uses (Fisher's identity on the expected
 * complete-data log-likelihood, or the log-likelihood itself): step 1e-5 · max(1, |ϑ_i|), float64.
 * @module
 */

/**
 * ∇ f(ϑ) / `scale` at `theta` by central differences, step 1e-5 · max(1, |ϑ_i|) per coordinate
 * (`theta` is not changed). @internal
 */
export function centralGradient(f: (v: Float64Array) => number, theta: Float64Array, scale: number): Float64Array {
  const grad = new Float64Array(theta.length);
  const v = Float64Array.from(theta);
  for (let i = 0; i < theta.length; i++) {
    const t = theta[i] as number;
    const h = 1e-5 * Math.max(1, Math.abs(t));
    v[i] = t + h;
    const up = f(v);
    v[i] = t - h;
    const down = f(v);
    v[i] = t;
    grad[i] = (up - down) / (2 * h) / scale;
  }
  return grad;
}
