// The conformance kit on the Gaussian mixture with missing entries (NaN cells are latent), every
// covariance type, with the EM methods (the gradient baseline fits complete data only).
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { COVARIANCE_TYPES, gaussianMixture } from '@emlab/models';
import { checkModel } from '@emlab/testing';
import { gmmData } from './conformance-data.js';

for (const covarianceType of COVARIANCE_TYPES) {
  checkModel(gaussianMixture({ nComponents: 2, covarianceType }), gmmData(covarianceType, true), {
    label: `conformance: gmm ${covarianceType} with missing entries`,
    methods: ['exact', 'hard', 'stochastic'],
  });
}
