/**
 * Accelerated EM as a method around any model's exact E-step: on slowly converging problems
 * (heavily overlapping mixture, 60% of entries missing, a latent-class network) every accelerator
 * reaches the optimum plain EM reaches (log-likelihood within 1e-8, float64) and SQUAREM needs
 * fewer E-step calls; the accounting (`eStepCalls`, `passes`, diagnostics) is exact; the
 * log-likelihood never decreases; extrapolations into invalid parameters are rejected, not fatal;
 * the registered methods, `fit`'s `accelerate` option and the step API agree; typed errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fit, fitSteps, isInvalidPoint, listESteps, logLikelihoodOf, monotonicityTolerance, omitTimings, plainEm, squarem, type Accelerator, type FitResult, type Model } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import { asiaNetwork, bayesianNetwork, gaussianMixture, parseBnCsv, sampleNetwork, type BayesNet } from '@emlab/models';
import { makeGaussianMixture, maskMissing } from '@emlab/data';
import { catchEmError, catchEmErrorAsync, expectNoTensorLeak } from '@emlab/testing';
import { poissonMixture, type PoissonParams } from './helpers/poisson-mixture.js';

const quiet = { onWarning: (): void => {} };
const ACCELERATORS = ['squarem', 'quasi-newton', 'aitken', 'parabolic'] as const;

const overlap = makeGaussianMixture({ nSamples: 2000, nComponents: 3, nFeatures: 2, seed: 3, separation: 0.7 });
const overlapData = { values: overlap.values, rows: overlap.rows, cols: overlap.cols };
const g2 = makeGaussianMixture({ nSamples: 2000, nComponents: 2, nFeatures: 3, seed: 4, separation: 2 });
const missingData = maskMissing({ values: g2.values, rows: g2.rows, cols: g2.cols }, { rate: 0.6, seed: 1 }).table;
const raters = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
const latentClass: BayesNet = {
  name: 'latent-class',
  nodes: [{ name: 'Z', states: ['1', '2'], parents: [], cpt: [0.5, 0.5] }, ...raters.map((name) => ({ name, states: ['1', '2'], parents: ['Z'], cpt: [0.5, 0.5, 0.5, 0.5] }))],
};
const carcinoma = parseBnCsv(readFileSync(new URL('../data/carcinoma_agresti.csv', import.meta.url), 'utf8'), latentClass, { hidden: ['Z'] });

/** Checks the accounting and the monotone log-likelihood of an accelerated fit. */
function checkAccounting(r: FitResult, totalWeight: number, finalCalls: number): void {
  let calls = 0;
  for (const rec of r.trace) {
    calls += rec.diagnostics['eStepCalls'] as number;
    expect(rec.diagnostics['mapCalls']).toBeGreaterThanOrEqual(rec.diagnostics['eStepCalls'] as number);
    expect(rec.passes).toBe(calls);
    expect(rec.precision).toBe('float64');
    // Never below the plain EM step from the same point, never below the start of the step.
    expect(rec.boundAfterM).toBeGreaterThanOrEqual((rec.diagnostics['emLogLikelihood'] as number) - monotonicityTolerance(rec.boundAfterE, rec.boundAfterM, totalWeight, 0, 'float64'));
    expect(rec.boundAfterM).toBeGreaterThanOrEqual(rec.boundAfterE - monotonicityTolerance(rec.boundAfterE, rec.boundAfterM, totalWeight, 0, 'float64'));
    expect(rec.violations).toEqual([]);
  }
  // Every E-step call is counted: the kept restart's map evaluations, plus the final log-likelihood
  // when the model has no logLikelihood hook (one exact E-step).
  expect(r.eStepCalls).toBe(calls + finalCalls);
  expect(r.passes).toBe(calls);
  const report = r.report as Record<string, number>;
  expect(report['eStepCalls']).toBe(calls);
  expect(report['accepted']).toBe(r.trace.reduce((a, x) => a + (x.diagnostics['accepted'] as number), 0));
  expect(report['rejected']).toBe(r.trace.reduce((a, x) => a + (x.diagnostics['rejected'] as number), 0));
}

describe('same optimum as plain EM, fewer E-step calls', () => {
  const cases: { name: string; model: () => Model<any, any, any, any>; data: unknown; options?: Record<string, unknown> }[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    { name: 'heavily overlapping mixture (K = 3, separation 0.7, N = 2000)', model: () => gaussianMixture({ nComponents: 3, regCovar: 0 }), data: overlapData },
    { name: 'mixture with 60% of entries missing (K = 2, D = 3, N = 2000)', model: () => gaussianMixture({ nComponents: 2, regCovar: 0 }), data: missingData },
    { name: 'latent-class network (carcinoma, hidden class, K = 2)', model: () => bayesianNetwork(latentClass, { hidden: ['Z'] }), data: carcinoma },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const model = c.model();
      const base = { seed: 0, tol: 1e-13, maxIter: 20000, precision: 'float64' as const, ...quiet };
      const plain = await fit(model, c.data, base);
      expect(plain.converged).toBe(true);
      const runs = new Map<string, FitResult>();
      for (const a of ACCELERATORS) runs.set(a, await fit(model, c.data, { ...base, accelerate: a }));
      const best = Math.max(plain.logLikelihood as number, ...[...runs.values()].map((r) => r.logLikelihood as number));
      expect(best - (plain.logLikelihood as number)).toBeLessThan(1e-8);
      const calls: string[] = [`plain ${plain.eStepCalls}`];
      for (const [a, r] of runs) {
        expect(r.converged).toBe(true);
        expect(best - (r.logLikelihood as number)).toBeLessThan(1e-8);
        // The reported bound is the exact log-likelihood at the returned parameters.
        expect(Math.abs(r.bound - (r.logLikelihood as number))).toBeLessThan(1e-9 * Math.abs(r.bound));
        checkAccounting(r, r.totalWeight, model.logLikelihood === undefined ? 1 : 0);
        calls.push(`${a} ${r.eStepCalls}`);
      }
      console.log(`${c.name}: E-step calls ${calls.join(', ')}`);
      expect((runs.get('squarem') as FitResult).eStepCalls).toBeLessThan(plain.eStepCalls);
    });
  }
});

describe('the method', () => {
  it('is registered for every structure kind, by name with options, and equals fit(…, { accelerate })', async () => {
    for (const name of ACCELERATORS) expect(listESteps('finite').some((e) => e.method === name && e.kind === '*')).toBe(true);
    const gmm = gaussianMixture({ nComponents: 3, regCovar: 0 });
    const a = await fit(gmm, overlapData, { eStep: 'squarem', eStepOptions: { method: 'S1' }, seed: 1, ...quiet });
    const b = await fit(gmm, overlapData, { accelerate: squarem({ method: 'S1' }), seed: 1, ...quiet });
    expect(a.method.name).toBe('squarem');
    expect(a.method.family).toBe('exact');
    expect(a.boundKind).toBe('log-likelihood');
    expect(a.method.options['method']).toBe('S1');
    expect(omitTimings(a)).toEqual({ ...(omitTimings(b) as object), method: a.method });
    // Same seed, same result, bit for bit.
    const c = await fit(gmm, overlapData, { eStep: 'squarem', eStepOptions: { method: 'S1' }, seed: 1, ...quiet });
    expect(omitTimings(c)).toEqual(omitTimings(a));
  });

  it('stops by the accelerated policy (the plain EM step’s gain and rate) unless told otherwise', async () => {
    const gmm = gaussianMixture({ nComponents: 3, regCovar: 0 });
    const a = await fit(gmm, overlapData, { accelerate: 'squarem', ...quiet });
    expect(a.convergence.policy).toBe('accelerated');
    expect(a.convergence.tol).toBe(1e-11);
    const b = await fit(gmm, overlapData, { accelerate: 'squarem', tol: 1e-9, ...quiet });
    expect([b.convergence.policy, b.convergence.tol]).toEqual(['accelerated', 1e-9]);
    const c = await fit(gmm, overlapData, { accelerate: 'squarem', convergence: 'aitken', ...quiet });
    expect(c.convergence.policy).toBe('aitken');
    for (const rec of a.trace) {
      expect(rec.diagnostics['emGain']).toBeGreaterThanOrEqual(-1e-9);
      expect(rec.diagnostics['emRate']).toBeGreaterThanOrEqual(0);
    }
  });

  it('leaves no tensors behind (default precision: the float64 host kernels; forced float32 is refused)', async () => {
    const gmm = gaussianMixture({ nComponents: 3, regCovar: 0 });
    await expectNoTensorLeak(() => fit(gmm, overlapData, { accelerate: 'squarem', maxIter: 30, ...quiet }));
    expect(catchEmError(() => fitSteps(gmm, overlapData, { accelerate: 'squarem', precision: 'float32' })).path).toEqual(['options', 'precision']);
  });

  it('the step API reports each step’s E-step calls; maxIter bounds E-step calls', async () => {
    const gmm = gaussianMixture({ nComponents: 3, regCovar: 0 });
    const run = fitSteps(gmm, overlapData, { accelerate: 'squarem', maxIter: 25, tol: 0, ...quiet });
    let total = 0;
    for await (const s of run) {
      total += s.eStepCalls;
      expect(s.eStepCalls).toBe(s.record.diagnostics['eStepCalls']);
      expect(s.record.passes).toBe(total);
    }
    const r = await run.result();
    expect(r.eStepCalls).toBe(total);
    expect(total).toBeGreaterThanOrEqual(25);
    // A step that starts below maxIter may finish a few calls above it (a step is 1–4 calls).
    expect(total).toBeLessThan(25 + 5);
    expect(r.convergenceReason).toBe('max-iter');
  });

  it('the final parameters are those whose log-likelihood is reported', async () => {
    const model = bayesianNetwork(latentClass, { hidden: ['Z'] });
    const r = await fit(model, carcinoma, { accelerate: 'quasi-newton', ...quiet });
    const ll = await logLikelihoodOf(model, carcinoma, r.params);
    expect(Math.abs((ll as number) - (r.logLikelihood as number))).toBeLessThan(1e-9 * Math.abs(ll as number));
    // No logLikelihood hook: the final log-likelihood took one more exact E-step.
    expect(r.eStepCalls).toBe((r.trace[r.trace.length - 1]?.passes as number) + 1);
  });

  it('a point the model calls invalid is an invalid point for the accelerator (no E-step, no crash)', async () => {
    // Rates as raw coordinates, and an accelerator that probes a negative rate before each plain EM step.
    const counts: number[] = [];
    for (let i = 0; i < 300; i++) counts.push(i % 5 < 3 ? i % 3 : 3 + ((i * 31) % 7));
    const model = poissonMixture(2, { rawRates: true });
    const em = plainEm();
    let invalid = 0;
    const probe: Accelerator<null> = {
      name: 'probe',
      options: {},
      start: (theta, map) => em.start(theta, map),
      async step(state, map) {
        const bad = Float64Array.from(state.theta);
        bad[1] = -1;
        const answer = await map(bad);
        if (isInvalidPoint(answer)) invalid++;
        const s = await em.step(state, map);
        return { ...s, extrapolated: true, accepted: false, rejection: 'invalid', mapCalls: s.mapCalls + 1 };
      },
    };
    const plain = await fit(model, counts, { tol: 1e-12, ...quiet });
    const r = await fit(model, counts, { accelerate: probe, tol: 1e-12, ...quiet });
    expect(invalid).toBe(r.nIter);
    expect((r.report as Record<string, number>)['rejectedInvalid']).toBe(r.nIter);
    for (const rec of r.trace) expect(rec.diagnostics['mapCalls']).toBe((rec.diagnostics['eStepCalls'] as number) + 1);
    checkAccounting(r, r.totalWeight, 0);
    expect(Math.abs((r.logLikelihood as number) - (plain.logLikelihood as number))).toBeLessThan(1e-8);
  });

  it('stops at an exact fixed point (a fully observed network: EM is exact after one step)', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 500, 3);
    const r = await fit(bayesianNetwork(net, { pseudoCount: 1 }), data, { accelerate: 'squarem', ...quiet });
    expect(r.converged).toBe(true);
    expect(r.eStepCalls).toBeLessThan(12);
  });

  it('typed errors before any work', () => {
    const gmm = gaussianMixture({ nComponents: 2 });
    const rows = [[0], [1], [2], [3]];
    expect(catchEmError(() => fitSteps(gmm, rows, { accelerate: 'fast' as never })).path).toEqual(['options', 'accelerate']);
    const hard = catchEmError(() => fitSteps(gmm, rows, { accelerate: 'squarem', eStep: 'hard' }));
    expect(hard.code).toBe('INVALID_ARGUMENT');
    expect(hard.path).toEqual(['options', 'eStep']);
    expect(catchEmError(() => fitSteps(gmm, rows, { accelerate: 'squarem', eStep: 'gradient' })).path).toEqual(['options', 'eStep']);
    expect(catchEmError(() => fitSteps(gmm, rows, { eStep: 'squarem', eStepOptions: { method: 'S4' } })).path).toEqual(['options', 'eStepOptions', 'method']);
    const { parametrization: _p, ...bare } = poissonMixture(2);
    expect(catchEmError(() => fitSteps(bare as Model<readonly number[], PoissonParams, unknown, never>, [1, 2, 3, 4], { accelerate: 'squarem' })).path).toEqual(['options', 'accelerate']);
  });

  it('an abort signal ends the fit with the result so far', async () => {
    const ctrl = new AbortController();
    const r = await fit(gaussianMixture({ nComponents: 3, regCovar: 0 }), overlapData, {
      accelerate: 'squarem',
      signal: ctrl.signal,
      onIteration: (rec) => {
        if (rec.iteration === 3) ctrl.abort();
      },
      ...quiet,
    });
    expect(r.convergenceReason).toBe('aborted');
    expect(r.nIter).toBe(3);
    await expect(catchEmErrorAsync(fit(gaussianMixture({ nComponents: 3 }), overlapData, { accelerate: 'squarem', signal: AbortSignal.abort(), ...quiet }))).resolves.toMatchObject({ code: 'ABORTED' });
  });
});
