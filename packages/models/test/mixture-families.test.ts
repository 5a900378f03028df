/**
 * Each component family against float64 references written here: log-densities
 * from their closed forms (the Student-t one by numerical integration of its
 * Gaussian–Gamma representation), M-steps against closed forms and
 * brute-force maximization of the family's expected log joint, missing cells
 * marginalized, the Gaussian kernels against the Gaussian mixture's
 * `hostChunks`, and the Gibbs identity E_q[log p(x, u | z)] + H(u | x, z) =
 * log p(x | z) that makes the Student-t bound include every constant.
 */
import { describe, expect, it } from 'vitest';
import { createRng, reduceFiniteChunks, type Rng } from '@emlab/core';
import { exactChoice } from '@emlab/exact';
import { refMissingLogDensity } from '@emlab/testing';
import type { ComponentFamily, FamilyData, FamilyMStepContext } from '../src/mixture/component-family.js';
import { bernoulliFamily } from '../src/mixture/families/bernoulli-family.js';
import { categoricalFamily, type CategoricalFamilyParams } from '../src/mixture/families/categorical-family.js';
import { exponentialFamily } from '../src/mixture/families/exponential-family.js';
import { gaussianFamily, type GaussianFamilyParams } from '../src/mixture/families/gaussian-family.js';
import { poissonFamily, type PoissonFamilyParams } from '../src/mixture/families/poisson-family.js';
import { regressionFamily, type RegressionFamilyParams } from '../src/mixture/families/regression-family.js';
import { dofMStep, studentTFamily, type StudentTFamilyParams } from '../src/mixture/families/student-t-family.js';
import { mixtureModel } from '../src/mixture/mixture-model.js';
import { hostChunks } from '../src/gmm/gmm-missing.js';

function familyData(values: number[][], weights?: number[]): FamilyData {
  const n = values.length;
  const c = values[0]!.length;
  return {
    nRows: n,
    columns: Array.from({ length: c }, (_, j) => j),
    names: Array.from({ length: c }, (_, j) => `c${j}`),
    values: Float64Array.from(values.flat()),
    weights: weights === undefined ? undefined : Float64Array.from(weights),
    totalWeight: weights === undefined ? n : weights.reduce((a, b) => a + b, 0),
  };
}

/** log-density table `[n][K]` and statistics of weights `w` (`[n][K]`) of a family at params. */
function evaluate<P, S, PF>(f: ComponentFamily<P, S, PF>, data: FamilyData, params: P, K: number, w?: number[][]): { table: number[][]; stats: S | undefined; prep: PF } {
  const prep = f.prepare(data);
  const block = f.structure(prep, params, K).block(0, data.nRows);
  const t = block.logDensity();
  const table = Array.from({ length: data.nRows }, (_, r) => Array.from(t.subarray(r * K, (r + 1) * K)));
  return { table, stats: w === undefined ? undefined : block.stats(Float64Array.from(w.flat())), prep };
}

const ctx = (rng: Rng = createRng(0)): FamilyMStepContext => ({ rng, empty: [], pickRow: (r) => r.int(1) });

/** log n! by summing logs (independent of core's logGamma). */
function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** Golden-section maximization of f on [a, b]. */
function goldenMax(f: (x: number) => number, a: number, b: number, iters = 200): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  for (let i = 0; i < iters; i++) {
    if (f(c) > f(d)) b = d;
    else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  return (a + b) / 2;
}

function randomWeights(rng: Rng, n: number, K: number): number[][] {
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: K }, () => rng.uniform() + 0.05);
    const s = v.reduce((a, b) => a + b, 0);
    return v.map((x) => x / s);
  });
}

describe('Poisson family', () => {
  const values = [[0, 3], [2, Number.NaN], [5, 1], [1, 0], [Number.NaN, 7], [4, 2]];
  const params = { rates: [[1.5, 2.5], [0.4, 6]] };

  it('log-density: Σ over observed cells of x log λ − λ − log x! (missing cells marginalized)', () => {
    const { table } = evaluate(poissonFamily(), familyData(values), params, 2);
    values.forEach((row, r) => {
      for (let k = 0; k < 2; k++) {
        let ref = 0;
        row.forEach((x, c) => {
          if (Number.isNaN(x)) return;
          const rate = params.rates[k]![c]!;
          ref += x * Math.log(rate) - rate - logFactorial(x);
        });
        expect(table[r]![k]!).toBeCloseTo(ref, 12);
      }
    });
  });

  it('M-step: the weighted mean per component and column, the brute-force maximum of E_q log p', () => {
    const rng = createRng(1);
    const w = randomWeights(rng, values.length, 2);
    const f = poissonFamily();
    const { stats, prep } = evaluate(f, familyData(values), params, 2, w);
    const m = f.mStep(stats!, params, prep, ctx()).params;
    for (let k = 0; k < 2; k++) {
      for (let c = 0; c < 2; c++) {
        let sw = 0;
        let swx = 0;
        values.forEach((row, r) => {
          if (Number.isNaN(row[c]!)) return;
          sw += w[r]![k]!;
          swx += w[r]![k]! * row[c]!;
        });
        expect(m.rates[k]![c]!).toBeCloseTo(swx / sw, 12);
        // Brute force over this one rate: the expected log joint with the others fixed.
        const elj = (rate: number): number => f.expectedLogJoint(stats!, { rates: m.rates.map((rr, kk) => rr.map((v, cc) => (kk === k && cc === c ? rate : v))) });
        expect(goldenMax(elj, 1e-6, 20)).toBeCloseTo(m.rates[k]![c]!, 6);
      }
    }
  });

  it('rejects non-count cells, naming row and column', () => {
    const f = poissonFamily();
    const view = { rows: 2, columns: [4], names: ['visits'], at: (r: number) => (r === 1 ? 2.5 : 1) };
    expect(() => f.validate(view, 2)).toThrow(/data\[1\]\[4\] = 2\.5: is not a non-negative integer count \(column visits, poisson family\)/);
  });
});

describe('exponential family', () => {
  it('log-density log λ − λx and the M-step Σw/Σwx, against golden-section maximization', () => {
    const values = [[0.5], [2.0], [Number.NaN], [0.1], [3.3]];
    const f = exponentialFamily();
    const params = { rates: [[0.7], [2.0]] };
    const w = randomWeights(createRng(2), values.length, 2);
    const { table, stats, prep } = evaluate(f, familyData(values), params, 2, w);
    values.forEach((row, r) => [0, 1].forEach((k) => expect(table[r]![k]!).toBeCloseTo(Number.isNaN(row[0]!) ? 0 : Math.log(params.rates[k]![0]!) - params.rates[k]![0]! * row[0]!, 12)));
    const m = f.mStep(stats!, params, prep, ctx()).params;
    for (let k = 0; k < 2; k++) {
      const elj = (rate: number): number => f.expectedLogJoint(stats!, { rates: m.rates.map((rr, kk) => (kk === k ? [rate] : rr)) });
      expect(goldenMax(elj, 1e-6, 50)).toBeCloseTo(m.rates[k]![0]!, 6);
    }
  });
});

describe('Bernoulli family', () => {
  it('log-density x log p + (1 − x) log(1 − p) and the M-step Σwx/Σw', () => {
    const values = [[1, 0, 1], [0, 0, Number.NaN], [1, 1, 1], [0, 1, 0]];
    const f = bernoulliFamily();
    const params = { probs: [[0.2, 0.5, 0.9], [0.6, 0.3, 0.1]] };
    const w = randomWeights(createRng(3), values.length, 2);
    const { table, stats, prep } = evaluate(f, familyData(values), params, 2, w);
    values.forEach((row, r) => [0, 1].forEach((k) => {
      let ref = 0;
      row.forEach((x, c) => {
        if (!Number.isNaN(x)) ref += x === 1 ? Math.log(params.probs[k]![c]!) : Math.log(1 - params.probs[k]![c]!);
      });
      expect(table[r]![k]!).toBeCloseTo(ref, 12);
    }));
    const m = f.mStep(stats!, params, prep, ctx()).params;
    for (let k = 0; k < 2; k++) {
      for (let c = 0; c < 3; c++) {
        let sw = 0;
        let s1 = 0;
        values.forEach((row, r) => {
          if (Number.isNaN(row[c]!)) return;
          sw += w[r]![k]!;
          s1 += w[r]![k]! * row[c]!;
        });
        expect(m.probs[k]![c]!).toBeCloseTo(s1 / sw, 12);
      }
    }
  });
});

describe('categorical family (latent class analysis)', () => {
  const values = [[0, 2], [1, 1], [2, Number.NaN], [0, 0], [Number.NaN, 2], [1, 2]];
  const params: CategoricalFamilyParams = { levels: [3, 3], probs: [[[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], [[0.2, 0.2, 0.6], [0.4, 0.4, 0.2]]] };

  it('log-density Σ_c log p_{k,c,x_c} over observed cells, M-step the weighted level frequencies', () => {
    const f = categoricalFamily();
    const w = randomWeights(createRng(4), values.length, 2);
    const { table, stats, prep } = evaluate(f, familyData(values), params, 2, w);
    values.forEach((row, r) => [0, 1].forEach((k) => {
      let ref = 0;
      row.forEach((x, c) => {
        if (!Number.isNaN(x)) ref += Math.log(params.probs[k]![c]![x]!);
      });
      expect(table[r]![k]!).toBeCloseTo(ref, 12);
    }));
    const m = f.mStep(stats!, params, prep, ctx()).params;
    for (let k = 0; k < 2; k++) {
      for (let c = 0; c < 2; c++) {
        const counts = [0, 0, 0];
        values.forEach((row, r) => {
          if (!Number.isNaN(row[c]!)) counts[row[c]!]! += w[r]![k]!;
        });
        const total = counts.reduce((a, b) => a + b, 0);
        counts.forEach((n, l) => expect(m.probs[k]![c]![l]!).toBeCloseTo(n / total, 12));
      }
    }
    // Free parameters: K Σ_c (L_c − 1).
    expect(f.nParameters(m)).toBe(2 * (2 + 2));
  });

  it('levels from the data or given; codes outside them are typed errors', () => {
    const f = categoricalFamily({ levels: 2 });
    const view = { rows: 1, columns: [0], names: ['q1'], at: () => 2 };
    expect(() => f.validate(view, 2)).toThrow(/is not below the 2 levels of column q1/);
    expect(() => categoricalFamily({ levels: [3, 3] }).validate({ rows: 1, columns: [0], names: ['q1'], at: () => 0 }, 2)).toThrow(/has 2 entries for 1 columns/);
  });
});

describe('Gaussian family', () => {
  const rows = [[0.3, -1.2, 2.0], [1.1, Number.NaN, 0.4], [Number.NaN, Number.NaN, -0.7], [2.2, 0.5, 1.9], [-0.4, 0.9, Number.NaN], [0.8, 0.1, 0.2]];
  const params: GaussianFamilyParams = {
    covariance: 'VVV',
    means: [[0.1, 0.2, 0.9], [1.5, -0.4, 0.3]],
    covariances: [
      [[1.2, 0.3, -0.1], [0.3, 0.8, 0.2], [-0.1, 0.2, 1.5]],
      [[0.6, -0.2, 0.1], [-0.2, 1.1, 0.0], [0.1, 0.0, 0.9]],
    ],
  };

  it('log-density: the Gaussian density of the observed entries (testing reference), 0 when nothing is observed', () => {
    const { table } = evaluate(gaussianFamily(), familyData(rows), params, 2);
    for (let k = 0; k < 2; k++) {
      const ref = refMissingLogDensity(rows, { weights: [1], means: [params.means[k]!], covariances: [params.covariances[k]!] });
      rows.forEach((_, r) => expect(table[r]![k]!).toBeCloseTo(ref[r]!, 11));
    }
  });

  it("complete rows: the flat kernel equals the Gaussian mixture's hostChunks (table and statistics)", () => {
    const rng = createRng(5);
    const D = 4;
    const n = 50;
    const values = Array.from({ length: n }, () => Array.from({ length: D }, () => 3 * rng.normal()));
    const p: GaussianFamilyParams = {
      covariance: 'VVV',
      means: [[0, 1, -1, 2], [1, 1, 1, 1], [-2, 0, 0, 3]],
      covariances: Array.from({ length: 3 }, (_, k) => Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 1 + k : 0.2)))),
    };
    const w = randomWeights(rng, n, 3);
    const f = gaussianFamily();
    const { table, stats, prep } = evaluate(f, familyData(values), p, 3, w);
    const offset = prep.offset;
    const centred = Float64Array.from(values.flat().map((v, i) => v - offset[i % D]!));
    const cm = Float64Array.from(p.means.flat().map((v, i) => v - offset[i % D]!));
    const [chunk] = hostChunks([{ obs: Int32Array.from([0, 1, 2, 3]), mis: new Int32Array(0), start: 0, count: n, xo: centred }], { covarianceType: 'full', weights: [1, 1, 1], means: p.means, covariances: p.covariances }, cm, offset, undefined);
    const t = chunk!.logJoint();
    table.flat().forEach((v, i) => expect(Math.abs(v - t[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(v))));
    const s = chunk!.stats(Float64Array.from(w.flat()));
    for (const key of ['n', 's1', 's2', 'ref'] as const) {
      const a = stats![key];
      const b = s[key];
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b[i]!))));
    }
  });
});

describe('Student-t family', () => {
  const rng = createRng(6);
  const D = 2;
  const values = Array.from({ length: 40 }, () => [2 * rng.normal(), rng.normal() + 0.5 * rng.normal()]);
  const params: StudentTFamilyParams = {
    covariance: 'VVV',
    means: [[0.2, -0.1], [1.0, 0.8]],
    covariances: [[[1.3, 0.4], [0.4, 0.9]], [[0.5, -0.1], [-0.1, 2.0]]],
    dof: [3.5, 12],
  };

  /** log t_ν(x | μ, Σ) = log ∫ N(x | μ, Σ/u) Gamma(u | ν/2, ν/2) du, by the trapezoidal rule in log u. */
  function tByIntegration(x: number[], mu: number[], S: number[][], nu: number): number {
    const det = S[0]![0]! * S[1]![1]! - S[0]![1]! * S[1]![0]!;
    const inv = [[S[1]![1]! / det, -S[0]![1]! / det], [-S[1]![0]! / det, S[0]![0]! / det]];
    const e = [x[0]! - mu[0]!, x[1]! - mu[1]!];
    const delta = e[0]! * (inv[0]![0]! * e[0]! + inv[0]![1]! * e[1]!) + e[1]! * (inv[1]![0]! * e[0]! + inv[1]![1]! * e[1]!);
    // Γ(ν/2) from the same trapezoid (∫ t^{a−1} e^{−t} dt in log t), so nothing here uses a library gamma.
    const a = nu / 2;
    const h = 0.002;
    let gamma = 0;
    let integral = 0;
    for (let s = -40; s <= 8; s += h) {
      const u = Math.exp(s);
      gamma += Math.exp(a * s - u) * h;
      const logN = -Math.log(2 * Math.PI) - 0.5 * Math.log(det) + Math.log(u) - 0.5 * u * delta; // |Σ/u| = |Σ| / u² in 2-D
      const logG = a * Math.log(a) + (a - 1) * s - a * u; // without 1/Γ(a)
      integral += Math.exp(logN + logG + s) * h; // du = u ds
    }
    return Math.log(integral) - Math.log(gamma);
  }

  it('log-density equals numerical integration of the Gaussian–Gamma mixture', () => {
    const { table } = evaluate(studentTFamily(), familyData(values.slice(0, 8)), params, 2);
    values.slice(0, 8).forEach((x, r) => [0, 1].forEach((k) => expect(table[r]![k]!).toBeCloseTo(tByIntegration(x, params.means[k]!, params.covariances[k]!, params.dof[k]!), 7)));
  });

  it('Gibbs identity: after the exact E-step, E_q log p(x, z, u) + H(q) = log p(x) (every constant of the scale)', () => {
    const mix = mixtureModel({ nComponents: 2, family: { family: 't' } });
    const data = { values: Float64Array.from(values.flat()), rows: values.length, cols: D };
    const prepared = mix.prepare(data);
    const full = { weights: [0.35, 0.65], families: [params] };
    const e = reduceFiniteChunks(mix.structure(prepared, full), createRng(0), exactChoice);
    const bound = mix.expectedLogJoint(e.stats, full) + e.entropy;
    expect(Math.abs(bound - e.logLikelihood)).toBeLessThanOrEqual(1e-10 * Math.abs(e.logLikelihood));
    expect(Math.abs(mix.logLikelihood(prepared, full) - e.logLikelihood)).toBeLessThanOrEqual(1e-12 * Math.abs(e.logLikelihood));
  });

  it('M-step maximizes E_q log p: no coordinate perturbation of μ, Σ or ν does better', () => {
    const mix = mixtureModel({ nComponents: 2, family: { family: 't' } });
    const data = { values: Float64Array.from(values.flat()), rows: values.length, cols: D };
    const prepared = mix.prepare(data);
    const full = { weights: [0.35, 0.65], families: [params] };
    const e = reduceFiniteChunks(mix.structure(prepared, full), createRng(0), exactChoice);
    const m = mix.mStep(e.stats, full, { rng: createRng(0), prepared, iteration: 1 }).params;
    const best = mix.expectedLogJoint(e.stats, m);
    const fam = m.families[0] as StudentTFamilyParams;
    const perturbed = (f: (p: StudentTFamilyParams) => void): number => {
      const p = JSON.parse(JSON.stringify(fam)) as StudentTFamilyParams;
      f(p);
      return mix.expectedLogJoint(e.stats, { weights: m.weights, families: [p] });
    };
    for (const h of [1e-3, -1e-3]) {
      for (let k = 0; k < 2; k++) {
        for (let j = 0; j < D; j++) expect(perturbed((p) => (p.means[k]![j]! += h))).toBeLessThanOrEqual(best + 1e-9);
        expect(perturbed((p) => (p.covariances[k]![0]![0]! *= 1 + h))).toBeLessThanOrEqual(best + 1e-9);
        expect(perturbed((p) => {
          p.covariances[k]![0]![1]! += h;
          p.covariances[k]![1]![0]! += h;
        })).toBeLessThanOrEqual(best + 1e-9);
        expect(perturbed((p) => (p.dof[k]! *= 1 + h))).toBeLessThanOrEqual(best + 1e-9);
      }
    }
    // And the bound rose from the start.
    expect(best).toBeGreaterThanOrEqual(mix.expectedLogJoint(e.stats, full));
  });

  it('the ν update is the brute-force maximum of n[(ν/2) log(ν/2) − log Γ(ν/2)] + (ν/2)(Σ E log u − Σ E u)', () => {
    // The objective is written here with its own log Γ (the Lanczos series, g = 7; not core's logGamma), maximized by golden section in log ν.
    const lanczos = (z: number): number => {
      const g = 7;
      const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
      z -= 1;
      let x = c[0]!;
      for (let i = 1; i < g + 2; i++) x += c[i]! / (z + i);
      const t = z + g + 0.5;
      return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
    };
    for (const [n, su, slogu] of [[50, 48, -12], [20, 21, -3.5], [100, 100.5, -0.8]] as const) {
      const obj = (nu: number): number => n * ((nu / 2) * Math.log(nu / 2) - lanczos(nu / 2)) + (nu / 2) * (slogu - su);
      const lo = 0.5;
      const hi = 1000;
      const ours = dofMStep(n, su, slogu, lo, hi);
      const brute = goldenMax((s) => obj(Math.exp(s)), Math.log(lo), Math.log(hi), 300);
      expect(Math.abs(Math.log(ours) - brute)).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('regression family', () => {
  const rng = createRng(7);
  const n = 30;
  const x = Array.from({ length: n }, () => [rng.normal() * 2, rng.uniform() * 5]);
  const y = x.map(([a, b]) => 1 + 2 * a! - 0.5 * b! + 0.3 * rng.normal());
  y[4] = Number.NaN;
  const values = x.map((row, r) => [y[r]!, ...row]);
  const params: RegressionFamilyParams = { coefficients: [[1, 2, -0.5], [-1, 0.5, 1]], variances: [0.2, 1.5] };

  it('log-density log N(y | β0 + xβ, σ²), 0 for a missing response', () => {
    const { table } = evaluate(regressionFamily({ columns: [0, 1, 2] }), familyData(values), params, 2);
    values.forEach((row, r) => [0, 1].forEach((k) => {
      const b = params.coefficients[k]!;
      const mu = b[0]! + b[1]! * row[1]! + b[2]! * row[2]!;
      const v = params.variances[k]!;
      const ref = Number.isNaN(row[0]!) ? 0 : -0.5 * Math.log(2 * Math.PI * v) - (row[0]! - mu) ** 2 / (2 * v);
      expect(table[r]![k]!).toBeCloseTo(ref, 12);
    }));
  });

  it('M-step: weighted least squares (normal equations on the raw design, solved here by Gaussian elimination) and RSS/n', () => {
    const f = regressionFamily({ columns: [0, 1, 2] });
    const w = randomWeights(rng, n, 2);
    const { stats, prep } = evaluate(f, familyData(values), params, 2, w);
    const m = f.mStep(stats!, params, prep, ctx()).params;
    for (let k = 0; k < 2; k++) {
      const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
      const b = [0, 0, 0];
      let sw = 0;
      values.forEach((row, r) => {
        if (Number.isNaN(row[0]!)) return;
        const xt = [1, row[1]!, row[2]!];
        const wk = w[r]![k]!;
        sw += wk;
        for (let i = 0; i < 3; i++) {
          b[i]! += wk * xt[i]! * row[0]!;
          for (let j = 0; j < 3; j++) A[i]![j]! += wk * xt[i]! * xt[j]!;
        }
      });
      // Gaussian elimination with partial pivoting.
      const M = A.map((row, i) => [...row, b[i]!]);
      for (let c = 0; c < 3; c++) {
        let p = c;
        for (let r = c + 1; r < 3; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
        [M[c], M[p]] = [M[p]!, M[c]!];
        for (let r = c + 1; r < 3; r++) {
          const fct = M[r]![c]! / M[c]![c]!;
          for (let j = c; j < 4; j++) M[r]![j]! -= fct * M[c]![j]!;
        }
      }
      const beta = [0, 0, 0];
      for (let i = 2; i >= 0; i--) {
        let s = M[i]![3]!;
        for (let j = i + 1; j < 3; j++) s -= M[i]![j]! * beta[j]!;
        beta[i] = s / M[i]![i]!;
      }
      beta.forEach((v, i) => expect(m.coefficients[k]![i]!).toBeCloseTo(v, 9));
      let rss = 0;
      values.forEach((row, r) => {
        if (!Number.isNaN(row[0]!)) rss += w[r]![k]! * (row[0]! - beta[0]! - beta[1]! * row[1]! - beta[2]! * row[2]!) ** 2;
      });
      expect(m.variances[k]!).toBeCloseTo(rss / sw, 9);
    }
  });

  it('needs its columns; missing covariates are typed errors', () => {
    expect(() => regressionFamily()).toThrow(/columns.*is required by the regression family/);
    const f = regressionFamily({ columns: ['y', 'x'] });
    expect(() => f.validate({ rows: 2, columns: [0, 1], names: ['y', 'x'], at: (r, j) => (r === 1 && j === 1 ? Number.NaN : 1) }, 2)).toThrow(/data\[1\]\[1\] = NaN: is missing: covariate x/);
  });
});

describe('products of families', () => {
  it('log p(x, z = k) = log π_k + Σ_f log p_f(x_f | k) over disjoint columns', () => {
    const mix = mixtureModel({ nComponents: 2, family: [{ family: 'gaussian', columns: ['a', 'b'] }, { family: 'poisson', columns: ['n'] }, { family: 'categorical', columns: ['c'] }] });
    const values = [[0.1, 0.2, 3, 1], [1.0, Number.NaN, Number.NaN, 0], [0.5, -0.3, 0, Number.NaN], [2.0, 1.0, 1, 2]];
    const data = { values: Float64Array.from(values.flat()), rows: 4, cols: 4, columns: ['a', 'b', 'n', 'c'] };
    const g: GaussianFamilyParams = { covariance: 'VVV', means: [[0, 0], [1, 1]], covariances: [[[1, 0.2], [0.2, 1]], [[2, 0], [0, 0.5]]] };
    const params = { weights: [0.4, 0.6], families: [g, { rates: [[1.2], [0.3]] }, { levels: [3], probs: [[[0.2, 0.5, 0.3]], [[0.6, 0.3, 0.1]]] }] };
    mix.validate(data);
    const prepared = mix.prepare(data);
    const [chunk] = [...mix.structure(prepared, params).chunks()];
    const t = chunk!.logJoint();
    // prepared order: complete rows first (0 and 3), then the other patterns.
    const order = Array.from(prepared.order ?? [0, 1, 2, 3]);
    order.forEach((row, p) => [0, 1].forEach((k) => {
      const v = values[row]!;
      const obs = [0, 1].filter((j) => !Number.isNaN(v[j]!));
      const gauss = refMissingLogDensity([[v[0]!, v[1]!]], { weights: [1], means: [g.means[k]!], covariances: [g.covariances[k]!] })[0]!;
      const pois = Number.isNaN(v[2]!) ? 0 : v[2]! * Math.log((params.families[1] as PoissonFamilyParams).rates[k]![0]!) - (params.families[1] as PoissonFamilyParams).rates[k]![0]! - logFactorial(v[2]!);
      const cat = Number.isNaN(v[3]!) ? 0 : Math.log((params.families[2] as CategoricalFamilyParams).probs[k]![0]![v[3]!]!);
      expect(obs.length).toBeGreaterThan(0);
      expect(t[p * 2 + k]!).toBeCloseTo(Math.log(params.weights[k]!) + gauss + pois + cat, 11);
    }));
  });
});
