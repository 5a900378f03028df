/**
 * Bayesian-network data sets in suites: a network (BIF or emlab JSON file
 * relative to the suite, or a built-in name such as `asia`) and rows sampled
 * from it with @emlab/models' `sampleNetwork` (hidden nodes, MCAR cells).
 * @module
 */
import { resolve } from 'node:path';
import { emError } from '@emlab/core';
import { BUILTIN_NETWORKS, readNetwork, sampleNetwork, type BayesNet, type BnData } from '@emlab/models';
import type { DatasetSummary } from './results.js';
import { reanchor } from './suite.js';
import type { BnDatasetSpec, HeldOutSpec } from './suite-types.js';
import type { MaterializedDataset } from './datasets.js';
import { pickRows, splitRows } from './datasets.js';

function takeRows(d: BnData, idx: readonly number[]): BnData {
  return { columns: d.columns, nRows: idx.length, values: pickRows(d.values, d.columns.length, idx) };
}

async function network(spec: BnDatasetSpec, baseDir: string, path: (string | number)[]): Promise<{ net: BayesNet; label: string }> {
  if (!/\.(bif|json)$/i.test(spec.bif)) {
    const make = Object.hasOwn(BUILTIN_NETWORKS, spec.bif) ? BUILTIN_NETWORKS[spec.bif] : undefined;
    if (make === undefined) {
      throw emError('INVALID_ARGUMENT', [...path, 'bif'], spec.bif, `is neither a .bif/.json file nor a built-in network (built-in: ${Object.keys(BUILTIN_NETWORKS).join(', ')})`, 'pass a network file relative to the suite, or a built-in name');
    }
    return { net: make(), label: `built-in network ${spec.bif}` };
  }
  try {
    return { net: await readNetwork(resolve(baseDir, spec.bif), { onWarning: () => {} }), label: spec.bif };
  } catch (e) {
    throw reanchor(e, [...path, 'bif'], e instanceof Error && 'path' in e && Array.isArray((e as { path: unknown[] }).path) ? (e as { path: unknown[] }).path.length : 1);
  }
}

/**
 * Builds a network data set: sample `nSamples` rows (seeded), hide nodes,
 * mask cells MCAR, split off held-out rows. The truth is the network.
 * @internal
 */
export async function loadBnDataset(spec: BnDatasetSpec, heldOut: HeldOutSpec | null, baseDir: string, path: (string | number)[]): Promise<MaterializedDataset> {
  const { net, label } = await network(spec, baseDir, path);
  const rate = spec.missing?.rate ?? 0;
  // The masking seed is folded into the sampling seed: sampleNetwork draws values and mask from one root.
  const seed = spec.missing === undefined ? spec.seed : `${String(spec.seed)}/missing/${String(spec.missing.seed)}`;
  let data: BnData;
  try {
    data = sampleNetwork(net, spec.nSamples, seed, { missingRate: rate, hide: spec.hidden ?? [], onWarning: () => {} });
  } catch (e) {
    throw reanchor(e, path, 1);
  }
  let nMissing = 0;
  for (const v of data.values) if (v < 0) nMissing++;
  const { train, test } = splitRows(data.nRows, heldOut, spec.id);
  const summary: DatasetSummary = {
    id: spec.id,
    source: 'bn',
    description: `${label} (${net.nodes.length} nodes), ${data.nRows} sampled rows (seed ${String(spec.seed)})${(spec.hidden ?? []).length > 0 ? `, hidden: ${(spec.hidden ?? []).join(', ')}` : ''}${rate > 0 ? `; ${nMissing} cells masked (mcar, rate ${rate})` : ''}`,
    nRows: data.nRows,
    nTrain: train.length,
    nTest: test.length,
    nFeatures: data.columns.length,
    hasTruth: true,
    missing: rate > 0 && spec.missing !== undefined ? { rate, mechanism: 'mcar', seed: spec.missing.seed, nMissing } : null,
  };
  return {
    id: spec.id,
    kind: 'bn',
    summary,
    train: test.length === 0 ? data : takeRows(data, train),
    test: test.length === 0 ? null : takeRows(data, test),
    trainLabels: null,
    truth: net,
    network: net,
    hidden: spec.hidden ?? [],
  };
}

/**
 * Mean absolute CPT error against the true network (every entry of every
 * node), or null when nodes are hidden (their states are identifiable only
 * up to relabelling).
 * @internal
 */
export function cptError(params: { cpts: Readonly<Record<string, readonly number[]>> }, truth: BayesNet, hidden: readonly string[]): number | null {
  if (hidden.length > 0) return null;
  let sum = 0;
  let count = 0;
  for (const node of truth.nodes) {
    const fitted = params.cpts[node.name];
    if (fitted === undefined || fitted.length !== node.cpt.length) return null;
    node.cpt.forEach((p, i) => {
      sum += Math.abs((fitted[i] as number) - p);
      count++;
    });
  }
  return count === 0 ? null : sum / count;
}
