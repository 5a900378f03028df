export { expectNoTensorLeak } from './leak.js';
export { FLOAT32_REL_TOL, RESP_SUM_TOL, closeRel } from './tolerances.js';
