/**
 * AGHQ and the Laplace approximation of log p(y_g | β, Σ_b) against
 * brute-force integrals written in the test (glmm-reference.ts: adaptive
 * Simpson of exp(log p(y_g, b) − max) over the region within e^-80 of the
 * peak, the log-joint written out from the model definition).
 *
 * Tolerances:
 * - q = 1: 1e-10 relative in log p(y_g) with 25 and 40 nodes (40 and 60 for
 *   the hard case of tiny Bernoulli groups with a large Σ_b). The brute force
 *   agrees with 100-node AGHQ to ~1e-15 on all these groups (checked while
 *   writing the test), so the tolerance measures AGHQ's own error.
 * - q = 2: 1e-8 relative (the nested Simpson is run to ~1e-10 relative).
 * - Laplace (nQuad = 1) vs our own Laplace: 1e-12 relative (same formula, two code paths).
 */
import { describe, expect, it } from 'vitest';
import { aghqGroupLogLikelihood, aghqLogLikelihood } from '../src/glmm/aghq.js';
import { generateGlmmData } from '../src/glmm/glmm-data.js';
import { groupTargets, laplaceFromMode, laplaceLogLikelihood, laplaceMode } from '../src/glmm/glmm-math.js';
import type { GlmmParams } from '../src/glmm/glmm-types.js';
import { bruteLogIntegral1d, bruteLogIntegral2d, refGroup, refLogLikGivenB, refLogNormal } from './glmm-reference.js';

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

describe('AGHQ, q = 1', () => {
  const cases = [
    { family: 'poisson' as const, beta: [0.5, 0.3], sigma: [[0.6]], groupSize: [3, 12] as [number, number], seed: 1 },
    { family: 'poisson' as const, beta: [2.0, -0.5, 0.2], sigma: [[1.5]], groupSize: [1, 6] as [number, number], seed: 2 },
    { family: 'logistic' as const, beta: [-0.3, 0.8], sigma: [[1.0]], groupSize: [4, 15] as [number, number], seed: 3 },
    // Hard: 1–5 Bernoulli rows with prior sd 2, so the posterior of b is far from Gaussian;
    // 25 nodes are off by up to 5e-9 here (seen), 40 by ≤ 1e-11.
    { family: 'logistic' as const, beta: [0.2, 0.5, -0.4], sigma: [[4.0]], groupSize: [1, 5] as [number, number], seed: 4, nodes: [40, 60] },
  ];
  for (const c of cases) {
    const nodes = 'nodes' in c ? c.nodes : [25, 40];
    it(`${c.family}, σ² = ${c.sigma[0]![0]}, groups of ${c.groupSize.join('–')} rows: ${nodes.join(' and ')} nodes within 1e-10 relative of brute force`, () => {
      const gen = generateGlmmData({ family: c.family, beta: c.beta, sigma: c.sigma, groupSize: c.groupSize, seed: c.seed, nGroups: 8 });
      const { data, params } = gen;
      const targets = groupTargets(data, params);
      for (let g = 0; g < data.nGroups; g++) {
        const grp = refGroup(data, g, params.beta);
        const ref = bruteLogIntegral1d((b) => refLogLikGivenB(grp, [b]) + refLogNormal([b], [c.sigma[0]![0]!]));
        for (const nQuad of nodes) {
          const v = aghqGroupLogLikelihood(targets[g]!, nQuad);
          expect(relErr(v, ref), `group ${g}, nQuad ${nQuad}: ${v} vs ${ref}`).toBeLessThan(1e-10);
        }
      }
    });
  }

  it('few nodes are visibly worse on a skewed posterior (the comparison can fail)', () => {
    const gen = generateGlmmData({ family: 'logistic', beta: [0.2], sigma: [[9]], groupSize: 1, nGroups: 4, seed: 5 });
    const targets = groupTargets(gen.data, gen.params);
    const grp = refGroup(gen.data, 0, gen.params.beta);
    const ref = bruteLogIntegral1d((b) => refLogLikGivenB(grp, [b]) + refLogNormal([b], [9]));
    expect(relErr(aghqGroupLogLikelihood(targets[0]!, 1), ref)).toBeGreaterThan(1e-4);
    expect(relErr(aghqGroupLogLikelihood(targets[0]!, 3), ref)).toBeGreaterThan(1e-8);
  });

  it('nQuad = 1 is the Laplace approximation; the total is the sum of groups', () => {
    const { data, params } = generateGlmmData({ family: 'poisson', beta: [0.4, 0.2], sigma: [[0.8]], groupSize: [2, 9], nGroups: 12, seed: 6 });
    const lap = laplaceLogLikelihood(data, params);
    const one = aghqLogLikelihood(data, params, { nQuad: 1 });
    expect(relErr(one.logLik, lap.logLik)).toBeLessThan(1e-12);
    const full = aghqLogLikelihood(data, params, { nQuad: 25 });
    expect(relErr(full.logLik, full.groups.reduce((s, v) => s + v, 0))).toBeLessThan(1e-15);
    // Warm starts from the modes give the same answer.
    const warm = aghqLogLikelihood(data, params, { nQuad: 25, starts: full.modes });
    expect(relErr(warm.logLik, full.logLik)).toBeLessThan(1e-13);
  });

  it('the Laplace approximation equals log p(y_g, b̂) + ½ log 2π − ½ log(−h″(b̂)) with h″ by finite differences', () => {
    const { data, params } = generateGlmmData({ family: 'logistic', beta: [0.1, 1], sigma: [[2]], groupSize: [3, 10], nGroups: 6, seed: 7 });
    const targets = groupTargets(data, params);
    for (let g = 0; g < data.nGroups; g++) {
      const grp = refGroup(data, g, params.beta);
      const h = (b: number): number => refLogLikGivenB(grp, [b]) + refLogNormal([b], [2]);
      const m = laplaceMode(targets[g]!);
      expect(m.converged).toBe(true);
      const b = m.mode[0]!;
      const e = 1e-4;
      const d1 = (h(b + e) - h(b - e)) / (2 * e);
      const d2 = (h(b + e) - 2 * h(b) + h(b - e)) / (e * e);
      expect(Math.abs(d1)).toBeLessThan(1e-7);
      expect(Math.abs(d2 + m.negHessian[0]!) / m.negHessian[0]!).toBeLessThan(1e-6);
      const lap = h(b) + 0.5 * Math.log(2 * Math.PI) - 0.5 * Math.log(m.negHessian[0]!);
      expect(relErr(laplaceFromMode(m, 1), lap)).toBeLessThan(1e-12);
    }
  });

  it('rejects bad nQuad and starts', () => {
    const { data, params } = generateGlmmData({ family: 'poisson', beta: [0.4], sigma: [[0.8]], groupSize: 3, nGroups: 2, seed: 8 });
    for (const nQuad of [0, 101, 1.5]) expect(() => aghqLogLikelihood(data, params, { nQuad })).toThrow(/nQuad/);
    expect(() => aghqLogLikelihood(data, params, { starts: new Float64Array(3) })).toThrow(/starts/);
    const bad: GlmmParams = { beta: params.beta, sigma: Float64Array.of(-1) };
    expect(() => aghqLogLikelihood(data, bad)).toThrow(/positive definite/);
  });
});

describe('AGHQ, q = 2 (product rule)', () => {
  const cases = [
    { family: 'poisson' as const, beta: [0.7, 0.4], sigma: [[0.5, 0.15], [0.15, 0.3]], groupSize: [4, 10] as [number, number], seed: 11 },
    { family: 'logistic' as const, beta: [-0.2, 0.9], sigma: [[1.2, -0.4], [-0.4, 0.8]], groupSize: [5, 12] as [number, number], seed: 12 },
    { family: 'poisson' as const, beta: [1.0, -0.3], sigma: [[0.4, 0], [0, 0.2]], groupSize: [2, 6] as [number, number], seed: 13 },
  ];
  for (const c of cases) {
    it(`${c.family}, Σ_b = ${JSON.stringify(c.sigma)}: 20 nodes per dimension within 1e-8 relative of a 2-D brute-force integral`, () => {
      const gen = generateGlmmData({ ...c, nGroups: 2 });
      const { data, params } = gen;
      const targets = groupTargets(data, params);
      const sig = [c.sigma[0]![0]!, c.sigma[0]![1]!, c.sigma[1]![0]!, c.sigma[1]![1]!];
      for (let g = 0; g < data.nGroups; g++) {
        const grp = refGroup(data, g, params.beta);
        const ref = bruteLogIntegral2d((u, v) => refLogLikGivenB(grp, [u, v]) + refLogNormal([u, v], sig));
        const v = aghqGroupLogLikelihood(targets[g]!, 20);
        expect(relErr(v, ref), `group ${g}: ${v} vs ${ref}`).toBeLessThan(1e-8);
      }
    });
  }
});
