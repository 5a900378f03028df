/**
 * Convergence and precision diagnostics for scalar Markov chains: effective
 * sample size (Geyer's initial monotone sequence estimator), split-R̂, and the
 * Monte Carlo standard error of a mean.
 * @module
 */
import { emError } from '@emlab/core';

function checkChain(x: ArrayLike<number>, path: (string | number)[], minLength: number): void {
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number' || x.length < minLength) {
    throw emError('INVALID_ARGUMENT', path, x, `must be an array of at least ${minLength} numbers`, 'pass a longer chain');
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw emError('INVALID_ARGUMENT', [...path, i], x[i], 'must be finite', 'drop non-finite draws');
  }
}

function mean(x: ArrayLike<number>, start = 0, end = x.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += x[i]!;
  return s / (end - start);
}

/**
 * Autocovariance γ̂_k = (1/N) Σ_{t<N−k} (x_t − x̄)(x_{t+k} − x̄) for k = 0 … maxLag.
 * @returns `[maxLag + 1]`.
 * @throws EmError `INVALID_ARGUMENT` for an empty or non-finite chain or a bad maxLag.
 * @category Diagnostics
 */
export function autocovariance(x: ArrayLike<number>, maxLag: number): Float64Array {
  checkChain(x, ['x'], 1);
  const n = x.length;
  if (!Number.isInteger(maxLag) || maxLag < 0 || maxLag >= n) throw emError('INVALID_ARGUMENT', ['maxLag'], maxLag, `must be an integer in [0, ${n - 1}]`, 'pass a lag below the chain length');
  const m = mean(x);
  const c = Float64Array.from(x, (v) => v - m);
  const out = new Float64Array(maxLag + 1);
  for (let k = 0; k <= maxLag; k++) {
    let s = 0;
    for (let t = 0; t + k < n; t++) s += c[t]! * c[t + k]!;
    out[k] = s / n;
  }
  return out;
}

/** Asymptotic variance σ² = γ̂_0 + 2 Σ_{k≥1} γ̂_k of the chain's mean (times N), Geyer's way, and γ̂_0. */
function geyer(x: ArrayLike<number>): { gamma0: number; asymptoticVariance: number } {
  const n = x.length;
  const m = mean(x);
  const c = Float64Array.from(x, (v) => v - m);
  const gamma = (k: number): number => {
    let s = 0;
    for (let t = 0; t + k < n; t++) s += c[t]! * c[t + k]!;
    return s / n;
  };
  const gamma0 = gamma(0);
  if (!(gamma0 > 0)) return { gamma0, asymptoticVariance: 0 };
  // Γ_m = γ̂_{2m} + γ̂_{2m+1}: positive and decreasing for a reversible chain. Sum the initial
  // positive run, each pair capped by the previous one (the initial monotone sequence).
  let sum = 0;
  let prev = Infinity;
  for (let pair = 0; 2 * pair + 1 < n; pair++) {
    let G = gamma(2 * pair) + gamma(2 * pair + 1);
    if (!(G > 0)) break;
    if (G > prev) G = prev;
    sum += G;
    prev = G;
  }
  return { gamma0, asymptoticVariance: Math.max(-gamma0 + 2 * sum, 0) };
}

/**
 * Effective sample size N γ̂_0 / σ̂² of a scalar chain, with σ̂² = −γ̂_0 + 2 Σ_m Γ̂_m
 * summed over Geyer's initial monotone sequence of pair sums Γ̂_m = γ̂_{2m} + γ̂_{2m+1}.
 * Can exceed N for antithetic chains. NaN for a constant chain.
 * @throws EmError `INVALID_ARGUMENT` for a chain shorter than 4 or with non-finite values.
 * @see Geyer, C. J. (1992). Practical Markov chain Monte Carlo. Statistical Science 7, 473–483.
 * @category Diagnostics
 */
export function effectiveSampleSize(x: ArrayLike<number>): number {
  checkChain(x, ['x'], 4);
  const { gamma0, asymptoticVariance } = geyer(x);
  if (!(gamma0 > 0)) return Number.NaN;
  if (!(asymptoticVariance > 0)) return Number.POSITIVE_INFINITY;
  return (x.length * gamma0) / asymptoticVariance;
}

/**
 * Monte Carlo standard error of the chain's mean, sqrt(σ̂² / N) (= sd / sqrt(ESS)); 0 for a constant chain.
 * @throws EmError `INVALID_ARGUMENT` for a chain shorter than 4 or with non-finite values.
 * @category Diagnostics
 */
export function monteCarloStandardError(x: ArrayLike<number>): number {
  checkChain(x, ['x'], 4);
  return Math.sqrt(geyer(x).asymptoticVariance / x.length);
}

/**
 * Split-R̂ across chains of equal length N ≥ 4: each chain is cut into halves
 * (the middle draw dropped when N is odd), giving m sequences of length n;
 * W = mean within-sequence variance, B/n = variance of the sequence means,
 * var⁺ = (n−1)/n W + B/n, R̂ = sqrt(var⁺ / W). ≈ 1 for mixed chains; values
 * above ~1.1 flag chains that disagree (or drift within themselves).
 * NaN when every sequence is constant.
 * @throws EmError `INVALID_ARGUMENT` for no chains, chains of different lengths, shorter than 4, or non-finite values.
 * @see Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. & Rubin, D. B. (2013). Bayesian Data Analysis, 3rd ed., §11.4.
 * @category Diagnostics
 */
export function splitRHat(chains: readonly ArrayLike<number>[]): number {
  if (!Array.isArray(chains) || chains.length === 0) throw emError('INVALID_ARGUMENT', ['chains'], chains, 'must be a non-empty array of chains', 'pass at least one chain');
  const N = chains[0]!.length;
  chains.forEach((c, j) => {
    checkChain(c, ['chains', j], 4);
    if (c.length !== N) throw emError('INVALID_ARGUMENT', ['chains', j], c, `has length ${c.length} but chain 0 has ${N}`, 'pass chains of equal length');
  });
  const n = Math.floor(N / 2);
  const seqMeans: number[] = [];
  let W = 0;
  for (const c of chains) {
    for (const start of [0, N - n]) {
      const mu = mean(c, start, start + n);
      let s = 0;
      for (let i = start; i < start + n; i++) s += (c[i]! - mu) * (c[i]! - mu);
      W += s / (n - 1);
      seqMeans.push(mu);
    }
  }
  const m = seqMeans.length;
  W /= m;
  const grand = mean(seqMeans);
  let bOverN = 0;
  for (const mu of seqMeans) bOverN += (mu - grand) * (mu - grand);
  bOverN /= m - 1;
  if (!(W > 0)) return Number.NaN;
  const varPlus = ((n - 1) / n) * W + bOverN;
  return Math.sqrt(varPlus / W);
}
