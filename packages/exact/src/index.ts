export { exactEStep } from './exact-estep.js';
