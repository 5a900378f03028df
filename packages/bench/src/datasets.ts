/**
 * Materializing a suite's data sets: generate or read, mask missing entries,
 * split off held-out rows. Deterministic: the main thread and every worker
 * build bit-identical data from the same spec.
 * @module
 */
import { resolve } from 'node:path';
import { createRng, emError, type Seed } from '@emlab/core';
import { loadBuiltin, makeGaussianMixture, readNumericCsv, type GaussianMixtureOptions, type MixtureTruth } from '@emlab/data';
import type { DatasetSummary } from './results.js';
import { reanchor } from './suite.js';
import type { DatasetSpec, HeldOutSpec, MissingSpec, Suite } from './suite-types.js';
import { loadBnDataset } from './bn-support.js';

/** A dense row-major numeric matrix (missing entries are NaN). @category Suites */
export interface Matrix {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * A data set ready for runs. `kind: 'numeric'` data are {@link Matrix}es
 * (Gaussian mixtures); `kind: 'bn'` data are whatever the Bayesian-network
 * model accepts.
 * @category Suites
 */
export interface MaterializedDataset {
  readonly id: string;
  readonly kind: 'numeric' | 'bn';
  readonly summary: DatasetSummary;
  readonly train: unknown;
  /** Held-out rows, or null without a split. */
  readonly test: unknown | null;
  /** True labels of the training rows (numeric data with known truth), else null. */
  readonly trainLabels: Int32Array | null;
  /** True parameters: mixture truth (numeric) or the network (bn), else null. */
  readonly truth: MixtureTruth | unknown | null;
  /** For bn data: the network (the model is built on it). */
  readonly network?: unknown;
  /** For bn data: the hidden nodes. */
  readonly hidden?: readonly string[];
}

/**
 * Masks entries as NaN in place. `mcar`: each entry with probability `rate`.
 * `mar`: column 0 is never masked; other entries of rows whose column-0 value
 * is above the column-0 median are masked with probability min(1, 2·rate).
 * A row never loses every entry (the last observed one is kept).
 * @returns the number of masked entries.
 * @category Suites
 */
export function maskMissing(m: Matrix, spec: MissingSpec, streamName: string): number {
  const rng = createRng(spec.seed).child('missing', streamName);
  const { values, rows, cols } = m;
  let count = 0;
  let median = 0;
  if (spec.mechanism === 'mar') {
    const first = Array.from({ length: rows }, (_, r) => values[r * cols] as number).sort((a, b) => a - b);
    median = first[Math.floor(rows / 2)] ?? 0;
  }
  for (let r = 0; r < rows; r++) {
    let p = spec.rate;
    let start = 0;
    if (spec.mechanism === 'mar') {
      start = 1;
      p = (values[r * cols] as number) > median ? Math.min(1, 2 * spec.rate) : 0;
    }
    let observed = cols;
    for (let c = start; c < cols; c++) {
      const u = rng.uniform();
      if (u < p && observed > 1) {
        values[r * cols + c] = Number.NaN;
        observed--;
        count++;
      }
    }
  }
  return count;
}

/** Seeded held-out split: indices of held-out rows (sorted) and training rows (sorted). @category Suites */
export function splitRows(n: number, heldOut: HeldOutSpec | null, streamName: string): { train: number[]; test: number[] } {
  const all = Array.from({ length: n }, (_, i) => i);
  if (heldOut === null || heldOut.fraction === 0) return { train: all, test: [] };
  const nTest = Math.min(n - 1, Math.round(heldOut.fraction * n));
  const rng = createRng(heldOut.seed).child('heldout', streamName);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = all[i] as number;
    all[i] = all[j] as number;
    all[j] = t;
  }
  const test = all.slice(0, nTest).sort((a, b) => a - b);
  const train = all.slice(nTest).sort((a, b) => a - b);
  return { train, test };
}

/** Rows `idx` of a row-major array with `cols` columns, in that order. @internal */
export function pickRows<T extends Float64Array | Int32Array>(values: T, cols: number, idx: readonly number[]): T {
  const out = new (values.constructor as new (n: number) => T)(idx.length * cols);
  idx.forEach((r, i) => out.set(values.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}

function takeRows(m: Matrix, idx: readonly number[]): Matrix {
  return { values: pickRows(m.values, m.cols, idx), rows: idx.length, cols: m.cols };
}

async function numericSource(spec: DatasetSpec, baseDir: string, path: (string | number)[]): Promise<{ m: Matrix; labels: Int32Array | null; truth: MixtureTruth | null; source: DatasetSummary['source']; description: string }> {
  if ('generator' in spec) {
    let g;
    try {
      g = makeGaussianMixture(spec.options as unknown as GaussianMixtureOptions);
    } catch (e) {
      throw reanchor(e, [...path, 'options']);
    }
    const o = spec.options as Record<string, unknown>;
    const desc = `gaussianMixture ${g.rows}×${g.cols}, K=${g.truth.weights.length}, ${String(o['covariance'] ?? 'full')} covariances, separation ${String(o['separation'] ?? 4)}, seed ${String(o['seed'])}`;
    return { m: { values: Float64Array.from(g.x), rows: g.rows, cols: g.cols }, labels: g.labels, truth: g.truth, source: 'generator', description: desc };
  }
  if ('builtin' in spec) {
    let g;
    try {
      g = loadBuiltin(spec.builtin);
    } catch (e) {
      throw reanchor(e, [...path, 'builtin'], 1);
    }
    return { m: { values: Float64Array.from(g.x), rows: g.rows, cols: g.cols }, labels: g.labels, truth: g.truth, source: 'builtin', description: `${spec.builtin}: ${g.description}` };
  }
  if ('csv' in spec) {
    const file = resolve(baseDir, spec.csv);
    let t;
    try {
      t = await readNumericCsv(file);
    } catch (e) {
      throw reanchor(e, [...path, 'csv'], 1);
    }
    let labels: Int32Array | null = null;
    let values = t.values;
    let cols = t.cols;
    if (spec.labelColumn !== undefined) {
      const li = t.columns.indexOf(spec.labelColumn);
      if (li < 0) throw emError('INVALID_ARGUMENT', [...path, 'labelColumn'], spec.labelColumn, `is not a column of ${spec.csv} (columns: ${t.columns.join(', ')})`, 'name a column of the file');
      labels = new Int32Array(t.rows);
      values = new Float64Array(t.rows * (t.cols - 1));
      for (let r = 0; r < t.rows; r++) {
        const lab = t.values[r * t.cols + li] as number;
        if (!Number.isInteger(lab)) throw emError('INVALID_DATA', [...path, 'labelColumn'], lab, `row ${r + 1} of ${spec.csv} has a non-integer label`, 'labels must be integers');
        labels[r] = lab;
        let c2 = 0;
        for (let c = 0; c < t.cols; c++) if (c !== li) values[r * (t.cols - 1) + c2++] = t.values[r * t.cols + c] as number;
      }
      cols = t.cols - 1;
    }
    return { m: { values, rows: t.rows, cols }, labels, truth: null, source: 'csv', description: `${spec.csv}: ${t.rows}×${cols}${t.missing > 0 ? `, ${t.missing} missing cells` : ''}` };
  }
  throw new Error('unreachable');
}

/**
 * Builds one data set of a suite (index `i`), with its held-out split.
 * @throws EmError naming `suite.datasets[i]…` for bad generator options, unreadable files, unknown names.
 * @category Suites
 */
export async function materializeDataset(suite: Suite, i: number, baseDir: string): Promise<MaterializedDataset> {
  const spec = suite.datasets[i] as DatasetSpec;
  const path = ['suite', 'datasets', i];
  if ('bif' in spec) return loadBnDataset(spec, suite.heldOut, baseDir, path);
  const src = await numericSource(spec, baseDir, path);
  let missing: DatasetSummary['missing'] = null;
  if (spec.missing !== undefined && spec.missing.rate > 0) {
    const n = maskMissing(src.m, spec.missing, spec.id);
    missing = { rate: spec.missing.rate, mechanism: spec.missing.mechanism, seed: spec.missing.seed as Seed, nMissing: n };
  }
  const { train, test } = splitRows(src.m.rows, suite.heldOut, spec.id);
  const trainM = test.length === 0 ? src.m : takeRows(src.m, train);
  const testM = test.length === 0 ? null : takeRows(src.m, test);
  const trainLabels = src.labels === null ? null : Int32Array.from(train, (r) => src.labels?.[r] as number);
  return {
    id: spec.id,
    kind: 'numeric',
    summary: {
      id: spec.id,
      source: src.source,
      description: src.description + (missing ? `; ${missing.nMissing} entries masked (${missing.mechanism}, rate ${missing.rate})` : ''),
      nRows: src.m.rows,
      nTrain: train.length,
      nTest: test.length,
      nFeatures: src.m.cols,
      hasTruth: src.truth !== null,
      missing,
    },
    train: trainM,
    test: testM,
    trainLabels,
    truth: src.truth,
  };
}
