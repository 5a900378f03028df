/**
 * Simulated truths are recovered: Student-t mixtures (means, scale matrices
 * and degrees of freedom, against the sampling error of the sample size),
 * mixtures of linear regressions (coefficients and residual variances),
 * latent class analysis, and a mixed-type product with missing cells. Data
 * are drawn here from seeded streams; tolerances are a few standard errors
 * of the estimates at these sample sizes (stated per test).
 */
import { describe, expect, it } from 'vitest';
import { createRng, fit } from '@emlab/core';
import '@emlab/exact';
import { gammaDraw } from '../src/bn/bn-model.js';
import { mixtureModel, type MixtureParams } from '../src/mixture/mixture-model.js';
import type { StudentTFamilyParams } from '../src/mixture/families/student-t-family.js';
import type { RegressionFamilyParams } from '../src/mixture/families/regression-family.js';
import type { CategoricalFamilyParams } from '../src/mixture/families/categorical-family.js';
import type { GaussianFamilyParams } from '../src/mixture/families/gaussian-family.js';

const quiet = { onWarning: (): void => {} };

/** Components ordered by the first mean coordinate (the fits' labels are arbitrary). */
function byFirst<T>(items: T[], key: (t: T) => number): T[] {
  return [...items].sort((a, b) => key(a) - key(b));
}

describe('Student-t mixtures (McLachlan & Peel): EM with a latent scale recovers μ, Σ and ν', () => {
  it('two well-separated components with ν = 4 and ν = 15, N = 4000', async () => {
    const rng = createRng(11);
    const truth = [
      { mu: [0, 0], L: [[1, 0], [0.6, 0.8]], nu: 4, w: 0.5 },
      { mu: [8, 3], L: [[0.7, 0], [-0.3, 1.2]], nu: 15, w: 0.5 },
    ];
    const N = 4000;
    const rows: number[][] = [];
    for (let i = 0; i < N; i++) {
      const t = truth[i % 2]!;
      const u = gammaDraw(rng, t.nu / 2) / (t.nu / 2);
      const e = [rng.normal(), rng.normal()];
      rows.push([0, 1].map((r) => t.mu[r]! + (t.L[r]![0]! * e[0]! + t.L[r]![1]! * e[1]!) / Math.sqrt(u)));
    }
    const r = await fit(mixtureModel({ nComponents: 2, family: { family: 't' } }), rows, { seed: 1, nInit: 2, ...quiet });
    expect(r.converged).toBe(true);
    const fam = r.params.families[0] as StudentTFamilyParams;
    const comps = byFirst([0, 1].map((k) => ({ mu: fam.means[k]!, S: fam.covariances[k]!, nu: fam.dof[k]!, w: r.params.weights[k]! })), (c) => c.mu[0]!);
    comps.forEach((c, k) => {
      const t = truth[k]!;
      const S = [[t.L[0]![0]! ** 2, t.L[0]![0]! * t.L[1]![0]!], [t.L[0]![0]! * t.L[1]![0]!, t.L[1]![0]! ** 2 + t.L[1]![1]! ** 2]];
      // Means: standard error ≈ sqrt(Σ_jj · ν/(ν−2) / 2000) ≤ 0.04; allow 5 s.e.
      c.mu.forEach((m, j) => expect(Math.abs(m - t.mu[j]!)).toBeLessThanOrEqual(0.2));
      // Scale matrices: about 4–5 % relative standard error per entry at n = 2000 (heavier for ν = 4); allow 0.15 absolute.
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(Math.abs(c.S[i]![j]! - S[i]![j]!)).toBeLessThanOrEqual(0.15);
      expect(Math.abs(c.w - 0.5)).toBeLessThanOrEqual(0.03);
      // ν: the information about ν is small for large ν; the small ν is pinned down, the large one only roughly.
      if (t.nu === 4) expect(Math.abs(c.nu - 4)).toBeLessThanOrEqual(1);
      else expect(c.nu).toBeGreaterThan(7);
    });
    // Heavy tails: the t mixture beats the Gaussian mixture on the same data by far more than its two extra parameters.
    const g = await fit(mixtureModel({ nComponents: 2, family: 'gaussian' }), rows, { seed: 1, nInit: 2, ...quiet });
    expect((r.logLikelihood as number) - (g.logLikelihood as number)).toBeGreaterThan(50);
  });
});

describe('mixtures of linear regressions', () => {
  it('recover two crossing lines with different noise, N = 1200', async () => {
    const rng = createRng(12);
    const rows: number[][] = [];
    for (let i = 0; i < 1200; i++) {
      const x = rng.uniform() * 10;
      const z = rng.normal();
      rows.push(i % 3 === 0 ? [1 + 2 * x + 0.5 * rng.normal(), x, z] : [12 - x + 0.3 * z + 1.5 * rng.normal(), x, z]);
    }
    const data = { values: Float64Array.from(rows.flat()), rows: rows.length, cols: 3, columns: ['y', 'x', 'z'] };
    const r = await fit(mixtureModel({ nComponents: 2, family: 'regression(y~x,z)' }), data, { seed: 2, nInit: 3, ...quiet });
    const fam = r.params.families[0] as RegressionFamilyParams;
    const comps = byFirst([0, 1].map((k) => ({ b: fam.coefficients[k]!, v: fam.variances[k]!, w: r.params.weights[k]! })), (c) => c.b[0]!);
    // The first line (weight 1/3): slope s.e. ≈ 0.5 / (sqrt(400)·2.9) ≈ 0.009; the second: ≈ 1.5/(sqrt(800)·2.9) ≈ 0.02. Allow 5 s.e.
    expect(Math.abs(comps[0]!.b[1]! - 2)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(comps[1]!.b[1]! + 1)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(comps[0]!.b[2]!)).toBeLessThanOrEqual(0.15);
    expect(Math.abs(comps[1]!.b[2]! - 0.3)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(comps[0]!.b[0]! - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(comps[1]!.b[0]! - 12)).toBeLessThanOrEqual(0.6);
    // Residual variances 0.25 and 2.25: relative s.e. sqrt(2/n) ≈ 7 % and 5 %.
    expect(Math.abs(comps[0]!.v - 0.25)).toBeLessThanOrEqual(0.06);
    expect(Math.abs(comps[1]!.v - 2.25)).toBeLessThanOrEqual(0.4);
    expect(Math.abs(comps[0]!.w - 1 / 3)).toBeLessThanOrEqual(0.05);
  });
});

describe('latent class analysis and mixed types', () => {
  it('categorical items: class sizes and item probabilities, N = 3000, 10 % of cells missing', async () => {
    const rng = createRng(13);
    const truth = [
      [[0.8, 0.15, 0.05], [0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.6, 0.4, 0.0]],
      [[0.1, 0.2, 0.7], [0.2, 0.2, 0.6], [0.8, 0.1, 0.1], [0.1, 0.9, 0.0]],
    ];
    const rows = Array.from({ length: 3000 }, (_, i) => {
      const k = rng.uniform() < 0.4 ? 0 : 1;
      void i;
      return truth[k]!.map((p) => (rng.uniform() < 0.1 ? Number.NaN : rng.categorical(p)));
    });
    const r = await fit(mixtureModel({ nComponents: 2, family: { family: 'categorical', levels: 3 } }), rows, { seed: 3, nInit: 3, ...quiet });
    const fam = r.params.families[0] as CategoricalFamilyParams;
    const classes = byFirst([0, 1].map((k) => ({ p: fam.probs[k]!, w: r.params.weights[k]! })), (c) => -c.p[0]![0]!);
    expect(Math.abs(classes[0]!.w - 0.4)).toBeLessThanOrEqual(0.04);
    // Item probabilities: s.e. ≤ sqrt(0.25/1000) ≈ 0.016 for the smaller class; allow 0.06.
    classes.forEach((c, k) => c.p.forEach((item, j) => item.forEach((p, l) => expect(Math.abs(p - truth[k]![j]![l]!)).toBeLessThanOrEqual(0.06))));
  });

  it('Gaussian × Poisson × Bernoulli with missing cells in every family', async () => {
    const rng = createRng(14);
    const poisson = (rate: number): number => {
      let n = 0;
      for (let p = rng.uniform(), t = Math.exp(-rate); p > t; p *= rng.uniform()) n++;
      return n;
    };
    const rows = Array.from({ length: 2000 }, (_, i) => {
      const k = i % 2;
      const row = [rng.normal() + 3 * k, 0.5 * rng.normal() - k, poisson(k === 0 ? 2 : 9), rng.uniform() < (k === 0 ? 0.2 : 0.85) ? 1 : 0];
      return row.map((v, j) => (rng.uniform() < 0.15 && !(j === 0 && row.slice(1).some(Number.isNaN)) ? Number.NaN : v));
    });
    const data = { values: Float64Array.from(rows.flat()), rows: rows.length, cols: 4, columns: ['a', 'b', 'visits', 'flag'] };
    const r = await fit(mixtureModel({ nComponents: 2, family: 'gaussian(a,b):covariance=VVI+poisson(visits)+bernoulli(flag)', order: 'mean' }), data, { seed: 4, nInit: 2, ...quiet });
    const [g, p, b] = r.params.families as [GaussianFamilyParams, { rates: number[][] }, { probs: number[][] }];
    expect(Math.abs(g.means[0]![0]!)).toBeLessThanOrEqual(0.15);
    expect(Math.abs(g.means[1]![0]! - 3)).toBeLessThanOrEqual(0.15);
    expect(Math.abs(p.rates[0]![0]! - 2)).toBeLessThanOrEqual(0.25);
    expect(Math.abs(p.rates[1]![0]! - 9)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(b.probs[0]![0]! - 0.2)).toBeLessThanOrEqual(0.06);
    expect(Math.abs(b.probs[1]![0]! - 0.85)).toBeLessThanOrEqual(0.06);
    expect(r.data?.['nMissing']).toBeGreaterThan(0);
    void (r.params as MixtureParams);
  });
});
