export { exactEStep } from './exact-estep.js';
export { factorGraphExactEStep, posteriorMarginals } from './factor-graph-estep.js';
export type { FactorGraphEvidence, PosteriorMarginals } from './factor-graph-estep.js';
export { buildJunctionTree, mergeRuns } from './junction-tree.js';
export type { JtClique, JunctionTree, JunctionTreeHeuristic, JunctionTreeOptions } from './junction-tree.js';
