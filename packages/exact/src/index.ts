export { exactEStep } from './exact-estep.js';
export { MAX_TABLE_ENTRIES, factorGraphExactEStep, posteriorMarginals } from './factor-graph-estep.js';
export type { FactorGraphEvidence, FactorGraphExactOptions, PosteriorMarginals } from './factor-graph-estep.js';
export { buildJunctionTree, mergeRuns } from './junction-tree.js';
export type { JtClique, JunctionTree, JunctionTreeHeuristic, JunctionTreeOptions } from './junction-tree.js';
