// The two numerical paths of the Gaussian mixture: the fast quadratic-feature path (one matmul
// per block) and the centred path (x − μ_k formed first). They must agree where the fast path is
// well conditioned, EM must stay monotone on either, and 'auto' must protect a narrow component
// far from the data mean even on data too large for the small-data rule.
import { describe, expect, it } from 'vitest';
import { fit } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import { makeGaussianMixture } from '@emlab/data';
import { gaussianMixture, gmmStructure, prepareGmmData, SMALL_DATA_CELLS, type GmmData, type GmmNumerics, type GmmParams } from '@emlab/models';
import { logJointTable, refLogDensity, refLogSumExp } from '@emlab/testing';

/** log p(x_n | θ) per row from the float32 kernels on a numerics path (the API's scoreSamples is float64). */
function float32Scores(numerics: GmmNumerics, params: GmmParams, data: GmmData): Float64Array {
  const prepared = prepareGmmData(data, { precisions: ['float32'] });
  const s = gmmStructure(prepared, params, 'float32', numerics);
  try {
    return Float64Array.from(logJointTable(s), (row) => refLogSumExp(row));
  } finally {
    s.dispose();
    prepared.dispose();
  }
}

const quiet = { onWarning: () => undefined };

describe('fast and centred paths', () => {
  const g = makeGaussianMixture({ nSamples: 20_000, nComponents: 5, nFeatures: 4, seed: 5, separation: 1.5 });
  const data = { values: g.x, rows: g.rows, cols: g.cols };
  it('the data are large enough that auto chooses per component', () => {
    expect(data.rows * 5).toBeGreaterThan(SMALL_DATA_CELLS);
  });
  it('agree on scoreSamples (1e-5 relative per row) and on a fit', async () => {
    const base = await fit(gaussianMixture({ nComponents: 5 }), data, { seed: 1 });
    const score = (numerics: GmmNumerics): Float64Array => float32Scores(numerics, base.params, data);
    const fast = score('fast');
    const centred = score('centred');
    for (let i = 0; i < fast.length; i++) expect(Math.abs((fast[i] as number) - (centred[i] as number))).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(centred[i] as number)));
    const fits = await Promise.all((['fast', 'centred'] as const).map((numerics) => fit(gaussianMixture({ nComponents: 5, numerics }), data, { seed: 1, maxIter: 10, tol: 0, precision: 'float32', ...quiet })));
    const [a, b] = fits as [typeof base, typeof base];
    expect(Math.abs((a.logLikelihood as number) - (b.logLikelihood as number))).toBeLessThanOrEqual(1e-6 * Math.abs(b.logLikelihood as number));
  });
  it.each(['fast', 'centred'] as const)('EM is monotone on the %s path (exact and hard, every covariance type)', async (numerics) => {
    for (const covarianceType of ['full', 'diag', 'spherical', 'tied'] as const) {
      for (const eStep of ['exact', 'hard']) {
        const r = await fit(gaussianMixture({ nComponents: 5, covarianceType, numerics }), data, { eStep, seed: 2, maxIter: 8, tol: 0, precision: 'float32', monotonicity: 'throw', ...quiet });
        expect(r.trace.every((t) => t.violations.length === 0)).toBe(true);
      }
    }
  });
});

describe("'auto' on large data with a narrow component far from the data mean", () => {
  // σ = 0.01 at distance ~40 from the data mean: ρ ≈ 10⁷, so the fast path's terms are ~10⁷
  // and it would be off by about a nat; float32 still resolves the data at this scale (a variance
  // of 1e-6 at magnitude 30 would not be: float32 spacing there is 2e-6).
  it('scores it like the float64 reference', () => {
    const g = makeGaussianMixture({ nSamples: 20_000, nComponents: 3, nFeatures: 2, seed: 4, separation: 3 });
    const params: GmmParams = {
      covarianceType: 'full',
      weights: [0.4, 0.4, 0.2],
      means: [g.truth.means[0] as number[], g.truth.means[1] as number[], [30, -30]],
      covariances: [g.truth.covariances[0] as number[][], g.truth.covariances[1] as number[][], [[1e-4, 0], [0, 1e-4]]],
    };
    const rows = [[30, -30], [30.01, -30.005], ...Array.from({ length: 50 }, (_, i) => [g.x[2 * i] as number, g.x[2 * i + 1] as number])];
    const big = { values: Float64Array.from([...rows.flat(), ...g.x]), rows: rows.length + g.rows, cols: 2 };
    const auto = float32Scores('auto', params, big);
    const ref = refLogDensity(rows, params.weights, params.means, params.covariances).logProb;
    for (let i = 0; i < rows.length; i++) expect(Math.abs((auto[i] as number) - (ref[i] as number))).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref[i] as number)));
    const fast = float32Scores('fast', params, big);
    // The API scores in float64: exact whatever the conditioning.
    const api = gaussianMixture({ nComponents: 3 }).scoreSamples(params, big);
    for (let i = 0; i < rows.length; i++) expect(Math.abs((api[i] as number) - (ref[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref[i] as number)));
    expect(Math.max(Math.abs((fast[0] as number) - (ref[0] as number)), Math.abs((fast[1] as number) - (ref[1] as number)))).toBeGreaterThan(1e-2);
  });
});
