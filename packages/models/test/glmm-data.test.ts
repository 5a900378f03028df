/**
 * GLMM data layout, validation errors, parameter validation and the seeded generator.
 * Moment checks of the Poisson sampler are judged against 4 Monte Carlo standard errors.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '@emlab/core';
import { generateGlmmData, groupView, logFactorial, poissonDraw, prepareGlmmData, validateGlmmParams } from '../src/glmm/glmm-data.js';
import type { GlmmDataInput } from '../src/glmm/glmm-types.js';
import { refLogFactorial } from './glmm-reference.js';
import { catchEmError } from '@emlab/testing';

const base: GlmmDataInput = {
  family: 'poisson',
  group: ['b', 'a', 'b', 'c', 'a'],
  y: [1, 2, 3, 4, 5],
  x: [[1, 0.1], [1, 0.2], [1, 0.3], [1, 0.4], [1, 0.5]],
  z: [[1], [1], [1], [1], [1]],
};

describe('layout', () => {
  it('sorts rows stably into contiguous groups ordered by id', () => {
    const d = prepareGlmmData(base);
    expect(d.groupIds).toEqual(['a', 'b', 'c']);
    expect(Array.from(d.groupStart)).toEqual([0, 2, 4, 5]);
    expect(Array.from(d.order)).toEqual([1, 4, 0, 2, 3]);
    expect(Array.from(d.y)).toEqual([2, 5, 1, 3, 4]);
    expect(Array.from(d.x)).toEqual([1, 0.2, 1, 0.5, 1, 0.1, 1, 0.3, 1, 0.4]);
    expect([d.nRows, d.p, d.q, d.nGroups]).toEqual([5, 2, 1, 3]);
    const g = groupView(d, 1);
    expect(Array.from(g.y)).toEqual([1, 3]);
    expect(g.logFactorialSum).toBeCloseTo(Math.log(6), 14);
    expect(() => groupView(d, 3)).toThrow(/group index/);
  });

  it('numeric ids sort numerically; levels fix the order and dense matrices are accepted', () => {
    const d = prepareGlmmData({ ...base, group: [10, 9, 10, 100, 9] });
    expect(d.groupIds).toEqual([9, 10, 100]);
    const l = prepareGlmmData({ ...base, levels: ['c', 'b', 'a'] });
    expect(l.groupIds).toEqual(['c', 'b', 'a']);
    expect(Array.from(l.order)).toEqual([3, 0, 2, 1, 4]);
    const dense = prepareGlmmData({ ...base, x: { values: [1, 0.1, 1, 0.2, 1, 0.3, 1, 0.4, 1, 0.5], rows: 5, cols: 2 } });
    expect(Array.from(dense.x)).toEqual(Array.from(prepareGlmmData(base).x));
  });

  it('logFactorial equals Σ log k (table and Stirling ranges)', () => {
    for (const y of [0, 1, 2, 10, 170, 1023, 1024, 1025, 3000]) {
      const ref = refLogFactorial(y);
      expect(Math.abs(logFactorial(y) - ref)).toBeLessThanOrEqual(1e-13 * Math.max(1, ref));
    }
  });
});

describe('validation names the field and row', () => {
  const cases: [string, Partial<GlmmDataInput> & { levels?: (string | number)[] }, string, (string | number)[]][] = [
    ['logistic y not 0/1', { family: 'logistic', y: [0, 1, 2, 0, 1] }, 'INVALID_DATA', ['data', 'y', 2]],
    ['negative count', { y: [1, -1, 3, 4, 5] }, 'INVALID_DATA', ['data', 'y', 1]],
    ['non-integer count', { y: [1, 2, 3.5, 4, 5] }, 'INVALID_DATA', ['data', 'y', 2]],
    ['NaN response', { y: [1, 2, 3, Number.NaN, 5] }, 'INVALID_DATA', ['data', 'y', 3]],
    ['NaN covariate', { x: [[1, 0.1], [1, 0.2], [1, Number.NaN], [1, 0.4], [1, 0.5]] }, 'INVALID_DATA', ['data', 'x', 2, 1]],
    ['infinite random covariate', { z: [[1], [1], [1], [1], [Number.POSITIVE_INFINITY]] }, 'INVALID_DATA', ['data', 'z', 4, 0]],
    ['-Inf covariate in a dense matrix', { x: { values: [1, 0, 1, 0, 1, Number.NEGATIVE_INFINITY, 1, 0, 1, 0], rows: 5, cols: 2 } }, 'INVALID_DATA', ['data', 'x', 2, 1]],
    ['p = 0', { x: [[], [], [], [], []] }, 'INVALID_DATA', ['data', 'x']],
    ['q = 0', { z: [[], [], [], [], []] }, 'INVALID_DATA', ['data', 'z']],
    ['more fixed effects than rows', { x: [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7], [1, 2, 3, 4, 5, 8], [1, 2, 3, 4, 5, 9], [1, 2, 3, 4, 5, 0]] }, 'INVALID_DATA', ['data', 'x']],
    ['a level with no rows', { levels: ['a', 'b', 'c', 'd'] }, 'INVALID_DATA', ['data', 'levels', 3]],
    ['a group not among the levels', { levels: ['a', 'b'] }, 'INVALID_DATA', ['data', 'group', 3]],
    ['mixed group id types', { group: ['a', 'a', 1, 'b', 'b'] }, 'INVALID_DATA', ['data', 'group', 2]],
    ['NaN group id', { group: [1, 1, Number.NaN, 2, 2] }, 'INVALID_DATA', ['data', 'group', 2]],
    ['ragged x', { x: [[1, 0.1], [1], [1, 0.3], [1, 0.4], [1, 0.5]] }, 'INVALID_DATA', ['data', 'x', 1]],
    ['x with the wrong number of rows', { x: [[1, 0.1], [1, 0.2]] }, 'INVALID_DATA', ['data', 'x']],
    ['unknown family', { family: 'gamma' as 'poisson' }, 'INVALID_ARGUMENT', ['data', 'family']],
    ['no rows', { y: [], group: [], x: [], z: [] }, 'INVALID_DATA', ['data', 'y']],
  ];
  for (const [name, patch, code, path] of cases) {
    it(name, () => {
      const e = catchEmError(() => prepareGlmmData({ ...base, ...patch } as GlmmDataInput));
      expect(e.code).toBe(code);
      expect(e.path).toEqual(path);
      expect(e.message).toMatch(/Remedy:/);
    });
  }
});

describe('parameter validation', () => {
  it('rejects bad β and Σ_b with the entry named', () => {
    const ok = { beta: Float64Array.of(0, 1), sigma: Float64Array.of(1, 0.2, 0.2, 1) };
    expect(() => validateGlmmParams(ok, 2, 2)).not.toThrow();
    expect(catchEmError(() => validateGlmmParams({ ...ok, beta: Float64Array.of(0) }, 2, 2)).path).toEqual(['params', 'beta']);
    expect(catchEmError(() => validateGlmmParams({ ...ok, beta: Float64Array.of(0, Number.NaN) }, 2, 2)).path).toEqual(['params', 'beta', 1]);
    expect(catchEmError(() => validateGlmmParams({ ...ok, sigma: Float64Array.of(1, 0.2, 0.3, 1) }, 2, 2)).path).toEqual(['params', 'sigma', 1, 0]);
    expect(catchEmError(() => validateGlmmParams({ ...ok, sigma: Float64Array.of(1, 2, 2, 1) }, 2, 2)).message).toMatch(/positive definite/);
    expect(catchEmError(() => validateGlmmParams(ok, 2, 2, 'diagonal')).message).toMatch(/diagonal/);
    expect(catchEmError(() => validateGlmmParams({ ...ok, sigma: Float64Array.of(1, Number.POSITIVE_INFINITY, 0.2, 1) }, 2, 2)).code).toBe('INVALID_PARAMS');
  });
});

describe('generator', () => {
  it('is reproducible per seed, lays out covariates as documented and validates its options', () => {
    const opts = { family: 'logistic' as const, nGroups: 5, groupSize: [2, 6] as [number, number], beta: [0.1, 0.5, -0.3], sigma: [[1, 0.2], [0.2, 0.5]], seed: 7 };
    const a = generateGlmmData(opts);
    const b = generateGlmmData(opts);
    const c = generateGlmmData({ ...opts, seed: 8 });
    expect(Array.from(a.data.y)).toEqual(Array.from(b.data.y));
    expect(Array.from(a.b)).toEqual(Array.from(b.b));
    expect(Array.from(a.b)).not.toEqual(Array.from(c.b));
    const d = a.data;
    for (let g = 0; g < d.nGroups; g++) {
      const ng = d.groupStart[g + 1]! - d.groupStart[g]!;
      for (let i = 0; i < ng; i++) {
        const r = d.groupStart[g]! + i;
        const t = ng > 1 ? -1 + (2 * i) / (ng - 1) : 0;
        expect(d.x[r * 3]).toBe(1);
        expect(d.x[r * 3 + 1]).toBeCloseTo(t, 15);
        expect(d.z[r * 2]).toBe(1);
        expect(d.z[r * 2 + 1]).toBeCloseTo(t, 15);
        expect([0, 1]).toContain(d.y[r]);
      }
    }
    expect(() => generateGlmmData({ ...opts, sigma: [[1, 2], [2, 1]] })).toThrow(/positive definite/);
    expect(() => generateGlmmData({ ...opts, groupSize: [3, 2] })).toThrow(/groupSize/);
    expect(() => generateGlmmData({ ...opts, sigma: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] })).toThrow(/sigma/);
  });

  it('Poisson draws have mean λ and variance λ within 4 standard errors (both sampler branches)', () => {
    const n = 20000;
    for (const lambda of [0.3, 4, 10, 55, 800]) {
      const rng = createRng(3).child('poisson', lambda);
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const k = poissonDraw(rng, lambda);
        expect(Number.isInteger(k) && k >= 0).toBe(true);
        s1 += k;
        s2 += k * k;
      }
      const mean = s1 / n;
      const variance = s2 / n - mean * mean;
      expect(Math.abs(mean - lambda)).toBeLessThan(4 * Math.sqrt(lambda / n));
      // Var of the sample variance of a Poisson: (μ4 − σ⁴)/n with μ4 = λ(1 + 3λ).
      expect(Math.abs(variance - lambda)).toBeLessThan(4 * Math.sqrt((lambda * (1 + 3 * lambda) - lambda * lambda) / n));
    }
  });
});
