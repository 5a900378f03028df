/**
 * A suite's data sets: their options checked against the kind's schema and
 * their size against `limits.maxCells` before anything is made, then made
 * (deterministically: the main thread and every worker build bit-identical
 * data from the same entry).
 * @module
 */
import { emError, parseOptions, type ErrorPath } from '@emlab/core';
import { findDatasetKind, type DatasetContent, type DatasetContext, type DatasetKind } from './dataset-registry.js';
import './datasets/index.js';
import type { DatasetSummary } from './results.js';
import type { DatasetSpec, Suite } from './suite-schema.js';

/** A data set of a suite, made. @category Data sets */
export interface MaterializedDataset extends DatasetContent {
  readonly id: string;
  readonly kind: string;
  readonly summary: DatasetSummary;
}

function contextOf(suite: Suite, i: number, baseDir: string): DatasetContext {
  const spec = suite.datasets[i] as DatasetSpec;
  return { id: spec.id, path: ['suite', 'datasets', i], baseDir, missing: spec.missing ?? null, heldOut: suite.heldOut };
}

const gib = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(bytes / 2 ** 20)} MiB`);

/**
 * Checks data set `i` of a suite before any work: a registered kind, its options (schema, then the
 * kind's own checks), the `missing` mechanism, and its size against `limits.maxCells`.
 * @returns the kind and the parsed options.
 * @throws EmError naming `suite.datasets[i]…`
 * @category Data sets
 */
export async function checkDataset(suite: Suite, i: number, baseDir: string): Promise<{ kind: DatasetKind; options: Record<string, unknown> }> {
  const spec = suite.datasets[i] as DatasetSpec;
  const ctx = contextOf(suite, i, baseDir);
  const path: ErrorPath = ctx.path;
  const kind = findDatasetKind(spec.kind, [...path, 'kind']);
  const options = parseOptions(kind.options, spec.options, { owner: kind.kind, pathOf: (k) => [...path, 'options', k] });
  if (spec.missing !== undefined && !(kind.missing ?? []).includes(spec.missing.mechanism)) {
    const can = kind.missing ?? [];
    throw emError('INVALID_ARGUMENT', [...path, 'missing', 'mechanism'], spec.missing.mechanism, `is not supported by data-set kind "${kind.kind}"${can.length > 0 ? ` (supported: ${can.join(', ')})` : ' (it masks no entries)'}`, can.length > 0 ? `use ${can.map((m) => `"${m}"`).join(' or ')}` : 'remove "missing"');
  }
  kind.check?.(options, ctx);
  const cells = await kind.size?.(options, ctx);
  if (typeof cells === 'number' && cells > suite.limits.maxCells) {
    const key = 'nSamples' in options ? 'nSamples' : undefined;
    throw emError(
      'INVALID_ARGUMENT',
      key === undefined ? [...path, 'options'] : [...path, 'options', key],
      key === undefined ? cells : options[key],
      `makes a data set of ${cells.toExponential(3)} cells (≈ ${gib(cells * 8)} as float64 before any copy), more than limits.maxCells = ${suite.limits.maxCells}`,
      `use fewer rows or columns, or raise "limits": { "maxCells": ${Math.ceil(cells)} } in the suite if the machine has the memory`,
    );
  }
  return { kind, options };
}

/**
 * Makes data set `i` of a suite, with its held-out split.
 * @throws EmError naming `suite.datasets[i]…` for bad options, unreadable files, unknown names.
 * @category Data sets
 */
export async function materializeDataset(suite: Suite, i: number, baseDir: string): Promise<MaterializedDataset> {
  const spec = suite.datasets[i] as DatasetSpec;
  const { kind, options } = await checkDataset(suite, i, baseDir);
  const content = await kind.materialize(options, contextOf(suite, i, baseDir));
  const summary: DatasetSummary = {
    id: spec.id,
    kind: kind.kind,
    format: content.format,
    description: content.description,
    nRows: content.nRows,
    nTrain: content.nTrain,
    nTest: content.nTest,
    nFeatures: content.nFeatures,
    hasTruth: content.truth !== null,
    hasLabels: content.trainLabels !== null,
    missing: content.missing,
  };
  return { ...content, id: spec.id, kind: kind.kind, summary };
}
