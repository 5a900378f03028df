// The conformance kit on mclust's covariance models with iterative M-steps (VEI, VEE, EVE, VVE, VEV),
// complete data, with every method registered for finite structures.
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { checkMclustModels } from './conformance-mixture-data.js';

checkMclustModels(['VEI', 'VEE', 'EVE', 'VVE', 'VEV'], false);
