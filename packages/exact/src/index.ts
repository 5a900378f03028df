export { exactChoice, exactEStep } from './exact-estep.js';
export { FACTOR_GRAPH_EXACT_OPTIONS, MAX_TABLE_ENTRIES, factorGraphExactEStep } from './factor-graph-estep.js';
export type { FactorGraphExactOptions } from './factor-graph-estep.js';
export { posteriorMarginals } from './fg-queries.js';
export type { FactorGraphEvidence, PosteriorMarginals } from './fg-queries.js';
export { buildJunctionTree, mergeRuns } from './junction-tree.js';
export type { JtClique, JunctionTree, JunctionTreeHeuristic, JunctionTreeOptions } from './junction-tree.js';
export { CHAIN_EXACT_OPTIONS, chainExactChoice, chainExactEStep } from './chain-exact-estep.js';
export type { ChainExactEStepOptions } from './chain-exact-estep.js';
