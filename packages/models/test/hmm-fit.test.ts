/**
 * HMMs fitted through `fit` with every chain E-step, for every emission
 * family (Gaussian full/diag/spherical/tied, Gaussian mixture per state,
 * Poisson, categorical), with and without missing cells:
 *
 * - exact (forward–backward) and hard (Viterbi) EM never lower the bound
 *   (`monotonicity: 'throw'`: every half-step within core's float64 tolerance);
 * - for the exact E-step the bound L(q, θ) = E_q log p(x, z) + H(q), computed
 *   from the statistics and the entropy (latent parts included), equals the
 *   forward log-likelihood: gap ≤ 1e-9 · |L| at every iteration;
 * - the hard E-step's bound is the complete-data log-likelihood of the
 *   Viterbi paths (`decode`), at most the log-likelihood;
 * - the stochastic (FFBS) E-step runs with the Monte Carlo policy and ends
 *   within 4 of its standard errors of the exact log-likelihood;
 * - frozen parameters stay, structural zeros stay zero, the stationary
 *   initial distribution stays stationary, MAP bounds include log p(θ);
 * - same seed → identical results; no tensors are created.
 */
import { describe, expect, it } from 'vitest';
import { fit, omitTimings, type FitResult, type IterationRecord } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { hiddenMarkovModel, stationaryDistribution, type GaussianEmissionParams, type HmmParams } from '@emlab/models';
import { expectNoTensorLeak } from '@emlab/testing';
import { drawData, FAMILIES, maskCells, optionsOf, type Family } from './hmm-helpers.js';

const LENGTHS = [70, 45, 60];
const quiet = { onWarning: () => undefined };

function checkGaps(trace: readonly IterationRecord[]): void {
  for (const r of trace) {
    expect(r.logLikelihood).not.toBeNull();
    expect(Math.abs(r.gap as number)).toBeLessThanOrEqual(1e-9 * Math.abs(r.logLikelihood as number));
  }
}

describe.each(FAMILIES)('%s emissions', (family: Family) => {
  const k = 3;
  const complete = drawData(family, k, LENGTHS, `data-${family}`);
  const missing = { x: maskCells(complete.x.map((r) => [...r]), 0.15, `mask-${family}`, 6), lengths: complete.lengths };

  for (const [label, data] of [['complete', complete], ['missing cells', missing]] as const) {
    it(`exact EM (${label}): monotone, gap 0, converges; log-likelihood matches score`, async () => {
      const model = hiddenMarkovModel(optionsOf(family, k));
      const r = await expectNoTensorLeak(() => fit(model, data, { seed: 3, maxIter: 60, monotonicity: 'throw', ...quiet }));
      checkGaps(r.trace);
      // The final bound L(q_T, θ_T+1) ≤ log p(x | θ_T+1) (equal at convergence).
      expect(r.bound).toBeLessThanOrEqual((r.logLikelihood as number) + 1e-9 * Math.abs(r.logLikelihood as number));
      expect(model.score(r.params as never, data)).toBeCloseTo(r.logLikelihood as number, 8);
      expect(r.trace.length).toBeGreaterThan(1);
    });

    it(`hard (Viterbi) EM (${label}): monotone; bound = log p(x, ẑ) of the decoded paths ≤ log-likelihood`, async () => {
      const model = hiddenMarkovModel(optionsOf(family, k));
      const r = await fit(model, data, { eStep: 'hard', seed: 3, maxIter: 40, monotonicity: 'throw', ...quiet });
      expect(r.boundKind).toBe('lower-bound');
      const last = r.trace[r.trace.length - 1] as IterationRecord;
      expect(last.entropy).toBeGreaterThanOrEqual(0);
      if (family !== 'gmm' && label === 'complete') expect(last.entropy).toBe(0);
      expect(r.bound).toBeLessThanOrEqual((r.logLikelihood as number) + 1e-9 * Math.abs(r.logLikelihood as number));
      if (label === 'complete' && family !== 'gmm') {
        // At the final θ the E-step's bound is the Viterbi paths' log joint.
        const decoded = model.decode(r.params as never, data);
        const again = await fit(model, data, { eStep: 'hard', init: r.params, maxIter: 1, tol: 0, ...quiet });
        expect((again.trace[0] as IterationRecord).boundAfterE).toBeCloseTo(decoded.logJoint, 6);
      }
    });
  }

  it('stochastic (FFBS) EM ends within 4 SE of the exact log-likelihood', async () => {
    const model = hiddenMarkovModel(optionsOf(family, k));
    const r = await fit(model, complete, { eStep: 'stochastic', eStepOptions: { nDraws: 5 }, seed: 3, maxIter: 30, ...quiet });
    expect(r.boundKind).toBe('estimate');
    const last = r.trace[r.trace.length - 1] as IterationRecord;
    expect(last.boundStdErr).toBeGreaterThan(0);
    expect(Math.abs(last.diagnostics['eStepBound'] as number - (last.logLikelihood as number))).toBeLessThanOrEqual(4 * (last.boundStdErr as number));
  });
});

describe('HMM fit: determinism, freezing, structure, MAP, stationary', () => {
  const data = drawData('gaussian-full', 3, LENGTHS, 'shared');

  it('the same seed gives identical results; another seed another start', async () => {
    const model = hiddenMarkovModel({ nStates: 3 });
    const a = await fit(model, data, { seed: 'x', nInit: 2, maxIter: 20, ...quiet });
    const b = await fit(model, data, { seed: 'x', nInit: 2, maxIter: 20, ...quiet });
    expect(omitTimings(a as FitResult)).toEqual(omitTimings(b as FitResult));
    const c = await fit(model, data, { init: 'random', seed: 'x', maxIter: 1, ...quiet });
    const d = await fit(model, data, { init: 'random', seed: 'y', maxIter: 1, ...quiet });
    expect(c.trace[0]?.boundAfterE).not.toBe(d.trace[0]?.boundAfterE);
  });

  it("frozen parameters stay at their start (params 'st': emission; 'e': chain; 'stc': means)", async () => {
    const start = await fit(hiddenMarkovModel({ nStates: 3 }), data, { seed: 1, maxIter: 3, ...quiet });
    const p0 = start.params as HmmParams<GaussianEmissionParams>;
    const chainOnly = await fit(hiddenMarkovModel({ nStates: 3, params: 'st' }), data, { init: p0, maxIter: 10, monotonicity: 'throw', ...quiet });
    expect((chainOnly.params as HmmParams).emission).toEqual(p0.emission);
    expect((chainOnly.params as HmmParams).transition).not.toEqual(p0.transition);
    const emissionOnly = await fit(hiddenMarkovModel({ nStates: 3, params: 'e' }), data, { init: p0, maxIter: 10, monotonicity: 'throw', ...quiet });
    expect((emissionOnly.params as HmmParams).transition).toEqual(p0.transition);
    expect((emissionOnly.params as HmmParams).initial).toEqual(p0.initial);
    const meansFrozen = await fit(hiddenMarkovModel({ nStates: 3, params: 'stc' }), data, { init: p0, maxIter: 10, monotonicity: 'throw', ...quiet });
    const q = meansFrozen.params as HmmParams<GaussianEmissionParams>;
    expect(q.emission.means).toEqual(p0.emission.means);
    expect(q.emission.covariances).not.toEqual(p0.emission.covariances);
    expect(hiddenMarkovModel({ nStates: 3, params: 'stc' }).nParameters(q)).toBe(2 + 6 + 9);
  });

  it('left-right topology: structural zeros stay zero, every sequence starts in state 0, monotone', async () => {
    const model = hiddenMarkovModel({ nStates: 3, topology: 'left-right' });
    const r = await fit(model, data, { seed: 2, maxIter: 30, monotonicity: 'throw', ...quiet });
    const p = r.params as HmmParams;
    expect(p.initial).toEqual([1, 0, 0]);
    p.transition.forEach((row, i) => row.forEach((v, j) => {
      if (j !== i && j !== i + 1) expect(v).toBe(0);
    }));
    expect(p.transition[2]).toEqual([0, 0, 1]);
    expect(model.nParameters(p)).toBe(0 + 2 + 6 + 9);
  });

  it('zeros of a given transition matrix are structural (initParams without t)', async () => {
    const tm = [[0.8, 0.2, 0], [0, 0.7, 0.3], [0.4, 0, 0.6]];
    const model = hiddenMarkovModel({ nStates: 3, transitionMatrix: tm, initParams: 'se' });
    const r = await fit(model, data, { seed: 2, maxIter: 20, monotonicity: 'throw', ...quiet });
    const p = r.params as HmmParams;
    expect([(p.transition[0] as number[])[2], (p.transition[1] as number[])[0], (p.transition[2] as number[])[1]]).toEqual([0, 0, 0]);
  });

  it('MAP with Dirichlet pseudo-counts: the exact bound is log p(x) + log p(θ) (gap 0), monotone', async () => {
    const model = hiddenMarkovModel({ nStates: 3, initialPseudoCount: 2, transitionPseudoCount: 5 });
    expect(model.logPrior).toBeTypeOf('function');
    const r = await fit(model, data, { seed: 4, maxIter: 40, monotonicity: 'throw', ...quiet });
    const prior = (model.logPrior as (p: HmmParams) => number)(r.params as HmmParams);
    expect(r.bound).toBeCloseTo((r.logLikelihood as number) + prior, 6);
    checkGaps(r.trace);
    expect(hiddenMarkovModel({ nStates: 3 }).logPrior).toBeUndefined();
  });

  it('MAP M-step: (expected counts + a) / (row total + m a) on the allowed entries', () => {
    const model = hiddenMarkovModel({ nStates: 2, emission: 'poisson', transitionPseudoCount: 3, initialPseudoCount: 1 });
    const prev: HmmParams = { initial: [0.5, 0.5], transition: [[0.5, 0.5], [0.5, 0.5]], emission: { type: 'poisson', rates: [[1], [2]] } as never };
    const stats = { initial: Float64Array.of(2, 0), transitions: Float64Array.of(10, 2, 4, 0), occupancy: Float64Array.of(6, 2), emission: { n: Float64Array.of(6, 2), s: Float64Array.of(6, 8), logFactorial: 0 } };
    const m = model.mStep(stats as never, prev as never, { rng: null as never, prepared: { emission: null } as never, iteration: 1 });
    expect(m.params.initial).toEqual([3 / 4, 1 / 4]);
    expect(m.params.transition).toEqual([[13 / 18, 5 / 18], [7 / 10, 3 / 10]]);
    expect((m.params.emission as unknown as { rates: number[][] }).rates).toEqual([[1], [4]]);
  });

  it('stationary initial distribution: π = π A after every M-step, monotone (generalized M-step)', async () => {
    const model = hiddenMarkovModel({ nStates: 3, initial: 'stationary' });
    const r = await fit(model, data, { seed: 5, maxIter: 30, monotonicity: 'throw', recordParams: true, ...quiet });
    for (const rec of r.trace) {
      const p = rec.params as HmmParams;
      const pi = stationaryDistribution(p.transition);
      p.initial.forEach((v, i) => expect(v).toBeCloseTo(pi[i] as number, 12));
      const next = pi.map((_, j) => pi.reduce((a, v, i) => a + v * ((p.transition[i] as number[])[j] as number), 0));
      next.forEach((v, j) => expect(v).toBeCloseTo(pi[j] as number, 12));
    }
    expect(model.nParameters(r.params as HmmParams)).toBe(6 + 6 + 9);
  });

  it('fixed initial distribution stays at initialProbs', async () => {
    const model = hiddenMarkovModel({ nStates: 3, initial: 'fixed', initialProbs: [0.2, 0.3, 0.5] });
    const r = await fit(model, data, { seed: 5, maxIter: 10, monotonicity: 'throw', ...quiet });
    expect((r.params as HmmParams).initial).toEqual([0.2, 0.3, 0.5]);
  });

  it('random init and restarts: the kept restart has the best final bound', async () => {
    const model = hiddenMarkovModel({ nStates: 3 });
    const r = await fit(model, data, { init: 'random', seed: 9, nInit: 3, maxIter: 40, ...quiet });
    expect(r.restarts).toHaveLength(3);
    expect(r.bound).toBe(Math.max(...r.restarts.map((s) => s.bound)));
  });
});
