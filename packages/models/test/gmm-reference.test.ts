/**
 * Agreement of the Gaussian mixture (float32 tensors) with an independent
 * float64 reference (`refLogDensity`, `refEmStep` from `@emlab/testing`:
 * own Cholesky, scikit-learn's EM formulas), for all four covariance types.
 *
 * Tolerances, and why:
 * - Log-densities: |Δ| ≤ 1e-4 · max(|ref|, 1). The library evaluates
 *   log π_k + log N(x | μ_k, Σ_k) as one float32 dot product Φ(x)·Q_k of
 *   quadratic features of the centred data, so its error is a few units of
 *   2⁻²⁴ ≈ 6e-8 times the largest term (|x|²·‖Σ⁻¹‖, |log|Σ||, ...), not of
 *   the result. For the generic parameters used here (covariances of the
 *   data's scale, condition ≲ 10², data within ~10 cluster scales of its
 *   mean) those terms stay ≲ 10³: 6e-8·10³ ≈ 6e-5 at worst, and 2e-5 was the
 *   largest error seen over 1600 parameter sets. (A narrow component far from
 *   the data mean breaks this: see the pinned case at the end.)
 * - One EM step: 1e-3 in natural units (weights absolutely, means in the
 *   component's standard deviations, covariances relative to
 *   sqrt(Σ_ii Σ_jj)). Statistics are float32 matmul sums over N ≤ 240 rows
 *   about the data mean; the scatter Σ w x xᵀ − n μ μᵀ loses up to
 *   (|μ|/σ)² ≲ 10² of the float32 digits: 1e2·240·6e-8 ≈ 1.4e-3 worst case,
 *   ≈ 1e-4 seen.
 * - Responsibilities: 1e-4 absolute (they inherit the log-density errors of
 *   the difference of two log-joint entries, ≲ 1e-4 here).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fit } from '@emlab/core';
import '@emlab/exact';
import { COVARIANCE_TYPES, gaussianMixture, type GmmParams } from '@emlab/models';
import { gmmParamsDiscrepancy, makeMixtureCase, mixtureCaseArb, refCholesky, refEmStep, refInverse, refLogDensity, refLogDet, refLogSumExp } from '@emlab/testing';

const RUNS = { numRuns: 200 };
const LOG_DENSITY_REL_TOL = 1e-4;
const PARAM_TOL = 1e-3;
const RESP_TOL = 1e-4;
const quiet = { onWarning: (): void => {} };

describe('the float64 reference itself', () => {
  it('Cholesky, inverse and log-determinant are consistent on a known matrix', () => {
    const a = [[4, 2, 0.4], [2, 5, 1], [0.4, 1, 3]];
    const l = refCholesky(a);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let p = 0; p < 3; p++) s += (l[i]![p] as number) * (l[j]![p] as number);
      expect(s).toBeCloseTo(a[i]![j]!, 12);
    }
    const inv = refInverse(a);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let p = 0; p < 3; p++) s += a[i]![p]! * inv[p]![j]!;
      expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
    }
    // det by cofactor expansion
    const det = 4 * (5 * 3 - 1 * 1) - 2 * (2 * 3 - 1 * 0.4) + 0.4 * (2 * 1 - 5 * 0.4);
    expect(refLogDet(a)).toBeCloseTo(Math.log(det), 12);
    expect(() => refCholesky([[1, 2], [2, 1]])).toThrow(/positive definite/);
    expect(refLogSumExp([-1000, -1000])).toBeCloseTo(-1000 + Math.log(2), 12);
  });

  it('reproduces a 1-D Gaussian density and a hand-computed EM step', () => {
    const { logProb } = refLogDensity([[1]], [1], [[0]], [[[4]]]);
    expect(logProb[0]).toBeCloseTo(-0.5 * Math.log(2 * Math.PI * 4) - 1 / 8, 12);
    // one component: the EM step is the sample mean and the (biased) sample variance + reg
    const rows = [[1], [2], [6]];
    const step = refEmStep(rows, { weights: [1], means: [[0]], covariances: [[[1]]] }, 'full', 0.5);
    expect(step.means[0]![0]).toBeCloseTo(3, 12);
    expect(step.covariances[0]![0]![0]).toBeCloseTo((4 + 1 + 9) / 3 + 0.5, 12);
    expect(step.weights[0]).toBeCloseTo(1, 12);
  });
});

describe.each(COVARIANCE_TYPES)('agreement with the float64 reference (%s)', (type) => {
  const arb = mixtureCaseArb({ covarianceTypes: [type] });

  it('log-density per row (scoreSamples), log-likelihood and responsibilities', () => {
    fc.assert(
      fc.property(arb, fc.boolean(), (c, atTruth) => {
        const params = atTruth ? c.truth : c.params;
        const g = gaussianMixture({ nComponents: c.k, covarianceType: type });
        const ref = refLogDensity(c.rows, params.weights, params.means, params.covariances);
        const got = g.scoreSamples(params, c.rows);
        got.forEach((v, i) => {
          const r = ref.logProb[i] as number;
          expect(Math.abs(v - r)).toBeLessThanOrEqual(LOG_DENSITY_REL_TOL * Math.max(Math.abs(r), 1));
        });
        const proba = g.predictProba(params, c.rows);
        proba.forEach((row, i) =>
          row.forEach((v, j) => expect(Math.abs(v - Math.exp((ref.logJoint[i]![j] as number) - (ref.logProb[i] as number)))).toBeLessThanOrEqual(RESP_TOL)),
        );
        const refMean = ref.logProb.reduce((a, b) => a + b, 0) / c.rows.length;
        expect(Math.abs(g.score(params, c.rows) - refMean)).toBeLessThanOrEqual(LOG_DENSITY_REL_TOL * Math.max(Math.abs(refMean), 1));
      }),
      RUNS,
    );
  });

  it('one EM step (fit with init = θ0, maxIter 1, tol 0) equals scikit-learn\'s update', async () => {
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const g = gaussianMixture({ nComponents: c.k, covarianceType: type });
        const r = await fit(g, c.rows, { init: c.params, maxIter: 1, tol: 0, monotonicity: 'throw', ...quiet });
        const ref = refEmStep(c.rows, c.params, type, g.regCovar);
        const expected: GmmParams = { covarianceType: type, weights: ref.weights, means: ref.means, covariances: ref.covariances };
        expect(r.params.covarianceType).toBe(type);
        // No regularization or reinitialization (degenerate components of tiny random cases are only flagged).
        expect(r.trace[0]?.events.filter((e) => e.type !== 'degenerate')).toEqual([]);
        expect(gmmParamsDiscrepancy(r.params, expected)).toBeLessThanOrEqual(PARAM_TOL);
        // the E-step's log-likelihood at θ0 (float32 terms, float64 sums)
        const ll = r.trace[0]?.logLikelihood as number;
        expect(Math.abs(ll - ref.logLikelihood)).toBeLessThanOrEqual(LOG_DENSITY_REL_TOL * Math.max(Math.abs(ref.logLikelihood), c.rows.length));
        // structural facts of each type
        const d = c.d;
        for (const cov of r.params.covariances) {
          for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
            if (type !== 'full' && type !== 'tied' && i !== j) expect(cov[i]![j]).toBe(0);
            if (type === 'spherical') expect(cov[i]![i]).toBe(cov[0]![0]);
          }
        }
        if (type === 'tied') for (const cov of r.params.covariances) expect(cov).toEqual(r.params.covariances[0]);
      }),
      RUNS,
    );
  });
});

describe('a narrow component far from the data mean (precision regression)', () => {
  // Here x̄ = 3.33 and the component at 10 has σ² = 1e-6: the quadratic-feature table alone has
  // ~2⁻²⁴·6.67²/1e-6 ≈ 2.7 nats of possible error (it gave log p(10) = 6 instead of 5.2957); the
  // component now takes the centred path (small data, and ρ above CENTRED_PATH_CONDITION).
  it('scoreSamples agrees with the float64 reference', () => {
    const rows = [[0], [1], [2], [3], [4], [10]];
    const params: GmmParams = { covarianceType: 'full', weights: [0.5, 0.5], means: [[2], [10]], covariances: [[[2]], [[1e-6]]] };
    const got = gaussianMixture({ nComponents: 2 }).scoreSamples(params, rows);
    const ref = refLogDensity(rows, params.weights, params.means, params.covariances).logProb;
    got.forEach((v, i) => expect(Math.abs(v - (ref[i] as number))).toBeLessThanOrEqual(LOG_DENSITY_REL_TOL * Math.max(Math.abs(ref[i] as number), 1)));
  });
});

describe('a component carried by about one row (precision regression)', () => {
  // Statistics about the data mean cancel catastrophically in s2 − n·shift·shiftᵀ for a component
  // whose weight sits on about one row away from the data mean: the covariance came out wrong by
  // ~0.76 and even below regCovar (7.3e-7 < 1e-6). Fixed by the centred path, the cancellation
  // guard (recomputeCancelled) and clamping negative scatter diagonals to 0.
  it.each([
    { k: 2, d: 2, type: 'full' as const, seed: 2147483644 }, // n_k = 0.99984, Σ_11: 7.3e-7 instead of 3.07e-6
    { k: 2, d: 4, type: 'diag' as const, seed: 114952506 }, // n_k = 1.0007, variances ~5e-6 off by 0.7 %
  ])('one EM step agrees with the float64 reference (K=$k D=$d $type seed $seed), and every variance stays ≥ regCovar', async ({ k, d, type, seed }) => {
    const c = makeMixtureCase(k, d, type, seed);
    const g = gaussianMixture({ nComponents: k, covarianceType: type });
    const r = await fit(g, c.rows, { init: c.params, maxIter: 1, tol: 0, ...quiet });
    const ref = refEmStep(c.rows, c.params, type, g.regCovar);
    expect(Math.min(...ref.nk)).toBeCloseTo(1, 2);
    for (const cov of r.params.covariances) for (let i = 0; i < d; i++) expect((cov[i] as number[])[i]).toBeGreaterThanOrEqual(g.regCovar);
    expect(gmmParamsDiscrepancy(r.params, { covarianceType: type, weights: ref.weights, means: ref.means, covariances: ref.covariances })).toBeLessThanOrEqual(PARAM_TOL);
  });
});
