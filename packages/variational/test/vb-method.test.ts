/**
 * The `vb` method (variational Bayes over θ):
 *
 * - side by side with scikit-learn's BayesianGaussianMixture from the same
 *   data and start (fixtures/vb-method/generate.py): the same change of the
 *   bound between iterations (ELBO − scikit-learn's bound − its regCovar
 *   penalty is the constant `sklearnBoundOffset`, 1e-9 relative; the changes
 *   to 1e-8) and the same fixed point (weights and means to 1e-4). Observed:
 *   identity 2e-15 relative, changes 3e-12, weights 9e-7, means 5e-6 (the
 *   Aitken rule stops earlier than scikit-learn's 1e-13 run);
 * - the trace's ELBO against the float64 maths (`vbElbo` from the
 *   responsibilities), and against closed forms: K = 1 (the Normal–Wishart log
 *   marginal likelihood) and complete-data networks (Dirichlet–multinomial);
 *   below the exact log marginal likelihood of a network with a hidden node
 *   (enumeration over the hidden values);
 * - monotone half-steps, typed errors before any work, report and predictive,
 *   determinism, weights.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEStep, fit, listESteps, logGamma, monotonicityTolerance, multivariateLogGamma, parseOptionText, type FitResult } from '@emlab/core';
import '@emlab/exact';
import { VB_OPTIONS, vbMethod, vbPredictiveLogDensities, type VbReport } from '@emlab/variational';
import {
  bayesianNetwork,
  gaussianMixture,
  sklearnBoundOffset,
  vbElbo,
  vbLogTable,
  vbPosteriorFromJson,
  vbPosteriorToJson,
  vbPredictiveLogDensity,
  vbPrior,
  vbResponsibilities,
  type BayesNet,
  type BnData,
  type GmmParams,
  type VbCovarianceType,
  type VbPriorOptions,
  type VbWeightPriorType,
} from '@emlab/models';
import { catchEmError, catchEmErrorAsync } from '@emlab/testing';
import { expectMonotone, expectSameFit, mixtureData, rowsOf } from './helpers.js';

interface SkFixture {
  readonly nComponents: number;
  readonly covarianceType: VbCovarianceType;
  readonly weightConcentrationPriorType: VbWeightPriorType;
  readonly regCovar: number;
  readonly priorOptions: Record<string, number | number[]>;
  readonly x: number[][];
  readonly start: { weights: number[]; means: number[][]; covariances: number[][][] };
  readonly trace: { lowerBound: number; penalty: number }[];
  readonly final: { iterations: number; lowerBound: number; penalty: number; weights: number[]; means: number[][] };
}

const load = (name: string): SkFixture => JSON.parse(readFileSync(new URL(`./fixtures/vb-method/${name}.json`, import.meta.url), 'utf8')) as SkFixture;

/** scikit-learn's snake_case prior options in camelCase. */
function priorOptions(f: SkFixture): VbPriorOptions & Record<string, unknown> {
  const map: Record<string, string> = {
    weight_concentration_prior: 'weightConcentrationPrior',
    mean_precision_prior: 'meanPrecisionPrior',
    mean_prior: 'meanPrior',
    degrees_of_freedom_prior: 'degreesOfFreedomPrior',
    covariance_prior: 'covariancePrior',
  };
  const out: Record<string, unknown> = { weightConcentrationPriorType: f.weightConcentrationPriorType };
  for (const [k, v] of Object.entries(f.priorOptions)) out[map[k] as string] = v;
  return out;
}

const report = (r: FitResult): VbReport => r.report as VbReport;

describe('vb: registration and options', () => {
  it('is a registered method for every structure kind, family restricted, with its option schema', () => {
    const entry = listESteps('finite').find((e) => e.method === 'vb');
    expect([entry?.kind, entry?.family]).toEqual(['*', 'restricted']);
    expect(entry?.options).toBe(VB_OPTIONS);
    expect(listESteps('factor-graph').some((e) => e.method === 'vb')).toBe(true);
    const m = createEStep('finite', 'vb', { prior: { weightConcentrationPrior: 0.1 } });
    expect([m.name, m.family, m.options]).toEqual(['vb', 'restricted', { prior: { weightConcentrationPrior: 0.1 }, eStep: 'exact' }]);
    expect(parseOptionText(VB_OPTIONS.prior, '{"weightConcentrationPrior":0.01}', ['--estep-option', 'prior'])).toEqual({ weightConcentrationPrior: 0.01 });
    expect(catchEmError(() => parseOptionText(VB_OPTIONS.prior, 'weightConcentrationPrior=1', ['--estep-option', 'prior'])).path).toEqual(['--estep-option', 'prior']);
    expect(catchEmError(() => vbMethod({ prior: 3 as never })).path).toEqual(['options', 'eStepOptions', 'prior']);
  });

  it('rejects, before any work: a model without a conjugate prior, prior options the model does not take, missing data', async () => {
    const x = mixtureData(1, 60);
    const plain = Object.create(gaussianMixture({ nComponents: 2 }), { conjugate: { value: undefined } }) as ReturnType<typeof gaussianMixture>;
    expect((await catchEmErrorAsync(fit(plain, x, { eStep: 'vb' }))).message).toMatch(/conjugate prior/);
    const gmm = gaussianMixture({ nComponents: 2 });
    expect((await catchEmErrorAsync(fit(gmm, x, { eStep: 'vb', eStepOptions: { prior: { weightConcentrationPrior: -1 } } }))).path).toEqual(['options', 'eStepOptions', 'prior', 'weightConcentrationPrior']);
    expect((await catchEmErrorAsync(fit(gmm, x, { eStep: 'vb', eStepOptions: { prior: { concentration: 1 } } }))).path).toEqual(['options', 'eStepOptions', 'prior', 'concentration']);
    expect((await catchEmErrorAsync(fit(gmm, x, { eStep: 'vb', eStepOptions: { eStep: 'nope' } }))).code).toBe('UNKNOWN_ESTEP');
    const rows = rowsOf(x);
    (rows[3] as number[])[1] = Number.NaN;
    const missing = await catchEmErrorAsync(fit(gmm, rows, { eStep: 'vb' }));
    expect([missing.code, missing.path]).toEqual(['INVALID_DATA', ['data', 3, 1]]);
    expect(catchEmError(() => vbMethod().check?.(gmm, rows)).code).toBe('INVALID_DATA');
    // A column far from unit scale is fitted in a frame of powers of two by EM; vb refuses it.
    const huge = rowsOf(x).map((row) => [(row[0] as number) * 1e15, row[1] as number]);
    expect((await catchEmErrorAsync(fit(gmm, huge, { eStep: 'vb' }))).path).toEqual(['data', 'column', 0]);
  });
});

describe('vb against scikit-learn BayesianGaussianMixture (same data, same start)', () => {
  for (const name of ['dp-full', 'dirichlet-diag']) {
    const f = load(name);
    const gmm = gaussianMixture({ nComponents: f.nComponents, covarianceType: f.covarianceType, regCovar: f.regCovar });
    const init: GmmParams = { covarianceType: f.covarianceType, ...f.start };
    const eStepOptions = { prior: priorOptions(f) };
    const { weightConcentrationPriorType: _, ...rest } = priorOptions(f);
    const prior = vbPrior({ values: Float64Array.from(f.x.flat()), rows: f.x.length, cols: f.x[0]?.length ?? 0 }, f.nComponents, f.covarianceType, { ...rest, weightConcentrationPriorType: f.weightConcentrationPriorType });
    const offset = sklearnBoundOffset(prior, f.x.length);

    it(`${name}: ELBO = scikit-learn's bound + its regCovar penalty + a constant at every iteration (the same changes)`, async () => {
      const r = await fit(gmm, f.x, { eStep: 'vb', eStepOptions, init, maxIter: f.trace.length, tol: 0, monotonicity: 'throw', onWarning: () => {} });
      expect(r.trace.length).toBe(f.trace.length);
      r.trace.forEach((rec, t) => {
        const sk = f.trace[t] as SkFixture['trace'][number];
        expect(Math.abs(rec.boundAfterM - (sk.lowerBound + sk.penalty + offset))).toBeLessThanOrEqual(1e-9 * Math.abs(rec.boundAfterM));
        const prev = r.trace[t - 1];
        const skPrev = f.trace[t - 1];
        if (prev !== undefined && skPrev !== undefined) {
          const ours = rec.boundAfterM - prev.boundAfterM;
          const theirs = sk.lowerBound + sk.penalty - (skPrev.lowerBound + skPrev.penalty);
          expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(1e-8);
        }
      });
      expectMonotone(r.trace, r.totalWeight);
    });

    it(`${name}: the same fixed point (weights and means to 1e-4)`, async () => {
      const r = await fit(gmm, f.x, { eStep: 'vb', eStepOptions, init, maxIter: 20_000, monotonicity: 'throw' });
      expect(r.converged).toBe(true);
      const p = r.params as GmmParams;
      p.weights.forEach((w, k) => expect(Math.abs(w - (f.final.weights[k] as number))).toBeLessThanOrEqual(1e-4));
      p.means.forEach((m, k) => m.forEach((v, i) => expect(Math.abs(v - ((f.final.means[k] as number[])[i] as number))).toBeLessThanOrEqual(1e-4)));
      expect(Math.abs(r.bound - (f.final.lowerBound + f.final.penalty + offset))).toBeLessThanOrEqual(1e-6 * Math.abs(r.bound));
    });
  }
});

describe('the ELBO in the trace against float64 references', () => {
  const x = mixtureData(9, 80, 2, 2, 2);
  const xm = { values: x.values, rows: x.rows, cols: x.cols };

  for (const [type, weightType, regCovar] of [['full', 'dirichlet_process', 1e-3], ['tied', 'dirichlet_distribution', 0], ['spherical', 'dirichlet_process', 0]] as const) {
    it(`${type}, ${weightType}, regCovar ${regCovar}: boundAfterM_T = vbElbo(x, q(z)_T, q(θ)_{T+1}) from the responsibilities`, async () => {
      const gmm = gaussianMixture({ nComponents: 3, covarianceType: type, regCovar });
      const o = { eStep: 'vb', eStepOptions: { prior: { weightConcentrationPriorType: weightType } }, seed: 5, tol: 0, onWarning: () => {} } as const;
      const before = await fit(gmm, x, { ...o, maxIter: 6 });
      const after = await fit(gmm, x, { ...o, maxIter: 7 });
      const postT = vbPosteriorFromJson(report(before).posterior);
      const postNext = vbPosteriorFromJson(report(after).posterior);
      const { resp } = vbResponsibilities(vbLogTable(xm, postT), 3);
      const reference = vbElbo(xm, resp, postNext);
      const last = after.trace[after.trace.length - 1];
      expect(Math.abs((last?.boundAfterM as number) - reference)).toBeLessThanOrEqual(1e-10 * Math.abs(reference));
      // boundAfterE: the same responsibilities with q(θ)_T.
      expect(Math.abs((last?.boundAfterE as number) - vbElbo(xm, resp, postT))).toBeLessThanOrEqual(1e-10 * Math.abs(reference));
      expect(report(after).klDivergence).toBeGreaterThan(0);
    });
  }

  it('K = 1 (full, Dirichlet weights, regCovar 0): the ELBO is the Normal–Wishart log marginal likelihood', async () => {
    const n = x.rows;
    const d = x.cols;
    const r = await fit(gaussianMixture({ nComponents: 1, regCovar: 0 }), x, { eStep: 'vb', eStepOptions: { prior: { weightConcentrationPriorType: 'dirichlet_distribution', meanPrecisionPrior: 0.5, degreesOfFreedomPrior: 3 } }, monotonicity: 'throw' });
    // Closed form (Murphy 2007, eq. 266): with S = W⁻¹ scales, x̄ and the scatter C,
    // log p(X) = −(ND/2) log π + log Γ_D(ν_N/2) − log Γ_D(ν₀/2) + (ν₀/2) log|S₀| − (ν_N/2) log|S_N| + (D/2) log(β₀/β_N).
    const mean = [0, 1].map((i) => rowsOf(x).reduce((a, row) => a + (row[i] as number), 0) / n);
    const dev = rowsOf(x).map((row) => row.map((v, i) => v - (mean[i] as number)));
    const cov = [0, 1].map((i) => [0, 1].map((j) => dev.reduce((a, row) => a + (row[i] as number) * (row[j] as number), 0) / (n - 1)));
    const s0 = cov; // default prior: the data covariance; m₀ = the data mean
    const scatter = [0, 1].map((i) => [0, 1].map((j) => dev.reduce((a, row) => a + (row[i] as number) * (row[j] as number), 0)));
    const sN = [0, 1].map((i) => [0, 1].map((j) => ((s0[i] as number[])[j] as number) + ((scatter[i] as number[])[j] as number)));
    const det = (m: number[][]): number => (m[0]?.[0] as number) * (m[1]?.[1] as number) - (m[0]?.[1] as number) * (m[1]?.[0] as number);
    const beta0 = 0.5;
    const nu0 = 3;
    const logML = (-n * d / 2) * Math.log(Math.PI) + multivariateLogGamma((nu0 + n) / 2, d) - multivariateLogGamma(nu0 / 2, d) + (nu0 / 2) * Math.log(det(s0)) - ((nu0 + n) / 2) * Math.log(det(sN)) + (d / 2) * Math.log(beta0 / (beta0 + n));
    expect(Math.abs(r.bound - logML)).toBeLessThanOrEqual(1e-10 * Math.abs(logML));
  });
});

// A two-node network A → B (binary), with data as state indices.
const tiny: BayesNet = {
  name: 'tiny',
  nodes: [
    { name: 'A', states: ['a0', 'a1'], parents: [], cpt: [0.5, 0.5] },
    { name: 'B', states: ['b0', 'b1', 'b2'], parents: ['A'], cpt: [0.6, 0.3, 0.1, 0.2, 0.3, 0.5] },
  ],
};

/** log Π_columns B(α + n)/B(α) for CPT count tables (Dirichlet–multinomial). */
function logMarginal(counts: readonly number[][], cards: readonly number[], alpha: number): number {
  let total = 0;
  counts.forEach((c, i) => {
    const k = cards[i] as number;
    for (let col = 0; col < c.length; col += k) {
      let n = 0;
      for (let j = 0; j < k; j++) {
        total += logGamma(alpha + (c[col + j] as number)) - logGamma(alpha);
        n += c[col + j] as number;
      }
      total += logGamma(k * alpha) - logGamma(k * alpha + n);
    }
  });
  return total;
}

describe('vb on Bayesian networks (Dirichlet CPT columns)', () => {
  it('complete data: the ELBO is the Dirichlet–multinomial log marginal likelihood, the params the posterior means', async () => {
    const values = Int32Array.from([0, 0, 0, 1, 1, 2, 1, 2, 0, 0, 1, 1, 1, 2]);
    const data: BnData = { columns: ['A', 'B'], nRows: 7, values };
    const r = await fit(bayesianNetwork(tiny), data, { eStep: 'vb', eStepOptions: { prior: { concentration: 0.7 } }, monotonicity: 'throw' });
    const countsA = [0, 0];
    const countsB = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 7; i++) {
      const a = values[2 * i] as number;
      const b = values[2 * i + 1] as number;
      countsA[a] = (countsA[a] as number) + 1;
      countsB[a * 3 + b] = (countsB[a * 3 + b] as number) + 1;
    }
    const ml = logMarginal([countsA, countsB], [2, 3], 0.7);
    expect(Math.abs(r.bound - ml)).toBeLessThanOrEqual(1e-12 * Math.abs(ml));
    const p = r.params as { cpts: Record<string, number[]> };
    expect(p.cpts['A']?.[0]).toBeCloseTo((0.7 + (countsA[0] as number)) / (1.4 + 7), 14);
    expect(report(r).posterior).toMatchObject({ concentration: 0.7, frozen: [] });
  });

  it('A hidden: the ELBO stays below the log marginal likelihood (enumeration over the hidden values), monotone', async () => {
    const bs = [0, 2, 1, 2, 0, 0, 2];
    const data: BnData = { columns: ['B'], nRows: bs.length, values: Int32Array.from(bs) };
    const alpha = 1.3;
    const model = bayesianNetwork(tiny, { hidden: ['A'], pseudoCount: alpha - 1 });
    const r = await fit(model, data, { eStep: 'vb', seed: 2, monotonicity: 'throw', maxIter: 500 });
    expectMonotone(r.trace, r.totalWeight);
    expect(report(r).prior).toEqual({});
    // p(x) = Σ over the 2^7 hidden assignments of the Dirichlet–multinomial marginal of the completed data.
    const terms: number[] = [];
    for (let z = 0; z < 1 << bs.length; z++) {
      const ca = [0, 0];
      const cb = [0, 0, 0, 0, 0, 0];
      bs.forEach((b, i) => {
        const a = (z >> i) & 1;
        ca[a] = (ca[a] as number) + 1;
        cb[a * 3 + b] = (cb[a * 3 + b] as number) + 1;
      });
      terms.push(logMarginal([ca, cb], [2, 3], alpha));
    }
    const top = Math.max(...terms);
    const logML = top + Math.log(terms.reduce((s, t) => s + Math.exp(t - top), 0));
    expect(r.bound).toBeLessThanOrEqual(logML + monotonicityTolerance(logML, r.bound, 7, 0, 'float64'));
    expect(logML - r.bound).toBeLessThan(2);
    // The predictive of a network is the likelihood at the posterior means: no separate density.
    expect(vbPredictiveLogDensities(model, r, data)).toBeNull();
  });

  it('runs with mean field as the E-step on q(z), monotone', async () => {
    const data: BnData = { columns: ['B'], nRows: 5, values: Int32Array.from([0, 2, 1, 2, 0]) };
    const r = await fit(bayesianNetwork(tiny, { hidden: ['A'] }), data, { eStep: 'vb', eStepOptions: { eStep: 'mean-field' }, seed: 1, monotonicity: 'throw', maxIter: 200 });
    expectMonotone(r.trace, r.totalWeight);
    expect(report(r).eStep).toBe('mean-field');
  });
});

describe('vb results', () => {
  const x = mixtureData(3, 150, 3, 2, 2.5);
  const gmm = gaussianMixture({ nComponents: 4 });
  const o = { eStep: 'vb', eStepOptions: { prior: { weightConcentrationPrior: 0.05 } }, seed: 4, monotonicity: 'throw' } as const;

  it('report: the posterior round-trips through JSON; the predictive density is the Student-t mixture of that posterior', async () => {
    const r = await fit(gmm, x, o);
    expect(r.boundKind).toBe('lower-bound');
    expect(r.trace.every((t) => t.logLikelihood === null && t.gap === null)).toBe(true);
    const post = vbPosteriorFromJson(report(r).posterior);
    expect(vbPosteriorToJson(post)).toEqual(report(r).posterior);
    const dens = vbPredictiveLogDensities(gmm, r, rowsOf(x)) as Float64Array;
    const ref = vbPredictiveLogDensity({ values: x.values, rows: x.rows, cols: x.cols }, post);
    dens.forEach((v, i) => expect(v).toBe(ref[i]));
    expect(catchEmError(() => vbPredictiveLogDensities(gmm, { ...r, method: { ...r.method, name: 'exact' } }, rowsOf(x))).path).toEqual(['result']);
    // The plug-in log-likelihood at the posterior means is what fit reports as logLikelihood.
    expect(r.logLikelihood).toBeCloseTo(gmm.logLikelihood(gmm.prepare(x), r.params as GmmParams), 8);
  });

  it('same seed, same fit; restarts keep the best ELBO; a weight of 2 equals a duplicated row', async () => {
    expectSameFit(await fit(gmm, x, o), await fit(gmm, x, o));
    const multi = await fit(gmm, x, { ...o, nInit: 3 });
    expect(multi.bound).toBe(Math.max(...multi.restarts.map((s) => s.bound)));
    const rows = rowsOf(x).slice(0, 90);
    const weights = rows.map((_, i) => (i % 4 === 0 ? 2 : 1));
    const dup = rows.flatMap((row, i) => (i % 4 === 0 ? [row, row] : [row]));
    const init: GmmParams = { covarianceType: 'full', weights: [0.25, 0.25, 0.25, 0.25], means: [0, 20, 40, 60].map((i) => rows[i] as number[]), covariances: [0, 1, 2, 3].map(() => [[1, 0], [0, 1]]) };
    const a = await fit(gmm, rows, { ...o, init, weights, maxIter: 10, tol: 0, onWarning: () => {} });
    const b = await fit(gmm, dup, { ...o, init, maxIter: 10, tol: 0, onWarning: () => {} });
    a.trace.forEach((rec, i) => expect(Math.abs(rec.boundAfterM - (b.trace[i]?.boundAfterM as number))).toBeLessThanOrEqual(1e-10 * Math.abs(rec.boundAfterM)));
  });
});
