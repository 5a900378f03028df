/**
 * The exact chain E-step (forward–backward through core's block loop) on
 * hand-made chain structures (no model), against brute-force enumeration of
 * every state path on small random HMMs: structural zeros, −∞ emissions,
 * missing steps, sequence weights (0, fractional, 2), impossible sequences,
 * a latent-entropy hook, blocks of several sequences and float32 emission
 * tables.
 *
 * Tolerance: 1e-12 relative for marginals and counts; log-quantities to
 * 1e-11 × max(1, Σ_s w_s Σ |terms|), the magnitude float64 can promise for
 * sums such as H = log p − E_q log p (as in core's kernel tests).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, listESteps, reduceChainChunks, type ChainStructure } from '@emlab/core';
import { chainExactChoice, chainExactEStep } from '@emlab/exact';
import { bruteForceChain, catchEmError, chainTableStructure, chainTablesArb, runEStep, type ChainTableStats, type ChainTables } from '@emlab/testing';

const RUNS = { numRuns: 150 };

const close = (actual: number, expected: number, scale: number, rel: number): void => {
  if (expected === Number.NEGATIVE_INFINITY) {
    expect(actual).toBe(Number.NEGATIVE_INFINITY);
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, scale));
};

/** Σ_s w_s Σ_t,k γ |e| + |log π| + |log A| terms: the magnitude of the log-quantities. */
function magnitude(t: ChainTables, gamma: readonly (readonly number[])[]): number {
  const w = t.weights ?? t.lengths.map(() => 1);
  let total = 0;
  let r = 0;
  t.lengths.forEach((len, s) => {
    for (let i = 0; i < len; i++) {
      (gamma[r + i] as readonly number[]).forEach((g, j) => {
        const e = (t.logEmission[r + i] as readonly number[])[j] as number;
        const a = Math.max(...t.logTransition.map((row) => Math.abs(Number.isFinite(row[j] as number) ? (row[j] as number) : 0)));
        if (g > 0) total += (w[s] as number) * g * (Math.abs(e) + a + Math.abs(Number.isFinite(t.logInitial[j] as number) ? (t.logInitial[j] as number) : 0) + Math.abs(Math.log(g)));
      });
    }
    r += len;
  });
  return total;
}

/** Checks an exact E-step result against brute force. */
function checkExact(t: ChainTables, e: { stats: unknown; bound: number; entropy: number; logLikelihood?: number }): void {
  const bf = bruteForceChain(t);
  const k = t.nStates;
  const w = t.weights ?? t.lengths.map(() => 1);
  const stats = e.stats as ChainTableStats;
  let r = 0;
  let ll = 0;
  let entropy = 0;
  const trans = new Float64Array(k * k);
  const init = new Float64Array(k);
  t.lengths.forEach((len, s) => {
    const ws = w[s] as number;
    for (let i = 0; i < len; i++) {
      for (let j = 0; j < k; j++) {
        const expected = ws * ((bf.gamma[r + i] as number[])[j] as number);
        expect(Math.abs((stats.gamma[(r + i) * k + j] as number) - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, ws));
        const h = t.latentEntropy?.[r + i]?.[j] ?? 0;
        if (ws !== 0) entropy += ws * ((bf.gamma[r + i] as number[])[j] as number) * h;
      }
    }
    if (ws !== 0) {
      ll += ws * (bf.logLikelihoods[s] as number);
      if (Number.isFinite(bf.logLikelihoods[s] as number)) entropy += ws * (bf.entropies[s] as number);
    }
    for (let i = 0; i < k; i++) {
      init[i] = (init[i] as number) + ws * ((bf.initial[s] as number[])[i] as number);
      for (let j = 0; j < k; j++) trans[i * k + j] = (trans[i * k + j] as number) + ws * (((bf.transitions[s] as number[][])[i] as number[])[j] as number);
    }
    r += len;
  });
  const total = w.reduce((a, b) => a + b, 0);
  stats.transitions.forEach((v, i) => expect(Math.abs(v - (trans[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, total * (t.lengths.reduce((a, b) => a + b, 0)))));
  stats.initial.forEach((v, i) => expect(Math.abs(v - (init[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, total)));
  const scale = magnitude(t, bf.gamma);
  close(e.logLikelihood as number, ll, scale, 1e-11);
  close(e.bound, ll, scale, 1e-11);
  if (Number.isFinite(ll)) close(e.entropy, entropy, scale, 1e-11);
}

describe('chainExactEStep: contract and registry', () => {
  it('is the exact chain E-step with a variant option, registered for kind chain', () => {
    const e = chainExactEStep();
    expect([e.name, e.kind, e.family]).toEqual(['exact', 'chain', 'exact']);
    expect(e.options).toEqual({ variant: 'scaled' });
    expect(chainExactEStep({ variant: 'log' }).options).toEqual({ variant: 'log' });
    const reg = listESteps('chain').find((r) => r.method === 'exact');
    expect(reg?.family).toBe('exact');
    expect((createEStep('chain', 'exact', { variant: 'log' }) as ReturnType<typeof chainExactEStep>).options).toEqual({ variant: 'log' });
  });

  it('rejects unknown options and variants with typed errors naming them', () => {
    const err = catchEmError(() => chainExactEStep({ varaint: 'log' } as never));
    expect([err.code, err.path]).toEqual(['INVALID_ARGUMENT', ['chainExactEStep', 'varaint']]);
    const bad = catchEmError(() => chainExactEStep({ variant: 'unscaled' } as never));
    expect([bad.code, bad.path]).toEqual(['INVALID_ARGUMENT', ['chainExactEStep', 'variant']]);
  });
});

describe('chainExactEStep against brute-force enumeration', () => {
  it('marginals, counts, log-likelihood, bound and entropy (with a latent-entropy hook), both variants, any blocking', async () => {
    await fc.assert(
      fc.asyncProperty(chainTablesArb(true), fc.integer({ min: 1, max: 4 }), fc.constantFrom('scaled' as const, 'log' as const), async (t, block, variant) => {
        const e = await runEStep(chainExactEStep({ variant }), chainTableStructure(t, block), { rng: createRng(1) });
        checkExact(t, e);
      }),
      RUNS,
    );
  });

  it('float32 emission tables are used as given (converted exactly to float64)', async () => {
    await fc.assert(
      fc.asyncProperty(chainTablesArb(false), async (t) => {
        const rounded: ChainTables = { ...t, logEmission: t.logEmission.map((row) => row.map((v) => Math.fround(v))) };
        const e = await runEStep(chainExactEStep(), chainTableStructure(t, 2, { precision: 'float32' }), { rng: createRng(1) });
        checkExact(rounded, e);
      }),
      { numRuns: 50 },
    );
  });

  it("the block loop's own bound (E_q log p(x, z) + H) equals the log-likelihood", () => {
    fc.assert(
      fc.property(chainTablesArb(false), (t) => {
        const s = chainTableStructure(t, 3) as ChainStructure<ChainTableStats>;
        const r = reduceChainChunks(s, createRng(0), chainExactChoice('scaled'));
        const bf = bruteForceChain(t);
        close(r.bound, r.logLikelihood as number, magnitude(t, bf.gamma), 1e-11);
        expect(r.rows).toBe(t.lengths.reduce((a, b) => a + b, 0));
        expect(r.sequences).toBe(t.lengths.length);
      }),
      RUNS,
    );
  });

  it('statistics are additive over blocks and invariant to the blocking', async () => {
    await fc.assert(
      fc.asyncProperty(chainTablesArb(false), async (t) => {
        const one = (await runEStep(chainExactEStep(), chainTableStructure(t, 1))).stats as ChainTableStats;
        const all = (await runEStep(chainExactEStep(), chainTableStructure(t, 100))).stats as ChainTableStats;
        one.gamma.forEach((v, i) => expect(Math.abs(v - (all.gamma[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
        one.transitions.forEach((v, i) => expect(Math.abs(v - (all.transitions[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
      }),
      { numRuns: 60 },
    );
  });

  it('a sequence of weight 2 gives the statistics and bound of the sequence twice', async () => {
    await fc.assert(
      fc.asyncProperty(chainTablesArb(false), fc.nat(), async (t0, pick) => {
        const t: ChainTables = { ...t0, weights: t0.lengths.map(() => 1) };
        const s = pick % t.lengths.length;
        const offset = t.lengths.slice(0, s).reduce((a, b) => a + b, 0);
        const len = t.lengths[s] as number;
        const doubled: ChainTables = { ...t, weights: t.lengths.map((_, i) => (i === s ? 2 : 1)) };
        const twice: ChainTables = {
          ...t,
          lengths: [...t.lengths, len],
          logEmission: [...t.logEmission, ...t.logEmission.slice(offset, offset + len)],
          weights: [...t.lengths.map(() => 1), 1],
        };
        const a = await runEStep(chainExactEStep(), chainTableStructure(doubled, 2));
        const b = await runEStep(chainExactEStep(), chainTableStructure(twice, 2));
        if (!Number.isFinite(a.bound)) {
          expect(b.bound).toBe(a.bound);
          return;
        }
        expect(Math.abs(a.bound - b.bound)).toBeLessThanOrEqual(1e-11 * Math.max(1, Math.abs(a.bound)));
        const sa = a.stats as ChainTableStats;
        const sb = b.stats as ChainTableStats;
        sa.transitions.forEach((v, i) => expect(Math.abs(v - (sb.transitions[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
        sa.initial.forEach((v, i) => expect(Math.abs(v - (sb.initial[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
      }),
      { numRuns: 80 },
    );
  });

  it('stops with ABORTED when the signal has fired', async () => {
    const t: ChainTables = { nStates: 1, lengths: [2], logInitial: [0], logTransition: [[0]], logEmission: [[0], [-1]] };
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(runEStep(chainExactEStep(), chainTableStructure(t), { signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
