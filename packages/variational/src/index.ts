export { hardEStep } from './hard-estep.js';
