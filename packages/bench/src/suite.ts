/**
 * Suite files: parsing and validation (a hand-written schema check whose
 * errors name the JSON path in the file, e.g.
 * `suite.esteps[2].options.nDraws = -1: must be an integer >= 1. Remedy: ...`).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EmError, emError, formatPath, describeValue, fromJson, validateSeed, type ErrorPath } from '@emlab/core';
import type { DatasetSpec, HeldOutSpec, MethodSpec, MissingSpec, ModelSpec, Suite } from './suite-types.js';

type Obj = Record<string, unknown>;
type Path = (string | number)[];

const ROOT: Path = ['suite'];

function fail(path: Path, value: unknown, problem: string, remedy: string): never {
  throw emError('INVALID_ARGUMENT', path, value, problem, remedy);
}

function object(v: unknown, path: Path, example: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, v, 'must be an object', `write e.g. ${example}`);
  return v as Obj;
}

function keysOnly(o: Obj, path: Path, known: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) fail([...path, key], o[key], 'is not a known field here', `use only: ${known.join(', ')}`);
  }
}

function string(o: Obj, key: string, path: Path, remedy: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail([...path, key], v, 'must be a non-empty string', remedy);
  return v;
}

function id(o: Obj, key: string, path: Path, fallback?: string): string {
  const v = o[key] ?? fallback;
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(v)) {
    fail([...path, key], v, 'must be a string of letters, digits, "_", "." or "-"', 'give the entry a short id such as "small-3" (it names files, table rows and plot series)');
  }
  return v;
}

function number(o: Obj, key: string, path: Path, min: number, max: number, maxOpen = false): number {
  const v = o[key];
  const ok = typeof v === 'number' && Number.isFinite(v) && v >= min && (maxOpen ? v < max : v <= max);
  if (!ok) fail([...path, key], v, `must be a number in [${min}, ${max}${maxOpen ? ')' : ']'}`, `pass a number in that range`);
  return v as number;
}

function integer(o: Obj, key: string, path: Path, min: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail([...path, key], v, `must be an integer >= ${min}`, `pass an integer >= ${min}`);
  return v;
}

function seed(o: Obj, key: string, path: Path): number | string {
  const v = o[key];
  validateSeed(v, [...path, key]);
  return v as number | string;
}

function options(o: Obj, key: string, path: Path): Obj {
  const v = o[key] ?? {};
  return object(v, [...path, key], `"${key}": {}`);
}

function array(v: unknown, path: Path, remedy: string, nonEmpty = true): unknown[] {
  if (!Array.isArray(v) || (nonEmpty && v.length === 0)) fail(path, v, nonEmpty ? 'must be a non-empty array' : 'must be an array', remedy);
  return v;
}

function uniqueIds(entries: readonly { id: string }[], path: Path): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    if (seen.has(e.id)) fail([...path, i, 'id'], e.id, `repeats the id of ${formatPath([...path, seen.get(e.id) as number])}`, 'give every entry a distinct id');
    seen.set(e.id, i);
  });
}

function missing(v: unknown, path: Path): MissingSpec {
  const o = object(v, path, '{ "rate": 0.1, "mechanism": "mcar", "seed": 1 }');
  keysOnly(o, path, ['rate', 'mechanism', 'seed']);
  const rate = number(o, 'rate', path, 0, 1, true);
  const mechanism = o['mechanism'] ?? 'mcar';
  if (mechanism !== 'mcar' && mechanism !== 'mar') fail([...path, 'mechanism'], mechanism, 'must be "mcar" or "mar"', 'pass "mcar" (missing completely at random) or "mar" (depends on the observed first column)');
  return { rate, mechanism, seed: o['seed'] === undefined ? 0 : seed(o, 'seed', path) };
}

function dataset(v: unknown, path: Path, i: number): DatasetSpec {
  const o = object(v, path, '{ "id": "small", "generator": "gaussianMixture", "options": { "nSamples": 500, "nComponents": 3, "nFeatures": 2, "seed": 1 } }');
  const kinds = ['generator', 'builtin', 'csv', 'bif'].filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) {
    fail(path, v, kinds.length === 0 ? 'has none of "generator", "builtin", "csv", "bif"' : `has more than one of ${kinds.map((k) => `"${k}"`).join(', ')}`,
      'give exactly one source: "generator": "gaussianMixture" with "options", "builtin": "<name>", "csv": "<path relative to the suite>", or "bif": "<path or network name>" with "nSamples" and "seed"');
  }
  const miss = o['missing'] === undefined ? undefined : missing(o['missing'], [...path, 'missing']);
  const withMissing = <T extends object>(spec: T): T => (miss === undefined ? spec : { ...spec, missing: miss });
  const kind = kinds[0];
  if (kind === 'generator') {
    keysOnly(o, path, ['id', 'generator', 'options', 'missing']);
    if (o['generator'] !== 'gaussianMixture') fail([...path, 'generator'], o['generator'], 'is not a known generator', 'use "gaussianMixture" (makeGaussianMixture from @emlab/data)');
    const opts = object(o['options'], [...path, 'options'], '{ "nSamples": 500, "nComponents": 3, "nFeatures": 2, "seed": 1 }');
    return withMissing({ id: id(o, 'id', path, `data${i}`), generator: 'gaussianMixture' as const, options: opts });
  }
  if (kind === 'builtin') {
    keysOnly(o, path, ['id', 'builtin', 'missing']);
    const name = string(o, 'builtin', path, 'pass a built-in data set name (emlab demo --help lists them)');
    return withMissing({ id: id(o, 'id', path, name), builtin: name });
  }
  if (kind === 'csv') {
    keysOnly(o, path, ['id', 'csv', 'labelColumn', 'missing']);
    const file = string(o, 'csv', path, 'pass a CSV path relative to the suite file');
    const spec: { id: string; csv: string; labelColumn?: string } = { id: id(o, 'id', path, `data${i}`), csv: file };
    if (o['labelColumn'] !== undefined) spec.labelColumn = string(o, 'labelColumn', path, 'pass the name of the column with true labels, or omit it');
    return withMissing(spec);
  }
  keysOnly(o, path, ['id', 'bif', 'nSamples', 'seed', 'hidden', 'missing']);
  if (miss !== undefined && miss.mechanism !== 'mcar') fail([...path, 'missing', 'mechanism'], miss.mechanism, 'is not supported for network data (cells are masked while sampling)', 'use "mcar"');
  const bif = string(o, 'bif', path, 'pass a BIF path relative to the suite file, or a built-in network name such as "asia"');
  const spec: { id: string; bif: string; nSamples: number; seed: number | string; hidden?: string[] } = {
    id: id(o, 'id', path, `data${i}`),
    bif,
    nSamples: integer(o, 'nSamples', path, 1),
    seed: o['seed'] === undefined ? 0 : seed(o, 'seed', path),
  };
  if (o['hidden'] !== undefined) {
    const h = array(o['hidden'], [...path, 'hidden'], 'pass an array of variable names', false);
    h.forEach((name, j) => {
      if (typeof name !== 'string') fail([...path, 'hidden', j], name, 'must be a variable name', 'pass variable names of the network');
    });
    spec.hidden = h as string[];
  }
  return withMissing(spec);
}

function model(v: unknown, path: Path, datasetIds: readonly string[], methodIds: readonly string[]): ModelSpec {
  const o = object(v, path, '{ "id": "gmm", "type": "gmm", "options": { "nComponents": 3 } }');
  keysOnly(o, path, ['id', 'type', 'options', 'datasets', 'esteps', 'init']);
  const type = o['type'];
  if (type !== 'gmm' && type !== 'bn') fail([...path, 'type'], type, 'is not a model type', 'use "gmm" (Gaussian mixture) or "bn" (Bayesian network)');
  const spec: { id: string; type: 'gmm' | 'bn'; options: Obj; datasets?: string[]; esteps?: string[]; init?: string } = { id: id(o, 'id', path, type), type, options: options(o, 'options', path) };
  if (o['datasets'] !== undefined) {
    const ds = array(o['datasets'], [...path, 'datasets'], 'list data set ids from "datasets"');
    ds.forEach((d, j) => {
      if (typeof d !== 'string' || !datasetIds.includes(d)) fail([...path, 'datasets', j], d, 'is not the id of a data set of this suite', `use one of: ${datasetIds.join(', ')}`);
    });
    spec.datasets = ds as string[];
  }
  if (o['esteps'] !== undefined) {
    const es = array(o['esteps'], [...path, 'esteps'], 'list method ids from "esteps"');
    es.forEach((d, j) => {
      if (typeof d !== 'string' || !methodIds.includes(d)) fail([...path, 'esteps', j], d, 'is not the id of a method of this suite', `use one of: ${methodIds.join(', ')}`);
    });
    spec.esteps = es as string[];
  }
  if (o['init'] !== undefined) spec.init = string(o, 'init', path, 'pass an initialization method of the model, e.g. "kmeans++" (gmm) or "random" (bn)');
  return spec;
}

function method(v: unknown, path: Path): MethodSpec {
  const o = typeof v === 'string' ? { method: v } : object(v, path, '{ "method": "stochastic", "options": { "nDraws": 4 } }');
  keysOnly(o, path, ['id', 'method', 'options']);
  const name = string(o, 'method', path, 'pass a registered E-step method ("exact", "hard", "stochastic", a plug-in\'s) or "gradient"');
  return { id: id(o, 'id', path, name), method: name, options: options(o, 'options', path) };
}

function heldOut(v: unknown, path: Path): HeldOutSpec | null {
  if (v === undefined || v === null) return null;
  const o = object(v, path, '{ "fraction": 0.2, "seed": 0 }');
  keysOnly(o, path, ['fraction', 'seed']);
  const fraction = number(o, 'fraction', path, 0, 1, true);
  return { fraction, seed: o['seed'] === undefined ? 0 : seed(o, 'seed', path) };
}

/**
 * Checks a parsed suite file and fills in defaults. Structural checks only:
 * the E-step names and options, model options and data sets are checked
 * against the registry and the generators by `runSuite` before any run
 * starts (with the same `suite.…` paths).
 *
 * @throws EmError `INVALID_ARGUMENT` naming the JSON path, e.g. `suite.seeds[1]`.
 * @example
 * ```ts
 * const suite = validateSuite(JSON.parse(text));
 * ```
 * @category Suites
 */
export function validateSuite(raw: unknown): Suite {
  const o = object(raw, ROOT, '{ "datasets": [...], "models": [...], "esteps": [...], "seeds": [0, 1, 2] }');
  keysOnly(o, ROOT, ['$schema', 'format', 'name', 'description', 'plugins', 'datasets', 'models', 'esteps', 'seeds', 'stopping', 'init', 'heldOut']);
  if (o['format'] !== undefined && o['format'] !== 'emlab/suite') fail([...ROOT, 'format'], o['format'], 'is not "emlab/suite"', 'set "format": "emlab/suite" or omit it');
  const name = o['name'] === undefined ? 'suite' : string(o, 'name', ROOT, 'give the suite a name');
  const description = o['description'] === undefined ? '' : typeof o['description'] === 'string' ? o['description'] : fail([...ROOT, 'description'], o['description'], 'must be a string', 'describe the suite in one line');
  const plugins = (o['plugins'] === undefined ? [] : array(o['plugins'], [...ROOT, 'plugins'], 'list module paths relative to the suite file', false)).map((p, i) => {
    if (typeof p !== 'string' || p.length === 0) fail([...ROOT, 'plugins', i], p, 'must be a module path', 'write e.g. "./my-estep.mjs" (relative to the suite file)');
    return p;
  });
  const datasets = array(o['datasets'], [...ROOT, 'datasets'], 'list at least one data set').map((d, i) => dataset(d, [...ROOT, 'datasets', i], i));
  uniqueIds(datasets, [...ROOT, 'datasets']);
  const ids = datasets.map((d) => d.id);
  const esteps = array(o['esteps'], [...ROOT, 'esteps'], 'list at least one method, e.g. ["exact", "hard"]').map((m, i) => method(m, [...ROOT, 'esteps', i]));
  uniqueIds(esteps, [...ROOT, 'esteps']);
  const models = array(o['models'], [...ROOT, 'models'], 'list at least one model, e.g. { "type": "gmm", "options": { "nComponents": 3 } }').map((m, i) => model(m, [...ROOT, 'models', i], ids, esteps.map((e) => e.id)));
  uniqueIds(models, [...ROOT, 'models']);
  const seedList = o['seeds'] === undefined ? [0] : array(o['seeds'], [...ROOT, 'seeds'], 'list seeds, e.g. [0, 1, 2]');
  seedList.forEach((s, i) => validateSeed(s, [...ROOT, 'seeds', i]));
  const seedKeys = new Set<string>();
  seedList.forEach((s, i) => {
    const key = String(s);
    if (seedKeys.has(key)) fail([...ROOT, 'seeds', i], s, 'repeats an earlier seed', 'list distinct seeds');
    seedKeys.add(key);
  });
  const stop = o['stopping'] === undefined ? {} : object(o['stopping'], [...ROOT, 'stopping'], '{ "maxIter": 100, "tol": 1e-6 }');
  keysOnly(stop, [...ROOT, 'stopping'], ['maxIter', 'tol']);
  const maxIter = stop['maxIter'] === undefined ? 100 : integer(stop, 'maxIter', [...ROOT, 'stopping'], 1);
  const tol = stop['tol'] === undefined ? 1e-6 : number(stop, 'tol', [...ROOT, 'stopping'], 0, Number.MAX_VALUE);
  const init = o['init'] === undefined || o['init'] === null ? null : string(o, 'init', ROOT, 'pass an initialization method of the models, e.g. "kmeans++" or "random"');
  return {
    format: 'emlab/suite',
    name,
    description,
    plugins,
    datasets,
    models,
    esteps,
    seeds: seedList as (number | string)[],
    stopping: { maxIter, tol },
    init,
    heldOut: heldOut(o['heldOut'], [...ROOT, 'heldOut']),
  };
}

/** A suite read from a file, with the directory its relative paths are resolved against. @category Suites */
export interface LoadedSuite {
  readonly suite: Suite;
  /** Absolute path of the file. */
  readonly path: string;
  /** Directory relative paths (CSV, BIF, plug-ins) are resolved against. */
  readonly baseDir: string;
}

/**
 * Reads and validates a suite file.
 * @throws EmError `IO_ERROR`, `PARSE_ERROR`, `INVALID_ARGUMENT` (with the JSON path)
 * @category Suites
 */
export async function loadSuite(path: string): Promise<LoadedSuite> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw emError('IO_ERROR', ['suite'], path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the suite file path', e);
  }
  return { suite: validateSuite(fromJson(text, path)), path: abs, baseDir: dirname(abs) };
}

/**
 * Re-anchors an EmError thrown by a factory (model, E-step, generator) at a
 * path in the suite: `stochasticEStep.nDraws = 0: ...` becomes
 * `suite.esteps[2].options.nDraws = 0: ...`.
 * @internal
 */
export function reanchor(e: unknown, at: ErrorPath, dropPrefix = 1): unknown {
  if (!(e instanceof EmError)) return e;
  const old = formatPath(e.path);
  const head = `${old} = ${describeValue(e.value)}: `;
  const body = e.message.startsWith(head) ? e.message.slice(head.length) : e.message;
  const path = [...at, ...e.path.slice(dropPrefix)];
  const message = `${formatPath(path)} = ${describeValue(e.value)}: ${body}`;
  return new EmError(e.code, message, { path, value: e.value, ...(e.remedy === undefined ? {} : { remedy: e.remedy }), cause: e });
}
