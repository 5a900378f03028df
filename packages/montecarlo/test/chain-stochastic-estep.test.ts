/**
 * The stochastic chain E-step (FFBS through core's block loop) on hand-made
 * chain structures, against brute-force enumeration of every state path:
 * path marginals, initial and transition counts within 4 standard errors of
 * the exact posterior; the bound within 4 of its reported standard errors of
 * log p(x); the standard-error estimator's mean against the exact
 * Var_q[log p(x, z)] from enumeration; exact entropy and log-likelihood;
 * draws that do not depend on the blocking; seeding.
 */
import { describe, expect, it } from 'vitest';
import { createEStep, createRng, listESteps } from '@emlab/core';
import { chainStochasticEStep } from '@emlab/montecarlo';
import { bruteForceChain, catchEmError, chainTableStructure, pathLogJoint, runEStep, type ChainTableStats, type ChainTables } from '@emlab/testing';

const L = Math.log;
/** Two sequences, K = 3, a structural zero, a missing step, weights 1 and 2. */
const HMM: ChainTables = {
  nStates: 3,
  lengths: [4, 3],
  logInitial: [L(0.5), L(0.3), L(0.2)],
  logTransition: [
    [L(0.7), L(0.2), L(0.1)],
    [L(0.3), L(0.4), L(0.3)],
    [Number.NEGATIVE_INFINITY, L(0.5), L(0.5)],
  ],
  logEmission: [
    [-1, -1.5, -2],
    [-2, -0.5, -1],
    [0, 0, 0],
    [-0.3, -2, -1.2],
    [-1.1, -0.9, -3],
    [-0.2, -1.7, -0.4],
    [-2.5, -0.1, -0.8],
  ],
  weights: [1, 2],
  latentEntropy: Array.from({ length: 7 }, (_, r) => [0.1 * r, 0.2, 0.3 + 0.05 * r]),
};

describe('chainStochasticEStep: contract and registry', () => {
  it('is the Monte Carlo chain E-step "stochastic" with nDraws, registered', () => {
    const e = chainStochasticEStep({ nDraws: 5 });
    expect([e.name, e.kind, e.family]).toEqual(['stochastic', 'chain', 'monte-carlo']);
    expect(e.options).toEqual({ nDraws: 5 });
    expect(chainStochasticEStep().options).toEqual({ nDraws: 1 });
    expect(listESteps('chain').find((r) => r.method === 'stochastic')?.family).toBe('monte-carlo');
    expect((createEStep('chain', 'stochastic', { nDraws: 3 }) as ReturnType<typeof chainStochasticEStep>).options).toEqual({ nDraws: 3 });
    const err = catchEmError(() => chainStochasticEStep({ nDraws: 0 }));
    expect([err.code, err.path]).toEqual(['INVALID_ARGUMENT', ['chainStochasticEStep', 'nDraws']]);
  });
});

describe('chainStochasticEStep against the exact posterior', () => {
  const n = 4000;
  const bf = bruteForceChain(HMM);
  const k = HMM.nStates;
  const w = HMM.weights as number[];

  it('path marginals and initial counts within 4 SE (Bernoulli), transition counts within 4 SE (n_ij ≤ T − 1 bound)', async () => {
    const e = await runEStep(chainStochasticEStep({ nDraws: n }), chainTableStructure(HMM, 1), { rng: createRng(7) });
    const stats = e.stats as ChainTableStats;
    expect(stats.sampled).toBe(2); // one sampleStats call per block
    let r = 0;
    HMM.lengths.forEach((len, s) => {
      const ws = w[s] as number;
      for (let i = 0; i < len; i++) {
        for (let j = 0; j < k; j++) {
          const p = (bf.gamma[r + i] as number[])[j] as number;
          const se = Math.sqrt((p * (1 - p)) / n);
          expect(Math.abs((stats.gamma[(r + i) * k + j] as number) / ws - p)).toBeLessThanOrEqual(4 * se + 1e-12);
        }
      }
      r += len;
    });
    for (let j = 0; j < k; j++) {
      const p = ((bf.initial[0] as number[])[j] as number) * (w[0] as number) + ((bf.initial[1] as number[])[j] as number) * (w[1] as number);
      // Var of Σ_s w_s 1(z_s1 = j) / n: Σ_s w_s² p_s (1 − p_s) / n.
      const v = HMM.lengths.reduce((a, _, s) => {
        const ps = (bf.initial[s] as number[])[j] as number;
        return a + (w[s] as number) ** 2 * ps * (1 - ps);
      }, 0) / n;
      expect(Math.abs((stats.initial[j] as number) - p)).toBeLessThanOrEqual(4 * Math.sqrt(v) + 1e-12);
    }
    for (let ij = 0; ij < k * k; ij++) {
      const [i, j] = [Math.floor(ij / k), ij % k];
      let mean = 0;
      let v = 0;
      HMM.lengths.forEach((len, s) => {
        const m = ((bf.transitions[s] as number[][])[i] as number[])[j] as number;
        mean += (w[s] as number) * m;
        v += ((w[s] as number) ** 2 * (len - 1) * m) / n; // Var(n_ij) ≤ E[n_ij²] ≤ (T − 1) E[n_ij]
      });
      expect(Math.abs((stats.transitions[ij] as number) - mean)).toBeLessThanOrEqual(4 * Math.sqrt(v) + 1e-12);
      if (i === 2 && j === 0) expect(stats.transitions[ij]).toBe(0); // structural zero
    }
  });

  it('the bound is within 4 reported SE of log p(x); entropy (with the latent part) and log-likelihood are exact', async () => {
    const e = await runEStep(chainStochasticEStep({ nDraws: n }), chainTableStructure(HMM, 2), { rng: createRng(8) });
    const ll = (bf.logLikelihoods[0] as number) * (w[0] as number) + (bf.logLikelihoods[1] as number) * (w[1] as number);
    expect(e.boundStdErr).toBeGreaterThan(0);
    expect(Math.abs(e.bound - ll)).toBeLessThanOrEqual(4 * (e.boundStdErr as number));
    expect(e.logLikelihood as number).toBeCloseTo(ll, 11);
    let entropy = 0;
    let r = 0;
    HMM.lengths.forEach((len, s) => {
      entropy += (w[s] as number) * (bf.entropies[s] as number);
      for (let i = 0; i < len; i++) for (let j = 0; j < k; j++) entropy += (w[s] as number) * ((bf.gamma[r + i] as number[])[j] as number) * ((HMM.latentEntropy?.[r + i] as number[])[j] as number);
      r += len;
    });
    expect(e.entropy).toBeCloseTo(entropy, 11);
  });

  it('the standard error estimates the exact Var_q[log p(x, z)] / S without bias (mean over 300 seeds within 4 SE)', async () => {
    // Exact variance of the bound with S draws: Σ_s w_s² Var_q[log p(x_s, z)] / S, from enumeration.
    const variances = HMM.lengths.map((len, s) => {
      const r0 = HMM.lengths.slice(0, s).reduce((a, b) => a + b, 0);
      let m1 = 0;
      let m2 = 0;
      for (let c = 0; c < k ** len; c++) {
        const path = Array.from({ length: len }, (_, i) => Math.floor(c / k ** (len - 1 - i)) % k);
        const lj = pathLogJoint(HMM, r0, path);
        if (lj === Number.NEGATIVE_INFINITY) continue;
        const q = Math.exp(lj - (bf.logLikelihoods[s] as number));
        m1 += q * lj;
        m2 += q * lj * lj;
      }
      return m2 - m1 * m1;
    });
    const nDraws = 2;
    const exact = HMM.lengths.reduce((a, _, s) => a + (w[s] as number) ** 2 * (variances[s] as number), 0) / nDraws;
    const estimates: number[] = [];
    const bounds: number[] = [];
    for (let seed = 0; seed < 300; seed++) {
      const e = await runEStep(chainStochasticEStep({ nDraws }), chainTableStructure(HMM, 2), { rng: createRng(seed) });
      estimates.push((e.boundStdErr as number) ** 2);
      bounds.push(e.bound);
    }
    const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
    const sd = Math.sqrt(estimates.reduce((a, b) => a + (b - mean) ** 2, 0) / (estimates.length - 1));
    expect(Math.abs(mean - exact)).toBeLessThanOrEqual((4 * sd) / Math.sqrt(estimates.length));
    // And the bound itself is unbiased for log p(x): its mean within 4 exact SE / √300.
    const ll = (bf.logLikelihoods[0] as number) * (w[0] as number) + (bf.logLikelihoods[1] as number) * (w[1] as number);
    const bMean = bounds.reduce((a, b) => a + b, 0) / bounds.length;
    expect(Math.abs(bMean - ll)).toBeLessThanOrEqual((4 * Math.sqrt(exact)) / Math.sqrt(bounds.length));
  });

  it('draws do not depend on the blocking; the same seed gives identical results, another seed other draws', async () => {
    const a = await runEStep(chainStochasticEStep({ nDraws: 7 }), chainTableStructure(HMM, 1), { rng: createRng(3) });
    const b = await runEStep(chainStochasticEStep({ nDraws: 7 }), chainTableStructure(HMM, 2), { rng: createRng(3) });
    const c = await runEStep(chainStochasticEStep({ nDraws: 7 }), chainTableStructure(HMM, 1), { rng: createRng(3) });
    const d = await runEStep(chainStochasticEStep({ nDraws: 7 }), chainTableStructure(HMM, 1), { rng: createRng(4) });
    expect((a.stats as ChainTableStats).gamma).toEqual((b.stats as ChainTableStats).gamma);
    expect(a).toEqual(c);
    expect((a.stats as ChainTableStats).gamma).not.toEqual((d.stats as ChainTableStats).gamma);
  });
});
