/**
 * Suite files: reading (strict JSON with line and column in every error),
 * validation against the one schema (`suite-schema.ts`), the data-set
 * shorthands, and cross-references (unique ids, model → data set and method
 * ids, distinct seeds).
 *
 * Errors name the JSON path in the file, e.g.
 * `suite.json:14:9: suite.esteps[2].options.nDraws = -1: must be an integer in [1, 10000]. Remedy: ...`.
 * @module
 */
import { dirname, resolve } from 'node:path';
import * as v from 'valibot';
import { EmError, describeValue, emError, formatPath, type ErrorPath } from '@emlab/core';
import { readTextFile } from '@emlab/core/node';
import { parseJsonSource, type TextLocation } from './internal/json-source.js';
import { issueToError } from './internal/suite-issues.js';
import { DATASET_SHORTHAND_SCHEMAS, SUITE_SCHEMA, type DatasetSpec, type MethodSpec, type ModelSpec, type Suite } from './suite-schema.js';

type Obj = Record<string, unknown>;
type Path = (string | number)[];

const ROOT: Path = ['suite'];

/** The shorthand data-set forms: the key that selects each, its kind, and where its options sit in the file. */
const SHORTHANDS: Readonly<Record<keyof typeof DATASET_SHORTHAND_SCHEMAS, { kind: string; nested: boolean; fileKey: Readonly<Record<string, string>> }>> = {
  generator: { kind: 'gaussian-mixture', nested: true, fileKey: {} },
  builtin: { kind: 'builtin', nested: false, fileKey: { name: 'builtin' } },
  csv: { kind: 'csv', nested: false, fileKey: { path: 'csv' } },
  bif: { kind: 'bayesian-network', nested: false, fileKey: { network: 'bif' } },
};
type ShorthandKey = keyof typeof SHORTHANDS;

function shorthandOf(entry: unknown): ShorthandKey[] {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || 'kind' in entry) return [];
  return (Object.keys(SHORTHANDS) as ShorthandKey[]).filter((k) => (entry as Obj)[k] !== undefined);
}

/** Where a canonical path of data set `i` is in a file that used shorthand `s`. */
function shorthandFilePath(s: ShorthandKey, rest: readonly (string | number)[]): Path {
  const sh = SHORTHANDS[s];
  if (rest[0] === 'kind') return [s];
  if (rest[0] === 'options' && !sh.nested && rest.length > 1) {
    const key = rest[1] as string;
    return [sh.fileKey[key] ?? key, ...rest.slice(2)];
  }
  return [...rest];
}

/**
 * A path in the validated suite → the path of the same value in the file as written
 * (shorthand data sets keep their options at the top of the entry).
 */
function filePath(raw: unknown, path: readonly (string | number)[]): Path {
  if (path[0] !== 'suite' || path[1] !== 'datasets' || typeof path[2] !== 'number') return [...path];
  const entry = (raw as { datasets?: unknown[] } | null)?.datasets?.[path[2]];
  const [s] = shorthandOf(entry);
  return s === undefined ? [...path] : [...path.slice(0, 3), ...shorthandFilePath(s, path.slice(3))];
}

/** A shorthand entry in canonical form (after its own schema accepted it). */
function normalizeShorthand(s: ShorthandKey, o: Obj, i: number): Obj {
  const out: Obj = { id: o['id'] ?? (s === 'builtin' ? o['builtin'] : `data${i}`), kind: SHORTHANDS[s].kind };
  if (s === 'generator') out['options'] = o['options'] ?? {};
  else {
    const opts: Obj = {};
    const back = Object.fromEntries(Object.entries(SHORTHANDS[s].fileKey).map(([k, f]) => [f, k]));
    for (const [k, val] of Object.entries(o)) if (k !== 'id' && k !== 'missing' && val !== undefined) opts[back[k] ?? k] = val;
    out['options'] = opts;
  }
  if (o['missing'] !== undefined) out['missing'] = o['missing'];
  return out;
}

function fail(path: Path, value: unknown, problem: string, remedy: string): never {
  throw emError('INVALID_ARGUMENT', path, value, problem, remedy);
}

function uniqueIds(entries: readonly { id: string }[], path: Path): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    if (seen.has(e.id)) fail([...path, i, 'id'], e.id, `repeats the id of ${formatPath([...path, seen.get(e.id) as number])}`, 'give every entry a distinct id');
    seen.set(e.id, i);
  });
}

/**
 * Checks a parsed suite against the suite schema and fills in defaults.
 * Data-set shorthands (`"generator"`, `"builtin"`, `"csv"`, `"bif"`) become the
 * canonical `{ id, kind, options }` form. Registry checks (model types,
 * method names, every options object, data-set sizes) happen in `runSuite`
 * before any run starts, with the same `suite.…` paths.
 *
 * @throws EmError `INVALID_ARGUMENT` naming the JSON path (unknown fields are errors).
 * @example
 * ```ts
 * const suite = validateSuite(JSON.parse(text));
 * ```
 * @category Suites
 */
export function validateSuite(raw: unknown): Suite {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(ROOT, raw, 'must be an object', 'write e.g. { "datasets": [...], "models": [...], "esteps": [...], "seeds": [0, 1, 2] }');
  }
  let input = raw;
  if (typeof raw === 'object' && raw !== null && Array.isArray((raw as Obj)['datasets'])) {
    const datasets = ((raw as Obj)['datasets'] as unknown[]).map((d, i) => {
      const keys = shorthandOf(d);
      if (keys.length > 1) {
        fail([...ROOT, 'datasets', i], d, `has more than one of ${keys.map((k) => `"${k}"`).join(', ')}`, 'give exactly one source, or use the canonical form { "id", "kind", "options" }');
      }
      const s = keys[0];
      if (s === undefined) return d;
      const parsed = v.safeParse(DATASET_SHORTHAND_SCHEMAS[s], d);
      if (!parsed.success) throw issueToError(parsed.issues, DATASET_SHORTHAND_SCHEMAS[s], [...ROOT, 'datasets', i]);
      return normalizeShorthand(s, parsed.output as Obj, i);
    });
    input = { ...(raw as Obj), datasets };
  }
  const parsed = v.safeParse(SUITE_SCHEMA, input);
  if (!parsed.success) throw issueToError(parsed.issues, SUITE_SCHEMA, ROOT);
  const o = parsed.output;
  const datasets: DatasetSpec[] = o.datasets;
  uniqueIds(datasets, [...ROOT, 'datasets']);
  const esteps: MethodSpec[] = o.esteps.map((m) => (typeof m === 'string' ? { id: m, method: m, options: {} } : { id: m.id ?? m.method, method: m.method, options: m.options }));
  uniqueIds(esteps, [...ROOT, 'esteps']);
  const datasetIds = datasets.map((d) => d.id);
  const methodIds = esteps.map((e) => e.id);
  const models: ModelSpec[] = o.models.map((m, i) => {
    m.datasets?.forEach((d, j) => {
      if (!datasetIds.includes(d)) fail([...ROOT, 'models', i, 'datasets', j], d, 'is not the id of a data set of this suite', `use one of: ${datasetIds.join(', ')}`);
    });
    m.esteps?.forEach((d, j) => {
      if (!methodIds.includes(d)) fail([...ROOT, 'models', i, 'esteps', j], d, 'is not the id of a method of this suite', `use one of: ${methodIds.join(', ')}`);
    });
    const { id, ...rest } = m;
    return { id: id ?? m.type, ...rest };
  });
  uniqueIds(models, [...ROOT, 'models']);
  const seen = new Set<string>();
  o.seeds.forEach((s, i) => {
    if (seen.has(String(s))) fail([...ROOT, 'seeds', i], s, 'repeats an earlier seed', 'list distinct seeds');
    seen.add(String(s));
  });
  const { $schema: _schema, ...rest } = o;
  return { ...rest, datasets, models, esteps };
}

/** A suite read from a file, with where its values are. @category Suites */
export interface LoadedSuite {
  readonly suite: Suite;
  /** Absolute path of the file. */
  readonly path: string;
  /** The path as given (how errors name the file). */
  readonly label: string;
  /** Directory relative paths (CSV, BIF, plug-ins) are resolved against. */
  readonly baseDir: string;
  /** Line and column of the value at a `suite.…` error path (the nearest existing value when absent). */
  locate(path: ErrorPath): TextLocation;
}

/**
 * An `EmError` at a `suite.…` path, prefixed with `file:line:column: ` of that
 * path in the loaded file (other errors unchanged). `runSuite` does this for
 * every error it raises when given a {@link LoadedSuite}.
 * @category Suites
 */
export function locateSuiteError(e: unknown, loaded: Pick<LoadedSuite, 'label' | 'locate'>): unknown {
  if (!(e instanceof EmError) || e.path[0] !== 'suite' || e.message.startsWith(`${loaded.label}:`)) return e;
  const at = loaded.locate(e.path);
  return new EmError(e.code, `${loaded.label}:${at.line}:${at.column}: ${e.message}`, { path: e.path, value: e.value, ...(e.remedy === undefined ? {} : { remedy: e.remedy }), cause: e });
}

/**
 * Reads and validates a suite file (UTF-8, or UTF-16 with a byte-order mark).
 * Every error names the file, line and column: invalid JSON (with what is
 * wrong there), repeated keys, unknown fields, bad values.
 * @throws EmError `IO_ERROR`, `PARSE_ERROR`, `INVALID_ARGUMENT`
 * @example
 * ```ts
 * const loaded = await loadSuite('benchmarks/suites/default.json');
 * const results = await runSuite(loaded, { outDir: 'bench-out' });
 * ```
 * @category Suites
 */
export async function loadSuite(path: string): Promise<LoadedSuite> {
  const abs = resolve(path);
  const text = await readTextFile(abs, ['suite']).catch((e: unknown) => {
    if (e instanceof EmError && e.code === 'IO_ERROR') {
      const why = (e.cause as NodeJS.ErrnoException | undefined)?.code ?? 'unreadable';
      throw emError('IO_ERROR', ['suite'], path, `cannot be read (${why})`, 'check the suite file path', e);
    }
    throw e;
  });
  const source = parseJsonSource(text, path, 'suite', 'the suite file');
  const located = { label: path, locate: (p: ErrorPath) => source.locate(filePath(source.value, p).slice(1)) };
  let suite: Suite;
  try {
    suite = validateSuite(source.value);
  } catch (e) {
    throw locateSuiteError(e, located);
  }
  return { suite, path: abs, label: path, baseDir: dirname(abs), locate: located.locate };
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

/** Whether a value is a {@link LoadedSuite} (rather than a suite object). @internal */
export function isLoadedSuite(x: unknown): x is LoadedSuite {
  return typeof x === 'object' && x !== null && 'suite' in x && 'baseDir' in x && typeof (x as LoadedSuite).locate === 'function';
}
