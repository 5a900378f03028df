export { stochasticEStep } from './stochastic-estep.js';
export type { StochasticEStepOptions } from './stochastic-estep.js';
export { STOCHASTIC_OPTIONS } from './stochastic-estep.js';
export { CHAIN_STOCHASTIC_OPTIONS, chainStochasticChoice, chainStochasticEStep } from './chain-stochastic-estep.js';
export type { ChainStochasticEStepOptions } from './chain-stochastic-estep.js';
