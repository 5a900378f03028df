/**
 * SAEM: step sizes, options, its schedule policy, and convergence to the exact
 * MLE within its asymptotic error on a Gaussian mixture (exact posterior draws,
 * one per row and iteration), from exact EM's own starting point: over 6 seeds,
 * the mean final component means and weights (last iterate and Polyak–Ruppert
 * average) are within 4 standard errors (the seeds' spread / √6) of exact EM's
 * optimum, and each seed within 5 spreads. Also: the running statistics are the
 * γ-weighted average the algebra says, and runs are reproducible from their seed.
 */
import { describe, expect, it } from 'vitest';
import { createEStep, createRng, fit, listESteps, omitTimings } from '@emlab/core';
import '@emlab/exact';
import { saemEStep, saemPolicy, saemStepSize, type SaemReport } from '@emlab/montecarlo';
import { gaussianMixture, type GmmParams } from '@emlab/models';
import { catchEmError } from '@emlab/testing';

function rows(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => (i % 2 === 0 ? [2.5 + rng.normal(), rng.normal()] : [-1 + 0.8 * rng.normal(), 1.5 + rng.normal()]));
}

describe('step sizes, options, policy', () => {
  it('γ_k = 1 for k ≤ K1, then (k − K1)^−α', () => {
    expect([1, 5, 6, 7, 10].map((k) => saemStepSize(k, 5, 1))).toEqual([1, 1, 1, 1 / 2, 1 / 5]);
    expect(saemStepSize(9, 5, 0.6)).toBeCloseTo(4 ** -0.6, 15);
  });

  it('rejects α outside (1/2, 1], bad K and unknown options, naming them; is registered for every sampled kind', () => {
    expect(catchEmError(() => saemEStep({ alpha: 0.5 })).path).toEqual(['saemEStep', 'alpha']);
    expect(catchEmError(() => saemEStep({ alpha: 1.2 })).path).toEqual(['saemEStep', 'alpha']);
    expect(catchEmError(() => saemEStep({ k2: 0 })).path).toEqual(['saemEStep', 'k2']);
    expect(catchEmError(() => saemEStep({ annealing: 1 })).path).toEqual(['saemEStep', 'annealing']);
    expect(catchEmError(() => saemEStep({ gamma: 1 } as never)).code).toBe('INVALID_ARGUMENT');
    expect(catchEmError(() => createEStep('finite', 'saem', { proposal: 'independence' })).path).toEqual(['saemEStep', 'proposal']);
    for (const kind of ['finite', 'factor-graph', 'continuous']) expect(listESteps(kind).some((e) => e.method === 'saem')).toBe(true);
    expect(saemEStep({ k1: 10 }).options).toMatchObject({ k1: 10, k2: 100, alpha: 1, average: true });
  });

  it('the policy stops after K1 + K2 iterations, whatever tol says', () => {
    const p = saemPolicy(3);
    const input = (n: number) => ({ trace: new Array(n).fill({}), totalWeight: 1, precision: 'float64' as const, family: 'monte-carlo' as const, parameterHistory: () => undefined, gradientNorm: () => undefined });
    expect(p.check(input(2) as never).converged).toBe(false);
    expect(p.check(input(3) as never)).toEqual({ converged: true, value: 0, threshold: 0 });
    expect(p.withTol!(1e-9).check(input(3) as never).converged).toBe(true);
  });
});

describe('SAEM on a Gaussian mixture', () => {
  const x = rows(200, 1);
  const gmm = gaussianMixture({ nComponents: 2, covarianceType: 'diag' });

  it('converges to the exact MLE within its asymptotic error (6 seeds; last iterate and Polyak–Ruppert average)', async () => {
    const em = await fit(gmm, x, { eStep: 'exact', seed: 2, tol: 1e-14, maxIter: 500 });
    const init = (await fit(gmm, x, { eStep: 'exact', seed: 2, maxIter: 1, tol: 0 })).params;
    const star = em.params as GmmParams;
    const flat = (p: GmmParams): number[] => [...p.weights, ...p.means.flat()];
    const R = 6;
    const last: number[][] = [];
    const avg: number[][] = [];
    for (let seed = 0; seed < R; seed++) {
      const r = await fit(gmm, x, { eStep: saemEStep({ k1: 10, k2: 150 }), init, seed, maxIter: 1000 });
      expect(r.nIter).toBe(160);
      last.push(flat(r.params as GmmParams));
      avg.push(flat((r.report!['saem'] as SaemReport).averagedParams as GmmParams));
    }
    for (const [label, finals] of [['last', last], ['averaged', avg]] as const) {
      flat(star).forEach((t, j) => {
        const xs = finals.map((f) => f[j]!);
        const mean = xs.reduce((a, b) => a + b, 0) / R;
        const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (R - 1));
        expect(Math.abs(mean - t), `${label} ${j}: ${mean} vs ${t} (sd ${sd})`).toBeLessThanOrEqual((4 * sd) / Math.sqrt(R));
        for (const v of xs) expect(Math.abs(v - t)).toBeLessThanOrEqual(5 * sd);
      });
    }
  });

  it('the statistics handed to the M-step are the γ-weighted running average (checked through the M-step of a one-component mixture)', async () => {
    // With K = 1 the M-step's mean is the running average of the drawn statistics' means, and every
    // draw is the same (one component): the mean must equal the data mean at every iteration.
    const one = gaussianMixture({ nComponents: 1 });
    const r = await fit(one, x, { eStep: saemEStep({ k1: 2, k2: 5 }), seed: 0, recordParams: true });
    const mean0 = x.reduce((a, v) => a + v[0]!, 0) / x.length;
    for (const t of r.trace) expect((t.params as GmmParams).means[0]![0]!).toBeCloseTo(mean0, 12);
    expect(r.trace.map((t) => t.diagnostics['stepSize'])).toEqual([1, 1, 1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]);
  });

  it('is reproducible from its seed, and reports honest estimates', async () => {
    const run = async () => fit(gmm, x, { eStep: saemEStep({ k1: 3, k2: 4, nDraws: 2 }), seed: 'saem' });
    const a = await run();
    expect(omitTimings(await run())).toEqual(omitTimings(a));
    for (const t of a.trace) {
      expect(t.logLikelihood).not.toBeNull();
      expect(Math.abs(t.boundAfterE - t.logLikelihood!)).toBeLessThanOrEqual(4 * t.boundStdErr!);
    }
  });
});
