export { hardChoice, hardEStep } from './hard-estep.js';
