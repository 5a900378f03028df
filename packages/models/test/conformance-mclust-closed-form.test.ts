// The conformance kit on mclust's covariance models with closed-form M-steps, complete data and
// missing entries (latent), and the univariate E and V, with every method registered for finite
// structures.
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { checkMclustModels } from './conformance-mixture-data.js';

checkMclustModels(['EII', 'VII', 'EEI', 'EVI', 'VVI', 'EEE', 'EEV', 'EVV', 'VVV'], false);
checkMclustModels(['VVV'], true);
checkMclustModels(['E', 'V'], false);
