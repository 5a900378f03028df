/**
 * The incremental E-steps (finite and factor-graph): block plans, the
 * subtract-and-add statistics against full E-steps, coverage and passes, L
 * never decreasing after any partial step, and the batch EM fixed point
 * (log-likelihood within 1e-6) on mixtures and networks.
 */
import { describe, expect, it } from 'vitest';
import { createEStep, createRng, fit, listESteps, monotonicityTolerance, type FiniteStructure } from '@emlab/core';
import '@emlab/exact';
import '@emlab/montecarlo';
import { INCREMENTAL_OPTIONS, evidenceBlock, factorGraphIncrementalEStep, incrementalEStep } from '@emlab/variational';
import { asiaNetwork, bayesianNetwork, gaussianMixture, sampleNetwork } from '@emlab/models';
import { catchEmError, expectNoTensorLeak, posteriorFromTable, tableStructure, type TableStats } from '@emlab/testing';
import { driver, expectMonotone, expectSameFit, mixtureData } from './helpers.js';

describe('incremental E-steps: options and registry', () => {
  it('are registered as "incremental" for finite and factor-graph structures', () => {
    for (const kind of ['finite', 'factor-graph']) {
      const entry = listESteps(kind).find((r) => r.method === 'incremental' && r.kind === kind);
      expect(entry?.family).toBe('restricted');
      expect(entry?.options).toBe(INCREMENTAL_OPTIONS);
      expect(createEStep(kind, 'incremental', { blocks: 4 }).options).toEqual({ blocks: 4, order: 'cyclic', inner: 'exact' });
    }
    expect(factorGraphIncrementalEStep().precisions).toEqual(['float64']);
    expect(catchEmError(() => incrementalEStep({ blocks: 0 })).path).toEqual(['incrementalEStep', 'blocks']);
    expect(catchEmError(() => incrementalEStep({ order: 'backwards' as never })).path).toEqual(['incrementalEStep', 'order']);
  });

  it('checks the inner E-step when it starts: unknown, itself, or a Monte Carlo one are typed errors', () => {
    const s = tableStructure([[0, 1]]);
    const start = (inner: string): unknown => incrementalEStep({ inner }).start?.({ rng: createRng(0), restart: 0, structure: s });
    expect(catchEmError(() => start('nope')).code).toBe('UNKNOWN_ESTEP');
    expect(catchEmError(() => start('incremental')).path).toEqual(['options', 'eStepOptions', 'inner']);
    expect(catchEmError(() => start('stochastic')).message).toMatch(/monte-carlo/);
  });
});

describe('incremental E-step on log-joint tables (θ fixed)', () => {
  const table = Array.from({ length: 10 }, (_, n) => [Math.sin(n), Math.cos(2 * n) - 1, -0.3 * n]);
  const exact = posteriorFromTable(table).flat();

  it('groups the chunks of a structure that ignores the size hint into blocks of about N/B rows', async () => {
    // Chunks of 3 rows: [3, 3, 3, 1]; B = 2 → blocks of 6 and 4 rows.
    const d = driver(incrementalEStep({ blocks: 2 }), tableStructure(table, 3));
    const first = await d.run(tableStructure(table, 3));
    expect(first.coverage).toBe(1);
    expect(first.diagnostics?.['blocks']).toBe(2);
    const second = await d.run(tableStructure(table, 3));
    expect(second.coverage).toBeCloseTo(0.6, 15);
    expect(second.diagnostics?.['block']).toBe(0);
    const third = await d.run(tableStructure(table, 3));
    expect(third.coverage).toBeCloseTo(0.4, 15);
    d.dispose();
  });

  it('the running statistics (total − old + new) equal a full E-step after every partial step; the entropy too', async () => {
    const d = driver(incrementalEStep({ blocks: 4, order: 'random' }), tableStructure(table, 1));
    const full = await d.run(tableStructure(table, 1));
    for (let t = 0; t < 9; t++) {
      const r = await d.run(tableStructure(table, 1));
      const w = (r.stats as TableStats).weights;
      exact.forEach((v, i) => expect(Math.abs((w[i] as number) - v)).toBeLessThanOrEqual(1e-14));
      expect(Math.abs(r.entropy - full.entropy)).toBeLessThanOrEqual(1e-13);
      expect(Math.abs(r.bound - full.bound)).toBeLessThanOrEqual(1e-13);
    }
    d.dispose();
  });

  it('plans its blocks again and runs a full E-step when the chunk layout changes (precision auto moving to float64)', async () => {
    const d = driver(incrementalEStep({ blocks: 5 }), tableStructure(table, 2));
    await d.run(tableStructure(table, 2));
    expect((await d.run(tableStructure(table, 2))).coverage).toBeCloseTo(0.2, 15);
    const changed = await d.run(tableStructure(table, 5) as FiniteStructure);
    expect(changed.coverage).toBe(1);
    expect(changed.diagnostics?.['blocks']).toBe(2);
    d.dispose();
  });

  it('with one block it is the exact E-step', async () => {
    const d = driver(incrementalEStep({ blocks: 1 }), tableStructure(table, 4));
    await d.run(tableStructure(table, 4));
    const r = await d.run(tableStructure(table, 4));
    expect(r.coverage).toBe(1);
    Array.from((r.stats as TableStats).weights).forEach((v, i) => expect(v).toBeCloseTo(exact[i] as number, 15));
    d.dispose();
  });
});

describe('incremental EM on Gaussian mixtures', () => {
  const x = mixtureData(21, 600, 3, 2, 3);
  const gmm = gaussianMixture({ nComponents: 3 });
  const base = { seed: 4, precision: 'float64', monotonicity: 'throw' } as const;

  it('L never decreases after any partial step, and it reaches the batch fixed point (log-likelihood within 1e-6)', async () => {
    const batch = await fit(gmm, x, base);
    const r = await fit(gmm, x, { ...base, eStep: 'incremental', eStepOptions: { blocks: 6 } });
    expect(r.converged).toBe(true);
    expectMonotone(r.trace, r.totalWeight);
    expect(Math.abs((r.logLikelihood as number) - (batch.logLikelihood as number))).toBeLessThanOrEqual(1e-6);
    expect(r.bound).toBeLessThanOrEqual((r.logLikelihood as number) + monotonicityTolerance(r.bound, r.bound, r.totalWeight, 0, 'float64'));
    expect(r.nIter).toBe(1 + 6 * (Math.round(r.passes) - 1));
    // Blocks follow the size hint: six blocks of 100 rows.
    expect(r.trace[1]?.diagnostics['blocks']).toBe(6);
    expect(r.trace[1]?.passes).toBeCloseTo(1 + 1 / 6, 12);
  });

  it('maxIter counts passes; random order is reproducible from the seed', async () => {
    const o = { ...base, eStep: 'incremental', eStepOptions: { blocks: 5, order: 'random' }, maxIter: 3, tol: 0, onWarning: () => {} } as const;
    const a = await fit(gmm, x, o);
    expect(a.passes).toBeCloseTo(3, 9);
    expect(a.nIter).toBe(11);
    expectSameFit(a, await fit(gmm, x, o));
    const visited = a.trace.slice(1, 6).map((t) => t.diagnostics['block']);
    expect([...visited].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('float32: the tensor blocks ignore the hint (one block here), and no tensor leaks', async () => {
    const r = await expectNoTensorLeak(() => fit(gmm, x, { ...base, precision: 'float32', monotonicity: 'warn', eStep: 'incremental', maxIter: 5, onWarning: () => {} }));
    expect(r.trace[1]?.diagnostics['blocks']).toBe(1);
  });
});

describe('incremental EM on Bayesian networks (factor graphs)', () => {
  const net = asiaNetwork();
  const data = sampleNetwork(net, 3000, 8, { missingRate: 0.25, hide: ['either'] });
  const model = bayesianNetwork(net, { hidden: ['either'] });
  const base = { seed: 1, precision: 'float64', monotonicity: 'throw', init: 'network' } as const;

  it('blocks of evidence patterns with about equal weight', () => {
    const prepared = model.prepare(data, { precisions: ['float64'] });
    try {
      const ev = prepared.evidence;
      const b = evidenceBlock(ev, 2, 5);
      expect(b.nPatterns).toBe(3);
      expect(Array.from(b.counts)).toEqual(Array.from(ev.counts.subarray(2, 5)));
      expect(b.totalWeight).toBe(Array.from(ev.counts.subarray(2, 5)).reduce((a, c) => a + c, 0));
      expect(Array.from(b.values)).toEqual(Array.from(ev.values.subarray(2 * ev.nVariables, 5 * ev.nVariables)));
    } finally {
      prepared.dispose();
    }
  });

  it('L never decreases after any partial step, and it reaches the batch fixed point (log-likelihood within 1e-6)', async () => {
    const batch = await fit(model, data, { ...base, maxIter: 3000 });
    const r = await fit(model, data, { ...base, eStep: 'incremental', eStepOptions: { blocks: 5 }, maxIter: 3000 });
    expect(batch.converged && r.converged).toBe(true);
    expectMonotone(r.trace, r.totalWeight);
    expect(Math.abs((r.logLikelihood as number) - (batch.logLikelihood as number))).toBeLessThanOrEqual(1e-6);
    const coverage = r.trace.slice(1, 6).reduce((s, t, i) => s + t.passes - ((r.trace[i] as (typeof r.trace)[number]).passes), 0);
    expect(coverage).toBeCloseTo(1, 12);
  });

  it('runs mean field on each block as its inner E-step, still never lowering L', async () => {
    const r = await fit(model, data, { ...base, eStep: 'incremental', eStepOptions: { blocks: 4, inner: 'mean-field' }, maxIter: 30, tol: 0, onWarning: () => {} });
    expectMonotone(r.trace, r.totalWeight);
    // A restricted inner E-step: L(q, θ) ≤ log p(x | θ) at the final parameters (fit's exact log-likelihood).
    expect(r.bound).toBeLessThanOrEqual((r.logLikelihood as number) + monotonicityTolerance(r.bound, r.bound, r.totalWeight, 0, 'float64'));
    expect((r.logLikelihood as number) - r.bound).toBeGreaterThan(1e-6);
  });
});
