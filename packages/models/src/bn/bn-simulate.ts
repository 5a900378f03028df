/**
 * Parametric-bootstrap draws for Bayesian networks: the model's `simulate` hook.
 * @module
 */
import { emError, type Rng } from '@emlab/core';
import type { BayesNet, BnData } from './bn-types.js';
import { topologicalOrder } from './bn-validate.js';

/**
 * Rows drawn by ancestral sampling from the network with the CPTs of `params`, shaped like `like`:
 * the same columns in the same order, the same number of rows, and the cells missing (−1) in `like`
 * missing again. Nodes that are not columns stay hidden. Randomness only from `rng` (one uniform per
 * node and row, parents first).
 * @throws EmError `INVALID_DATA` when `like` names a node that is not in the network.
 * @category Bayesian networks
 */
export function bnSimulate(net: BayesNet, params: { readonly cpts: Readonly<Record<string, readonly number[]>> }, like: BnData, rng: Rng): BnData {
  const index = new Map(net.nodes.map((node, i) => [node.name, i]));
  const colNode = like.columns.map((c, j) => {
    const i = index.get(c);
    if (i === undefined) throw emError('INVALID_DATA', ['like', 'columns', j], c, 'is not a node of the network', 'pass data over the network\'s nodes');
    return i;
  });
  const order = topologicalOrder(net);
  const cards = net.nodes.map((node) => node.states.length);
  const parents = net.nodes.map((node) => node.parents.map((p) => index.get(p) as number));
  const cpts = net.nodes.map((node) => params.cpts[node.name] as readonly number[]);
  const cols = like.columns.length;
  const values = new Int32Array(like.nRows * cols);
  const row = new Int32Array(net.nodes.length);
  for (let r = 0; r < like.nRows; r++) {
    for (const v of order) {
      let c = 0;
      for (const p of parents[v] as number[]) c = c * (cards[p] as number) + (row[p] as number);
      const k = cards[v] as number;
      const cpt = cpts[v] as readonly number[];
      const u = rng.uniform();
      let acc = 0;
      let s = k - 1;
      for (let j = 0; j < k; j++) {
        acc += cpt[c * k + j] as number;
        if (u < acc) {
          s = j;
          break;
        }
      }
      row[v] = s;
    }
    for (let j = 0; j < cols; j++) values[r * cols + j] = (like.values[r * cols + j] as number) < 0 ? -1 : (row[colNode[j] as number] as number);
  }
  return { columns: like.columns.slice(), nRows: like.nRows, values };
}
