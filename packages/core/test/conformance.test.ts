// The conformance kit on the gradient-ascent baseline (a method of every structure kind whose model
// has a gradient adapter): its fit properties on the Gaussian mixture, every covariance type, and its
// option schema. Gradient fits cost ~100 EM iterations each, hence fewer cases.
import fc from 'fast-check';
import { gradientMethod } from '@emlab/core';
import '@emlab/exact';
import { COVARIANCE_TYPES, gaussianMixture } from '@emlab/models';
import { checkEStep, mixtureCaseArb } from '@emlab/testing';

const data = (covarianceType: (typeof COVARIANCE_TYPES)[number]): fc.Arbitrary<unknown> =>
  mixtureCaseArb({ maxK: 3, maxD: 3, covarianceTypes: [covarianceType], perComponent: 3 }).map((c) => c.rows);

// L-BFGS (the default) on every covariance type; Adam on two.
for (const [optimizer, types] of [['lbfgs', COVARIANCE_TYPES], ['adam', ['full', 'spherical']]] as const) {
  checkEStep(gradientMethod({ optimizer }), undefined, {
    label: `conformance: method gradient (${optimizer})`,
    numRuns: 5,
    fitCases: types.map((covarianceType) => ({ label: `gmm ${covarianceType}`, model: gaussianMixture({ nComponents: 2, covarianceType }), data: data(covarianceType) })),
  });
}
