export { hardChoice, hardEStep } from './hard-estep.js';
export { chainHardChoice, chainHardEStep } from './chain-hard-estep.js';
