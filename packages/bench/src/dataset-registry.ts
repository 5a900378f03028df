/**
 * Data-set kinds: what a suite's `datasets[].kind` names. Each kind has an
 * option schema (core's `OptionSchema`: validation, defaults, messages, the
 * JSON Schema), an optional size estimate checked before any work, and
 * `materialize`, which makes the training and held-out data, the truth and
 * the metrics that need it.
 *
 * Built-in kinds (`gaussian-mixture`, `builtin`, `csv`, `bayesian-network`)
 * register on import of `@emlab/bench`; packages and suite plug-ins register
 * more (sequences for HMMs, grouped data for GLMMs, ...) with
 * {@link registerDatasetKind}. A model runs on a data set when the data set's
 * `format` is the model registration's data format: `'numeric-table'`, or the
 * `dataType` of a `custom` registration.
 *
 * One registry per JavaScript realm (on `globalThis`), so source and built
 * copies of the package share it.
 * @module
 */
import { emError, type ErrorPath, type Model, type OptionSchema } from '@emlab/core';
import type { HeldOutSpec, MissingSpec } from './suite-schema.js';


/** The data format of numeric tables (`{ values, rows, cols }`, missing cells NaN). @category Data sets */
export const NUMERIC_TABLE = 'numeric-table';

/** What `materialize` and `check` get besides the options. @category Data sets */
export interface DatasetContext {
  /** The data set's id (names its random streams: masks, splits). */
  readonly id: string;
  /** Where the entry is in the suite (`['suite', 'datasets', i]`): errors about options go under `[...path, 'options', key]`. */
  readonly path: ErrorPath;
  /** Directory relative file names resolve against (the suite file's). */
  readonly baseDir: string;
  /** Entries to mask as missing, or null. A kind that cannot apply it says so by leaving `missing` out of its registration. */
  readonly missing: MissingSpec | null;
  /** The suite's held-out split, or null. */
  readonly heldOut: HeldOutSpec | null;
}

/** A data set ready for runs, as a kind makes it. @category Data sets */
export interface DatasetContent {
  /** `'numeric-table'`, or the custom data type its models read (a model registration's `data.dataType`). */
  readonly format: string;
  /** What the models are fitted to. */
  readonly train: unknown;
  /** Held-out data in the same form, or null without a split. */
  readonly test: unknown | null;
  /** True labels of the training instances (adjusted Rand index with models that have `predict(params, data)`), or null. */
  readonly trainLabels: Int32Array | null;
  /** The generating parameters, when known (kept in memory for metrics; not written to results). */
  readonly truth: unknown | null;
  /**
   * Model options the data imply, used when a model's option schema has the key and the suite does not
   * set it: a mixture's true K (`nComponents`), a network and its hidden nodes (`network`, `hidden`).
   */
  readonly modelDefaults?: Readonly<Record<string, unknown>>;
  /**
   * Parameter error of fitted parameters against the truth (after whatever matching the parameters
   * need), or null when the parameters are not comparable. Called only when `truth` is not null.
   */
  readonly parameterError?: (params: unknown, model: Model<any, any, any, any>) => number | null; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** One line: sizes, generator options, file. */
  readonly description: string;
  /** Instances (rows, sequences, groups) before the split. */
  readonly nRows: number;
  readonly nTrain: number;
  readonly nTest: number;
  /** Columns / variables. */
  readonly nFeatures: number;
  /** Entries that were masked, or null. */
  readonly missing: { readonly rate: number; readonly mechanism: string; readonly seed: number | string; readonly nMissing: number } | null;
}

/**
 * A registered data-set kind.
 * @typeParam O - its parsed options.
 * @category Data sets
 */
export interface DatasetKind<O extends Record<string, unknown> = Record<string, unknown>> {
  /** The name suites use (`"kind": "gaussian-mixture"`). */
  readonly kind: string;
  /** One line for docs, help and the JSON Schema. */
  readonly description: string;
  /** Its options (validated with `parseOptions`, paths `suite.datasets[i].options.key`). */
  readonly options: OptionSchema;
  /** The format of what it makes: `'numeric-table'` or a custom data type. */
  readonly format: string;
  /** The `missing` mechanisms it applies (absent: a `missing` entry is an error). */
  readonly missing?: readonly string[];
  /**
   * Cells (instances × columns) the data set will have, from the options alone, or null when only
   * reading tells. Checked against the suite's `limits.maxCells` before anything is made.
   */
  size?(options: O, ctx: DatasetContext): number | null | Promise<number | null>;
  /** Checks between options (before any work); throws `EmError` under `[...ctx.path, 'options', key]`. */
  check?(options: O, ctx: DatasetContext): void;
  /** Makes the data set (deterministically from the options and the context). */
  materialize(options: O, ctx: DatasetContext): Promise<DatasetContent>;
}

const KEY = Symbol.for('emlab.bench.dataset-kinds.v1');

function kinds(): Map<string, DatasetKind> {
  const g = globalThis as unknown as Record<symbol, Map<string, DatasetKind> | undefined>;
  let m = g[KEY];
  if (m === undefined) {
    m = new Map();
    g[KEY] = m;
  }
  return m;
}

/**
 * Registers a data-set kind (a later registration of the same name replaces it).
 * @throws EmError `INVALID_ARGUMENT` for a malformed entry.
 * @example
 * ```ts
 * registerDatasetKind({
 *   kind: 'poisson-counts', description: 'Poisson counts', format: 'numeric-table',
 *   options: { nSamples: { type: 'integer', min: 1, required: true, description: 'rows' } },
 *   size: (o) => o.nSamples as number,
 *   materialize: async (o, ctx) => numericTableContent({ values, rows, cols: 1 }, { description: '...' }, ctx),
 * });
 * ```
 * @category Data sets
 */
export function registerDatasetKind<O extends Record<string, unknown>>(entry: DatasetKind<O>): void {
  for (const f of ['kind', 'description', 'format'] as const) {
    if (typeof entry?.[f] !== 'string' || entry[f].length === 0) throw emError('INVALID_ARGUMENT', ['registerDatasetKind', f], entry?.[f], 'must be a non-empty string', `give the registration a ${f}`);
  }
  if (typeof entry.materialize !== 'function') throw emError('INVALID_ARGUMENT', ['registerDatasetKind', 'materialize'], entry.materialize, 'must be a function (options, ctx) => Promise<DatasetContent>', 'pass an async function');
  if (typeof entry.options !== 'object' || entry.options === null) throw emError('INVALID_ARGUMENT', ['registerDatasetKind', 'options'], entry.options, 'must be an option schema', 'pass {} for a kind without options');
  kinds().set(entry.kind, entry as unknown as DatasetKind);
}

/** Removes a data-set kind (tests, plug-in reloads). @category Data sets */
export function unregisterDatasetKind(kind: string): boolean {
  return kinds().delete(kind);
}

/** Every registered data-set kind, sorted by name. @category Data sets */
export function listDatasetKinds(): DatasetKind[] {
  return [...kinds().values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

/**
 * The registration of data-set kind `kind`.
 * @throws EmError `INVALID_ARGUMENT` at `path`, listing the registered kinds.
 * @category Data sets
 */
export function findDatasetKind(kind: string, path: ErrorPath = ['kind']): DatasetKind {
  const entry = kinds().get(kind);
  if (entry === undefined) {
    const known = listDatasetKinds().map((k) => k.kind);
    throw emError('INVALID_ARGUMENT', path, kind, `is not a registered data-set kind (registered: ${known.join(', ') || 'none'})`, 'use one of those, or load the plug-in that registers it ("plugins" in the suite)');
  }
  return entry;
}
