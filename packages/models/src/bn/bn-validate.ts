/**
 * Validation of discrete Bayesian networks: structure (names, states, parents, acyclicity) and
 * CPTs (shape, entries, normalization), with typed errors that name the node.
 *
 * Structural problems are `INVALID_ARGUMENT`, CPT problems `INVALID_PARAMS`; every path starts
 * `network.nodes.<node name>` so the message names the node.
 *
 * @module
 */
import { emError, type EmError } from '@emlab/core';
import type { BayesNet, BnNode } from './bn-types.js';

/**
 * A CPT column (one distribution P(node | parent configuration)) whose sum is within this of 1 is
 * accepted unchanged (float64 rounding of a sum of a few terms).
 * @category Bayesian networks
 */
export const CPT_SUM_EXACT = 1e-12;

/**
 * A CPT column whose sum is off by more than {@link CPT_SUM_EXACT} but at most this is
 * renormalized with a warning (published BIF files are rounded); beyond it, it is an error.
 * @category Bayesian networks
 */
export const CPT_SUM_TOLERANCE = 1e-3;

/** Options of {@link validateNetwork}. @category Bayesian networks */
export interface ValidateNetworkOptions {
  /** Receives renormalization warnings. Default `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
}

const ROOT = 'network';

function nodePath(name: string, ...rest: (string | number)[]): (string | number)[] {
  return [ROOT, 'nodes', name, ...rest];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks types, names, states and parents (not acyclicity, not CPT values).
 * Returns the name → index map.
 * @internal
 */
export function checkNetworkStructure(net: unknown): Map<string, number> {
  if (!isRecord(net)) {
    throw emError('INVALID_ARGUMENT', [ROOT], net, 'must be a Bayesian network object { name, nodes }', 'pass a network from readNetwork, parseBif or parseBnJson');
  }
  if (typeof net.name !== 'string') {
    throw emError('INVALID_ARGUMENT', [ROOT, 'name'], net.name, 'must be a string', 'give the network a name, e.g. "asia"');
  }
  const nodes = net.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw emError('INVALID_ARGUMENT', [ROOT, 'nodes'], nodes, 'must be a non-empty array of nodes', 'pass at least one node { name, states, parents, cpt }');
  }
  const index = new Map<string, number>();
  nodes.forEach((node: unknown, i) => {
    if (!isRecord(node)) {
      throw emError('INVALID_ARGUMENT', [ROOT, 'nodes', i], node, 'must be a node object { name, states, parents, cpt }', 'fix the node definition');
    }
    const name = node.name;
    if (typeof name !== 'string' || name === '') {
      throw emError('INVALID_ARGUMENT', [ROOT, 'nodes', i, 'name'], name, 'must be a non-empty string', 'give every node a unique non-empty name');
    }
    const prev = index.get(name);
    if (prev !== undefined) {
      throw emError('INVALID_ARGUMENT', nodePath(name), name, `node ${JSON.stringify(name)} is defined twice (nodes ${prev} and ${i})`, 'give every node a unique name, or remove the duplicate');
    }
    index.set(name, i);
    const states = node.states;
    if (!Array.isArray(states) || states.length === 0) {
      throw emError('INVALID_ARGUMENT', nodePath(name, 'states'), states, `node ${JSON.stringify(name)} must have a non-empty array of state names`, 'list the states, e.g. ["yes", "no"]');
    }
    const seen = new Set<string>();
    for (const s of states as unknown[]) {
      if (typeof s !== 'string' || s === '') {
        throw emError('INVALID_ARGUMENT', nodePath(name, 'states'), s, `node ${JSON.stringify(name)} has a state that is not a non-empty string`, 'name every state with a non-empty string');
      }
      if (seen.has(s)) {
        throw emError('INVALID_ARGUMENT', nodePath(name, 'states'), s, `node ${JSON.stringify(name)} lists state ${JSON.stringify(s)} twice`, 'give every state of a node a unique name');
      }
      seen.add(s);
    }
    if (!Array.isArray(node.parents)) {
      throw emError('INVALID_ARGUMENT', nodePath(name, 'parents'), node.parents, `node ${JSON.stringify(name)} must have an array of parent names`, 'pass parents: [] for a root node');
    }
    if (!Array.isArray(node.cpt)) {
      throw emError('INVALID_PARAMS', nodePath(name, 'cpt'), node.cpt, `node ${JSON.stringify(name)} must have a CPT (an array of numbers)`, 'give the node its conditional probability table');
    }
  });
  for (const node of nodes as BnNode[]) {
    const seen = new Set<string>();
    for (const p of node.parents as unknown[]) {
      if (typeof p !== 'string' || !index.has(p)) {
        throw emError('INVALID_ARGUMENT', nodePath(node.name, 'parents'), p, `node ${JSON.stringify(node.name)} has an unknown parent ${typeof p === 'string' ? JSON.stringify(p) : String(p)}`, 'define the parent node, or remove it from the parents list');
      }
      if (seen.has(p)) {
        throw emError('INVALID_ARGUMENT', nodePath(node.name, 'parents'), p, `node ${JSON.stringify(node.name)} lists parent ${JSON.stringify(p)} twice`, 'list every parent once');
      }
      seen.add(p);
    }
  }
  return index;
}

/** Number of parent configurations of node `i` (product of parent cardinalities). @internal */
export function parentConfigCount(net: BayesNet, index: ReadonlyMap<string, number>, node: BnNode): number {
  let n = 1;
  for (const p of node.parents) n *= (net.nodes[index.get(p) as number] as BnNode).states.length;
  return n;
}

/** `lung=yes, tub=no` for configuration `config` (first parent slowest). @internal */
export function describeConfiguration(net: BayesNet, index: ReadonlyMap<string, number>, node: BnNode, config: number): string {
  const parts: string[] = [];
  let rest = config;
  for (let j = node.parents.length - 1; j >= 0; j--) {
    const p = net.nodes[index.get(node.parents[j] as string) as number] as BnNode;
    const k = p.states.length;
    parts.unshift(`${p.name}=${p.states[rest % k] as string}`);
    rest = Math.floor(rest / k);
  }
  return parts.length === 0 ? `P(${node.name})` : `P(${node.name} | ${parts.join(', ')})`;
}

/**
 * Checks CPT lengths and entries (finite, >= 0). Does not look at sums.
 * @internal
 */
export function checkCptShapes(net: BayesNet, index: ReadonlyMap<string, number>): void {
  for (const node of net.nodes) {
    const card = node.states.length;
    const configs = parentConfigCount(net, index, node);
    const need = configs * card;
    if (node.cpt.length !== need) {
      const dims = [...node.parents.map((p) => (net.nodes[index.get(p) as number] as BnNode).states.length), card].join(' × ');
      const family = node.parents.length === 0 ? `P(${node.name})` : `P(${node.name} | ${node.parents.join(', ')})`;
      throw emError(
        'INVALID_PARAMS',
        nodePath(node.name, 'cpt'),
        node.cpt,
        `the CPT of node ${JSON.stringify(node.name)} has ${node.cpt.length} entries but ${family} needs ${dims} = ${need}`,
        `give ${configs} distribution(s) of ${card} probabilities each, parent configurations in order (first parent slowest)`,
      );
    }
    for (let k = 0; k < need; k++) {
      const v = node.cpt[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        const where = `${describeConfiguration(net, index, node, Math.floor(k / card))}, state ${node.states[k % card] as string}`;
        throw emError(
          'INVALID_PARAMS',
          nodePath(node.name, 'cpt', k),
          v,
          `node ${JSON.stringify(node.name)} has a ${typeof v !== 'number' || !Number.isFinite(v) ? 'non-finite' : 'negative'} probability in ${where}`,
          'every CPT entry must be a finite number >= 0',
        );
      }
    }
  }
}

/**
 * Finds a directed cycle (parent → child edges) and returns its node names, first repeated last,
 * or `undefined` for a DAG.
 */
function findCycle(net: BayesNet, index: ReadonlyMap<string, number>): string[] | undefined {
  const n = net.nodes.length;
  const children: number[][] = Array.from({ length: n }, () => []);
  net.nodes.forEach((node, i) => {
    for (const p of node.parents) (children[index.get(p) as number] as number[]).push(i);
  });
  const colour = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  const visit = (start: number): string[] | undefined => {
    // Iterative DFS with explicit child cursors.
    const cursor: number[] = [0];
    stack.push(start);
    colour[start] = 1;
    while (stack.length > 0) {
      const v = stack[stack.length - 1] as number;
      const kids = children[v] as number[];
      const c = cursor[cursor.length - 1] as number;
      if (c < kids.length) {
        cursor[cursor.length - 1] = c + 1;
        const w = kids[c] as number;
        if (colour[w] === 1) {
          const from = stack.indexOf(w);
          return [...stack.slice(from), w].map((i) => (net.nodes[i] as BnNode).name);
        }
        if (colour[w] === 0) {
          colour[w] = 1;
          stack.push(w);
          cursor.push(0);
        }
      } else {
        colour[v] = 2;
        stack.pop();
        cursor.pop();
      }
    }
    return undefined;
  };
  for (let i = 0; i < n; i++) {
    if (colour[i] === 0) {
      const cycle = visit(i);
      if (cycle !== undefined) return cycle;
    }
  }
  return undefined;
}

function cycleError(cycle: readonly string[]): EmError {
  const text = cycle.join(' -> ');
  return emError(
    'INVALID_ARGUMENT',
    nodePath(cycle[0] as string, 'parents'),
    text,
    `the network has a directed cycle ${text} (node ${JSON.stringify(cycle[0])} is its own ancestor)`,
    'a Bayesian network must be a DAG: remove one of these parent links',
  );
}

/** Throws `INVALID_ARGUMENT` naming the cycle if the graph is not a DAG. @internal */
export function checkAcyclic(net: BayesNet, index: ReadonlyMap<string, number>): void {
  const cycle = findCycle(net, index);
  if (cycle !== undefined) throw cycleError(cycle);
}

/**
 * Node indices in a topological order (every parent before its children); among nodes whose
 * parents are all placed, the lowest index comes first, so the order is deterministic.
 *
 * @throws EmError `INVALID_ARGUMENT` for a malformed network, an unknown parent or a cycle (named).
 * @example
 * ```ts
 * const order = topologicalOrder(net); // e.g. [0, 2, 1, 3, ...]
 * ```
 * @category Bayesian networks
 */
export function topologicalOrder(net: BayesNet): number[] {
  const index = checkNetworkStructure(net);
  checkAcyclic(net, index);
  const n = net.nodes.length;
  const pending = net.nodes.map((node) => node.parents.length);
  const children: number[][] = Array.from({ length: n }, () => []);
  net.nodes.forEach((node, i) => {
    for (const p of node.parents) (children[index.get(p) as number] as number[]).push(i);
  });
  // Kahn's algorithm with a min-heap would be O(n log n); n is small, a sorted ready list is enough.
  const ready: number[] = [];
  for (let i = 0; i < n; i++) if (pending[i] === 0) ready.push(i);
  const order: number[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const v = ready.shift() as number;
    order.push(v);
    for (const w of children[v] as number[]) {
      pending[w] = (pending[w] as number) - 1;
      if (pending[w] === 0) ready.push(w);
    }
  }
  return order;
}

/**
 * Number of free parameters: Σ over nodes of (states − 1) × parent configurations
 * (e.g. 509 for ALARM, 18 for asia).
 * @throws EmError `INVALID_ARGUMENT` for a malformed network or an unknown parent.
 * @category Bayesian networks
 */
export function bnFreeParameterCount(net: BayesNet): number {
  const index = checkNetworkStructure(net);
  let total = 0;
  for (const node of net.nodes) total += (node.states.length - 1) * parentConfigCount(net, index, node);
  return total;
}

/**
 * Validates a network and returns a copy whose CPT columns sum to 1.
 *
 * Checks, in order, with typed errors whose path and message name the node:
 * - structure (`INVALID_ARGUMENT`): node names non-empty and unique, states non-empty and unique
 *   per node, parents known and listed once, no directed cycle (the message names it, e.g.
 *   `A -> B -> C -> A`);
 * - CPTs (`INVALID_PARAMS`): length = product of parent cardinalities × own cardinality, every
 *   entry finite and >= 0, every distribution summing to 1: within {@link CPT_SUM_EXACT} kept as
 *   is, within {@link CPT_SUM_TOLERANCE} renormalized with one warning per node, beyond rejected.
 *
 * @param net - The network (any node order).
 * @param options - `onWarning` receives renormalization warnings (default `process.emitWarning`).
 * @returns A new network object with copied arrays (renormalized where needed).
 * @throws EmError `INVALID_ARGUMENT` (structure), `INVALID_PARAMS` (CPTs).
 * @example
 * ```ts
 * const net = validateNetwork(parseBif(text), { onWarning: (m) => console.warn(m) });
 * ```
 * @category Bayesian networks
 */
export function validateNetwork(net: BayesNet, options: ValidateNetworkOptions = {}): BayesNet {
  if (typeof options !== 'object' || options === null) {
    throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an options object', 'pass { onWarning } or omit it');
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
    throw emError('INVALID_ARGUMENT', ['options', 'onWarning'], options.onWarning, 'must be a function', 'pass a function or leave onWarning unset');
  }
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m));
  const index = checkNetworkStructure(net);
  checkAcyclic(net, index);
  checkCptShapes(net, index);
  const nodes = net.nodes.map((node): BnNode => {
    const card = node.states.length;
    const cpt = node.cpt.slice();
    let fixed = 0;
    let worst = 0;
    let worstConfig = 0;
    for (let start = 0, c = 0; start < cpt.length; start += card, c++) {
      let sum = 0;
      for (let k = 0; k < card; k++) sum += cpt[start + k] as number;
      const dev = Math.abs(sum - 1);
      if (dev <= CPT_SUM_EXACT) continue;
      if (!(dev <= CPT_SUM_TOLERANCE)) {
        throw emError(
          'INVALID_PARAMS',
          nodePath(node.name, 'cpt'),
          sum,
          `node ${JSON.stringify(node.name)}: the distribution ${describeConfiguration(net, index, node, c)} sums to ${sum}, not 1 (off by more than ${CPT_SUM_TOLERANCE})`,
          `make each run of ${card} consecutive CPT entries (one parent configuration) sum to 1`,
        );
      }
      for (let k = 0; k < card; k++) cpt[start + k] = (cpt[start + k] as number) / sum;
      fixed++;
      if (dev > worst) {
        worst = dev;
        worstConfig = c;
      }
    }
    if (fixed > 0) {
      warn(
        `node ${JSON.stringify(node.name)}: renormalized ${fixed} of ${cpt.length / card} CPT distribution(s) that did not sum to 1 (largest deviation ${worst.toExponential(2)} in ${describeConfiguration(net, index, node, worstConfig)})`,
      );
    }
    return { name: node.name, states: node.states.slice(), parents: node.parents.slice(), cpt };
  });
  return { name: net.name, nodes };
}
