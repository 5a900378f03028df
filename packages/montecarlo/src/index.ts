export { stochasticEStep } from './stochastic-estep.js';
export type { StochasticEStepOptions } from './stochastic-estep.js';
export { STOCHASTIC_OPTIONS } from './stochastic-estep.js';
