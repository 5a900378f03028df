/**
 * Unit tests of the hard (delta) E-step on hand-made log-joint tables and on
 * Gaussian-mixture structures.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, fit, listESteps, monotonicityTolerance } from '@emlab/core';
import { hardEStep } from '@emlab/variational';
import { gaussianMixture, type GmmStats } from '@emlab/models';
import { runEStep, catchEmError, expectNoTensorLeak, logJointTableArb, mixtureCaseArb, refLogSumExp, tableStructure, type TableStats } from '@emlab/testing';

const RUNS = { numRuns: 200 };
const ctx = { rng: createRng(0), iteration: 1 };

describe('hardEStep: contract and registry', () => {
  it('is a restricted finite E-step, registered as "hard", and takes no options', () => {
    const e = hardEStep();
    expect([e.name, e.kind, e.family]).toEqual(['hard', 'finite', 'restricted']);
    expect(e.options).toEqual({});
    expect(catchEmError(() => hardEStep({ temperature: 1 })).code).toBe('INVALID_ARGUMENT');
    const entry = listESteps('finite').find((r) => r.method === 'hard');
    expect(entry?.family).toBe('restricted');
    expect(createEStep('finite', 'hard').name).toBe('hard');
  });
});

describe('hardEStep on log-joint tables (K ≥ 2)', () => {
  // K = 1 is covered separately below.
  it('one-hot weights on the first maximal entry, H = 0, bound = Σ max ≤ log-likelihood', async () => {
    await fc.assert(
      fc.asyncProperty(logJointTableArb({ minK: 2 }), async ({ table, blockRows }) => {
        const s = tableStructure(table, blockRows);
        const e = await expectNoTensorLeak(() => runEStep(hardEStep(), s, ctx));
        const n = table.length;
        const k = s.nComponents;
        const w = (e.stats as TableStats).weights;
        let sumMax = 0;
        const counts = new Array<number>(k).fill(0);
        table.forEach((row, i) => {
          const best = row.indexOf(Math.max(...row));
          sumMax += row[best] as number;
          counts[best] = (counts[best] as number) + 1;
          row.forEach((_, j) => expect(w[i * k + j]).toBe(j === best ? 1 : 0));
        });
        const refLL = table.reduce((a, row) => a + refLogSumExp(row), 0);
        expect(e.entropy).toBe(0);
        expect(Math.abs(e.bound - sumMax)).toBeLessThanOrEqual(monotonicityTolerance(e.bound, sumMax, n));
        expect(Math.abs((e.logLikelihood as number) - refLL)).toBeLessThanOrEqual(monotonicityTolerance(refLL, e.logLikelihood as number, n));
        expect(e.bound).toBeLessThanOrEqual((e.logLikelihood as number) + monotonicityTolerance(e.bound, e.logLikelihood as number, n));
        expect(e.diagnostics?.['emptyComponents']).toBe(counts.filter((c) => c === 0).length);
      }),
      RUNS,
    );
  });

  it('breaks ties toward the lowest index', async () => {
    const e = await runEStep(hardEStep(), tableStructure([[-1, -1, -3], [-5, -2, -2], [0, 0, 0]], 2), ctx);
    expect(Array.from((e.stats as TableStats).weights)).toEqual([1, 0, 0, 0, 1, 0, 1, 0, 0]);
    expect(e.diagnostics?.['emptyComponents']).toBe(1);
  });
});

describe('hardEStep with a single component (K = 1)', () => {
  // Regression: oneHotFloat (core/src/logspace.ts) → tf.oneHot(depth = 1) threw "depth must be
  // >= 2" from tfjs. Expected: every weight 1, bound = log-likelihood.
  it('assigns every row to the only component', async () => {
    const table = [[-1], [-2.5], [0.5]];
    const e = await runEStep(hardEStep(), tableStructure(table), ctx);
    expect(Array.from((e.stats as TableStats).weights)).toEqual([1, 1, 1]);
    expect(e.bound).toBeCloseTo(-3, 5);
    expect(e.bound).toBe(e.logLikelihood);
  });
});

describe('hardEStep on Gaussian mixtures', () => {
  it('n_k are integers summing to N, H = 0, bound ≤ log-likelihood, and fit reports a lower bound', async () => {
    await fc.assert(
      fc.asyncProperty(mixtureCaseArb({ minK: 2 }), async (c) => {
        const g = gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType });
        const n = c.rows.length;
        await expectNoTensorLeak(async () => {
          const prep = g.prepare(c.rows);
          const s = g.structure(prep, c.params);
          try {
            const r = await runEStep(hardEStep(), s, ctx);
            const st = r.stats as GmmStats;
            st.n.forEach((v) => expect(Number.isInteger(v)).toBe(true));
            expect(st.n.reduce((a, b) => a + b, 0)).toBe(n);
            expect(r.entropy).toBe(0);
            const ll = r.logLikelihood as number;
            expect(r.bound).toBeLessThanOrEqual(ll + monotonicityTolerance(r.bound, ll, n));
          } finally {
            s.dispose();
            prep.dispose();
          }
        });
      }),
      RUNS,
    );
    const res = await fit(gaussianMixture({ nComponents: 2 }), [[0], [0.2], [5], [5.1], [4.9]], { eStep: 'hard', maxIter: 3, onWarning: () => {} });
    expect(res.boundKind).toBe('lower-bound');
    expect(res.method).toMatchObject({ name: 'hard', family: 'restricted' });
  });
});
