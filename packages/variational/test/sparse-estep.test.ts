/**
 * The sparse E-step: refresh = exact; a sparse step against a float64
 * reference (frozen components unchanged, active ones proportional to p
 * within their mass) and never lowering L at the same θ; fits of Gaussian
 * mixtures (monotone, converged only on a refresh, the EM fixed point);
 * state lifecycle; determinism; weights.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, fit, listESteps, monotonicityTolerance, type FiniteStructure } from '@emlab/core';
import '@emlab/exact';
import { SPARSE_OPTIONS, sparseEStep, type SparseState } from '@emlab/variational';
import { gaussianMixture } from '@emlab/models';
import { catchEmError, entropyOf, expectNoTensorLeak, expectedUnder, posteriorFromTable, tableStructure, type TableStats } from '@emlab/testing';
import { driver, expectBelowLogLikelihood, expectMonotone, expectSameFit, mixtureData, rowsOf } from './helpers.js';

const rowsArb = (k: number, n: number): fc.Arbitrary<number[][]> =>
  fc.array(fc.array(fc.double({ min: -30, max: 5, noNaN: true }), { minLength: k, maxLength: k }), { minLength: n, maxLength: n });

/** weights → [N][K] rows. */
const asRows = (w: Float64Array, k: number): number[][] => Array.from({ length: w.length / k }, (_, n) => Array.from(w.subarray(n * k, (n + 1) * k)));

describe('sparseEStep: options and registry', () => {
  it('is a restricted finite E-step registered as "sparse"', () => {
    const e = sparseEStep();
    expect([e.name, e.kind, e.family]).toEqual(['sparse', 'finite', 'restricted']);
    expect(e.options).toEqual({ m: 2, refreshEvery: 10 });
    expect(listESteps('finite').find((r) => r.method === 'sparse')?.options).toBe(SPARSE_OPTIONS);
    expect(createEStep('finite', 'sparse', { m: 3 }).options).toEqual({ m: 3, refreshEvery: 10 });
    expect(catchEmError(() => sparseEStep({ m: 0 })).path).toEqual(['sparseEStep', 'm']);
    expect(catchEmError(() => sparseEStep({ refreshEvery: 1.5 })).path).toEqual(['sparseEStep', 'refreshEvery']);
  });

  it('allocates its per-row state in start and frees it in dispose', () => {
    const e = sparseEStep({ m: 2 });
    const s = tableStructure([[0, 1, 2], [1, 2, 3]]);
    const state = e.start?.({ rng: createRng(0), restart: 0, structure: s }) as SparseState;
    expect(state.q.length).toBe(6);
    expect(state.active.length).toBe(4);
    e.dispose?.(state);
    expect(state.q.length).toBe(0);
  });
});

describe('sparse steps on log-joint tables', () => {
  it('a refresh is the exact E-step; a sparse step keeps frozen q, moves the active ones ∝ p within their mass, and never lowers L', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(), async (k, n, m, blockRows, seed) => {
        const [a, b] = fc.sample(fc.tuple(rowsArb(k, n), rowsArb(k, n)), { seed, numRuns: 1 })[0] as [number[][], number[][]];
        const d = driver(sparseEStep({ m, refreshEvery: 3 }), tableStructure(a, blockRows));
        const first = await d.run(tableStructure(a, blockRows));
        const q0 = asRows((first.stats as TableStats).weights, k);
        const post = posteriorFromTable(a);
        q0.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - ((post[i] as number[])[j] as number))).toBeLessThanOrEqual(1e-15)));
        expect(first.unsettled).toBeUndefined();
        // θ changed: the table is now b. The sparse step against a reference.
        const second = await d.run(tableStructure(b, blockRows));
        const q1 = asRows((second.stats as TableStats).weights, k);
        const mm = Math.min(m, k);
        q0.forEach((row, i) => {
          const order = row.map((v, j) => [v, j] as const).sort((x, y) => y[0] - x[0] || x[1] - y[1]).map(([, j]) => j);
          const active = new Set(order.slice(0, mm));
          const mass = [...active].reduce((s, j) => s + (row[j] as number), 0);
          const top = Math.max(...[...active].map((j) => (b[i] as number[])[j] as number));
          const z = [...active].reduce((s, j) => s + Math.exp(((b[i] as number[])[j] as number) - top), 0);
          row.forEach((v, j) => {
            const want = active.has(j) ? (mass * Math.exp(((b[i] as number[])[j] as number) - top)) / z : v;
            expect(Math.abs(((q1[i] as number[])[j] as number) - want)).toBeLessThanOrEqual(1e-14);
          });
        });
        const L = (q: number[][]): number => expectedUnder(q, b) + entropyOf(q);
        expect(L(q1)).toBeGreaterThanOrEqual(L(q0) - 1e-12 * Math.max(1, Math.abs(L(q0))));
        expect(Math.abs(second.bound - L(q1))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(L(q1))) * n);
        expect(second.unsettled !== undefined).toBe(mm < k);
        expect(second.diagnostics?.['evaluations']).toBe(n * (mm < k ? mm : k));
        d.dispose();
      }),
      { numRuns: 150 },
    );
  });

  it('refreshes every r iterations and re-picks the active components', async () => {
    const a = [[0, -1, -5, -6]];
    const b = [[-6, -5, -1, 0]];
    const d = driver(sparseEStep({ m: 1, refreshEvery: 2 }), tableStructure(a));
    await d.run(tableStructure(a)); // refresh: active {0}
    const s2 = await d.run(tableStructure(b)); // sparse: component 0 keeps its mass
    expect(s2.diagnostics?.['refresh']).toBe(0);
    const before = Array.from((s2.stats as TableStats).weights);
    const s3 = await d.run(tableStructure(b)); // refresh: the posterior of b
    expect(s3.diagnostics?.['refresh']).toBe(1);
    const post = posteriorFromTable(b)[0] as number[];
    Array.from((s3.stats as TableStats).weights).forEach((v, j) => expect(v).toBeCloseTo(post[j] as number, 15));
    expect(before[0]).toBeCloseTo(posteriorFromTable(a)[0]?.[0] as number, 15);
    d.dispose();
  });

  it('with m ≥ K every step is exact', async () => {
    const d = driver(sparseEStep({ m: 5, refreshEvery: 100 }), tableStructure([[0, -1, -2]]));
    await d.run(tableStructure([[0, -1, -2]]));
    const r = await d.run(tableStructure([[-3, 0, -1]]));
    expect(r.unsettled).toBeUndefined();
    expect(r.diagnostics?.['refresh']).toBe(1);
    d.dispose();
  });

  it('rejects a structure whose size differs from the one it started on', async () => {
    const d = driver(sparseEStep(), tableStructure([[0, 1]]));
    await expect(d.run(tableStructure([[0, 1], [1, 0]]) as FiniteStructure)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('sparseEStep in fit (Gaussian mixtures)', () => {
  const x = mixtureData(5, 400, 5, 2, 2);
  const gmm = gaussianMixture({ nComponents: 5 });
  const base = { seed: 2, precision: 'float64', monotonicity: 'throw', init: 'random' } as const;

  it('never lowers L, stays below log p, converges only on a refresh, to a fixed point of EM', async () => {
    const r = await fit(gmm, x, { ...base, eStep: sparseEStep({ m: 2, refreshEvery: 4 }), maxIter: 2000 });
    // Exact EM started where sparse EM stopped does not move: sparse EM ended at an EM fixed point.
    const em = await fit(gmm, x, { ...base, init: r.params, maxIter: 2000 });
    expect(r.converged).toBe(true);
    expectMonotone(r.trace, r.totalWeight);
    expectBelowLogLikelihood(r.trace, r.totalWeight);
    const last = r.trace[r.trace.length - 1];
    expect(last?.diagnostics['refresh']).toBe(1);
    expect(last?.unsettled).toBeUndefined();
    expect(r.trace.some((t) => t.unsettled !== undefined)).toBe(true);
    expect(Math.abs((r.logLikelihood as number) - (em.logLikelihood as number))).toBeLessThanOrEqual(1e-8 * Math.abs(em.logLikelihood as number));
  });

  it('same seed, same fit; a weight of 2 equals a duplicated row; no tensor leak in float32', async () => {
    const o = { ...base, eStep: 'sparse', eStepOptions: { m: 2, refreshEvery: 3 }, maxIter: 15, tol: 0, onWarning: () => {} } as const;
    expectSameFit(await fit(gmm, x, o), await fit(gmm, x, o));
    const rows = rowsOf(x).slice(0, 150);
    const weights = rows.map((_, i) => (i % 5 === 0 ? 2 : 1));
    const dup = rows.flatMap((row, i) => (i % 5 === 0 ? [row, row] : [row]));
    const init = { covarianceType: 'full' as const, weights: [0.2, 0.2, 0.2, 0.2, 0.2], means: [0, 30, 60, 90, 120].map((i) => rows[i] as number[]), covariances: [0, 1, 2, 3, 4].map(() => [[1, 0], [0, 1]]) };
    const a = await fit(gmm, rows, { ...o, init, weights });
    const b = await fit(gmm, dup, { ...o, init });
    a.trace.forEach((rec, i) => expect(Math.abs(rec.boundAfterM - (b.trace[i]?.boundAfterM as number))).toBeLessThanOrEqual(1e-9 * Math.abs(rec.boundAfterM)));
    await expectNoTensorLeak(() => fit(gmm, x, { ...o, precision: 'float32', monotonicity: 'warn' }));
  });

  it('the E-half check holds against monotonicityTolerance in every record', async () => {
    const r = await fit(gmm, x, { ...base, eStep: 'sparse', eStepOptions: { m: 1, refreshEvery: 5 }, maxIter: 60, tol: 0, onWarning: () => {} });
    for (let i = 1; i < r.trace.length; i++) {
      const p = r.trace[i - 1] as (typeof r.trace)[number];
      const t = r.trace[i] as (typeof r.trace)[number];
      expect(t.boundAfterE).toBeGreaterThanOrEqual(p.boundAfterM - monotonicityTolerance(p.boundAfterM, t.boundAfterE, r.totalWeight, 0, 'float64'));
    }
  });
});
