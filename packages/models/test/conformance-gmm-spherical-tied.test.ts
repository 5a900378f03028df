// The conformance kit on the Gaussian mixture, covariance types 'spherical' and 'tied', complete data,
// with the EM methods (split by covariance type to keep each test file short).
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { checkGaussianMixtures } from './conformance-data.js';

checkGaussianMixtures(['spherical', 'tied'], false);
