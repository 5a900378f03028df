/**
 * Data-set kind `bayesian-network`: a network (a built-in name such as
 * `asia`, or a BIF / emlab JSON file relative to the suite) and rows sampled
 * from it with `sampleNetwork` (hidden nodes, MCAR cells). The truth is the
 * network; the data imply the network models' `network` and `hidden` options.
 * @module
 */
import { resolve } from 'node:path';
import { emError, type OptionSchema } from '@emlab/core';
import { BUILTIN_NETWORKS, readNetwork, sampleNetwork, type BayesNet, type BnData } from '@emlab/models';
import { registerDatasetKind, type DatasetContext } from '../dataset-registry.js';
import { reanchor } from '../suite.js';
import { seedOption } from './seed-option.js';
import { pickRows, splitRows } from './numeric-table.js';

/** The data type of sampled network tables (`BnData`): what the `bayesian-network` model registration reads. @category Data sets */
export const BN_TABLE = 'bn-table';

/** Options of the `bayesian-network` data-set kind. @category Data sets */
export const BAYESIAN_NETWORK_DATASET_OPTIONS = {
  network: { type: 'string', required: true, description: `a built-in network (${Object.keys(BUILTIN_NETWORKS).join(', ')}) or a .bif / .json file relative to the suite file` },
  nSamples: { type: 'integer', min: 1, required: true, description: 'rows to sample' },
  seed: seedOption('root seed of the sample', { default: 0 }),
  hidden: {
    type: 'custom',
    shape: 'a list of node names',
    description: 'nodes sampled and then dropped (latent in every row)',
    check: (v, path) => {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw emError('INVALID_ARGUMENT', path, v, 'must be a list of node names', 'pass e.g. ["either"]');
      return [...(v as string[])];
    },
  },
} as const satisfies OptionSchema;

async function network(o: Record<string, unknown>, ctx: DatasetContext): Promise<{ net: BayesNet; label: string }> {
  const spec = o['network'] as string;
  const at = [...ctx.path, 'options', 'network'];
  if (!/\.(bif|json)$/i.test(spec)) {
    const make = Object.hasOwn(BUILTIN_NETWORKS, spec) ? BUILTIN_NETWORKS[spec] : undefined;
    if (make === undefined) {
      throw emError('INVALID_ARGUMENT', at, spec, `is neither a .bif/.json file nor a built-in network (built-in: ${Object.keys(BUILTIN_NETWORKS).join(', ')})`, 'pass a network file relative to the suite, or a built-in name');
    }
    return { net: make(), label: `built-in network ${spec}` };
  }
  try {
    return { net: await readNetwork(resolve(ctx.baseDir, spec), { onWarning: () => {} }), label: spec };
  } catch (e) {
    throw reanchor(e, at, e instanceof Error && 'path' in e && Array.isArray((e as { path: unknown[] }).path) ? (e as { path: unknown[] }).path.length : 1);
  }
}

function takeRows(d: BnData, idx: readonly number[]): BnData {
  return { columns: d.columns, nRows: idx.length, values: pickRows(d.values, d.columns.length, idx) };
}

/**
 * Mean absolute CPT error against the true network (every entry of every node), or null when nodes
 * are hidden (their states are identifiable only up to relabelling) or the parameters are not CPTs.
 * @category Metrics
 */
export function cptError(params: unknown, truth: BayesNet, hidden: readonly string[]): number | null {
  const cpts = (params as { cpts?: Readonly<Record<string, readonly number[]>> } | null)?.cpts;
  if (hidden.length > 0 || typeof cpts !== 'object' || cpts === null) return null;
  let sum = 0;
  let count = 0;
  for (const node of truth.nodes) {
    const fitted = cpts[node.name];
    if (fitted === undefined || fitted.length !== node.cpt.length) return null;
    node.cpt.forEach((p, i) => {
      sum += Math.abs((fitted[i] as number) - p);
      count++;
    });
  }
  return count === 0 ? null : sum / count;
}

registerDatasetKind({
  kind: 'bayesian-network',
  description: 'rows sampled from a discrete Bayesian network (built-in or BIF/JSON file); hidden nodes, MCAR cells; truth known',
  options: BAYESIAN_NETWORK_DATASET_OPTIONS,
  format: BN_TABLE,
  missing: ['mcar'],
  async size(o, ctx) {
    return (o['nSamples'] as number) * (await network(o, ctx)).net.nodes.length;
  },
  async materialize(o, ctx) {
    const { net, label } = await network(o, ctx);
    const hidden = (o['hidden'] as string[] | undefined) ?? [];
    const rate = ctx.missing?.rate ?? 0;
    const seed = o['seed'] as number | string;
    // The masking seed is folded into the sampling seed: sampleNetwork draws values and mask from one root.
    const root = ctx.missing === null ? seed : `${String(seed)}/missing/${String(ctx.missing.seed)}`;
    let data: BnData;
    try {
      data = sampleNetwork(net, o['nSamples'] as number, root, { missingRate: rate, hide: hidden, onWarning: () => {} });
    } catch (e) {
      throw reanchor(e, [...ctx.path, 'options'], 1);
    }
    let nMissing = 0;
    for (const x of data.values) if (x < 0) nMissing++;
    const { train, test } = splitRows(data.nRows, ctx.heldOut, ctx.id);
    return {
      format: BN_TABLE,
      train: test.length === 0 ? data : takeRows(data, train),
      test: test.length === 0 ? null : takeRows(data, test),
      trainLabels: null,
      truth: net,
      modelDefaults: { network: net, ...(hidden.length > 0 ? { hidden } : {}) },
      parameterError: (params, model) => cptError(params, net, (model as { hidden?: readonly string[] }).hidden ?? hidden),
      description: `${label} (${net.nodes.length} nodes), ${data.nRows} sampled rows (seed ${String(seed)})${hidden.length > 0 ? `, hidden: ${hidden.join(', ')}` : ''}${rate > 0 ? `; ${nMissing} cells masked (mcar, rate ${rate})` : ''}`,
      nRows: data.nRows,
      nTrain: train.length,
      nTest: test.length,
      nFeatures: data.columns.length,
      missing: rate > 0 && ctx.missing !== null ? { rate, mechanism: 'mcar', seed: ctx.missing.seed, nMissing } : null,
    };
  },
});
