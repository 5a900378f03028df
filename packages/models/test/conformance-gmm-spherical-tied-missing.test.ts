// The conformance kit on the Gaussian mixture, covariance types 'spherical' and 'tied', missing entries (NaN cells are latent),
// with the EM methods (split by covariance type to keep each test file short).
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { checkGaussianMixtures } from './conformance-data.js';

checkGaussianMixtures(['spherical', 'tied'], true);
