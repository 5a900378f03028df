// The conformance kit on the Gaussian mixture, every covariance type, complete data, with the EM
// methods (the gradient baseline runs the kit in packages/core/test/conformance.test.ts; rows with
// missing entries in conformance-gmm-missing.test.ts).
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { COVARIANCE_TYPES, gaussianMixture } from '@emlab/models';
import { checkModel } from '@emlab/testing';
import { gmmData } from './conformance-data.js';

for (const covarianceType of COVARIANCE_TYPES) {
  checkModel(gaussianMixture({ nComponents: 2, covarianceType }), gmmData(covarianceType, false), {
    label: `conformance: gmm ${covarianceType}`,
    methods: ['exact', 'hard', 'stochastic'],
  });
}
