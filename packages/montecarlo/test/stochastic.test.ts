/**
 * Unit tests of the stochastic (Monte Carlo) E-step: option validation,
 * determinism from the rng path, weights that are averaged draws from the
 * posterior, and agreement of its bound estimate with the exact bound.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, fit, listESteps, monotonicityTolerance, type FiniteStructure } from '@emlab/core';
import { exactEStep } from '@emlab/exact';
import { stochasticEStep } from '@emlab/montecarlo';
import { gaussianMixture, type GmmStats } from '@emlab/models';
import {
  catchEmError,
  expectNoTensorLeak,
  gmmStatsDiscrepancy,
  logJointTable,
  logJointTableArb,
  makeMixtureCase,
  mixtureCaseArb,
  posteriorFromTable,
  tableStructure,
  type MixtureCase,
  type TableStats,
  runEStep,
} from '@emlab/testing';

const RUNS = { numRuns: 200 };
/** Monte Carlo checks are deterministic: fixed fast-check seed and fixed E-step streams. */
const FIXED = { numRuns: 200, seed: 20240601 };

async function withGmm<T>(c: MixtureCase, fn: (s: FiniteStructure<GmmStats>) => Promise<T>): Promise<T> {
  const g = gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType });
  const prep = g.prepare(c.rows);
  const s = g.structure(prep, c.params);
  try {
    return await fn(s);
  } finally {
    s.dispose();
    prep.dispose();
  }
}

describe('stochasticEStep: options and registry', () => {
  it('rejects nDraws 0, 2.5, −1, 10001, a string, and unknown options with INVALID_ARGUMENT', () => {
    for (const nDraws of [0, 2.5, -1, 10_001, '3', Number.NaN]) {
      const err = catchEmError(() => stochasticEStep({ nDraws } as never));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.path).toEqual(['stochasticEStep', 'nDraws']);
      expect(catchEmError(() => createEStep('finite', 'stochastic', { nDraws })).code).toBe('INVALID_ARGUMENT');
    }
    const unknown = catchEmError(() => stochasticEStep({ ndraws: 4 } as never));
    expect(unknown.code).toBe('INVALID_ARGUMENT');
    expect(unknown.path).toEqual(['stochasticEStep', 'ndraws']);
    expect(catchEmError(() => createEStep('finite', 'stochastic', { nDraws: 2, seed: 1 })).code).toBe('INVALID_ARGUMENT');
  });

  it('records its options and is registered as a Monte Carlo E-step', () => {
    expect(stochasticEStep().options).toEqual({ nDraws: 1 });
    const e = stochasticEStep({ nDraws: 8 });
    expect([e.name, e.kind, e.family, e.options]).toEqual(['stochastic', 'finite', 'monte-carlo', { nDraws: 8 }]);
    expect(listESteps('finite').find((r) => r.method === 'stochastic')?.family).toBe('monte-carlo');
    expect(createEStep('finite', 'stochastic', { nDraws: 3 }).options).toEqual({ nDraws: 3 });
  });
});

describe('stochasticEStep on log-joint tables (K ≥ 2)', () => {
  // K = 1 is covered separately below.
  it('weights are averages of S one-hot draws, only on components with positive posterior', async () => {
    await fc.assert(
      fc.asyncProperty(logJointTableArb({ minK: 2 }), fc.constantFrom(1, 3, 8), fc.integer({ min: 0, max: 1e6 }), async ({ table, blockRows }, nDraws, seed) => {
        const s = tableStructure(table, blockRows);
        const e = await expectNoTensorLeak(() => runEStep(stochasticEStep({ nDraws }), s, { rng: createRng(seed), iteration: 1 }));
        const k = s.nComponents;
        const w = (e.stats as TableStats).weights;
        const post = posteriorFromTable(table);
        table.forEach((row, i) => {
          let sum = 0;
          row.forEach((v, j) => {
            const x = w[i * k + j] as number;
            // a multiple of 1/S (float32 division)
            expect(Math.abs(x * nDraws - Math.round(x * nDraws))).toBeLessThanOrEqual(1e-5);
            if (v === Number.NEGATIVE_INFINITY || (post[i] as number[])[j] === 0) expect(x).toBe(0);
            sum += x;
          });
          expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-5);
        });
        expect(e.diagnostics).toEqual({ nDraws });
      }),
      RUNS,
    );
  });

  it('draws each component with its posterior probability (frequencies over many draws)', async () => {
    // one row, posterior (0.1, 0.6, 0, 0.3); 10 000 draws: each frequency within 5 binomial sds
    const p = [0.1, 0.6, 0, 0.3];
    const table = [p.map((v) => (v > 0 ? Math.log(v) - 2 : Number.NEGATIVE_INFINITY))];
    const e = await runEStep(stochasticEStep({ nDraws: 10_000 }), tableStructure(table), { rng: createRng('freq'), iteration: 1 });
    const w = (e.stats as TableStats).weights;
    p.forEach((pj, j) => expect(Math.abs((w[j] as number) - pj)).toBeLessThanOrEqual(5 * Math.sqrt((pj * (1 - pj)) / 10_000) + 1e-6));
  });
});

describe('stochasticEStep with a single component (K = 1)', () => {
  // Regression: oneHotFloat → tf.oneHot(depth = 1) threw in tfjs. Expected: weights all 1,
  // bound = log-likelihood exactly (no randomness), standard error 0.
  it('draws the only component', async () => {
    const e = await runEStep(stochasticEStep({ nDraws: 4 }), tableStructure([[-1], [-2]]), { rng: createRng(0), iteration: 1 });
    expect(Array.from((e.stats as TableStats).weights)).toEqual([1, 1]);
    expect(e.boundStdErr).toBe(0);
  });
});

describe('stochasticEStep on Gaussian mixtures', () => {
  it('is deterministic given the rng path, and another path gives other draws', async () => {
    await fc.assert(
      fc.asyncProperty(mixtureCaseArb({ minK: 2 }), fc.constantFrom(1, 8), async (c, nDraws) => {
        await withGmm(c, async (s) => {
          const run = (path: string) => runEStep(stochasticEStep({ nDraws }), s, { rng: createRng(c.seed).child(path), iteration: 1 });
          const a = await run('a');
          const b = await run('a');
          expect(gmmStatsDiscrepancy(a.stats as GmmStats, b.stats as GmmStats)).toBe(0);
          expect(b.bound).toBe(a.bound);
          expect(b.boundStdErr).toBe(a.boundStdErr);
          // Another stream changes some draw unless the posterior is nearly certain: P(every draw
          // repeats) ≤ Π_n Σ_k q_nk² ≤ exp(−Σ_n (1 − Σ_k q_nk²)) ≤ e⁻²⁰ when that sum is ≥ 20.
          const post = posteriorFromTable(logJointTable(s));
          const spread = post.reduce((acc, row) => acc + 1 - row.reduce((a, q) => a + q * q, 0), 0);
          if (spread >= 20) {
            const other = await run('b');
            expect(Array.from((other.stats as GmmStats).s1)).not.toEqual(Array.from((a.stats as GmmStats).s1));
          }
        });
      }),
      RUNS,
    );
  });

  it('bound estimate within 4 standard errors of the exact bound; exact entropy; exact standard error; nDraws 1 and 8', async () => {
    await fc.assert(
      fc.asyncProperty(mixtureCaseArb({ minK: 2 }), fc.constantFrom(1, 8), async (c, nDraws) => {
        await withGmm(c, async (s) => {
          const n = c.rows.length;
          const exact = await runEStep(exactEStep(), s, { rng: createRng(0), iteration: 1 });
          const mc = await runEStep(stochasticEStep({ nDraws }), s, { rng: createRng(c.seed).child('estep'), iteration: 1 });
          const se = mc.boundStdErr as number;
          const tol = monotonicityTolerance(exact.bound, mc.bound, n);
          expect(Math.abs(mc.bound - exact.bound)).toBeLessThanOrEqual(4 * se + tol);
          expect(mc.logLikelihood).toBe(exact.logLikelihood);
          expect(Math.abs(mc.entropy - exact.entropy)).toBeLessThanOrEqual(tol);
          // SE = sqrt(Σ_n Var_q[log p(x_n, z_n)] / S), recomputed in float64 from the table
          const table = logJointTable(s);
          const post = posteriorFromTable(table);
          let variance = 0;
          post.forEach((row, i) => {
            const lj = table[i] as number[];
            let mean = 0;
            row.forEach((q, j) => { if (q > 0) mean += q * (lj[j] as number); });
            row.forEach((q, j) => { if (q > 0) variance += q * ((lj[j] as number) - mean) ** 2; });
          });
          const refSe = Math.sqrt(variance / nDraws);
          expect(Math.abs(se - refSe)).toBeLessThanOrEqual(1e-3 * refSe + Math.sqrt(tol / nDraws));
          // the statistics are unbiased: n_k within 5 sds of the exact n_k
          const nk = (mc.stats as GmmStats).n;
          const exactNk = (exact.stats as GmmStats).n;
          for (let j = 0; j < c.k; j++) {
            const sd = Math.sqrt(post.reduce((a, row) => a + (row[j] as number) * (1 - (row[j] as number)), 0) / nDraws);
            expect(Math.abs((nk[j] as number) - (exactNk[j] as number))).toBeLessThanOrEqual(5 * sd + 1e-3);
          }
        });
      }),
      FIXED,
    );
  });

  it('runs in fit without monotonicity checks and records standard errors', async () => {
    const c = makeMixtureCase(3, 2, 'full', 5);
    const g = gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType });
    const r = await expectNoTensorLeak(() => fit(g, c.rows, { eStep: 'stochastic', eStepOptions: { nDraws: 2 }, maxIter: 6, tol: 0, seed: 3, monotonicity: 'throw', onWarning: () => {} }));
    expect(r.boundKind).toBe('estimate');
    expect(r.method).toMatchObject({ name: 'stochastic', family: 'monte-carlo', options: { nDraws: 2 } });
    for (const rec of r.trace) {
      expect(rec.violations).toEqual([]);
      expect(rec.boundStdErr).not.toBeNull();
      expect(Number.isFinite(rec.boundAfterM)).toBe(true);
    }
    const again = await fit(g, c.rows, { eStep: 'stochastic', eStepOptions: { nDraws: 2 }, maxIter: 6, tol: 0, seed: 3, onWarning: () => {} });
    expect(again.params).toEqual(r.params);
  });
});
