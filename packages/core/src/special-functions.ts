/**
 * Special functions in plain JavaScript float64: log-gamma, digamma, trigamma,
 * the multivariate log-gamma and the log-beta function, accurate to a few
 * units in the last place on x > 0 (what Bayesian conjugate updates and
 * variational bounds need; the Lanczos `logGamma` of the Bayesian-network
 * model loses relative accuracy near its zeros at 1 and 2).
 *
 * Method, for x > 0:
 * - x ≥ 10: the asymptotic (Stirling / de Moivre) series with Bernoulli
 *   numbers B₂…B₁₆; the first omitted term is below 2e-18 relative there.
 * - 0 < x < 10, log-gamma and digamma: the recurrences Γ(x+1) = x Γ(x),
 *   ψ(x+1) = ψ(x) + 1/x move x to y ∈ [1.5, 2.5), where the Taylor series
 *   about 2, log Γ(2+t) = (1−γ) t + Σ_{k≥2} (−1)^k (ζ(k)−1) t^k / k, converges
 *   like 4^{−k}. Going through 2 (not through the asymptotic series from
 *   x + 10) keeps the relative accuracy near the zeros of log Γ at 1 and 2.
 *   ζ(k) − 1 comes from Σ_{n<16} n^{−k} plus an Euler–Maclaurin tail, once at
 *   module load.
 * - 0 < x < 10, trigamma: ψ₁(x) = ψ₁(x+m) + Σ_j 1/(x+j)² (all terms positive,
 *   no cancellation) with x + m ≥ 10.
 * - x ≤ 0: the reflection formulas (poles at the non-positive integers).
 *
 * @see Abramowitz & Stegun (1964), 6.1.40–41, 6.3.18, 6.4.12 (asymptotic
 *   series), 6.1.33 and 6.3.14 (series about 1 and 2), 6.1.17, 6.3.7, 6.4.7
 *   (reflection); Gupta & Nagar (2000), 1.4 (multivariate gamma).
 * @module
 */
import { emError } from './errors.js';

/** The Euler–Mascheroni constant γ = 0.57721566490153286060… (OEIS A001620), rounded to float64. */
export const EULER_GAMMA = 0.5772156649015329;

const LOG_PI = Math.log(Math.PI);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Bernoulli numbers B₂, B₄, …, B₁₆. */
const BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510];
/** Below this the recurrences are used, at or above it the asymptotic series. */
const ASYMPTOTIC_FROM = 10;
/** Terms of the Taylor series about 2 (|t| ≤ 1/2; the last term is below 4⁻⁴⁰). */
const SERIES_TERMS = 40;

/** ζ(s) − 1 = Σ_{n≥2} n^{−s} for s > 1: 14 terms plus the Euler–Maclaurin tail from n = 16. */
function zetaMinusOne(s: number): number {
  const N = 16;
  let tail = Math.pow(N, 1 - s) / (s - 1) + 0.5 * Math.pow(N, -s);
  let rising = s; // s (s+1) … (s+2j−2)
  let factorial = 2; // (2j)!
  let power = Math.pow(N, -s - 1); // N^{−s−2j+1}
  for (let j = 1; j <= BERNOULLI.length; j++) {
    tail += ((BERNOULLI[j - 1] as number) / factorial) * rising * power;
    rising *= (s + 2 * j - 1) * (s + 2 * j);
    factorial *= (2 * j + 1) * (2 * j + 2);
    power /= N * N;
  }
  let sum = tail;
  for (let n = N - 1; n >= 2; n--) sum += Math.pow(n, -s);
  return sum;
}

/** ZETA_M1[k] = ζ(k) − 1 for k = 2 … SERIES_TERMS + 1 (entries 0 and 1 unused). */
const ZETA_M1: Float64Array = (() => {
  const z = new Float64Array(SERIES_TERMS + 2);
  for (let k = 2; k < z.length; k++) z[k] = zetaMinusOne(k);
  return z;
})();

/** log Γ(2 + t) for |t| ≤ 1/2 by its Taylor series (Horner, highest order first). */
function logGammaAbout2(t: number): number {
  let s = 0;
  for (let k = SERIES_TERMS; k >= 2; k--) s = s * t + ((k % 2 === 0 ? 1 : -1) * (ZETA_M1[k] as number)) / k;
  return t * (1 - EULER_GAMMA + t * s);
}

/** ψ(2 + t) for |t| ≤ 1/2 by its Taylor series. */
function digammaAbout2(t: number): number {
  let s = 0;
  for (let j = SERIES_TERMS - 1; j >= 1; j--) s = s * t + (j % 2 === 1 ? 1 : -1) * (ZETA_M1[j + 1] as number);
  return 1 - EULER_GAMMA + t * s;
}

/** sin(πx) with the argument reduced exactly to [−1/2, 1/2] first. */
function sinPi(x: number): number {
  const n = Math.round(x);
  const s = Math.sin(Math.PI * (x - n));
  return n % 2 === 0 ? s : -s;
}

/** cos(πx) with the argument reduced exactly to [−1/2, 1/2] first. */
function cosPi(x: number): number {
  const n = Math.round(x);
  const c = Math.cos(Math.PI * (x - n));
  return n % 2 === 0 ? c : -c;
}

/**
 * log |Γ(x)|.
 *
 * +∞ at the poles x = 0, −1, −2, … and at x = +∞; NaN for NaN. Accurate to a
 * few ulp (relative) for x > 0, including near the zeros at 1 and 2.
 *
 * @example logGamma(0.5) // = ½ log π
 * @see Abramowitz & Stegun (1964), 6.1.40 (Stirling series), 6.1.33, 6.1.17.
 * @category Special functions
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x <= 0) {
    if (Number.isInteger(x) || x === Number.NEGATIVE_INFINITY) return Number.POSITIVE_INFINITY;
    return LOG_PI - Math.log(Math.abs(sinPi(x))) - logGamma(1 - x);
  }
  if (x >= ASYMPTOTIC_FROM) {
    const r = 1 / x;
    const r2 = r * r;
    let s = 0;
    for (let j = BERNOULLI.length; j >= 1; j--) s = s * r2 + (BERNOULLI[j - 1] as number) / (2 * j * (2 * j - 1));
    return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + s * r;
  }
  if (x < 0.5) return logGammaAbout2(x) - Math.log(x) - Math.log1p(x);
  if (x < 1.5) return logGammaAbout2(x - 1) - Math.log1p(x - 1);
  let y = x;
  let product = 1;
  while (y >= 2.5) {
    y -= 1;
    product *= y;
  }
  return logGammaAbout2(y - 2) + Math.log(product);
}

/**
 * The digamma function ψ(x) = d/dx log Γ(x).
 *
 * NaN at the poles x = 0, −1, −2, … and for NaN; +∞ at +∞. Accurate to a few
 * ulp for x > 0 away from its zero at x ≈ 1.4616 (absolutely to ~1e-16 near it).
 *
 * @example digamma(1) // = −γ
 * @see Abramowitz & Stegun (1964), 6.3.18 (asymptotic series), 6.3.14, 6.3.7.
 * @category Special functions
 */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x <= 0) {
    if (Number.isInteger(x) || x === Number.NEGATIVE_INFINITY) return Number.NaN;
    return digamma(1 - x) - (Math.PI * cosPi(x)) / sinPi(x);
  }
  if (x >= ASYMPTOTIC_FROM) {
    const r2 = 1 / (x * x);
    let s = 0;
    for (let j = BERNOULLI.length; j >= 1; j--) s = s * r2 + (BERNOULLI[j - 1] as number) / (2 * j);
    return Math.log(x) - 0.5 / x - s * r2;
  }
  if (x < 0.5) return digammaAbout2(x) - 1 / x - 1 / (x + 1);
  if (x < 1.5) return digammaAbout2(x - 1) - 1 / x;
  let y = x;
  let sum = 0;
  while (y >= 2.5) {
    y -= 1;
    sum += 1 / y;
  }
  return digammaAbout2(y - 2) + sum;
}

/**
 * The trigamma function ψ₁(x) = d²/dx² log Γ(x).
 *
 * +∞ at the poles x = 0, −1, −2, …; 0 at +∞; NaN for NaN.
 *
 * @example trigamma(1) // = π²/6
 * @see Abramowitz & Stegun (1964), 6.4.12 (asymptotic series), 6.4.6, 6.4.7.
 * @category Special functions
 */
export function trigamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return 0;
  if (x <= 0) {
    if (Number.isInteger(x) || x === Number.NEGATIVE_INFINITY) return Number.POSITIVE_INFINITY;
    const s = sinPi(x);
    return (Math.PI * Math.PI) / (s * s) - trigamma(1 - x);
  }
  let y = x;
  let sum = 0;
  while (y < ASYMPTOTIC_FROM) {
    sum += 1 / (y * y);
    y += 1;
  }
  const r = 1 / y;
  const r2 = r * r;
  let s = 0;
  for (let j = BERNOULLI.length; j >= 1; j--) s = s * r2 + (BERNOULLI[j - 1] as number);
  return sum + r + 0.5 * r2 + s * r2 * r;
}

/**
 * The multivariate log-gamma function log Γ_d(a) = d(d−1)/4 · log π + Σ_{j=1}^{d} log Γ(a + (1−j)/2).
 *
 * Defined for a > (d−1)/2; NaN otherwise. log Γ_0(a) = 0 and log Γ_1 = log Γ.
 *
 * @throws `INVALID_ARGUMENT` if d is not an integer ≥ 0.
 * @see Gupta & Nagar (2000), Matrix Variate Distributions, Theorem 1.4.1.
 * @category Special functions
 */
export function multivariateLogGamma(a: number, d: number): number {
  if (!Number.isInteger(d) || d < 0) {
    throw emError('INVALID_ARGUMENT', ['d'], d, 'must be an integer >= 0', 'pass the matrix dimension');
  }
  if (!(a > (d - 1) / 2)) return Number.NaN;
  let s = d > 1 ? (d * (d - 1) * LOG_PI) / 4 : 0;
  for (let j = 1; j <= d; j++) s += logGamma(a + (1 - j) / 2);
  return s;
}

/**
 * log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b), for a, b > 0; NaN otherwise.
 * @category Special functions
 */
export function logBeta(a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) return Number.NaN;
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}
