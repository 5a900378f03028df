/**
 * MCEM and SAEM on hidden Markov models (the `chain` kind, state paths drawn by
 * forward-filtering backward-sampling, one stream per global sequence index):
 * the estimate of log p(x) within 4 of its standard errors of the exact value, and MCEM with a geometric sample / SAEM reaching exact EM's fixed point:
 * over 6 seeds the mean final emission means and transition probabilities are
 * within 4 standard errors (the seeds' spread / √6).
 */
import { describe, expect, it } from 'vitest';
import { createEStep, createRng, type EmError, fit, listESteps } from '@emlab/core';
import '@emlab/exact';
import { chainSampler, mcemEStep, saemEStep } from '@emlab/montecarlo';
import { hiddenMarkovModel } from '@emlab/models';

/** Two-state Gaussian HMM, 8 sequences of 40 steps. */
function sequences(seed: number): { x: number[][]; lengths: number[] } {
  const rng = createRng(seed);
  const x: number[][] = [];
  const lengths: number[] = [];
  for (let s = 0; s < 8; s++) {
    let z = rng.uniform() < 0.5 ? 0 : 1;
    for (let t = 0; t < 40; t++) {
      if (rng.uniform() < 0.15) z = 1 - z;
      x.push([(z === 0 ? -1 : 1.5) + 0.8 * rng.normal()]);
    }
    lengths.push(40);
  }
  return { x, lengths };
}

describe('the chain kind', () => {
  const data = sequences(1);
  const model = hiddenMarkovModel({ nStates: 2 });

  it('mcem and saem are registered for chain; MCMC options are refused there', () => {
    for (const m of ['mcem', 'saem']) expect(listESteps('chain').some((e) => e.method === m)).toBe(true);
    const e = (() => {
      try {
        createEStep('chain', 'mcem', { chains: 3 });
      } catch (x) {
        return x as EmError;
      }
      throw new Error('expected an error');
    })();
    expect(e.path).toEqual(['mcemEStep', 'chains']);
  });

  it('the sampler: the exact log-likelihood and an estimate within 4 of its standard errors', async () => {
    const prepared = model.prepare(data, { precisions: ['float64'] });
    const params = model.init(prepared, model.initMethods[0]!, createRng(0));
    const st = model.structure(prepared, params);
    const b = await chainSampler.sample(st, null, { rng: createRng(3), nDraws: 400, burnIn: 0, thin: 1, estimate: true });
    const exact = (await fit(model, data, { eStep: 'exact', init: params, maxIter: 1, tol: 0 })).trace[0]!.logLikelihood!;
    expect(b.logLikelihood).toBeCloseTo(exact, 8);
    expect(Math.abs(b.estimate!.value - exact)).toBeLessThanOrEqual(4 * b.estimate!.stdErr);
    expect(b.units.length).toBe(16);
  });

  it('MCEM (geometric) and SAEM reach exact EM’s fixed point within Monte Carlo error (6 seeds)', async () => {
    const em = await fit(model, data, { eStep: 'exact', seed: 2, tol: 1e-13, maxIter: 1000, precision: 'float64' });
    const flat = (p: unknown): number[] => {
      const q = p as { transition: number[][]; emission: { means: number[][] } };
      return [...q.transition.flat(), ...q.emission.means.flat()];
    };
    const star = flat(em.params);
    for (const [label, make] of [
      ['mcem', () => mcemEStep({ schedule: 'geometric', nDraws: 10, ratio: 1.3 })],
      ['saem', () => saemEStep({ k1: 5, k2: 60 })],
    ] as const) {
      const finals: number[][] = [];
      for (let seed = 0; seed < 6; seed++) {
        const r = await fit(model, data, { eStep: make(), init: em.params, seed, maxIter: label === 'mcem' ? 12 : 100, tol: label === 'mcem' ? 0 : 1e-6 });
        finals.push(flat(r.params));
      }
      star.forEach((t, j) => {
        const xs = finals.map((f) => f[j]!);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
        expect(Math.abs(mean - t), `${label} ${j}: ${mean} vs ${t} (sd ${sd})`).toBeLessThanOrEqual((4 * sd) / Math.sqrt(xs.length));
      });
    }
  });
});
