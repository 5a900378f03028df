/**
 * Standard errors of fitted models: Louis' identity (the models' hooks) and the numerical Hessian
 * against closed forms (a one-component bivariate normal with a monotone missing pattern, through
 * the factored likelihood of Anderson (1957); a two-component Poisson mixture, through the analytic
 * second derivatives of its log-likelihood), Louis against the Hessian for every Gaussian-mixture
 * covariance type with missing entries and for a latent-class Bayesian network, the parametric
 * bootstrap (reproducible by seed, and agreeing with Louis within its Monte Carlo error), the
 * simulate hooks, and typed errors.
 *
 * Tolerances: Louis is analytic, and only the Jacobians dφ/dθ and d(natural)/dθ are numerical
 * (central differences with Richardson extrapolation, ≈1e-10 relative): 1e-7. The numerical
 * Hessian of a log-likelihood of size |ℓ| ~ 10³ has rounding error ≈ ε|ℓ|/h² ≈ 1e-9 relative on the
 * information and truncation error far below after extrapolation: 1e-5 on standard errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng, fit, standardErrors, type Model } from '@emlab/core';
import '@emlab/exact';
import { bayesianNetwork, gaussianMixture, parseBnCsv, sampleNetwork, asiaNetwork, type BayesNet, type GmmParams } from '@emlab/models';
import { makeGaussianMixture, maskMissing } from '@emlab/data';
import { catchEmErrorAsync } from '@emlab/testing';
import { poissonMixture, type PoissonParams } from './helpers/poisson-mixture.js';

const quiet = { onWarning: (): void => {} };
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** C = A B Aᵀ for small dense matrices (number[][]). */
function sandwich(A: number[][], B: number[][]): number[][] {
  const m = A.length;
  const p = B.length;
  const AB = A.map((row) => Array.from({ length: p }, (_, j) => row.reduce((s, a, k) => s + a * (B[k] as number[])[j]!, 0)));
  return Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (AB[i] as number[]).reduce((s, v, k) => s + v * (A[j] as number[])[k]!, 0)));
}

/** Inverse of a small symmetric positive definite matrix by Gauss–Jordan (test-local). */
function inverse(M: number[][]): number[][] {
  const n = M.length;
  const a = M.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[piv]![c]!)) piv = r;
    [a[c], a[piv]] = [a[piv]!, a[c]!];
    const d = a[c]![c]!;
    for (let j = 0; j < 2 * n; j++) a[c]![j]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]!;
      for (let j = 0; j < 2 * n; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row) => row.slice(n));
}

describe('closed form: one bivariate normal, x₂ missing in the last rows (factored likelihood)', () => {
  // n rows of (x₁, x₂), x₂ observed in the first nc only: a monotone pattern.
  const n = 400;
  const nc = 250;
  const rng = createRng(11).child('bivariate');
  const rows: number[][] = [];
  for (let r = 0; r < n; r++) {
    const z1 = rng.normal();
    const z2 = rng.normal();
    const x1 = 1 + 2 * z1;
    const x2 = -0.5 + 0.6 * x1 + 0.8 * z2;
    rows.push([x1, r < nc ? x2 : Number.NaN]);
  }
  // MLE (Anderson 1957): x₁ from all rows, the regression of x₂ on x₁ from the complete rows.
  const x1 = rows.map((r) => r[0] as number);
  const mu1 = x1.reduce((a, b) => a + b, 0) / n;
  const s11 = x1.reduce((a, b) => a + (b - mu1) ** 2, 0) / n;
  const c1 = x1.slice(0, nc);
  const c2 = rows.slice(0, nc).map((r) => r[1] as number);
  const m1c = c1.reduce((a, b) => a + b, 0) / nc;
  const m2c = c2.reduce((a, b) => a + b, 0) / nc;
  const s11c = c1.reduce((a, b) => a + (b - m1c) ** 2, 0) / nc;
  const s12c = c1.reduce((a, b, i) => a + (b - m1c) * ((c2[i] as number) - m2c), 0) / nc;
  const b1 = s12c / s11c;
  const b0 = m2c - b1 * m1c;
  const s221 = c2.reduce((a, b, i) => a + (b - b0 - b1 * (c1[i] as number)) ** 2, 0) / nc;
  const mu2 = b0 + b1 * mu1;
  const s12 = b1 * s11;
  const s22 = s221 + b1 * b1 * s11;
  const params: GmmParams = { covarianceType: 'full', weights: [1], means: [[mu1, mu2]], covariances: [[[s11, s12], [s12, s22]]] };
  // Observed information of ψ = (μ₁, σ₁₁, β₀, β₁, σ₂₂.₁) at the MLE: block diagonal.
  const sumX = c1.reduce((a, b) => a + b, 0);
  const sumX2 = c1.reduce((a, b) => a + b * b, 0);
  const info: number[][] = [
    [n / s11, 0, 0, 0, 0],
    [0, n / (2 * s11 * s11), 0, 0, 0],
    [0, 0, nc / s221, sumX / s221, 0],
    [0, 0, sumX / s221, sumX2 / s221, 0],
    [0, 0, 0, 0, nc / (2 * s221 * s221)],
  ];
  // g(ψ) = (μ₁, μ₂, σ₁₁, σ₁₂, σ₂₂) and its Jacobian.
  const G = [
    [1, 0, 0, 0, 0],
    [b1, 0, 1, mu1, 0],
    [0, 1, 0, 0, 0],
    [0, b1, 0, s11, 0],
    [0, b1 * b1, 0, 2 * b1 * s11, 1],
  ];
  const expected = sandwich(G, inverse(info));
  const names = ['means.0.0', 'means.0.1', 'covariances.0.0.0', 'covariances.0.0.1', 'covariances.0.1.1'];
  const gmm = gaussianMixture({ nComponents: 1, regCovar: 0 });

  for (const [method, tol] of [['louis', 1e-7], ['hessian', 1e-5]] as const) {
    it(`${method}: the natural-parameter covariance equals the closed form to ${tol}`, async () => {
      const se = await standardErrors(gmm, { params }, rows, { method });
      const at = names.map((nm) => se.natural.names.indexOf(nm));
      expect(at.every((i) => i >= 0)).toBe(true);
      const m = se.natural.names.length;
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 5; j++) {
          const got = se.natural.covariance[(at[i] as number) * m + (at[j] as number)] as number;
          const want = (expected[i] as number[])[j] as number;
          // Entries that vanish in the closed form are compared on the scale of their row and column.
          const scale = Math.sqrt(Math.abs((expected[i] as number[])[i]! * (expected[j] as number[])[j]!));
          expect(Math.abs(got - want) / scale).toBeLessThan(tol);
        }
      }
      // The weight of a single component is fixed: standard error 0; σ₂₁ mirrors σ₁₂.
      expect(se.natural.standardErrors[se.natural.names.indexOf('weights.0')]).toBe(0);
      expect(se.natural.standardErrors[se.natural.names.indexOf('covariances.0.1.0')]).toBeCloseTo(se.natural.standardErrors[at[3] as number] as number, 12);
      expect(se.scoreNorm as number).toBeLessThan(1e-6);
    });
  }

  it('Louis: with one component the label is known, so no information is missing about it', async () => {
    // The missing entries are integrated out of the complete data (x_obs, z); z is constant for K = 1.
    const se = await standardErrors(gmm, { params }, rows);
    expect(se.method).toBe('louis');
    expect(Math.abs(se.louis?.missingFraction as number)).toBeLessThan(1e-12);
    expect(Math.max(...Array.from(se.louis?.missingInformation as Float64Array, Math.abs))).toBe(0);
  });
});

describe('closed form: a two-component Poisson mixture', () => {
  const rng = createRng(5).child('poisson');
  const counts: number[] = [];
  for (let i = 0; i < 300; i++) {
    const lam = rng.uniform() < 0.4 ? 2 : 7;
    let x = 0;
    let prod = rng.uniform();
    while (prod > Math.exp(-lam)) {
      x++;
      prod *= rng.uniform();
    }
    counts.push(x);
  }
  const model = poissonMixture(2);

  /** −∇² log-likelihood in (π, λ₁, λ₂), differentiated by hand: ℓ = Σ log p_n, p = π f₁ + (1 − π) f₂. */
  function closedFormInformation(p: PoissonParams): number[][] {
    const [pi, l1, l2] = [p.weights[0] as number, p.rates[0] as number, p.rates[1] as number];
    const H = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    let lf = 0;
    const logFact = (x: number): number => {
      let s = 0;
      for (let i = 2; i <= x; i++) s += Math.log(i);
      return s;
    };
    for (const x of counts) {
      lf = logFact(x);
      const f1 = Math.exp(x * Math.log(l1) - l1 - lf);
      const f2 = Math.exp(x * Math.log(l2) - l2 - lf);
      const pn = pi * f1 + (1 - pi) * f2;
      const a1 = x / l1 - 1;
      const a2 = x / l2 - 1;
      const g = [f1 - f2, pi * f1 * a1, (1 - pi) * f2 * a2];
      const h = [
        [0, f1 * a1, -f2 * a2],
        [f1 * a1, pi * f1 * (a1 * a1 - x / (l1 * l1)), 0],
        [-f2 * a2, 0, (1 - pi) * f2 * (a2 * a2 - x / (l2 * l2))],
      ];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) H[i]![j]! -= h[i]![j]! / pn - (g[i]! * g[j]!) / (pn * pn);
    }
    return H;
  }

  it('Louis and the numerical Hessian give the closed-form covariance of (π, λ₁, λ₂) at the MLE', async () => {
    const r = await fit(model, counts, { accelerate: 'squarem', tol: 1e-14, maxIter: 5000, ...quiet });
    const want = inverse(closedFormInformation(r.params));
    for (const [method, tol] of [['louis', 1e-7], ['hessian', 1e-5]] as const) {
      const se = await standardErrors(model, r, counts, { method });
      const idx = ['weights.0', 'rates.0', 'rates.1'].map((nm) => se.natural.names.indexOf(nm));
      const m = se.natural.names.length;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
        const scale = Math.sqrt(want[i]![i]! * want[j]![j]!);
        expect(Math.abs((se.natural.covariance[idx[i]! * m + idx[j]!] as number) - want[i]![j]!) / scale).toBeLessThan(tol);
      }
      expect(se.natural.standardErrors[se.natural.names.indexOf('weights.1')]).toBeCloseTo(se.natural.standardErrors[idx[0]!] as number, 10);
      if (method === 'louis') {
        // Overlapping components: a real fraction of the information is missing (EM's rate here: z is EM's latent).
        expect(se.louis?.missingFraction).toBeGreaterThan(0);
        expect(se.louis?.missingFraction).toBeLessThan(1);
      }
    }
  });

  it('bootstrap: reproducible by seed, and within its Monte Carlo error of Louis', async () => {
    const r = await fit(model, counts, { accelerate: 'squarem', tol: 1e-12, ...quiet });
    const replicates = 200;
    const a = await standardErrors(model, r, counts, { method: 'bootstrap', replicates, seed: 3, fitOptions: { accelerate: 'squarem' } });
    const b = await standardErrors(model, r, counts, { method: 'bootstrap', replicates, seed: 3, fitOptions: { accelerate: 'squarem' } });
    const c = await standardErrors(model, r, counts, { method: 'bootstrap', replicates: 20, seed: 4, fitOptions: { accelerate: 'squarem' } });
    expect(Array.from(a.covariance)).toEqual(Array.from(b.covariance));
    expect(Array.from(a.natural.standardErrors)).toEqual(Array.from(b.natural.standardErrors));
    expect(Array.from(c.covariance)).not.toEqual(Array.from(a.covariance));
    expect(a.bootstrap).toMatchObject({ replicates, seed: 3, failed: 0 });
    const louis = await standardErrors(model, r, counts);
    // A standard deviation estimated from B draws has relative error ≈ 1/√(2(B − 1)); allow 4 of those.
    const mc = 4 / Math.sqrt(2 * (replicates - 1));
    for (const nm of ['weights.0', 'rates.0', 'rates.1']) {
      const i = louis.natural.names.indexOf(nm);
      expect(rel(a.natural.standardErrors[i] as number, louis.natural.standardErrors[i] as number)).toBeLessThan(mc);
    }
  });

  it('typed errors: a missing hook, an unknown option, an unidentified parameter', async () => {
    const { louis: _l, simulate: _s, ...bare } = model;
    const plain = bare as Model<readonly number[], PoissonParams, unknown, never>;
    const p = { weights: [0.5, 0.5], rates: [3, 5] };
    expect((await catchEmErrorAsync(standardErrors(plain, { params: p }, counts, { method: 'louis' }))).code).toBe('INVALID_ARGUMENT');
    const e2 = await catchEmErrorAsync(standardErrors(plain, { params: p }, counts, { method: 'bootstrap' }));
    expect(e2.path).toEqual(['options', 'method']);
    const e3 = await catchEmErrorAsync(standardErrors(model, { params: p }, counts, { replicate: 3 } as never));
    expect(e3.path).toEqual(['options', 'replicate']);
    // Equal rates: the weight is not identified, the information is singular.
    const flat = { weights: [0.5, 0.5], rates: [4, 4] };
    expect((await catchEmErrorAsync(standardErrors(model, { params: flat }, counts, { method: 'louis' }))).code).toBe('NOT_POSITIVE_DEFINITE');
  });
});

describe('Louis against the numerical Hessian', () => {
  const g = makeGaussianMixture({ nSamples: 400, nComponents: 2, nFeatures: 3, seed: 4, separation: 2 });
  const holes = maskMissing({ values: g.values, rows: g.rows, cols: g.cols }, { rate: 0.3, seed: 1 }).table;
  for (const covarianceType of ['full', 'diag', 'spherical', 'tied'] as const) {
    it(`Gaussian mixture, ${covarianceType} covariances, 30% of entries missing`, async () => {
      const gmm = gaussianMixture({ nComponents: 2, covarianceType, regCovar: 0 });
      const r = await fit(gmm, holes, { seed: 0, accelerate: 'squarem', tol: 1e-14, maxIter: 5000, ...quiet });
      const se = await standardErrors(gmm, r, holes, { check: true });
      expect(se.method).toBe('louis');
      expect(se.check?.informationRelativeDifference).toBeLessThan(1e-6);
      expect(se.check?.standardErrorRelativeDifference).toBeLessThan(1e-5);
      expect(se.warnings).toEqual([]);
    });
  }

  it('latent-class Bayesian network (carcinoma data, K = 2, Dirichlet pseudo-count 1: the prior is in the information)', async () => {
    const raters = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
    const net: BayesNet = {
      name: 'latent-class',
      nodes: [{ name: 'Z', states: ['1', '2'], parents: [], cpt: [0.5, 0.5] }, ...raters.map((name) => ({ name, states: ['1', '2'], parents: ['Z'], cpt: [0.5, 0.5, 0.5, 0.5] }))],
    };
    const data = parseBnCsv(readFileSync(new URL('../data/carcinoma_agresti.csv', import.meta.url), 'utf8'), net, { hidden: ['Z'] });
    const model = bayesianNetwork(net, { hidden: ['Z'], pseudoCount: 1 });
    const r = await fit(model, data, { seed: 0, nInit: 4, accelerate: 'squarem', tol: 1e-14, maxIter: 5000, ...quiet });
    const se = await standardErrors(model, r, data, { check: true });
    expect(se.check?.informationRelativeDifference).toBeLessThan(1e-6);
    expect(se.check?.standardErrorRelativeDifference).toBeLessThan(1e-5);
    // The two entries of a CPT column have equal standard errors (they sum to 1).
    const i0 = se.natural.names.indexOf('cpts.A.0');
    expect(se.natural.standardErrors[i0 + 1]).toBeCloseTo(se.natural.standardErrors[i0] as number, 10);
  });
});

describe('data at extreme scales (the Gaussian mixture works in a per-column frame)', () => {
  it('a column multiplied by 2¹⁰⁰: standard errors scale by 2¹⁰⁰ (means) and 2²⁰⁰ (its variance), Louis agrees with the Hessian', async () => {
    const g = makeGaussianMixture({ nSamples: 300, nComponents: 2, nFeatures: 2, seed: 12, separation: 3 });
    const holes = maskMissing({ values: g.values, rows: g.rows, cols: g.cols }, { rate: 0.2, seed: 5 }).table;
    const big = 2 ** 100;
    const scaled = { values: holes.values.map((v, i) => (i % 2 === 1 ? v * big : v)), rows: holes.rows, cols: 2 };
    const gmm = gaussianMixture({ nComponents: 2, regCovar: 0 });
    const r = await fit(gmm, holes, { accelerate: 'squarem', tol: 1e-14, maxIter: 5000, ...quiet });
    const p = r.params;
    const ps: GmmParams = { ...p, means: p.means.map((m) => [m[0] as number, (m[1] as number) * big]), covariances: p.covariances.map((c) => [[c[0]![0]!, c[0]![1]! * big], [c[1]![0]! * big, c[1]![1]! * big * big]]) };
    const a = await standardErrors(gmm, r, holes);
    const b = await standardErrors(gmm, { params: ps }, scaled, { check: true });
    expect(b.check?.standardErrorRelativeDifference).toBeLessThan(1e-5);
    // means.k.1 scale by 2¹⁰⁰; covariances.k.i.j by 2¹⁰⁰ per index equal to 1; weights not at all.
    const factor = (name: string): number => {
      const parts = name.split('.');
      if (parts[0] === 'means') return parts[2] === '1' ? big : 1;
      if (parts[0] === 'covariances') return (parts[2] === '1' ? big : 1) * (parts[3] === '1' ? big : 1);
      return 1;
    };
    a.natural.names.forEach((name, i) => {
      const want = (a.natural.standardErrors[i] as number) * factor(name);
      expect(Math.abs((b.natural.standardErrors[i] as number) - want)).toBeLessThanOrEqual(1e-7 * want);
    });
  });
});

describe('simulate hooks keep the shape and the missing cells', () => {
  it('Gaussian mixture: NaN where the data have NaN, finite elsewhere, reproducible', () => {
    const gmm = gaussianMixture({ nComponents: 2 });
    const like = { values: Float64Array.from([1, Number.NaN, 2, 3, Number.NaN, 4]), rows: 3, cols: 2 };
    const params: GmmParams = { covarianceType: 'full', weights: [0.5, 0.5], means: [[0, 0], [5, 5]], covariances: [[[1, 0], [0, 1]], [[1, 0.5], [0.5, 1]]] };
    const a = gmm.simulate(params, like, createRng(1)) as unknown as { values: Float64Array; rows: number; cols: number };
    const b = gmm.simulate(params, like, createRng(1)) as unknown as { values: Float64Array };
    expect(a.rows).toBe(3);
    expect(a.cols).toBe(2);
    Array.from(a.values).forEach((v, i) => expect(Number.isNaN(v)).toBe(Number.isNaN(like.values[i] as number)));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
  });

  it('Bayesian network: same columns, −1 where the data have −1', () => {
    const net = asiaNetwork();
    const like = sampleNetwork(net, 50, 2, { missingRate: 0.3, hide: ['either'] });
    const model = bayesianNetwork(net, { hidden: ['either'] });
    const cpts: Record<string, number[]> = {};
    for (const node of net.nodes) cpts[node.name] = node.cpt.slice();
    const s = model.simulate({ cpts }, like, createRng(3));
    expect(s.columns).toEqual(like.columns);
    expect(s.nRows).toBe(50);
    Array.from(s.values).forEach((v, i) => expect(v < 0).toBe((like.values[i] as number) < 0));
  });
});
