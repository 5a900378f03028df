/**
 * The special functions the variational-Bayes maths uses, from core's
 * `special-functions.ts`. Core's index does not export them yet; once it does,
 * this one import becomes `from '@emlab/core'`.
 * @module
 */
export { digamma, logBeta, logGamma, multivariateLogGamma } from '@emlab/core';
