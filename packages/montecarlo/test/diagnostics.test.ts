/**
 * ESS, MCSE and split-R̂ on chains with known answers.
 *
 * - iid N(0, 1), N = 10 000: ESS/N within [0.9, 1.1] for each of 10 seeds.
 *   The estimator's own spread for iid draws is a few percent at this N
 *   (seen: 0.98–1.03 over these seeds); the band is wider than that and
 *   narrower than any correlated chain of interest.
 * - AR(1) x_t = ρ x_{t−1} + √(1−ρ²) ε_t, N = 40 000: the integrated
 *   autocorrelation is Σ_k ρ^|k| = (1+ρ)/(1−ρ), so ESS = N (1−ρ)/(1+ρ) and
 *   MCSE = sqrt((1+ρ)/((1−ρ) N)); both within 20% (the task's band; the
 *   ESS ratios seen were 0.94–1.01 for ρ ∈ {0.5, 0.9, −0.5}).
 * - R̂: iid chains within 0.01 of 1; chains whose means differ by one sd, or
 *   one that drifts, above 1.1.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '@emlab/core';
import { autocovariance, effectiveSampleSize, monteCarloStandardError, splitRHat } from '../src/samplers/diagnostics.js';

function iid(seed: number, n: number, shift = 0): Float64Array {
  const rng = createRng(seed).child('iid');
  return Float64Array.from({ length: n }, () => shift + rng.normal());
}

function ar1(seed: number, n: number, rho: number): Float64Array {
  const rng = createRng(seed).child('ar1');
  const x = new Float64Array(n);
  let v = rng.normal();
  const s = Math.sqrt(1 - rho * rho);
  for (let t = 0; t < n; t++) {
    v = rho * v + s * rng.normal();
    x[t] = v;
  }
  return x;
}

describe('effective sample size', () => {
  it('≈ N for iid draws', () => {
    for (let seed = 0; seed < 10; seed++) {
      const n = 10_000;
      const ess = effectiveSampleSize(iid(seed, n));
      expect(ess / n).toBeGreaterThan(0.9);
      expect(ess / n).toBeLessThan(1.1);
    }
  });

  for (const rho of [0.5, 0.9, -0.5]) {
    it(`AR(1) with ρ = ${rho}: ESS ≈ N(1−ρ)/(1+ρ) and MCSE ≈ sqrt((1+ρ)/((1−ρ)N)) within 20%`, () => {
      for (const seed of [1, 2, 3]) {
        const n = 40_000;
        const x = ar1(seed, n, rho);
        const ess = effectiveSampleSize(x);
        const expected = (n * (1 - rho)) / (1 + rho);
        expect(Math.abs(ess / expected - 1), `seed ${seed}: ${ess} vs ${expected}`).toBeLessThan(0.2);
        const mcse = monteCarloStandardError(x);
        expect(Math.abs(mcse / Math.sqrt((1 + rho) / ((1 - rho) * n)) - 1)).toBeLessThan(0.2);
      }
    });
  }

  it('autocovariance matches its definition; constant chains and bad input', () => {
    const x = [1, 3, 2, 5, 4];
    const m = 3;
    const g = autocovariance(x, 2);
    expect(g[0]).toBeCloseTo(((1 - m) ** 2 + 0 + 1 + 4 + 1) / 5, 14);
    expect(g[1]).toBeCloseTo(((1 - m) * (3 - m) + (3 - m) * (2 - m) + (2 - m) * (5 - m) + (5 - m) * (4 - m)) / 5, 14);
    expect(Number.isNaN(effectiveSampleSize([2, 2, 2, 2, 2]))).toBe(true);
    expect(monteCarloStandardError([2, 2, 2, 2])).toBe(0);
    expect(() => effectiveSampleSize([1, 2])).toThrow(/at least 4/);
    expect(() => effectiveSampleSize([1, 2, Number.NaN, 4])).toThrow(/finite/);
    expect(() => autocovariance(x, 5)).toThrow(/maxLag/);
  });
});

describe('split-R̂', () => {
  it('≈ 1 for iid chains', () => {
    const chains = [0, 1, 2, 3].map((s) => iid(10 + s, 2000));
    expect(Math.abs(splitRHat(chains) - 1)).toBeLessThan(0.01);
  });

  it('> 1.1 for chains with different means, and for a single drifting chain', () => {
    const chains = [iid(20, 1000), iid(21, 1000), iid(22, 1000, 1), iid(23, 1000, 1)];
    expect(splitRHat(chains)).toBeGreaterThan(1.1);
    const drift = Float64Array.from(iid(24, 1001), (v, i) => v + (i > 500 ? 1.5 : 0));
    expect(splitRHat([drift])).toBeGreaterThan(1.1);
  });

  it('matches BDA3 §11.4 written out on a small example, and rejects bad input', () => {
    const a = [1, 2, 3, 4, 9];
    const b = [2, 2, 5, 3, 1];
    // Halves (middle draw dropped): [1,2], [4,9], [2,2], [3,1]; n = 2.
    const seqs = [[1, 2], [4, 9], [2, 2], [3, 1]];
    const means = seqs.map((s) => (s[0]! + s[1]!) / 2);
    const vars = seqs.map((s, j) => ((s[0]! - means[j]!) ** 2 + (s[1]! - means[j]!) ** 2) / 1);
    const W = vars.reduce((s, v) => s + v, 0) / 4;
    const grand = means.reduce((s, v) => s + v, 0) / 4;
    const bOverN = means.reduce((s, v) => s + (v - grand) ** 2, 0) / 3;
    const expected = Math.sqrt(((1 / 2) * W + bOverN) / W);
    expect(splitRHat([a, b])).toBeCloseTo(expected, 14);
    expect(() => splitRHat([])).toThrow(/non-empty/);
    expect(() => splitRHat([a, [1, 2, 3, 4]])).toThrow(/equal length/);
  });
});
