/**
 * Behaviour of the Gaussian mixture: recovery of a well-separated truth,
 * the prediction/scoring API, sampling, information criteria, degenerate
 * data and components, original units, and tensor hygiene.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { EmError, fit, monotonicityTolerance, type FitResult } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { makeGaussianMixture, toRows } from '@emlab/data';
import { COVARIANCE_TYPES, gaussianMixture, type CovarianceType, type GmmParams } from '@emlab/models';
import { catchEmErrorAsync, expectNoTensorLeak, matchComponents, refLogDensity, RESP_SUM_TOL } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };

function allFinite(p: GmmParams): boolean {
  return [...p.weights, ...p.means.flat(), ...p.covariances.flat(2)].every(Number.isFinite);
}

/** Parameter count written out per type (scikit-learn's `_n_parameters`), independent of the library. */
function expectedParameterCount(type: CovarianceType, k: number, d: number): number {
  const cov = { full: (k * d * (d + 1)) / 2, diag: k * d, spherical: k, tied: (d * (d + 1)) / 2 }[type];
  return k - 1 + k * d + cov;
}

describe.each(COVARIANCE_TYPES)('recovers a well-separated truth (%s)', (type) => {
  it('weights, means, covariances and labels', async () => {
    const data = makeGaussianMixture({ nSamples: 600, nComponents: 3, nFeatures: 2, seed: 11, separation: 8, covariance: type });
    const g = gaussianMixture({ nComponents: 3, covarianceType: type });
    const r = await fit(g, data, { seed: 0, nInit: 3, maxIter: 300, tol: 1e-8, ...quiet });
    expect(r.converged).toBe(true);
    const perm = matchComponents(data.truth.means, r.params.means);
    perm.forEach((e, j) => {
      const cov = data.truth.covariances[j] as number[][];
      const sd = (i: number): number => Math.sqrt((cov[i] as number[])[i] as number);
      // ~200 rows per component: sampling errors ≈ 0.07 sd for means, ≈ 0.1 relative for (co)variances
      expect(Math.abs((r.params.weights[e] as number) - (data.truth.weights[j] as number))).toBeLessThanOrEqual(0.06);
      (data.truth.means[j] as number[]).forEach((m, i) => expect(Math.abs(((r.params.means[e] as number[])[i] as number) - m)).toBeLessThanOrEqual(0.3 * sd(i)));
      cov.forEach((row, i) =>
        row.forEach((v, l) => expect(Math.abs((((r.params.covariances[e] as number[][])[i] as number[])[l] as number) - v)).toBeLessThanOrEqual(0.35 * sd(i) * sd(l))),
      );
    });
    const labels = g.predict(r.params, data);
    const agree = labels.filter((lab, i) => lab === perm[data.labels[i] as number]).length / labels.length;
    expect(agree).toBeGreaterThanOrEqual(0.97);
  });
});

describe('prediction and scoring API', () => {
  const data = makeGaussianMixture({ nSamples: 300, nComponents: 3, nFeatures: 3, seed: 4, separation: 3 });
  const rows = toRows(data.x, data.rows, data.cols);
  const g = gaussianMixture({ nComponents: 3 });
  let result: FitResult<GmmParams>;

  it('fits', async () => {
    result = await fit(g, rows, { seed: 2, maxIter: 200, ...quiet });
    expect(allFinite(result.params)).toBe(true);
  });

  it('predict is the argmax of predictProba, whose rows sum to 1', () => {
    const proba = g.predictProba(result.params, rows);
    const labels = g.predict(result.params, rows);
    proba.forEach((row, i) => {
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(RESP_SUM_TOL);
      expect(row[labels[i] as number]).toBe(Math.max(...row));
    });
  });

  it('scoreSamples sums to the fit\'s log-likelihood, score is its mean, and data forms agree', () => {
    const s = g.scoreSamples(result.params, rows);
    const total = s.reduce((a, b) => a + b, 0);
    const ll = result.logLikelihood as number;
    expect(Math.abs(total - ll)).toBeLessThanOrEqual(monotonicityTolerance(total, ll, rows.length));
    expect(g.score(result.params, rows)).toBeCloseTo(total / rows.length, 10);
    const dense = g.scoreSamples(result.params, { values: data.values, rows: data.rows, cols: data.cols });
    const t = tf.tensor2d(rows);
    const fromTensor = g.scoreSamples(result.params, t);
    expect(t.isDisposed).toBe(false);
    t.dispose();
    expect(Array.from(dense)).toEqual(Array.from(s));
    fromTensor.forEach((v, i) => expect(Math.abs(v - (s[i] as number))).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v))));
  });

  it('rejects data with the wrong number of features', () => {
    let err: unknown;
    try {
      g.predict(result.params, [[1, 2]]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EmError);
    expect((err as EmError).code).toBe('INVALID_DATA');
  });

  it('bic and aic follow −2 log L + p log N and −2 log L + 2p with p = nParameters', () => {
    const n = rows.length;
    const ll = g.scoreSamples(result.params, rows).reduce((a, b) => a + b, 0);
    const p = g.nParameters(result.params);
    expect(p).toBe(expectedParameterCount('full', 3, 3));
    expect(g.bic(result.params, rows)).toBeCloseTo(-2 * ll + p * Math.log(n), 8);
    expect(g.aic(result.params, rows)).toBeCloseTo(-2 * ll + 2 * p, 8);
  });

  it('nParameters matches scikit-learn\'s count for every type, K and D', () => {
    for (const type of COVARIANCE_TYPES) {
      for (let k = 1; k <= 4; k++) {
        for (let d = 1; d <= 4; d++) {
          const params: GmmParams = {
            covarianceType: type,
            weights: Array.from({ length: k }, () => 1 / k),
            means: Array.from({ length: k }, () => new Array<number>(d).fill(0)),
            covariances: Array.from({ length: k }, () => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)))),
          };
          expect(gaussianMixture({ nComponents: k, covarianceType: type }).nParameters(params)).toBe(expectedParameterCount(type, k, d));
        }
      }
    }
  });
});

describe('sample', () => {
  const params: GmmParams = {
    covarianceType: 'full',
    weights: [0.2, 0.5, 0.3],
    means: [[-4, 0], [0, 3], [5, -1]],
    covariances: [[[1, 0.5], [0.5, 2]], [[0.5, 0], [0, 0.5]], [[2, -0.8], [-0.8, 1]]],
  };
  const g = gaussianMixture({ nComponents: 3 });

  it('is reproducible from its seed and differs across seeds', () => {
    expect(g.sample(params, 50, 9)).toEqual(g.sample(params, 50, 9));
    expect(g.sample(params, 50, 'nine')).toEqual(g.sample(params, 50, 'nine'));
    expect(g.sample(params, 50, 10).x).not.toEqual(g.sample(params, 50, 9).x);
  });

  it('has the mixture mean and weights (within 4 standard errors)', () => {
    const n = 8000;
    const { x, labels } = g.sample(params, n, 123);
    expect(x.length).toBe(n);
    const mean = [0, 1].map((i) => params.weights.reduce((a, w, c) => a + w * ((params.means[c] as number[])[i] as number), 0));
    const variance = [0, 1].map((i) =>
      params.weights.reduce((a, w, c) => a + w * (((params.covariances[c] as number[][])[i] as number[])[i] as number) + w * ((params.means[c] as number[])[i] as number) ** 2, 0) - (mean[i] as number) ** 2,
    );
    [0, 1].forEach((i) => {
      const emp = x.reduce((a, row) => a + (row[i] as number), 0) / n;
      expect(Math.abs(emp - (mean[i] as number))).toBeLessThanOrEqual(4 * Math.sqrt((variance[i] as number) / n));
    });
    params.weights.forEach((w, c) => {
      const freq = labels.filter((l) => l === c).length / n;
      expect(Math.abs(freq - w)).toBeLessThanOrEqual(4 * Math.sqrt((w * (1 - w)) / n));
    });
    // within-component covariance of component 1 (0.5·I)
    const own = x.filter((_, i) => labels[i] === 1);
    const m0 = own.reduce((a, r) => a + (r[0] as number), 0) / own.length;
    const v0 = own.reduce((a, r) => a + ((r[0] as number) - m0) ** 2, 0) / own.length;
    expect(Math.abs(v0 - 0.5)).toBeLessThanOrEqual(4 * 0.5 * Math.sqrt(2 / own.length));
  });

  it('rejects a bad sample size', () => {
    for (const n of [0, 1.5, -2]) {
      let err: unknown;
      try {
        g.sample(params, n, 0);
      } catch (e) {
        err = e;
      }
      expect((err as EmError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('degenerate data', () => {
  const base = makeGaussianMixture({ nSamples: 120, nComponents: 2, nFeatures: 2, seed: 3, separation: 5 });
  const withConstant = toRows(base.x, base.rows, base.cols).map((r) => [...r, 7]);

  it.each(COVARIANCE_TYPES)('a constant column fits without NaN thanks to regCovar (%s)', async (type) => {
    const r = await fit(gaussianMixture({ nComponents: 2, covarianceType: type }), withConstant, { seed: 1, maxIter: 50, monotonicity: 'throw', ...quiet });
    expect(allFinite(r.params)).toBe(true);
    expect(Number.isFinite(r.logLikelihood)).toBe(true);
    for (const m of r.params.means) expect(m[2]).toBeCloseTo(7, 6);
    for (const cov of r.params.covariances) {
      const v = (cov[2] as number[])[2] as number;
      // spherical shares one variance across columns; otherwise the constant column's variance is
      // exactly regCovar (1e-6): its centred values are exact zeros.
      if (type === 'spherical') expect(v).toBe((cov[0] as number[])[0]);
      else expect(Math.abs(v - 1e-6)).toBeLessThanOrEqual(1e-12);
    }
    for (const rec of r.trace) for (const ev of rec.events) expect(typeof ev.detail).toBe('string');
  });

  it('with regCovar 0, a constant column is handled by recorded jitter (regularized events), never NaN', async () => {
    const r = await fit(gaussianMixture({ nComponents: 2, regCovar: 0 }), withConstant, { seed: 1, maxIter: 10, ...quiet });
    expect(allFinite(r.params)).toBe(true);
    expect(Number.isFinite(r.logLikelihood)).toBe(true);
    const events = r.trace.flatMap((rec) => rec.events);
    expect(events.length).toBeGreaterThan(0);
    expect(events.some((ev) => ev.type === 'regularized' || ev.type === 'reinitialized')).toBe(true);
    for (const ev of events) {
      expect(['regularized', 'reinitialized', 'degenerate', 'ill-conditioned']).toContain(ev.type);
      // A component's event names it; the fit's ill-conditioned flag is about the whole bound.
      if (ev.type !== 'ill-conditioned') expect(ev.component).toBeGreaterThanOrEqual(0);
    }
    // A jittered constant column makes Σ nearly singular: the float64 check says so on every such iteration.
    for (const rec of r.trace) {
      if (rec.events.some((ev) => ev.type === 'regularized')) expect(rec.events.some((ev) => ev.type === 'ill-conditioned')).toBe(true);
    }
  });

  it('duplicated points fit without NaN (exact and hard EM)', async () => {
    const distinct = [[0, 0], [1, 0.5], [5, 5], [5.5, 4], [-3, 2]];
    const rows = Array.from({ length: 12 }, () => distinct).flat();
    for (const eStep of ['exact', 'hard']) {
      const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { eStep, seed: 0, maxIter: 30, ...quiet });
      expect(allFinite(r.params)).toBe(true);
      expect(Number.isFinite(r.logLikelihood)).toBe(true);
      for (const rec of r.trace) for (const ev of rec.events) expect(['regularized', 'reinitialized', 'degenerate']).toContain(ev.type);
    }
  });

  it('an empty component is reinitialized (hard and exact EM) and nothing is NaN', async () => {
    const rows = toRows(base.x, base.rows, base.cols);
    const init: GmmParams = {
      covarianceType: 'full',
      weights: [0.45, 0.45, 0.1],
      means: [base.truth.means[0] as number[], base.truth.means[1] as number[], [1e3, -1e3]],
      covariances: [base.truth.covariances[0] as number[][], base.truth.covariances[1] as number[][], [[0.01, 0], [0, 0.01]]],
    };
    for (const eStep of ['hard', 'exact']) {
      const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { eStep, init, maxIter: 5, tol: 0, monotonicity: 'throw', ...quiet });
      const first = r.trace[0]?.events ?? [];
      const reinit = first.filter((e) => e.type === 'reinitialized');
      expect(reinit.length).toBe(1);
      expect(reinit[0]?.component).toBe(2);
      expect(allFinite(r.params)).toBe(true);
      for (const rec of r.trace) expect(Number.isFinite(rec.boundAfterE) && Number.isFinite(rec.boundAfterM)).toBe(true);
      // the reinitialized component sits at a data row, not at the far-away init
      expect(Math.abs((r.params.means[2] as number[])[0] as number)).toBeLessThan(100);
    }
  });

  it('a zero-weight component gets zero responsibility and no NaN', () => {
    const params: GmmParams = {
      covarianceType: 'full',
      weights: [0.5, 0.5, 0],
      means: [[0, 0], [3, 3], [1, 1]],
      covariances: [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]]],
    };
    const rows = [[0, 0.5], [3, 2], [1, 1], [10, -4]];
    const g = gaussianMixture({ nComponents: 3 });
    const proba = g.predictProba(params, rows);
    for (const row of proba) {
      expect(row.every(Number.isFinite)).toBe(true);
      expect(row[2]).toBe(0);
    }
    const ref = refLogDensity(rows, [0.5, 0.5], params.means.slice(0, 2), params.covariances.slice(0, 2)).logProb;
    g.scoreSamples(params, rows).forEach((v, i) => expect(Math.abs(v - (ref[i] as number))).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v))));
  });
});

describe('original units', () => {
  it('data shifted by +1e4 give the same fit, shifted (means in original units)', async () => {
    const data = makeGaussianMixture({ nSamples: 400, nComponents: 3, nFeatures: 2, seed: 21, separation: 4 });
    const rows = toRows(data.x, data.rows, data.cols);
    const shifted = rows.map((r) => r.map((v) => v + 1e4));
    const g = gaussianMixture({ nComponents: 3 });
    const a = await fit(g, rows, { seed: 5, maxIter: 300, tol: 1e-9, ...quiet });
    const b = await fit(g, shifted, { seed: 5, maxIter: 300, tol: 1e-9, ...quiet });
    const n = rows.length;
    expect(Math.abs((a.logLikelihood as number) - (b.logLikelihood as number))).toBeLessThanOrEqual(monotonicityTolerance(a.logLikelihood as number, b.logLikelihood as number, n));
    a.params.means.forEach((m, c) => {
      const cov = a.params.covariances[c] as number[][];
      m.forEach((v, i) => {
        const got = (b.params.means[c] as number[])[i] as number;
        expect(got).toBeGreaterThan(5e3); // reported in original (shifted) units
        expect(Math.abs(got - 1e4 - v)).toBeLessThanOrEqual(1e-3 * Math.sqrt((cov[i] as number[])[i] as number));
      });
      cov.forEach((row, i) => row.forEach((v, j) => {
        const got = (((b.params.covariances[c] as number[][])[i] as number[])[j] as number);
        expect(Math.abs(got - v)).toBeLessThanOrEqual(1e-3 * Math.sqrt(((cov[i] as number[])[i] as number) * ((cov[j] as number[])[j] as number)));
      }));
      expect(Math.abs((b.params.weights[c] as number) - (a.params.weights[c] as number))).toBeLessThanOrEqual(1e-4);
    });
    // and the log-likelihood at the shifted parameters is right in float64
    const ref = refLogDensity(shifted, b.params.weights, b.params.means, b.params.covariances).logProb.reduce((x, y) => x + y, 0);
    expect(Math.abs(ref - (b.logLikelihood as number))).toBeLessThanOrEqual(monotonicityTolerance(ref, b.logLikelihood as number, n));
  });
});

describe('tensor hygiene', () => {
  const data = makeGaussianMixture({ nSamples: 150, nComponents: 2, nFeatures: 2, seed: 8 });
  const rows = toRows(data.x, data.rows, data.cols);
  const g = gaussianMixture({ nComponents: 2, covarianceType: 'diag' });

  it.each(['exact', 'hard', 'stochastic'])('fit with the %s E-step frees every tensor', async (eStep) => {
    const r = await expectNoTensorLeak(() => fit(g, rows, { eStep, seed: 0, maxIter: 5, nInit: 2, ...quiet }), `fit/${eStep}`);
    expect(r.warnings.filter((w) => w.includes('not freed'))).toEqual([]);
  });

  it('predict, predictProba, scoreSamples, score, bic, aic, sample free every tensor', async () => {
    const r = await fit(g, rows, { seed: 0, maxIter: 5, ...quiet });
    await expectNoTensorLeak(() => {
      g.predict(r.params, rows);
      g.predictProba(r.params, rows);
      g.scoreSamples(r.params, rows);
      g.score(r.params, rows);
      g.bic(r.params, rows);
      g.aic(r.params, rows);
      g.sample(r.params, 20, 1);
      const prep = g.prepare(rows);
      g.logLikelihood(prep, r.params);
      prep.dispose();
    }, 'api');
  });

  it('a fit that throws (callback error, invalid init) frees every tensor, and a tensor input is left alone', async () => {
    const boom = expectNoTensorLeak(() => fit(g, rows, { maxIter: 5, onIteration: () => { throw new Error('boom'); }, ...quiet }));
    await expect(boom).rejects.toThrow('boom');
    const bad = await catchEmErrorAsync(expectNoTensorLeak(() => fit(g, rows, { init: { covarianceType: 'diag', weights: [1], means: [[0, 0]], covariances: [[[1, 0], [0, 1]]] } as GmmParams, ...quiet })));
    expect(bad.code).toBe('INVALID_PARAMS');
    const t = tf.tensor2d(rows);
    await expectNoTensorLeak(() => fit(g, t, { maxIter: 3, ...quiet }));
    expect(t.isDisposed).toBe(false);
    t.dispose();
  });
});

describe('fit stopping rules seen through the mixture', () => {
  it('tol: 0 runs exactly maxIter iterations, as documented, even when the bound repeats exactly', async () => {
    // Regression: hasConverged (core/src/fit.ts) used |ΔL| <= tol·scale, so with tol 0 an exactly
    // repeated bound (K = 1 converges in one step) stopped the fit after 2 iterations.
    const r = await fit(gaussianMixture({ nComponents: 1 }), [[0, 1], [2, 0], [1, 3], [4, 1]], { maxIter: 6, tol: 0, ...quiet });
    expect(r.nIter).toBe(6);
  });

  it('a fit that needs the same jitter every iteration still converges', async () => {
    // Regression: with regCovar 0 and a constant column every M-step emits a `regularized` event,
    // which used to block convergence; only `reinitialized` events (which can lower the bound) do.
    const base = makeGaussianMixture({ nSamples: 120, nComponents: 2, nFeatures: 2, seed: 3, separation: 5 });
    const rows = toRows(base.x, base.rows, base.cols).map((r) => [...r, 7]);
    const r = await fit(gaussianMixture({ nComponents: 2, regCovar: 0 }), rows, { seed: 1, maxIter: 100, ...quiet });
    expect(r.converged).toBe(true);
  });
});
