// Data arbitraries of the mixture models' conformance tests (mixed-type rows with missing cells,
// regression rows) and the registration helper for mclust's covariance models.
import fc from 'fast-check';
import { createRng, fit } from '@emlab/core';
import { COVARIANCE_MODEL_DESCRIPTORS, MixtureModel, mclustMixture, type CovarianceModel, type MixtureData, type MixtureParams } from '@emlab/models';
import { checkModel, mixtureCaseArb } from '@emlab/testing';
import { gmmData } from './conformance-data.js';

/** Covariance types of the gmm arbitraries whose generated data each mclust model is checked on. */
const GMM_TYPE_OF: Readonly<Record<string, 'full' | 'diag' | 'spherical' | 'tied'>> = {
  EII: 'spherical', VII: 'spherical', EEI: 'diag', VEI: 'diag', EVI: 'diag', VVI: 'diag',
  EEE: 'tied', VEE: 'full', EVE: 'full', VVE: 'full', EEV: 'full', VEV: 'full', EVV: 'full', VVV: 'full',
};

/**
 * Start parameters for the kit: one EM iteration from the model's own initialization, then the
 * means of Gaussian and Student-t families moved by 0.3 standard deviations (seeded). The families
 * keep their statistics about the component means (for precision), so at an E-step fixed point —
 * which the model's initialization often is on the kit's well-separated data — the first moments
 * are zero up to rounding, and the kit's relative comparison of statistics would compare rounding
 * noise. At a generic start they are of the data's scale, and the additivity check is meaningful.
 */
export function genericStart(model: MixtureModel): (data: MixtureData, seed: number) => Promise<MixtureParams> {
  return async (data, seed) => {
    const r = await fit(model, data, { maxIter: 1, tol: 0, seed, onWarning: () => undefined });
    const rng = createRng(seed).child('conformance-generic-start');
    const families = r.params.families.map((f) => {
      const g = f as { means?: number[][]; covariances?: number[][][] };
      if (g.means === undefined || g.covariances === undefined) return f;
      const covs = g.covariances;
      return { ...g, means: g.means.map((m, k) => m.map((v, i) => v + 0.3 * Math.sqrt(((covs[k] as number[][])[i] as number[])[i] as number) * rng.normal())) };
    });
    return { ...r.params, families };
  };
}

/**
 * Registers the kit for mclust mixtures (K = 2) of the given covariance models on the Gaussian
 * mixture arbitraries (D ≤ 3; with `missing`, entries missing at random as latent variables).
 */
export function checkMclustModels(models: readonly CovarianceModel[], missing: boolean, methods?: readonly string[]): void {
  for (const covariance of models) {
    // The iterative M-steps stop at a relative tolerance (√ε by default): two fits of the same
    // problem (weights vs repeated rows) then agree to about that tolerance, not to the kit's 1e-9.
    // Here they iterate to 1e-14, on at least 8·(D+1) rows per component: on the kit's smallest
    // data (3·(D+1) rows) their objectives are nearly flat, and the two fits stop 1e-9 to 1e-5 apart
    // however tight the tolerance, which says nothing about the weights.
    const iterative = COVARIANCE_MODEL_DESCRIPTORS[covariance].iterative;
    const model = iterative ? new MixtureModel({ nComponents: 2, family: { family: 'gaussian', covariance, mstepTol: 1e-14 } }, 'mclust', 'hc') : mclustMixture({ nComponents: 2, covariance });
    const univariate = COVARIANCE_MODEL_DESCRIPTORS[covariance].univariate;
    // E and V model one column: one-column rows from the same generator.
    const data = univariate ? mixtureCaseArb({ maxK: 3, minD: 1, maxD: 1, covarianceTypes: ['spherical'], perComponent: 3 }).map((c) => c.rows) : gmmData(GMM_TYPE_OF[covariance] ?? 'full', missing, iterative ? 8 : 3);
    checkModel(model, data, {
      params: genericStart(model),
      label: `conformance: mclust ${covariance}${missing ? ' with missing entries' : ''}`,
      ...(methods === undefined ? {} : { methods }),
    });
  }
}

/**
 * Mixed-type rows [gaussian, count, binary, category in 0…2] from two components, 16–48 rows; from
 * row 8 on, count and category cells are missing with probability 0.2 (marginalized) and Gaussian
 * cells with probability 0.1 (latent).
 */
export function mixedData(): fc.Arbitrary<number[][]> {
  return fc.record({ n: fc.integer({ min: 16, max: 48 }), seed: fc.integer({ min: 0, max: 1_000_000 }) }).map(({ n, seed }) => {
    const rng = createRng(seed).child('mixed-type');
    const rows: number[][] = [];
    for (let r = 0; r < n; r++) {
      const k = r % 2;
      const rate = k === 0 ? 1.5 : 6;
      let count = 0;
      for (let p = Math.exp(-rate), u = rng.uniform(), c = p; u > c && count < 100; ) {
        count++;
        p *= rate / count;
        c += p;
      }
      const row = [rng.normal() + 3 * k, count, rng.uniform() < (k === 0 ? 0.2 : 0.7) ? 1 : 0, rng.categorical(k === 0 ? [0.6, 0.3, 0.1] : [0.1, 0.3, 0.6])];
      if (r >= 8) {
        if (rng.uniform() < 0.1) row[0] = Number.NaN;
        if (rng.uniform() < 0.2) row[1] = Number.NaN;
        if (rng.uniform() < 0.2) row[3] = Number.NaN;
      }
      rows.push(row);
    }
    return rows;
  });
}

/** Rows [y, x, t > 0]: two regression lines of y on x (16–48 rows), and a positive column t for an exponential family. */
export function regressionData(): fc.Arbitrary<number[][]> {
  return fc.record({ n: fc.integer({ min: 16, max: 48 }), seed: fc.integer({ min: 0, max: 1_000_000 }) }).map(({ n, seed }) => {
    const rng = createRng(seed).child('regression');
    return Array.from({ length: n }, (_, r) => {
      const k = r % 2;
      const x = 4 * rng.uniform() - 2;
      const y = (k === 0 ? 1 + 2 * x : -1 - x) + 0.3 * rng.normal();
      const t = -Math.log(1 - rng.uniform()) * (k === 0 ? 1 : 4);
      return [y, x, t];
    });
  });
}
