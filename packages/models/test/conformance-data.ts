// Data arbitraries of the models' conformance tests, and the Gaussian-mixture registrations.
import fc from 'fast-check';
import { createRng } from '@emlab/core';
import { gaussianMixture, sampleNetwork, type BayesNet, type BnData, type CovarianceType } from '@emlab/models';
import { checkModel, mixtureCaseArb } from '@emlab/testing';

/**
 * Mixture rows (1–3 generating components, D ≤ 3, 3·(D+1) to 3.6·(D+1) rows per component), shuffled;
 * with `missing`, rows after the first 2·K·(D+1) lose one entry with probability 0.3, so every
 * column and every pair of columns stays observed in enough rows for every covariance type.
 */
export function gmmData(covarianceType: CovarianceType, missing: boolean): fc.Arbitrary<number[][]> {
  return mixtureCaseArb({ maxK: 3, maxD: 3, covarianceTypes: [covarianceType], perComponent: 3 }).map((c) => {
    if (!missing) return c.rows;
    const rng = createRng(c.seed).child('conformance-mask');
    const keep = 2 * c.k * (c.d + 1);
    return c.rows.map((row, r) => {
      if (r < keep || rng.uniform() >= 0.3) return row;
      const j = rng.int(c.d);
      return row.map((v, i) => (i === j ? Number.NaN : v));
    });
  });
}

/** Data sampled from a network: 10–60 rows, the `hide` nodes dropped, each cell missing with probability `missingRate`. */
export function bnData(net: BayesNet, hide: readonly string[], missingRate: number): fc.Arbitrary<BnData> {
  return fc.record({ n: fc.integer({ min: 10, max: 60 }), seed: fc.integer({ min: 0, max: 1_000_000 }) }).map(({ n, seed }) => sampleNetwork(net, n, seed, { missingRate, hide }));
}

/**
 * Registers the kit for Gaussian mixtures (K = 2) of the given covariance types, complete or with
 * missing entries, with the EM methods (the gradient baseline runs the kit in
 * packages/core/test/conformance.test.ts; it fits complete data only).
 */
export function checkGaussianMixtures(covarianceTypes: readonly CovarianceType[], missing: boolean): void {
  for (const covarianceType of covarianceTypes) {
    checkModel(gaussianMixture({ nComponents: 2, covarianceType }), gmmData(covarianceType, missing), {
      label: `conformance: gmm ${covarianceType}${missing ? ' with missing entries' : ''}`,
      methods: ['exact', 'hard', 'stochastic'],
    });
  }
}
