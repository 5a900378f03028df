/**
 * Discrete Bayesian network types shared by the BN readers/writers, the model and the CLI.
 * @module
 */

/**
 * One node: a discrete variable with named states, its parents and its CPT.
 *
 * CPT layout: a flat row-major table over `[...parentCardinalities, ownCardinality]`, parents in
 * `parents` order (first parent slowest), the node's own state the last (fastest) axis, so each
 * run of `states.length` consecutive numbers is one distribution P(node | parent configuration)
 * and sums to 1. This is the order of BIF `probability ( X | A, B ) { (a, b) p1, p2; }` rows.
 * @category Bayesian networks
 */
export interface BnNode {
  readonly name: string;
  readonly states: readonly string[];
  readonly parents: readonly string[];
  readonly cpt: readonly number[];
}

/** A discrete Bayesian network: nodes in any order (validation checks the DAG). @category Bayesian networks */
export interface BayesNet {
  readonly name: string;
  readonly nodes: readonly BnNode[];
}

/**
 * Discrete data over some of a network's nodes: `values[r * columns.length + c]` is the state
 * index of node `columns[c]` in row `r`, or −1 when the cell is missing. Nodes of the network that
 * are not in `columns` are hidden (never observed).
 * @category Bayesian networks
 */
export interface BnData {
  readonly columns: readonly string[];
  readonly nRows: number;
  readonly values: Int32Array;
}
