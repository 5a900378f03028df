/**
 * The incremental chain E-step: blocks of whole sequences (the HMM honours the
 * size hint), the subtract-and-add statistics against full forward–backward at
 * fixed θ, coverage and passes, L never decreasing after any partial step in
 * HMM fits, and batch EM's fixed point (log-likelihood within 1e-6).
 */
import { describe, expect, it } from 'vitest';
import { createEStep, createRng, fit, listESteps, type ChainStructure } from '@emlab/core';
import '@emlab/exact';
import '@emlab/montecarlo';
import { INCREMENTAL_OPTIONS, chainIncrementalEStep } from '@emlab/variational';
import { hiddenMarkovModel } from '@emlab/models';
import { bruteForceChain, catchEmError, chainTableStructure, type ChainTableStats, type ChainTables } from '@emlab/testing';
import { driver, expectMonotone } from './helpers.js';
import { GAUSSIAN_HMM_START, gaussianHmmData } from './chain-helpers.js';

const tables: ChainTables = {
  nStates: 2,
  lengths: [3, 2, 4, 1, 3],
  logInitial: [Math.log(0.6), Math.log(0.4)],
  logTransition: [[Math.log(0.7), Math.log(0.3)], [Math.log(0.25), Math.log(0.75)]],
  logEmission: Array.from({ length: 13 }, (_, t) => [Math.sin(t) - 1, Math.cos(2 * t) - 1.5]),
  weights: [1, 2, 0.5, 1, 3],
};

describe('chainIncrementalEStep: options and registry', () => {
  it('is registered as "incremental" for chain structures, with the shared option schema', () => {
    const entry = listESteps('chain').find((r) => r.method === 'incremental');
    expect(entry?.family).toBe('restricted');
    expect(entry?.options).toBe(INCREMENTAL_OPTIONS);
    const e = createEStep('chain', 'incremental', { blocks: 4 });
    expect([e.name, e.kind, e.family]).toEqual(['incremental', 'chain', 'restricted']);
    expect(e.options).toEqual({ blocks: 4, order: 'cyclic', inner: 'exact' });
    expect(catchEmError(() => chainIncrementalEStep({ blocks: 0 })).path).toEqual(['chainIncrementalEStep', 'blocks']);
    expect(catchEmError(() => chainIncrementalEStep({ order: 'backwards' as never })).path).toEqual(['chainIncrementalEStep', 'order']);
  });

  it('checks the inner E-step when it starts: unknown, itself, or a Monte Carlo one are typed errors', () => {
    const s = chainTableStructure(tables);
    const start = (inner: string): unknown => chainIncrementalEStep({ inner }).start?.({ rng: createRng(0), restart: 0, structure: s });
    expect(catchEmError(() => start('nope')).code).toBe('UNKNOWN_ESTEP');
    expect(catchEmError(() => start('incremental')).path).toEqual(['options', 'eStepOptions', 'inner']);
    expect(catchEmError(() => start('stochastic')).message).toMatch(/monte-carlo/);
  });
});

describe('chainIncrementalEStep at fixed θ', () => {
  const truth = bruteForceChain(tables);
  const w = tables.weights as number[];
  const ll = truth.logLikelihoods.reduce((a, v, s) => a + (w[s] as number) * v, 0);

  it('groups chunks of a structure that ignores the hint: 5 sequences in chunks of 2 → chunks of 5, 5, 3 rows → B = 2 blocks of 10 and 3 rows', async () => {
    const d = driver(chainIncrementalEStep({ blocks: 2 }), chainTableStructure(tables, 2));
    const first = await d.run(chainTableStructure(tables, 2));
    expect([first.coverage, first.diagnostics?.['blocks'], first.diagnostics?.['block']]).toEqual([1, 2, -1]);
    const second = await d.run(chainTableStructure(tables, 2));
    expect(second.coverage).toBeCloseTo(10 / 13, 15);
    const third = await d.run(chainTableStructure(tables, 2));
    expect(third.coverage).toBeCloseTo(3 / 13, 15);
    d.dispose();
  });

  it('after every partial step the running totals equal full forward–backward (θ fixed), bound = log p(x)', async () => {
    const d = driver(chainIncrementalEStep({ blocks: 5, order: 'random' }), chainTableStructure(tables, 1));
    for (let t = 0; t < 12; t++) {
      const r = await d.run(chainTableStructure(tables, 1));
      const st = r.stats as ChainTableStats;
      const k = 2;
      let row = 0;
      tables.lengths.forEach((len, s) => {
        for (let i = 0; i < len * k; i++) expect(st.gamma[row * k + i]).toBeCloseTo((w[s] as number) * ((truth.gamma[row + Math.floor(i / k)] as number[])[i % k] as number), 12);
        row += len;
      });
      expect(r.bound).toBeCloseTo(ll, 11);
      const entropy = truth.entropies.reduce((a, h, s) => a + (w[s] as number) * h, 0);
      expect(r.entropy).toBeCloseTo(entropy, 11);
      if (t > 0) expect(r.coverage).toBeLessThan(1);
    }
    d.dispose();
  });
});

describe('chainIncrementalEStep in HMM fits', () => {
  const model = hiddenMarkovModel({ nStates: 3, emission: 'gaussian', covarianceType: 'diag' });
  const lengths = Array.from({ length: 24 }, (_, i) => 20 + ((i * 7) % 13));
  const data = gaussianHmmData(5, lengths);
  const total = lengths.reduce((a, b) => a + b, 0);

  it('the HMM serves blocks of whole sequences for the size hint, computing only visited emission tables', () => {
    const s = model.structure(model.prepare(data), GAUSSIAN_HMM_START as never) as ChainStructure;
    const hinted = [...s.chunks({ maxRows: 60 })];
    expect(hinted.every((c) => c.lengths.reduce((a, b) => a + b, 0) <= 60 || c.lengths.length === 1)).toBe(true);
    expect(hinted.reduce((a, c) => a + c.lengths.length, 0)).toBe(24);
    expect([...s.chunks({ maxRows: 60 })][0]).toBe(hinted[0]);
    expect([...s.chunks()].length).toBe(1);
  });

  it('L never decreases after any partial step; passes count coverage; it reaches batch EM\'s fixed point (log-likelihood within 1e-6)', async () => {
    const inc = await fit(model, data, { eStep: 'incremental', eStepOptions: { blocks: 6 }, init: GAUSSIAN_HMM_START, seed: 1, maxIter: 400, tol: 1e-12, monotonicity: 'throw' });
    expectMonotone(inc.trace, total);
    expect(inc.trace[0]?.diagnostics['block']).toBe(-1);
    expect(inc.nIter).toBeGreaterThan(inc.passes);
    const batch = await fit(model, data, { init: GAUSSIAN_HMM_START, seed: 1, maxIter: 2000, tol: 1e-12 });
    expect(Math.abs((inc.logLikelihood as number) - (batch.logLikelihood as number))).toBeLessThanOrEqual(1e-6);
    expect(inc.passes).toBeLessThan(batch.passes);
  });

  it('runs any registered chain E-step inside (Viterbi) and random orders reproducibly', async () => {
    const opts = { eStep: 'incremental', eStepOptions: { blocks: 4, order: 'random', inner: 'hard' }, init: GAUSSIAN_HMM_START, seed: 3, maxIter: 8, monotonicity: 'throw' } as const;
    const a = await fit(model, data, opts);
    const b = await fit(model, data, opts);
    expectMonotone(a.trace, total);
    expect(b.trace.map((r) => r.boundAfterE)).toEqual(a.trace.map((r) => r.boundAfterE));
    expect(a.trace.map((r) => r.diagnostics['block'])).toContain(3);
  });
});
