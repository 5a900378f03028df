/**
 * Built-in Bayesian networks (suites name them as `"bif": "asia"`; tests use them directly).
 * @module
 */
import type { BayesNet, BnNode } from './bn-types.js';

const yn = ['yes', 'no'];
const node = (name: string, parents: string[], cpt: number[]): BnNode => ({ name, states: yn, parents, cpt });

/**
 * The asia network (Lauritzen & Spiegelhalter 1988; bnlearn's `asia.bif`):
 * 8 binary nodes, states `["yes", "no"]`, CPT rows with the first parent slowest.
 * @see Lauritzen, S. L. & Spiegelhalter, D. J. (1988). Local computations with probabilities on graphical structures and their application to expert systems. JRSS B 50, 157–224.
 * @category Bayesian networks
 */
export function asiaNetwork(): BayesNet {
  return {
    name: 'asia',
    nodes: [
      node('asia', [], [0.01, 0.99]),
      node('tub', ['asia'], [0.05, 0.95, 0.01, 0.99]),
      node('smoke', [], [0.5, 0.5]),
      node('lung', ['smoke'], [0.1, 0.9, 0.01, 0.99]),
      node('bronc', ['smoke'], [0.6, 0.4, 0.3, 0.7]),
      node('either', ['lung', 'tub'], [1, 0, 1, 0, 1, 0, 0, 1]),
      node('xray', ['either'], [0.98, 0.02, 0.05, 0.95]),
      node('dysp', ['bronc', 'either'], [0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.1, 0.9]),
    ],
  };
}

/** Built-in networks by name. @category Bayesian networks */
export const BUILTIN_NETWORKS: Readonly<Record<string, () => BayesNet>> = Object.freeze({ asia: asiaNetwork });
