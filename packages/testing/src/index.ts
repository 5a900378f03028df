export { expectNoTensorLeak } from './leak.js';
export { FLOAT32_REL_TOL, RESP_SUM_TOL, closeRel } from './tolerances.js';
export { mixtureCaseArb, makeMixtureCase, randomResponsibilities, randomPermutation, allPermutations, permuteComponents } from './arbitraries.js';
export type { MixtureCase, MixtureCaseOptions, ResponsibilityStyle } from './arbitraries.js';
export { refCholesky, refInverse, refLogDet, refLogSumExp, refLogDensity, refEmStep } from './reference-gmm.js';
export type { RefCovarianceType, RefGmmParams, RefEmStepResult } from './reference-gmm.js';
export { tableStructure, tableStatsAlgebra } from './finite-table.js';
export type { TableStats } from './finite-table.js';
