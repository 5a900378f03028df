/**
 * Library errors in command-line terms: `options.maxIter` becomes
 * `--max-iter`, a model option becomes its flag (in the path, the problem and
 * the remedy: "reduce nComponents" → "reduce --components"), and a data path
 * (`data.column[1]`, `data[4][2]`) becomes the file with the 1-based row and
 * column (and the column's name).
 * @module
 */
import { EmError, formatPath, type ErrorPath } from '@emlab/core';
import { NO_VALUE, flagError, problemOf } from './cli-error.js';
import { FIT_OPTION_FLAGS } from './fit-flags.js';

/** What the command knows to translate paths with. */
export interface Vocabulary {
  /** The data file, for `data...` paths. */
  readonly file?: string;
  /** Its columns (after a weights column was taken out), for column indices. */
  readonly columns?: readonly string[];
  /** Model option key → flag name (without dashes). */
  readonly modelFlags?: ReadonlyMap<string, string>;
  /** Option keys with one value per data row (a registration's `columnOptions`): an index in their path is a data row. */
  readonly rowOptions?: readonly string[];
  /** The flag errors about `options.workers` (and below it) are reported under, with its value as typed (`--workers`, `--queue`). */
  readonly workersFlag?: { readonly flag: string; readonly value: string };
}

const column = (v: Vocabulary, c: number): string => {
  const name = v.columns?.[c];
  return name === undefined ? `column ${c + 1}` : `column ${c + 1} (${JSON.stringify(name)})`;
};

/** The flag of an option key, if the command line has one. */
function flagOfKey(key: string, v: Vocabulary): string | undefined {
  const m = v.modelFlags?.get(key);
  if (m !== undefined) return `--${m}`;
  return FIT_OPTION_FLAGS[key];
}

/**
 * Rewrites option keys that have flags into the flags, as whole words: only camelCase keys
 * (`nComponents`, `maxIter`), which are never ordinary English (`weights`, `seed` may be).
 */
function wordsToFlags(text: string, v: Vocabulary): string {
  let out = text;
  const keys = new Map<string, string>(Object.entries(FIT_OPTION_FLAGS));
  for (const [k, f] of v.modelFlags ?? []) keys.set(k, `--${f}`);
  for (const [k, f] of keys) if (/[A-Z]/.test(k)) out = out.replace(new RegExp(`(?<![\\w-])${k}(?![\\w-])`, 'g'), f);
  return out;
}

/** The new head path and the problem text for a data path. */
function dataPath(path: ErrorPath, problem: string, v: Vocabulary): { head: string; problem: string } | undefined {
  if (path[0] !== 'data' || v.file === undefined) return undefined;
  const [, a, b] = path;
  if (a === 'column' && typeof b === 'number') {
    return { head: `${v.file}, ${column(v, b)}`, problem: problem.replace(new RegExp(`^column ${b}\\b`), 'the column').replace(new RegExp(`\\bcolumn ${b}\\b`), column(v, b)) };
  }
  if (a === 'columns' && typeof b === 'string' && /^\d+,\d+$/.test(b)) {
    const [i, j] = b.split(',').map(Number) as [number, number];
    return { head: `${v.file}, ${column(v, i)} and ${column(v, j)}`, problem: problem.replace(new RegExp(`\\bcolumns ${i} and ${j}\\b`), `${column(v, i)} and ${column(v, j)}`) };
  }
  if (typeof a === 'number' && typeof b === 'number') return { head: `${v.file}, data row ${a + 1}, ${column(v, b)}`, problem };
  if (typeof a === 'number') return { head: `${v.file}, data row ${a + 1}`, problem };
  if (a === undefined) return { head: v.file, problem };
  return undefined;
}

/**
 * `e` in command-line terms (other values pass through unchanged).
 */
export function inFlagTerms(e: unknown, v: Vocabulary): unknown {
  if (!(e instanceof EmError) || e.code === 'INTERNAL') return e;
  const path = e.path;
  const problem = problemOf(e);
  const remedy = e.remedy === undefined ? undefined : wordsToFlags(e.remedy, v);
  const rebuild = (head: ErrorPath, newProblem: string): EmError => {
    const r = flagError(e.code, head, e.value === undefined ? NO_VALUE : e.value, newProblem, remedy ?? 'see the command\'s --help', e);
    return r;
  };
  if (path[0] === 'options' && path[1] === 'workers' && v.workersFlag !== undefined) {
    // `options.workers.queue = "redis://…"`, `options.workers = "bn"` (a model that cannot shard): the flag as typed.
    const inner = path.length > 2 && path[2] !== 'queue' ? `${formatPath(path.slice(2))}: ` : '';
    const what = typeof e.value === 'string' && e.value !== v.workersFlag.value ? `${e.value}: ` : '';
    const flagRemedy = remedy?.replace(/\bworkers: 1\b/g, `no ${v.workersFlag.flag}`);
    return flagError(e.code, [v.workersFlag.flag], v.workersFlag.value, `${inner}${what}${wordsToFlags(problem, v)}`, flagRemedy ?? "see the command's --help", e);
  }
  const data = dataPath(path, problem, v);
  if (data !== undefined) return rebuild([data.head], wordsToFlags(data.problem, v));
  // ['options', key, ...], or [owner, key] of a model or E-step factory
  const key = path[1];
  if (typeof key === 'string' && path[0] !== 'data') {
    const flag = path[0] === 'options' ? flagOfKey(key, v) : v.modelFlags?.has(key) === true ? `--${v.modelFlags.get(key) as string}` : undefined;
    if (flag !== undefined) {
      const rest = path.slice(2);
      const perRow = flag === '--weights-column' || (v.rowOptions?.includes(key) ?? false);
      const suffix = perRow && typeof rest[0] === 'number' ? [`data row ${rest[0] + 1}`] : rest;
      // Indices inside a list flag's value read as `--models[1]` (as the flag's own checks write them).
      const head = perRow ? [flag, ...suffix.map(String)].join(' ') : `${flag}${suffix.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
      return rebuild([head], wordsToFlags(problem, v));
    }
  }
  if (remedy !== e.remedy || wordsToFlags(problem, v) !== problem) return rebuild(path.length === 0 ? ['(input)'] : [formatPath(path)], wordsToFlags(problem, v));
  return e;
}
