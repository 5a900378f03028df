// regCovar makes the M-step the exact argmax of a regularized objective, not of L itself;
// the allowance it reports (boundSlack) must cover the drop in L, be exact in its derivation,
// and vanish when nothing is added to the diagonal.
import { describe, expect, it } from 'vitest';
import { createRng, reduceFiniteChunks } from '@emlab/core';
import { exactChoice } from '@emlab/exact';
import { gaussianMixture, gmmMStep, inverseTrace, type GmmParams, type GmmStats } from '@emlab/models';
import { makeMixtureCase } from '@emlab/testing';

function penalized(g: ReturnType<typeof gaussianMixture>, stats: GmmStats, params: GmmParams, reg: number): number {
  let penalty = 0;
  params.covariances.forEach((_, c) => {
    penalty += 0.5 * reg * (stats.n[c] as number) * inverseTrace(params, c);
  });
  return g.expectedLogJoint(stats, params) - penalty;
}

describe('regularized M-step', () => {
  it('never lowers the regularized objective, and L drops by at most boundSlack', () => {
    // 3 points per component in 4-D: degenerate components where regCovar binds.
    for (const seed of [1, 2, 3, 4, 5, 732520004]) {
      const c = makeMixtureCase(2, 4, 'full', seed);
      for (const reg of [1e-6, 1e-3, 0.1]) {
        const g = gaussianMixture({ nComponents: 2, regCovar: reg });
        const prep = g.prepare(c.rows);
        try {
          let params = c.params;
          for (let t = 0; t < 6; t++) {
            const s = g.structure(prep, params);
            const stats = reduceFiniteChunks(s, createRng(0), exactChoice).stats as GmmStats;
            s.dispose();
            const m = g.mStep(stats, params, { rng: createRng(1), prepared: prep, iteration: t });
            if (m.events?.length) break;
            const before = g.expectedLogJoint(stats, params);
            const after = g.expectedLogJoint(stats, m.params);
            expect(penalized(g, stats, m.params, reg)).toBeGreaterThanOrEqual(penalized(g, stats, params, reg) - 1e-9 * Math.abs(before));
            expect(after).toBeGreaterThanOrEqual(before - (m.boundSlack ?? 0) - 1e-9 * Math.abs(before));
            params = m.params;
          }
        } finally {
          prep.dispose();
        }
      }
    }
  });

  it('is zero when regCovar is 0 and no jitter is needed', () => {
    const c = makeMixtureCase(2, 2, 'full', 3);
    const g = gaussianMixture({ nComponents: 2, regCovar: 0 });
    const prep = g.prepare(c.rows);
    try {
      const s = g.structure(prep, c.params);
      const stats = reduceFiniteChunks(s, createRng(0), exactChoice).stats as GmmStats;
      s.dispose();
      expect(g.mStep(stats, c.params, { rng: createRng(1), prepared: prep, iteration: 1 }).boundSlack).toBe(0);
    } finally {
      prep.dispose();
    }
  });
});

describe('reinitialized components keep the covariance type', () => {
  // Regression: a reinitialized component got per-feature variances whatever the type, so a tied
  // model stopped being tied (and a spherical one spherical); the next M-step then lowered L.
  const source = { nRows: 4, variance: Float64Array.from([1, 4, 9]), row: (i: number) => Float64Array.from([i, i, i]) };
  const stats = (k: number, d: number): GmmStats => {
    const n = new Float64Array(k).fill(10);
    n[k - 1] = 0; // empty: reinitialized
    const s2 = new Float64Array(k * d * d);
    for (let c = 0; c < k - 1; c++) for (let i = 0; i < d; i++) s2[c * d * d + i * d + i] = 10 * (c + 1);
    return { k, d, n, s1: new Float64Array(k * d), s2, ref: new Float64Array(k * d) };
  };
  for (const type of ['tied', 'spherical', 'diag', 'full'] as const) {
    it(type, () => {
      const m = gmmMStep(stats(3, 3), type, 1e-6, createRng(1), source);
      expect(m.events.some((e) => e.type === 'reinitialized' && e.component === 2)).toBe(true);
      const cov = m.params.covariances;
      if (type === 'tied') expect(cov[2]).toEqual(cov[0]);
      const diag = (cov[2] as number[][]).map((r, i) => r[i] as number);
      if (type === 'spherical') expect(new Set(diag).size).toBe(1);
      if (type === 'diag' || type === 'full') expect(diag[2]).toBeGreaterThan(diag[0] as number);
    });
  }
});
