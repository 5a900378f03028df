/**
 * Forward (ancestral) sampling from a discrete Bayesian network, with optional MCAR masking.
 * @module
 */
import { createRng, emError, validateSeed, type Seed } from '@emlab/core';
import type { BayesNet, BnData, BnNode } from './bn-types.js';
import { topologicalOrder, validateNetwork } from './bn-validate.js';

/** Options of {@link sampleNetwork}. @category Bayesian networks */
export interface SampleNetworkOptions {
  /** Probability that each observed cell is set missing (−1), independently (MCAR). Default 0; in [0, 1). */
  readonly missingRate?: number;
  /** Nodes left out of the data (hidden): sampled, then dropped. Default none. */
  readonly hide?: readonly string[];
  /** Receives renormalization warnings from {@link validateNetwork}. */
  readonly onWarning?: (message: string) => void;
}

/**
 * Draws `nRows` independent rows from the joint distribution of the network by ancestral
 * sampling (parents before children, one uniform per node and row, inverse CDF of its CPT row).
 *
 * Random streams (from `createRng(seed)`): `bn-sample/values` for the values, row after row, so
 * the first rows of a larger sample equal a smaller sample; `bn-sample/mask` for the MCAR mask,
 * so the values do not depend on `missingRate`.
 *
 * @param net - The network (validated first; rounded CPTs renormalized).
 * @param nRows - Number of rows, an integer >= 1.
 * @param seed - Root seed (a safe integer or a non-empty string).
 * @param options - `missingRate`, `hide`, `onWarning`.
 * @returns Data over the non-hidden nodes in network order.
 * @throws EmError `INVALID_ARGUMENT` (nRows, seed, options, network structure), `INVALID_PARAMS` (CPTs).
 * @example
 * ```ts
 * const data = sampleNetwork(asia, 10_000, 42, { missingRate: 0.2, hide: ['either'] });
 * ```
 * @category Bayesian networks
 */
export function sampleNetwork(net: BayesNet, nRows: number, seed: Seed, options: SampleNetworkOptions = {}): BnData {
  if (typeof options !== 'object' || options === null) throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an options object', 'pass { missingRate, hide } or omit it');
  for (const key of Object.keys(options)) {
    if (!['missingRate', 'hide', 'onWarning'].includes(key)) throw emError('INVALID_ARGUMENT', ['options', key], (options as Record<string, unknown>)[key], 'is not an option of sampleNetwork', 'use missingRate, hide or onWarning');
  }
  const checked = validateNetwork(net, options.onWarning === undefined ? {} : { onWarning: options.onWarning });
  if (typeof nRows !== 'number' || !Number.isSafeInteger(nRows) || nRows < 1) {
    throw emError('INVALID_ARGUMENT', ['nRows'], nRows, 'must be an integer >= 1', 'pass the number of rows to draw, e.g. 1000');
  }
  validateSeed(seed, ['seed']);
  const missingRate = options.missingRate ?? 0;
  if (typeof missingRate !== 'number' || !Number.isFinite(missingRate) || missingRate < 0 || missingRate >= 1) {
    throw emError('INVALID_ARGUMENT', ['options', 'missingRate'], missingRate, 'must be a number in [0, 1)', 'pass e.g. missingRate: 0.2 (the fraction of cells set missing)');
  }
  const names = checked.nodes.map((n) => n.name);
  const hidden = new Set<string>();
  if (options.hide !== undefined) {
    if (!Array.isArray(options.hide)) throw emError('INVALID_ARGUMENT', ['options', 'hide'], options.hide, 'must be an array of node names', 'pass e.g. hide: ["either"]');
    for (const h of options.hide as unknown[]) {
      if (typeof h !== 'string' || !names.includes(h)) throw emError('INVALID_ARGUMENT', ['options', 'hide'], h, 'is not a node of the network', `name nodes of the network (${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`);
      hidden.add(h);
    }
  }

  const order = topologicalOrder(checked);
  const index = new Map(names.map((n, i) => [n, i] as const));
  const n = checked.nodes.length;
  // Per node: parent indices, strides, cumulative CPT rows (normalized by their total).
  const parentIdx = checked.nodes.map((node) => node.parents.map((p) => index.get(p) as number));
  const cards = checked.nodes.map((node) => node.states.length);
  const cumulative = checked.nodes.map((node: BnNode) => {
    const card = node.states.length;
    const cum = new Float64Array(node.cpt.length);
    for (let start = 0; start < cum.length; start += card) {
      let total = 0;
      for (let k = 0; k < card; k++) total += node.cpt[start + k] as number;
      let acc = 0;
      for (let k = 0; k < card; k++) {
        acc += node.cpt[start + k] as number;
        cum[start + k] = acc / total;
      }
    }
    return cum;
  });

  const rng = createRng(seed).child('bn-sample');
  const values = rng.child('values');
  const columns = names.filter((nm) => !hidden.has(nm));
  const colNode = columns.map((c) => index.get(c) as number);
  const cols = columns.length;
  const out = new Int32Array(nRows * cols);
  const row = new Int32Array(n);
  for (let r = 0; r < nRows; r++) {
    for (const i of order) {
      const ps = parentIdx[i] as number[];
      let config = 0;
      for (const p of ps) config = config * (cards[p] as number) + (row[p] as number);
      const card = cards[i] as number;
      const cum = cumulative[i] as Float64Array;
      const start = config * card;
      const u = values.uniform();
      let k = 0;
      while (k < card - 1 && !(u < (cum[start + k] as number))) k++;
      // Rounding (u above the last cumulative value < 1): fall back to the last state with mass.
      while (k > 0 && (cum[start + k] as number) === (cum[start + k - 1] as number)) k--;
      row[i] = k;
    }
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[base + c] = row[colNode[c] as number] as number;
  }
  if (missingRate > 0) {
    const mask = rng.child('mask');
    for (let j = 0; j < out.length; j++) if (mask.uniform() < missingRate) out[j] = -1;
  }
  return { columns, nRows, values: out };
}
