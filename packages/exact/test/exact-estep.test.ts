/**
 * Unit tests of the exact E-step: on hand-made log-joint tables (no model)
 * and on Gaussian-mixture structures.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, listESteps, monotonicityTolerance, type EStep, type FiniteStructure } from '@emlab/core';
import { exactEStep } from '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { gaussianMixture, type GmmStats } from '@emlab/models';
import { runEStep, catchEmError, expectNoTensorLeak, logJointTableArb, mixtureCaseArb, refLogSumExp, RESP_SUM_TOL, tableStructure, type TableStats } from '@emlab/testing';

const RUNS = { numRuns: 200 };
const ctx = { rng: createRng(0), iteration: 1 };

describe('exactEStep: contract and registry', () => {
  it('is the exact finite E-step and takes no options', () => {
    const e = exactEStep();
    expect([e.name, e.kind, e.family]).toEqual(['exact', 'finite', 'exact']);
    expect(e.options).toEqual({});
    const err = catchEmError(() => exactEStep({ tol: 1 }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.path).toEqual(['exactEStep', 'tol']);
  });

  it('is registered, and the exact, hard and stochastic E-steps are all listed for finite structures', () => {
    const finite = listESteps('finite');
    const byMethod = new Map(finite.map((r) => [r.method, r]));
    expect(byMethod.get('exact')?.family).toBe('exact');
    expect(byMethod.get('hard')?.family).toBe('restricted');
    expect(byMethod.get('stochastic')?.family).toBe('monte-carlo');
    // Methods for every kind ('*': the gradient baseline) are listed too.
    for (const r of finite) expect(['finite', '*']).toContain(r.kind);
    const made = createEStep('finite', 'exact');
    expect([made.name, made.family]).toEqual(['exact', 'exact']);
    expect(catchEmError(() => createEStep('finite', 'exact', { nDraws: 2 })).code).toBe('INVALID_ARGUMENT');
    expect(catchEmError(() => createEStep('finite', 'no-such-method')).code).toBe('UNKNOWN_ESTEP');
  });
});

describe('exactEStep on log-joint tables', () => {
  it('returns the posterior, bound = log-likelihood = Σ log Σ_k exp, and 0 ≤ H(q) ≤ N log K', async () => {
    await fc.assert(
      fc.asyncProperty(logJointTableArb(), async ({ table, blockRows }) => {
        const s = tableStructure(table, blockRows);
        const e = await expectNoTensorLeak(() => runEStep(exactEStep(), s, ctx));
        const n = table.length;
        const k = s.nComponents;
        const refLL = table.reduce((a, row) => a + refLogSumExp(row), 0);
        const tol = monotonicityTolerance(refLL, e.bound, n);
        expect(e.bound).toBe(e.logLikelihood);
        expect(Math.abs(e.bound - refLL)).toBeLessThanOrEqual(tol);
        expect(e.entropy).toBeGreaterThanOrEqual(0);
        expect(e.entropy).toBeLessThanOrEqual(n * Math.log(k) + tol);
        const w = (e.stats as TableStats).weights;
        let refH = 0;
        table.forEach((row, i) => {
          const lse = refLogSumExp(row);
          let sum = 0;
          row.forEach((v, j) => {
            const got = w[i * k + j] as number;
            const want = Math.exp(v - lse);
            if (want > 0) refH -= want * (v - lse);
            if (v === Number.NEGATIVE_INFINITY) expect(got).toBe(0);
            expect(Math.abs(got - want)).toBeLessThanOrEqual(RESP_SUM_TOL);
            sum += got;
          });
          expect(Math.abs(sum - 1)).toBeLessThanOrEqual(RESP_SUM_TOL);
        });
        expect(Math.abs(e.entropy - refH)).toBeLessThanOrEqual(tol);
        expect(e.boundStdErr).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('does not depend on how rows are split into blocks', async () => {
    await fc.assert(
      fc.asyncProperty(logJointTableArb(), fc.integer({ min: 1, max: 6 }), async ({ table, blockRows }, other) => {
        const a = await runEStep(exactEStep(), tableStructure(table, blockRows), ctx);
        const b = await runEStep(exactEStep(), tableStructure(table, other), ctx);
        expect(Array.from((a.stats as TableStats).weights)).toEqual(Array.from((b.stats as TableStats).weights));
        expect(Math.abs(a.bound - b.bound)).toBeLessThanOrEqual(monotonicityTolerance(a.bound, b.bound, table.length));
      }),
      RUNS,
    );
  });

  it('gives uniform responsibilities and H = N log K for equal entries', async () => {
    const table = Array.from({ length: 4 }, () => [-2, -2, -2]);
    const e = await runEStep(exactEStep(), tableStructure(table), ctx);
    expect(e.entropy).toBeCloseTo(4 * Math.log(3), 5);
    expect(e.bound).toBeCloseTo(4 * (-2 + Math.log(3)), 5);
    for (const v of (e.stats as TableStats).weights) expect(v).toBeCloseTo(1 / 3, 6);
  });
});

describe('exactEStep on Gaussian mixtures', () => {
  it('bound = log-likelihood (the model\'s own), entropy ≥ 0, Σ_k n_k = N, no tensor leak', async () => {
    const e: EStep<FiniteStructure> = exactEStep();
    await fc.assert(
      fc.asyncProperty(mixtureCaseArb(), async (c) => {
        const g = gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType });
        const n = c.rows.length;
        await expectNoTensorLeak(async () => {
          const prep = g.prepare(c.rows);
          const s = g.structure(prep, c.params);
          try {
            const r = await runEStep(e, s, ctx);
            expect(r.bound).toBe(r.logLikelihood);
            const ll = g.logLikelihood(prep, c.params);
            expect(Math.abs(r.bound - ll)).toBeLessThanOrEqual(monotonicityTolerance(r.bound, ll, n));
            expect(r.entropy).toBeGreaterThanOrEqual(0);
            expect(r.entropy).toBeLessThanOrEqual(n * Math.log(c.k) + monotonicityTolerance(r.entropy, r.bound, n));
            const total = (r.stats as GmmStats).n.reduce((a, b) => a + b, 0);
            expect(Math.abs(total - n)).toBeLessThanOrEqual(n * RESP_SUM_TOL);
          } finally {
            s.dispose();
            prep.dispose();
          }
        });
      }),
      RUNS,
    );
  });
});
