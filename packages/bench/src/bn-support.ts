/**
 * Bayesian-network data sets in suites: a BIF file (or a built-in network
 * name) and rows sampled from it. Uses @emlab/models' network reader and
 * sampler when that build has them.
 * @module
 */
import { resolve } from 'node:path';
import { emError } from '@emlab/core';
import * as models from '@emlab/models';
import type { BnDatasetSpec, HeldOutSpec } from './suite-types.js';
import type { MaterializedDataset } from './datasets.js';

type AnyFn = (...args: unknown[]) => unknown;
const lookup = (name: string): AnyFn | undefined => {
  const v = (models as Record<string, unknown>)[name];
  return typeof v === 'function' ? (v as AnyFn) : undefined;
};

/** Whether this build of @emlab/models has Bayesian networks (`bayesianNetwork`, a network reader and `sampleNetwork`). @category Suites */
export function bnAvailable(): boolean {
  return lookup('bayesianNetwork') !== undefined && lookup('sampleNetwork') !== undefined && lookup('readNetwork') !== undefined;
}

/** Builds a BN data set (placeholder until @emlab/models has the sampler). @internal */
export async function loadBnDataset(spec: BnDatasetSpec, _heldOut: HeldOutSpec | null, baseDir: string, path: (string | number)[]): Promise<MaterializedDataset> {
  if (!bnAvailable()) {
    throw emError('INVALID_ARGUMENT', [...path, 'bif'], spec.bif, 'needs Bayesian networks, which this build of @emlab/models does not have yet', 'remove the data set or update emlab');
  }
  void resolve(baseDir, spec.bif);
  throw emError('INVALID_ARGUMENT', [...path, 'bif'], spec.bif, 'Bayesian-network data sets are not wired into the runner yet', 'remove the data set');
}
