/**
 * The chain maths of the HMM as pure functions: stationary distributions
 * (closed forms for two states, π = πA for random chains), Dirichlet modes and
 * log-densities (closed forms), and the generalized M-step of a stationary
 * initial distribution (never lowers its objective; fast-check).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chainMasks, dirichletLogDensity, dirichletMode, stationaryDistribution, stationaryTransitionStep, transitionMode, weightedLogSum } from '@emlab/models';

const rowArb = (k: number): fc.Arbitrary<number[]> => fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: k, maxLength: k }).map((r) => {
  const s = r.reduce((a, b) => a + b, 0);
  return r.map((v) => v / s);
});
const chainArb = fc.integer({ min: 1, max: 5 }).chain((k) => fc.array(rowArb(k), { minLength: k, maxLength: k }));

describe('stationaryDistribution', () => {
  it('is b/(a+b), a/(a+b) for two states', () => {
    fc.assert(fc.property(fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.double({ min: 1e-3, max: 1, noNaN: true }), (a, b) => {
      const pi = stationaryDistribution([[1 - a, a], [b, 1 - b]]);
      expect(pi[0]).toBeCloseTo(b / (a + b), 12);
      expect(pi[1]).toBeCloseTo(a / (a + b), 12);
    }));
  });

  it('satisfies π = π A and sums to 1 for random irreducible chains', () => {
    fc.assert(fc.property(chainArb, (a) => {
      const pi = stationaryDistribution(a);
      expect(pi.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 14);
      pi.forEach((_, j) => expect(pi.reduce((s, v, i) => s + v * ((a[i] as number[])[j] as number), 0)).toBeCloseTo(pi[j] as number, 12));
    }));
  });
});

describe('Dirichlet mode and density', () => {
  it('mode: (counts + a) normalized over the mask; a row with nothing to go on keeps prev', () => {
    expect(dirichletMode([3, 1, 5], [1, 1, 0], 1, [0.2, 0.3, 0.5])).toEqual([4 / 6, 2 / 6, 0]);
    expect(dirichletMode([0, 0], [1, 1], 0, [0.3, 0.7])).toEqual([0.3, 0.7]);
    const masks = chainMasks(3, 'left-right');
    expect(transitionMode(Float64Array.of(2, 1, 9, 0, 3, 1, 9, 9, 4), masks.transition, 0, [[1, 0, 0], [0, 1, 0], [0, 0, 1]])).toEqual([[2 / 3, 1 / 3, 0], [0, 3 / 4, 1 / 4], [0, 0, 1]]);
  });

  it('log-density: Beta(2, 2) = 6 p (1 − p); Dirichlet(1) = log Γ(m); a single allowed entry has none', () => {
    expect(dirichletLogDensity([0.3, 0.7], [1, 1], 1)).toBeCloseTo(Math.log(6 * 0.3 * 0.7), 12);
    expect(dirichletLogDensity([0.2, 0.3, 0.5], [1, 1, 1], 0)).toBeCloseTo(Math.log(2), 12);
    expect(dirichletLogDensity([1, 0], [1, 0], 3)).toBe(0);
    expect(weightedLogSum([2, 0], [0.5, 0])).toBeCloseTo(2 * Math.log(0.5), 14);
    expect(weightedLogSum([1, 1], [1, 0])).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('stationaryTransitionStep (generalized M-step)', () => {
  it('never lowers Σ n log π(A) + Σ (c + a) log A, keeps structural zeros, returns π = stationary(A)', () => {
    fc.assert(fc.property(chainArb, fc.double({ min: 0, max: 3, noNaN: true }), fc.integer({ min: 0, max: 1e6 }), (prev, pseudo, seed) => {
      const k = prev.length;
      const u = (i: number): number => ((Math.sin(seed + i * 12.9898) * 43758.5453) % 1 + 1) % 1;
      const initial = Float64Array.from({ length: k }, (_, i) => 5 * u(i));
      const counts = Float64Array.from({ length: k * k }, (_, i) => 50 * u(100 + i));
      const mask = new Uint8Array(k * k).fill(1);
      const objective = (a: number[][]): number => weightedLogSum(initial, stationaryDistribution(a)) + a.reduce((s, row, i) => s + row.reduce((t, v, j) => t + ((counts[i * k + j] as number) + pseudo) * Math.log(v), 0), 0);
      const next = stationaryTransitionStep(initial, counts, mask, pseudo, prev);
      expect(objective(next.transition)).toBeGreaterThanOrEqual(objective(prev) - 1e-9 * Math.abs(objective(prev)));
      next.transition.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12));
      stationaryDistribution(next.transition).forEach((v, i) => expect(next.initial[i]).toBeCloseTo(v, 14));
    }));
  });
});
