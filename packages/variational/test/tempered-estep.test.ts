/**
 * The tempered (deterministic-annealing) E-step: the choice against a float64
 * reference on log-joint tables, the schedule, and fits of Gaussian mixtures
 * (exemptions, F_β monotone per stage, the true L below log p, convergence
 * only at β = 1, determinism, weights, JSON round trip, no tensor leak).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, fit, listESteps, monotonicityTolerance, parseOptionText, parseResult, reduceFiniteChunks, toJson } from '@emlab/core';
import '@emlab/exact';
import { TEMPERED_OPTIONS, temperedChoice, temperedEStep } from '@emlab/variational';
import { gaussianMixture, type GmmParams } from '@emlab/models';
import { catchEmError, entropyOf, expectNoTensorLeak, expectedUnder, logJointTableArb, posteriorFromTable, refLogSumExp, runEStep, tableStructure, type TableStats } from '@emlab/testing';
import { expectBelowLogLikelihood, expectMonotone, expectSameFit, mixtureData, rowsOf } from './helpers.js';

const ctx = { rng: createRng(0), iteration: 1 };

/** q ∝ exp(β t) row by row, float64 reference. */
function tempered(table: readonly (readonly number[])[], beta: number): number[][] {
  return posteriorFromTable(table.map((row) => row.map((v) => beta * v)));
}

describe('temperedEStep: options and registry', () => {
  it('is a restricted finite E-step registered as "tempered" with its option schema', () => {
    const e = temperedEStep();
    expect([e.name, e.kind, e.family]).toEqual(['tempered', 'finite', 'restricted']);
    expect(e.options).toEqual({ beta0: 0.2, growth: 1.25, itersPerBeta: 5, stageTol: 1e-8, jitter: 0.01 });
    const entry = listESteps('finite').find((r) => r.method === 'tempered');
    expect(entry?.family).toBe('restricted');
    expect(entry?.options).toBe(TEMPERED_OPTIONS);
    expect(createEStep('finite', 'tempered', { betas: [0.5] }).options).toEqual({ betas: [0.5, 1], itersPerBeta: 5, stageTol: 1e-8, jitter: 0.01 });
    // CLI text: --estep-option betas=0.1,0.4 itersPerBeta=3
    expect(parseOptionText(TEMPERED_OPTIONS.betas, '0.1,0.4', ['--estep-option', 'betas'])).toEqual([0.1, 0.4]);
    expect(parseOptionText(TEMPERED_OPTIONS.itersPerBeta, '3', ['--estep-option', 'itersPerBeta'])).toBe(3);
  });

  it('rejects bad options with typed errors naming the option', () => {
    expect(catchEmError(() => temperedEStep({ beta0: 0 })).path).toEqual(['temperedEStep', 'beta0']);
    expect(catchEmError(() => temperedEStep({ beta0: 1.5 })).code).toBe('INVALID_ARGUMENT');
    expect(catchEmError(() => temperedEStep({ growth: 1 })).path).toEqual(['temperedEStep', 'growth']);
    expect(catchEmError(() => temperedEStep({ betas: [0.5, 0.3] })).path).toEqual(['temperedEStep', 'betas', 1]);
    expect(catchEmError(() => temperedEStep({ betas: [0.5], beta0: 0.1 })).path).toEqual(['temperedEStep', 'betas']);
    expect(catchEmError(() => temperedEStep({ temperature: 2 } as never)).path).toEqual(['temperedEStep', 'temperature']);
  });
});

describe('temperedChoice on log-joint tables', () => {
  it('q ∝ exp(β log p), F_β = (1/β) log Σ exp(β log p) = E_q log p + H(q)/β, bound = the true L(q) ≤ log p', async () => {
    await fc.assert(
      fc.asyncProperty(logJointTableArb({ minK: 1 }), fc.double({ min: 0.05, max: 1, noNaN: true }), async ({ table, blockRows }, beta) => {
        const s = tableStructure(table, blockRows);
        const e = await runEStep(temperedEStep({ betas: [beta] }), s, ctx);
        const q = tempered(table, beta);
        const w = (e.stats as TableStats).weights;
        const k = table[0]?.length ?? 0;
        q.forEach((row, n) => row.forEach((v, j) => expect(Math.abs((w[n * k + j] as number) - v)).toBeLessThanOrEqual(1e-12)));
        const n = table.length;
        const refL = expectedUnder(q, table) + entropyOf(q);
        const refF = table.reduce((a, row) => a + refLogSumExp(row.map((v) => beta * v)) / beta, 0);
        const refLL = table.reduce((a, row) => a + refLogSumExp(row), 0);
        expect(Math.abs(e.bound - refL)).toBeLessThanOrEqual(monotonicityTolerance(refL, e.bound, n, 0, 'float64') * 16);
        expect(Math.abs((e.diagnostics?.['freeEnergy'] as number) - refF)).toBeLessThanOrEqual(monotonicityTolerance(refF, refF, n, 0, 'float64') * 16);
        expect(Math.abs((e.logLikelihood as number) - refLL)).toBeLessThanOrEqual(monotonicityTolerance(refLL, refLL, n, 0, 'float64'));
        expect(e.bound).toBeLessThanOrEqual(refLL + monotonicityTolerance(refLL, refL, n, 0, 'float64'));
        // The E-step at β < 1 maximizes F_β: its q beats the exact posterior there.
        const post = posteriorFromTable(table);
        expect(refF).toBeGreaterThanOrEqual(expectedUnder(post, table) + entropyOf(post) / beta - 1e-9 * Math.max(1, Math.abs(refF)));
        if (beta < 1) expect(e.exempt).toMatch(/maximizes F_β/);
        else expect(e.exempt).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('β = 1 is the exact E-step (the posterior itself, so H(q) takes the exact path)', () => {
    const s = tableStructure([[-1, -2, -3], [0, -5, -1]], 2);
    let seen = 0;
    reduceFiniteChunks(s, createRng(0), (block) => {
      const choice = temperedChoice(block, 1);
      expect(choice.q).toBe(block.posterior());
      seen++;
      return choice;
    });
    expect(seen).toBe(1);
  });

  it('with jitter, q ∝ exp(β log p + ε u) and F_β is that q’s E_q log p + H(q)/β; no jitter at β = 1 unless asked', () => {
    const table = [[-1, -2.5, -3], [0, -5, -1], [-2, -2, -0.5], [-0.3, -0.2, -4]];
    const s = tableStructure(table, 4);
    reduceFiniteChunks(s, createRng(3), (block) => {
      const plain = temperedChoice(block, 0.4);
      const noisy = temperedChoice(block, 0.4, 0.05);
      const q = Array.from(noisy.q);
      expect(q.some((v, i) => Math.abs(v - (plain.q[i] as number)) > 1e-6)).toBe(true);
      expect(q.every((v, i) => Math.abs(v - (plain.q[i] as number)) < 0.1)).toBe(true);
      table.forEach((row, n) => {
        const qn = q.slice(n * 3, n * 3 + 3);
        expect(qn.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
        const f = qn.reduce((a, v, j) => a + v * ((row[j] as number) - Math.log(v) / 0.4), 0);
        expect((noisy.sums?.['freeEnergy'] as Float64Array)[n]).toBeCloseTo(f, 12);
        // The unperturbed q maximizes F_β.
        expect((plain.sums?.['freeEnergy'] as Float64Array)[n]).toBeGreaterThanOrEqual(f - 1e-12);
      });
      return noisy;
    });
  });

  it('statistics are row-order invariant and a weight of 2 is a duplicated row', async () => {
    const table = [[-1, -2.5, -3], [0, -5, -1], [-2, -2, -0.5]];
    const perm = [2, 0, 1];
    const beta = 0.4;
    const a = await runEStep(temperedEStep({ betas: [beta] }), tableStructure(table, 2), ctx);
    const b = await runEStep(temperedEStep({ betas: [beta] }), tableStructure(perm.map((i) => table[i] as number[]), 2), ctx);
    const wa = (a.stats as TableStats).weights;
    const wb = (b.stats as TableStats).weights;
    perm.forEach((src, dst) => [0, 1, 2].forEach((j) => expect(wb[dst * 3 + j]).toBeCloseTo(wa[src * 3 + j] as number, 15)));
    expect(b.bound).toBeCloseTo(a.bound, 12);
    const weighted = await runEStep(temperedEStep({ betas: [beta] }), tableStructure(table, 2, { weights: [1, 2, 1] }), ctx);
    const duplicated = await runEStep(temperedEStep({ betas: [beta] }), tableStructure([...table, table[1] as number[]], 2), ctx);
    expect(weighted.bound).toBeCloseTo(duplicated.bound, 12);
    expect(weighted.entropy).toBeCloseTo(duplicated.entropy, 12);
    expect(weighted.diagnostics?.['freeEnergy']).toBeCloseTo(duplicated.diagnostics?.['freeEnergy'] as number, 12);
  });
});

describe('the annealing schedule', () => {
  it('holds each β for itersPerBeta iterations (stageTol 0), marks the changes, then stays at β = 1', async () => {
    const table = [[-1, -2], [-3, -0.5], [-2, -2.2]];
    const e = temperedEStep({ betas: [0.25, 0.5], itersPerBeta: 2, stageTol: 0 });
    const state = e.start?.({ rng: createRng(0), restart: 0, structure: tableStructure(table) });
    const seen: { beta: number; exempt: string | undefined; unsettled: string | undefined }[] = [];
    for (let t = 1; t <= 7; t++) {
      const r = await e.run(tableStructure(table), { rng: createRng(t), iteration: t, passes: t - 1, state: state as never, precision: 'float64' });
      seen.push({ beta: r.diagnostics?.['beta'] as number, exempt: r.exempt, unsettled: r.unsettled });
    }
    expect(seen.map((s) => s.beta)).toEqual([0.25, 0.25, 0.5, 0.5, 1, 1, 1]);
    expect(seen[2]?.exempt).toMatch(/β changed from 0.2500 to 0.5000/);
    expect(seen[1]?.exempt).toMatch(/tempered q at β = 0.2500/);
    expect(seen.slice(0, 4).every((s) => s.unsettled !== undefined)).toBe(true);
    expect(seen.slice(4).every((s) => s.exempt === undefined && s.unsettled === undefined)).toBe(true);
    e.dispose?.(state as never);
  });

  it('moves on early once F_β settles (a θ-free table settles after its second iteration)', async () => {
    const table = [[-1, -2], [-3, -0.5]];
    const e = temperedEStep({ betas: [0.3, 0.6], itersPerBeta: 50, stageTol: 1e-12, jitter: 0 });
    const state = e.start?.({ rng: createRng(0), restart: 0, structure: tableStructure(table) });
    const betas: number[] = [];
    for (let t = 1; t <= 6; t++) betas.push((await e.run(tableStructure(table), { rng: createRng(t), iteration: t, passes: 0, state: state as never, precision: 'float64' })).diagnostics?.['beta'] as number);
    expect(betas).toEqual([0.3, 0.3, 0.6, 0.6, 1, 1]);
  });
});

describe('temperedEStep in fit (Gaussian mixtures)', () => {
  const x = mixtureData(11, 300, 3, 2);
  const gmm = gaussianMixture({ nComponents: 3 });
  const options = { eStep: 'tempered', eStepOptions: { beta0: 0.3, itersPerBeta: 4 }, seed: 3, precision: 'float64', monotonicity: 'throw' } as const;

  it('M-halves and β = 1 E-halves never lower L; β < 1 is exempt and unsettled; F_β never falls within a stage; L ≤ log p', async () => {
    const r = await fit(gmm, x, options);
    expect(r.converged).toBe(true);
    expect(r.boundKind).toBe('lower-bound');
    expectMonotone(r.trace, r.totalWeight);
    expectBelowLogLikelihood(r.trace, r.totalWeight);
    const betas = r.trace.map((t) => t.diagnostics['beta'] as number);
    expect(betas[0]).toBe(0.3);
    expect(betas[betas.length - 1]).toBe(1);
    betas.forEach((b, i) => {
      const rec = r.trace[i] as (typeof r.trace)[number];
      if (i > 0) expect(b).toBeGreaterThanOrEqual(betas[i - 1] as number);
      expect(rec.exempt !== undefined).toBe(b < 1);
      expect(rec.unsettled !== undefined).toBe(b < 1);
      const prev = r.trace[i - 1];
      if (prev !== undefined && betas[i - 1] === b) {
        const f0 = prev.diagnostics['freeEnergy'] as number;
        const f1 = rec.diagnostics['freeEnergy'] as number;
        expect(f1).toBeGreaterThanOrEqual(f0 - monotonicityTolerance(f0, f1, r.totalWeight, 0, 'float64'));
      }
    });
    // At β = 1 it is EM: the final bound is the log-likelihood at the final parameters' predecessor.
    const last = r.trace[r.trace.length - 1];
    expect(Math.abs((last?.gap as number) ?? 1)).toBeLessThanOrEqual(monotonicityTolerance(last?.boundAfterE as number, last?.boundAfterE as number, r.totalWeight, 0, 'float64'));
  });

  it('same seed, same fit; the trace round-trips through JSON with its marks', async () => {
    const a = await fit(gmm, x, options);
    const b = await fit(gmm, x, options);
    expectSameFit(a, b);
    const back = parseResult(toJson(a));
    expect(back.trace.map((t) => [t.exempt, t.unsettled])).toEqual(a.trace.map((t) => [t.exempt, t.unsettled]));
  });

  it('a weight of 2 equals a duplicated row', async () => {
    const rows = rowsOf(x).slice(0, 120);
    const weights = rows.map((_, i) => (i % 7 === 0 ? 2 : 1));
    const dup = rows.flatMap((row, i) => (i % 7 === 0 ? [row, row] : [row]));
    const init = { covarianceType: 'full' as const, weights: [0.3, 0.3, 0.4], means: [rows[0] as number[], rows[50] as number[], rows[100] as number[]], covariances: [0, 1, 2].map(() => [[1, 0], [0, 1]]) };
    // No jitter: its noise is drawn per row, so a weighted row and its duplicate would get different draws.
    const o = { ...options, eStepOptions: { ...options.eStepOptions, jitter: 0 }, init, maxIter: 12, tol: 0, onWarning: () => {} };
    const a = await fit(gmm, rows, { ...o, weights });
    const b = await fit(gmm, dup, o);
    a.trace.forEach((rec, i) => expect(Math.abs(rec.boundAfterM - (b.trace[i]?.boundAfterM as number))).toBeLessThanOrEqual(1e-9 * Math.abs(rec.boundAfterM)));
  });

  it('jitter lets components that coincided at small β split (Old Faithful, K = 2: without it the fit stays at the one-Gaussian fixed point)', async () => {
    const faithful = readFileSync(new URL('../../../data/faithful.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const two = gaussianMixture({ nComponents: 2 });
    const em = await fit(two, faithful, { seed: 1, precision: 'float64' });
    const stuck = await fit(two, faithful, { eStep: 'tempered', eStepOptions: { jitter: 0 }, seed: 1, precision: 'float64', monotonicity: 'throw' });
    const split = await fit(two, faithful, { eStep: 'tempered', seed: 1, precision: 'float64', monotonicity: 'throw' });
    const [a, b] = (stuck.params as GmmParams).means;
    expect(Math.abs((a?.[1] as number) - (b?.[1] as number))).toBeLessThan(1e-3);
    expect(stuck.logLikelihood as number).toBeLessThan((em.logLikelihood as number) - 100);
    expect(Math.abs((split.logLikelihood as number) - (em.logLikelihood as number))).toBeLessThanOrEqual(1e-6);
  });

  it('float32 kernels leak no tensors', async () => {
    const r = await expectNoTensorLeak(() => fit(gmm, x, { ...options, precision: 'float32', monotonicity: 'warn', onWarning: () => {} }));
    expect(r.trace.length).toBeGreaterThan(0);
  });
});
