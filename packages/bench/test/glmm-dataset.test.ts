/**
 * The `glmm` data-set kind and the Monte Carlo methods in a suite: grouped data held out by whole
 * groups, the mixed model's truth metric, the held-out log-likelihood, Monte Carlo
 * runs with a standard error and a sample size per iteration (the report's ± 2 SE bands), methods
 * skipped where their structure kind has no registration, and typed errors for bad options.
 */
import { describe, expect, it } from 'vitest';
import '@emlab/montecarlo';
import { glmmParameterError, runSuite } from '@emlab/bench';

const DATA = { family: 'poisson', nGroups: 24, groupSize: 5, beta: [0.5, 0.3], sigma: [0.4], seed: 3 };
const SUITE = {
  name: 'glmm',
  datasets: [
    { id: 'g', kind: 'glmm', options: DATA },
    { id: 'mix', kind: 'gaussian-mixture', options: { nSamples: 120, nComponents: 2, nFeatures: 2, seed: 1 } },
  ],
  models: [{ id: 'glmm', type: 'glmm' }, { id: 'gmm', type: 'gmm' }],
  esteps: [{ id: 'mcem', method: 'mcem', options: { maxDraws: 60 } }, { id: 'saem', method: 'saem', options: { k1: 8, k2: 8 } }, 'laplace'],
  seeds: [0],
  stopping: { maxIter: 16 },
  heldOut: { fraction: 0.25, seed: 2 },
};

describe('data-set kind glmm', () => {
  it('runs mcem, saem and laplace on grouped data held out by whole groups, with truth and Monte Carlo metrics', async () => {
    const r = await runSuite(SUITE, { workers: 1 });
    const d = r.datasets.find((x) => x.id === 'g');
    expect(d).toMatchObject({ kind: 'glmm', format: 'glmm-table', nRows: 120, hasTruth: true, hasLabels: false });
    // 25% of 24 groups = 6 whole groups of 5 rows held out.
    expect(d?.nTest).toBe(30);
    expect(d?.nTrain).toBe(90);
    const glmmRuns = r.runs.filter((x) => x.dataset === 'g');
    expect(glmmRuns.map((x) => [x.method, x.status])).toEqual([['mcem', 'ok'], ['saem', 'ok'], ['laplace', 'ok']]);
    // laplace has no registration for the mixture's kind: skipped there, with the reason.
    expect(r.skipped).toEqual([expect.objectContaining({ dataset: 'mix', model: 'gmm', method: 'laplace', code: 'UNKNOWN_ESTEP' })]);
    for (const x of glmmRuns) {
      expect(x.metrics.heldOutLogLikelihood).toBeLessThan(0);
      expect(x.metrics.parameterError).toBeGreaterThan(0);
      expect(x.metrics.parameterError).toBeLessThan(1);
    }
    for (const x of glmmRuns.filter((y) => y.method !== 'laplace')) {
      expect(x.metrics.boundKind).toBe('estimate');
      for (const t of x.trace) {
        expect(t.boundStdErr).toBeGreaterThan(0);
        expect(t.sampleSize).toBeGreaterThanOrEqual(1);
      }
    }
    const laplace = glmmRuns.find((x) => x.method === 'laplace');
    expect(laplace?.metrics.boundKind).toBe('lower-bound');
    expect(laplace?.trace.every((t) => t.boundStdErr === null && t.sampleSize === null)).toBe(true);

    // Held-out groups are fitted by their own random effects, integrated out: per row, the held-out
    // log-likelihood is of the training one's order (both quadrature values at the fitted parameters).
    for (const x of glmmRuns) expect(Math.abs((x.metrics.heldOutLogLikelihoodPerRow as number) - (x.metrics.trainLogLikelihoodPerRow as number))).toBeLessThan(1);
  }, 120_000);

  it('parameter error is the mean absolute error over β and Σ_b, null for other shapes', () => {
    expect(glmmParameterError({ beta: [0.6, 0.1], sigma: [[0.5]] }, [0.5, 0.3], [0.4])).toBeCloseTo((0.1 + 0.2 + 0.1) / 3, 12);
    expect(glmmParameterError({ weights: [1] }, [0.5], [0.4])).toBeNull();
    expect(glmmParameterError({ beta: [0.6], sigma: [[0.5]] }, [0.5, 0.3], [0.4])).toBeNull();
  });

  it('rejects bad options naming the suite path', async () => {
    const bad = (options: Record<string, unknown>) => runSuite({ ...SUITE, datasets: [{ id: 'g', kind: 'glmm', options: { ...DATA, ...options } }], models: [{ id: 'glmm', type: 'glmm' }] }, { workers: 1 });
    await expect(bad({ sigma: [0.4, 0, 0.1] })).rejects.toThrow(/^suite\.datasets\[0\]\.options\.sigma = array of length 3: must have 1 entry .* or 4 .*Remedy: /);
    await expect(bad({ family: 'gamma' })).rejects.toThrow(/^suite\.datasets\[0\]\.options\.family = "gamma"/);
    await expect(bad({ sigma: [-1] })).rejects.toThrow(/^suite\.datasets\[0\]\.options/);
  });
});
