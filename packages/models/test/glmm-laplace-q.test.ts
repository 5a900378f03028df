/**
 * The Laplace Gaussian q and its lower bound.
 *
 * - The bound is exact (every constant): E_q[log p(y_g, b)] + H(q) is recomputed
 *   by brute-force integration against the Gaussian density in the test
 *   (adaptive Simpson, 1-D and nested 2-D), with H(q) = −∫ q log q likewise.
 *   Tolerance 1e-10 relative (1-D) and 1e-8 (2-D), as for AGHQ.
 * - L_g(q) ≤ log p(y_g) (AGHQ with 40 nodes, q = 1, or 20 per dimension,
 *   q = 2, accurate to ≲ 1e-10 there) over random groups and parameters; the
 *   check allows 1e-9·max(1, |log p|) for AGHQ's own error.
 * - For a Gaussian-like group (Poisson counts in the hundreds) the gap
 *   KL(q ‖ posterior) is small (< 1e-3), and for a 2-row Bernoulli group it is not.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { aghqGroupLogLikelihood } from '../src/glmm/aghq.js';
import { generateGlmmData, prepareGlmmData } from '../src/glmm/glmm-data.js';
import { groupTargets, laplaceMode } from '../src/glmm/glmm-math.js';
import { gaussianEntropy, gaussianQBound, laplaceQ, laplaceQEStep, linearPredictorMoments } from '../src/glmm/laplace-q.js';
import { NORMAL_RULE_GH_MAX_SCALE } from '../src/glmm/normal-expectation.js';
import type { GlmmFamily, GlmmParams } from '../src/glmm/glmm-types.js';
import { adaptiveSimpsonRel, refGroup, refLogLikGivenB, refLogNormal } from './glmm-reference.js';

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

describe('the Laplace-q bound is exact', () => {
  const cases = [
    { family: 'poisson' as const, sigma2: 0.7, groupSize: [1, 10] as [number, number], trapezoid: false },
    { family: 'logistic' as const, sigma2: 2.5, groupSize: [2, 10] as [number, number], trapezoid: false },
    // Posterior sd of η above 1.5: the trapezoid branch of the normal-expectation rule.
    { family: 'logistic' as const, sigma2: 9, groupSize: [2, 3] as [number, number], trapezoid: true },
  ];
  for (const { family, sigma2, groupSize, trapezoid } of cases) {
    it(`${family}, q = 1, σ² = ${sigma2}: E_q log p(y, b) + H(q) by brute force, 1e-10 relative`, () => {
      const { data, params } = generateGlmmData({ family, beta: [0.3, 0.6], sigma: [[sigma2]], groupSize, nGroups: 6, seed: 21 });
      const targets = groupTargets(data, params);
      let maxSd = 0;
      for (let g = 0; g < data.nGroups; g++) {
        maxSd = Math.max(maxSd, ...linearPredictorMoments(targets[g]!, laplaceQ(targets[g]!)).sd);
        const gq = laplaceQ(targets[g]!);
        const m = gq.mean[0]!;
        const v = gq.cov[0]!;
        const sd = Math.sqrt(v);
        const grp = refGroup(data, g, params.beta);
        const qd = (b: number): number => Math.exp(-0.5 * ((b - m) * (b - m)) / v) / Math.sqrt(2 * Math.PI * v);
        const logJoint = (b: number): number => refLogLikGivenB(grp, [b]) + refLogNormal([b], [sigma2]);
        const eLogJoint = adaptiveSimpsonRel((b) => qd(b) * logJoint(b), m - 40 * sd, m + 40 * sd, 1e-14, 50);
        const entropy = adaptiveSimpsonRel((b) => (qd(b) > 0 ? -qd(b) * Math.log(qd(b)) : 0), m - 40 * sd, m + 40 * sd, 1e-14, 50);
        const r = gaussianQBound(targets[g]!, gq);
        expect(relErr(r.entropy, entropy)).toBeLessThan(1e-12);
        expect(relErr(r.expectedLogLik + r.expectedLogPrior, eLogJoint), `group ${g}`).toBeLessThan(1e-10);
        expect(relErr(r.bound, eLogJoint + entropy)).toBeLessThan(1e-10);
      }
      if (family === 'logistic') expect(maxSd > NORMAL_RULE_GH_MAX_SCALE).toBe(trapezoid);
    });
  }

  it('logistic, q = 2: E_q log p(y, b) by nested brute force, 1e-8 relative', () => {
    const sig = [[1.5, 0.3], [0.3, 0.6]];
    const { data, params } = generateGlmmData({ family: 'logistic', beta: [0.1, -0.5], sigma: sig, groupSize: [3, 6], nGroups: 2, seed: 22 });
    const targets = groupTargets(data, params);
    for (let g = 0; g < data.nGroups; g++) {
      const gq = laplaceQ(targets[g]!);
      const [a, c, , d] = gq.cov as unknown as [number, number, number, number];
      const det = a * d - c * c;
      const [m1, m2] = [gq.mean[0]!, gq.mean[1]!];
      const qd = (u: number, w: number): number => {
        const du = u - m1;
        const dw = w - m2;
        return Math.exp(-0.5 * (d * du * du - 2 * c * du * dw + a * dw * dw) / det) / (2 * Math.PI * Math.sqrt(det));
      };
      const grp = refGroup(data, g, params.beta);
      const f = (u: number, w: number): number => qd(u, w) * (refLogLikGivenB(grp, [u, w]) + refLogNormal([u, w], [1.5, 0.3, 0.3, 0.6]));
      const W1 = 12 * Math.sqrt(a);
      const W2 = 12 * Math.sqrt(d);
      const eLogJoint = adaptiveSimpsonRel((u) => adaptiveSimpsonRel((w) => f(u, w), m2 - W2, m2 + W2, 1e-11, 30), m1 - W1, m1 + W1, 1e-11, 30);
      const r = gaussianQBound(targets[g]!, gq);
      expect(relErr(r.expectedLogLik + r.expectedLogPrior, eLogJoint)).toBeLessThan(1e-8);
      expect(relErr(r.entropy, 1 + Math.log(2 * Math.PI) + 0.5 * Math.log(det))).toBeLessThan(1e-13);
    }
  });

  it('the Laplace q is N(b̂, H⁻¹): V·H = I and the mean is the mode', () => {
    const { data, params } = generateGlmmData({ family: 'poisson', beta: [0.5, 0.2], sigma: [[0.5, 0.1], [0.1, 0.4]], groupSize: [2, 8], nGroups: 5, seed: 23 });
    const targets = groupTargets(data, params);
    const all = laplaceQEStep(data, params);
    let sum = 0;
    for (let g = 0; g < data.nGroups; g++) {
      const m = laplaceMode(targets[g]!);
      const gq = laplaceQ(targets[g]!, m);
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const vh = gq.cov[i * 2]! * m.negHessian[j]! + gq.cov[i * 2 + 1]! * m.negHessian[2 + j]!;
          expect(Math.abs(vh - (i === j ? 1 : 0))).toBeLessThan(1e-12);
        }
        expect(Math.abs(all.means[g * 2 + i]! - m.mode[i]!)).toBeLessThan(1e-12);
      }
      sum += all.groups[g]!;
    }
    expect(relErr(all.bound, sum)).toBeLessThan(1e-15);
    expect(() => gaussianEntropy(Float64Array.of(1, 2, 2, 1), 2)).toThrow(/positive definite/);
  });
});

describe('the Laplace-q bound is below the AGHQ log-likelihood', () => {
  const groupArb = fc.record({
    family: fc.constantFrom<GlmmFamily>('poisson', 'logistic'),
    q: fc.constantFrom(1, 2),
    n: fc.integer({ min: 1, max: 8 }),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    beta0: fc.double({ min: -2, max: 2, noNaN: true }),
    beta1: fc.double({ min: -1, max: 1, noNaN: true }),
    s1: fc.double({ min: 0.2, max: 2, noNaN: true }),
    s2: fc.double({ min: 0.2, max: 1.2, noNaN: true }),
    rho: fc.double({ min: -0.8, max: 0.8, noNaN: true }),
  });
  it('L_g(q) ≤ log p(y_g) over random groups and parameters (fast-check, 150 cases)', () => {
    fc.assert(
      fc.property(groupArb, (c) => {
        const sigma = c.q === 1 ? [[c.s1 * c.s1]] : [[c.s1 * c.s1, c.rho * c.s1 * c.s2], [c.rho * c.s1 * c.s2, c.s2 * c.s2]];
        const { data, params } = generateGlmmData({ family: c.family, beta: [c.beta0, c.beta1], sigma, groupSize: c.n, nGroups: 2, seed: c.seed });
        for (const t of groupTargets(data, params)) {
          const m = laplaceMode(t);
          const bound = gaussianQBound(t, laplaceQ(t, m)).bound;
          const ll = aghqGroupLogLikelihood(t, c.q === 1 ? 40 : 20, m);
          expect(bound).toBeLessThanOrEqual(ll + 1e-9 * Math.max(1, Math.abs(ll)));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('is tight for a Gaussian-like group (Poisson counts in the hundreds) and loose for a tiny Bernoulli group', () => {
    const big = prepareGlmmData({
      family: 'poisson',
      group: [0, 0, 0, 0, 0, 0],
      y: [480, 530, 455, 512, 498, 520],
      x: [[1], [1], [1], [1], [1], [1]],
      z: [[1], [1], [1], [1], [1], [1]],
    });
    const params: GlmmParams = { beta: Float64Array.of(Math.log(500)), sigma: Float64Array.of(0.25) };
    const t = groupTargets(big, params)[0]!;
    const gapBig = aghqGroupLogLikelihood(t, 40) - gaussianQBound(t, laplaceQ(t)).bound;
    expect(gapBig).toBeGreaterThanOrEqual(-1e-9);
    expect(gapBig).toBeLessThan(1e-3); // 6.9e-5 when written

    const small = prepareGlmmData({ family: 'logistic', group: [0, 0], y: [1, 1], x: [[1], [1]], z: [[1], [1]] });
    const ts = groupTargets(small, { beta: Float64Array.of(0), sigma: Float64Array.of(9) })[0]!;
    const gapSmall = aghqGroupLogLikelihood(ts, 60) - gaussianQBound(ts, laplaceQ(ts)).bound;
    expect(gapSmall).toBeGreaterThan(1e-2); // 0.075 when written
  });
});
