/**
 * Numeric tables in suites: masking entries as missing, the seeded held-out
 * split, and {@link numericTableContent}, which turns a generated or read
 * matrix into a data set (mask, split, summary) for any kind that makes
 * numeric tables.
 * @module
 */
import { createRng, type Seed } from '@emlab/core';
import type { DatasetContent, DatasetContext } from '../dataset-registry.js';
import { NUMERIC_TABLE } from '../dataset-registry.js';
import type { HeldOutSpec, MissingSpec } from '../suite-schema.js';

/** A dense row-major numeric matrix (missing entries are NaN). @category Data sets */
export interface Matrix {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Masks entries as NaN in place. `mcar`: each entry with probability `rate`.
 * `mar`: column 0 is never masked; other entries of rows whose column-0 value
 * is above the column-0 median are masked with probability min(1, 2·rate).
 * A row never loses every entry (the last observed one is kept).
 * @returns the number of masked entries.
 * @category Data sets
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

/**
 * Seeded held-out split of `n` instances: indices of held-out instances (sorted) and training
 * instances (sorted). Any kind can split its instances (rows, sequences, groups) with it.
 * @category Data sets
 */
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

/** Rows `idx` of a row-major array with `cols` columns, in that order. @category Data sets */
export function pickRows<T extends Float64Array | Int32Array>(values: T, cols: number, idx: readonly number[]): T {
  const out = new (values.constructor as new (n: number) => T)(idx.length * cols);
  idx.forEach((r, i) => out.set(values.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}

function takeRows(m: Matrix, idx: readonly number[]): Matrix {
  return { values: pickRows(m.values, m.cols, idx), rows: idx.length, cols: m.cols };
}

/**
 * A numeric-table data set from a matrix: masks `ctx.missing` (in place), splits off `ctx.heldOut`
 * rows, and fills in the summary.
 * @category Data sets
 */
export function numericTableContent(
  m: Matrix,
  info: Pick<DatasetContent, 'description' | 'truth' | 'parameterError' | 'modelDefaults'> & { readonly labels?: Int32Array | null },
  ctx: DatasetContext,
): DatasetContent {
  let missing: DatasetContent['missing'] = null;
  if (ctx.missing !== null && ctx.missing.rate > 0) {
    const n = maskMissing(m, ctx.missing, ctx.id);
    missing = { rate: ctx.missing.rate, mechanism: ctx.missing.mechanism, seed: ctx.missing.seed as Seed, nMissing: n };
  }
  const { train, test } = splitRows(m.rows, ctx.heldOut, ctx.id);
  const labels = info.labels ?? null;
  return {
    format: NUMERIC_TABLE,
    train: test.length === 0 ? m : takeRows(m, train),
    test: test.length === 0 ? null : takeRows(m, test),
    trainLabels: labels === null ? null : Int32Array.from(train, (r) => labels[r] as number),
    truth: info.truth,
    ...(info.parameterError === undefined ? {} : { parameterError: info.parameterError }),
    ...(info.modelDefaults === undefined ? {} : { modelDefaults: info.modelDefaults }),
    description: info.description + (missing ? `; ${missing.nMissing} entries masked (${missing.mechanism}, rate ${missing.rate})` : ''),
    nRows: m.rows,
    nTrain: train.length,
    nTest: test.length,
    nFeatures: m.cols,
    missing,
  };
}
