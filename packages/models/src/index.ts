export { CENTRED_PATH_CONDITION, GaussianMixture, SMALL_DATA_CELLS, gaussianMixture, validateGmmParams } from './gmm/gaussian-mixture.js';
export type { GaussianMixtureOptions, GmmNumerics, GmmStructure } from './gmm/gaussian-mixture.js';
export { gaussianCovariances, gaussianMoments, gmmExpectedLogJoint, gmmMStep, gmmParameterCount, gmmRoundoffScale, gmmStatsAlgebra, factorCovariances, packParams, inverseTrace, regularizationSlack, rereference, flatCovariance, EMPTY_COMPONENT_WEIGHT } from './gmm/gmm-math.js';
export type { CovarianceFactors, ReinitSource } from './gmm/gmm-math.js';
export { BLOCK_ROWS, blockLayout, blockRows, blockStats, featureCount, quadraticPairs, gmmFeatures, matrixShape, prepareGmmData, readMatrix } from './gmm/gmm-data.js';
export type { DataBlock, FeatureLayout, GmmPrepared } from './gmm/gmm-data.js';
export { COVARIANCE_TYPES } from './gmm/gmm-types.js';
export type { CovarianceType, DenseMatrix, GmmData, GmmParams, GmmStats } from './gmm/gmm-types.js';
