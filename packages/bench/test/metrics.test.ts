/**
 * Hungarian assignment and adjusted Rand index against hand-computed cases
 * (and the Hungarian optimum against brute force over all permutations),
 * parameter error after matching, and the stable hash.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EmError } from '@emlab/core';
import { adjustedRandIndex, canonicalJson, hashJson, hungarian, mixtureParameterError } from '@emlab/bench';
import { allPermutations } from '@emlab/testing';

const costOf = (c: number[][], a: number[]): number => a.reduce((s, j, i) => s + (c[i] as number[])[j]!, 0);

describe('hungarian', () => {
  it('solves hand-computed cases', () => {
    expect(hungarian([])).toEqual([]);
    expect(hungarian([[7]])).toEqual([0]);
    expect(hungarian([[4, 1], [2, 3]])).toEqual([1, 0]); // 1 + 2 = 3 < 4 + 3
    // Classic 3×3: rows take columns 1, 0, 2 for 2 + 3 + 2 = 7... check by hand:
    // [[4,2,8],[4,3,7],[3,1,6]]: options (0,1,2)=4+3+6=13, (1,0,2)=2+4+6=12, (1,2,0)=2+7+3=12, (2,0,1)=8+4+1=13, (0,2,1)=4+7+1=12, (2,1,0)=8+3+3=14 → min 12
    const c = [[4, 2, 8], [4, 3, 7], [3, 1, 6]];
    expect(costOf(c, hungarian(c))).toBe(12);
    // A permutation matrix of costs: the zero cells are the unique optimum.
    const p = [[1, 1, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0], [1, 0, 1, 1]];
    expect(hungarian(p)).toEqual([2, 0, 3, 1]);
    // Negative and equal costs.
    expect(costOf([[-5, 0], [0, -5]], hungarian([[-5, 0], [0, -5]]))).toBe(-10);
    expect(new Set(hungarian([[1, 1, 1], [1, 1, 1], [1, 1, 1]])).size).toBe(3);
  });

  it('finds the brute-force optimum (random 1..6 × 1..6 matrices)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }).chain((n) => fc.array(fc.array(fc.integer({ min: -20, max: 20 }), { minLength: n, maxLength: n }), { minLength: n, maxLength: n })), (c) => {
        const a = hungarian(c);
        expect(new Set(a).size).toBe(c.length);
        const best = Math.min(...allPermutations(c.length).map((perm) => costOf(c, perm)));
        expect(costOf(c, a)).toBe(best);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects non-square and non-finite costs', () => {
    expect(() => hungarian([[1, 2]])).toThrow(EmError);
    expect(() => hungarian([[1, 2], [3]])).toThrow(/cost\[1\]/);
    expect(() => hungarian([[1, Number.NaN], [3, 4]])).toThrow(/cost\[0\]\[1\]/);
  });
});

describe('adjustedRandIndex', () => {
  it('is 1 for identical partitions up to renaming', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2], [0, 0, 1, 1, 2])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([5, 5, 5], [2, 2, 2])).toBe(1);
  });

  it('matches hand-computed values', () => {
    // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: contingency [[2,1,0],[0,1,2]];
    // Σ C(n_ij,2) = 1+0+0+0+0+1 = 2; rows C(3,2)+C(3,2) = 6; cols 1+1+1 = 3; C(6,2) = 15;
    // expected = 6·3/15 = 1.2; max = (6+3)/2 = 4.5; ARI = (2 − 1.2)/(4.5 − 1.2) = 0.8/3.3.
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(0.8 / 3.3, 14);
    // a = [0,0,1,1], b = [0,1,0,1]: cells all 1 → Σ = 0; rows 1+1 = 2; cols 2; C(4,2) = 6;
    // expected = 4/6; max = 2; ARI = (0 − 2/3)/(2 − 2/3) = −0.5.
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 14);
    // sklearn's doc example: adjusted_rand_score([0, 0, 1, 2], [0, 0, 1, 1]) = 0.5714285714285715
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(4 / 7, 14);
    // One side all singletons, other one cluster: ARI = 0.
    expect(adjustedRandIndex([0, 1, 2, 3], [0, 0, 0, 0])).toBe(0);
  });

  it('is symmetric and invariant to relabelling', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { minLength: 2, maxLength: 40 }), (pairs) => {
        const a = pairs.map((p) => p[0]);
        const b = pairs.map((p) => p[1]);
        const v = adjustedRandIndex(a, b);
        expect(adjustedRandIndex(b, a)).toBeCloseTo(v, 12);
        expect(adjustedRandIndex(a.map((x) => 10 - x), b)).toBeCloseTo(v, 12);
        expect(v).toBeLessThanOrEqual(1 + 1e-12);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects mismatched lengths and non-integer labels', () => {
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(EmError);
    expect(() => adjustedRandIndex([0, 0.5], [0, 1])).toThrow(/a\[1\]/);
  });
});

describe('mixtureParameterError', () => {
  const truth = { weights: [0.3, 0.7], means: [[0, 0], [10, 10]], covariances: [[[1, 0], [0, 1]], [[2, 0], [0, 2]]] };
  it('matches permuted components before comparing', () => {
    const fitted = { weights: [0.7, 0.3], means: [[10, 10], [0, 0]], covariances: [[[2, 0], [0, 2]], [[1, 0], [0, 1]]] };
    const r = mixtureParameterError(fitted, truth);
    expect(r?.assignment).toEqual([1, 0]);
    expect(r?.error).toBe(0);
  });
  it('averages absolute errors over every entry (2 weights + 4 means + 8 covariance entries)', () => {
    const fitted = { weights: [0.3, 0.7], means: [[1, 0], [10, 10]], covariances: [[[1, 0], [0, 1]], [[2, 0], [0, 3.4]]] };
    expect(mixtureParameterError(fitted, truth)?.error).toBeCloseTo((1 + 1.4) / 14, 14);
  });
  it('is null when component counts differ', () => {
    expect(mixtureParameterError({ weights: [1], means: [[0, 0]], covariances: [[[1, 0], [0, 1]]] }, truth)).toBeNull();
  });
});

describe('hashJson', () => {
  it('ignores key order, keeps values', () => {
    expect(hashJson({ a: 1, b: [1, 2] })).toBe(hashJson({ b: [1, 2], a: 1 }));
    expect(hashJson({ a: 1 })).not.toBe(hashJson({ a: 1.0000000001 }));
    expect(hashJson({ a: Number.NaN })).toBe(hashJson({ a: 'NaN' }));
    expect(canonicalJson(new Float64Array([1, 2]))).toBe('[1,2]');
    expect(hashJson('x')).toMatch(/^[0-9a-f]{16}$/);
  });
});
