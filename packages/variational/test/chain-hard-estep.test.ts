/**
 * The hard chain E-step (Viterbi through core's block loop) on hand-made chain
 * structures, against brute-force enumeration of every state path on small
 * random HMMs (structural zeros, −∞ emissions, missing steps, sequence
 * weights, impossible sequences, a latent-entropy hook, any blocking).
 *
 * Tolerance: the chosen path's value equals the brute-force maximum to
 * 1e-12 × max(1, Σ |terms|) (both are float64 sums of the same terms, possibly
 * in another order); statistics are exact one-hot counts times the weights.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, listESteps } from '@emlab/core';
import { chainHardEStep } from '@emlab/variational';
import { bruteForceChain, catchEmError, chainTableStructure, chainTablesArb, pathLogJoint, runEStep, type ChainTableStats, type ChainTables } from '@emlab/testing';

describe('chainHardEStep: contract and registry', () => {
  it('is the restricted chain E-step "hard", takes no options, and is registered', () => {
    const e = chainHardEStep();
    expect([e.name, e.kind, e.family]).toEqual(['hard', 'chain', 'restricted']);
    expect(listESteps('chain').find((r) => r.method === 'hard')?.family).toBe('restricted');
    expect((createEStep('chain', 'hard') as ReturnType<typeof chainHardEStep>).name).toBe('hard');
    const err = catchEmError(() => chainHardEStep({ nDraws: 2 }));
    expect([err.code, err.path]).toEqual(['INVALID_ARGUMENT', ['chainHardEStep', 'nDraws']]);
  });
});

describe('chainHardEStep against brute-force enumeration', () => {
  it('puts all mass on a most probable path of every sequence; bound = Σ w max log p(x, z), entropy = Σ w h along the path', async () => {
    await fc.assert(
      fc.asyncProperty(chainTablesArb(true), fc.integer({ min: 1, max: 4 }), async (t: ChainTables, block) => {
        const e = await runEStep(chainHardEStep(), chainTableStructure(t, block), { rng: createRng(2) });
        const bf = bruteForceChain(t);
        const stats = e.stats as ChainTableStats;
        const k = t.nStates;
        const w = t.weights ?? t.lengths.map(() => 1);
        let bound = 0;
        let scale = 0;
        let entropy = 0;
        const trans = new Float64Array(k * k);
        const init = new Float64Array(k);
        let r = 0;
        t.lengths.forEach((len, s) => {
          const ws = w[s] as number;
          const best = bf.bestLogJoints[s] as number;
          if (best === Number.NEGATIVE_INFINITY) {
            for (let i = r * k; i < (r + len) * k; i++) expect(stats.gamma[i]).toBe(0);
            if (ws !== 0) bound = Number.NEGATIVE_INFINITY;
            r += len;
            return;
          }
          // The chosen path, read off the one-hot rows (weighted by w_s).
          const path: number[] = [];
          for (let i = 0; i < len; i++) {
            const row = Array.from(stats.gamma.subarray((r + i) * k, (r + i + 1) * k));
            const nonzero = row.flatMap((v, j) => (v !== 0 ? [j] : []));
            if (ws === 0) {
              expect(nonzero).toEqual([]);
              continue;
            }
            expect(nonzero.length).toBe(1);
            expect(row[nonzero[0] as number]).toBe(ws);
            path.push(nonzero[0] as number);
            entropy += ws * (t.latentEntropy?.[r + i]?.[nonzero[0] as number] ?? 0);
          }
          if (ws !== 0) {
            const value = pathLogJoint(t, r, path);
            const terms = Math.abs(t.logInitial[path[0] as number] as number) + path.reduce((a, z, i) => a + Math.abs((t.logEmission[r + i] as number[])[z] as number) + (i > 0 ? Math.abs((t.logTransition[path[i - 1] as number] as number[])[z] as number) : 0), 0);
            expect(Math.abs(value - best)).toBeLessThanOrEqual(1e-12 * Math.max(1, terms));
            bound += ws * value;
            scale += ws * terms;
            init[path[0] as number] = (init[path[0] as number] as number) + ws;
            for (let i = 1; i < len; i++) trans[(path[i - 1] as number) * k + (path[i] as number)] = (trans[(path[i - 1] as number) * k + (path[i] as number)] as number) + ws;
          }
          r += len;
        });
        if (bound === Number.NEGATIVE_INFINITY) {
          expect(e.bound).toBe(Number.NEGATIVE_INFINITY);
          return;
        }
        expect(Math.abs(e.bound - bound)).toBeLessThanOrEqual(1e-12 * Math.max(1, scale));
        expect(Math.abs(e.entropy - entropy)).toBeLessThanOrEqual(1e-12 * Math.max(1, entropy));
        stats.transitions.forEach((v, i) => expect(Math.abs(v - (trans[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
        stats.initial.forEach((v, i) => expect(Math.abs(v - (init[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
      }),
      { numRuns: 150 },
    );
  });

  it('reports states no path visits', async () => {
    const t: ChainTables = {
      nStates: 3,
      lengths: [3],
      logInitial: [0, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
      logTransition: [[Math.log(0.9), Math.log(0.1), Number.NEGATIVE_INFINITY], [0, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY], [0, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]],
      logEmission: [[0, 0, 0], [-1, -5, 0], [-1, -5, 0]],
    };
    const e = await runEStep(chainHardEStep(), chainTableStructure(t));
    expect(e.diagnostics?.['emptyStates']).toBe(2);
    expect(e.bound).toBeCloseTo(2 * Math.log(0.9) - 2, 12);
  });
});
