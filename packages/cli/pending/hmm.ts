/**
 * `emlab hmm`: hidden Markov models from the command line — `hmm fit` (EM with any chain E-step),
 * `hmm decode` (Viterbi paths and posterior state probabilities of new data under a fitted model)
 * and `hmm sample` (sequences drawn from a fitted model, as CSV).
 *
 * Same conventions as the rest of the CLI: model flags come from the `hmm` registration's option
 * schema; user errors are `EmError`s naming the flag (or the row and column), printed by `main` as
 * one line with exit code 2.
 * @module
 */
import type { ParseArgsConfig } from 'node:util';
import {
  EmError,
  emError,
  findEStep,
  findModel,
  fit,
  formatPath,
  parseOptionText,
  toJson,
  type ErrorPath,
  type FitResult,
  type Model,
  type ModelRegistration,
  type OptionSchema,
} from '@emlab/core';
import { checkDistinctOutputs, checkWritable, loadResult, saveResult, writeFileAtomic } from '@emlab/core/node';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import '@emlab/models';
import type { HiddenMarkovModel, HmmParams, HmmTable } from '@emlab/models';
import { flagNumber, parseFlags, positionalArgs, printWarnings, progressLine, seedOf } from './args.js';
import type { CliIo } from './main.js';

/** Usage of `emlab hmm` (also shown by `emlab hmm --help`). @category CLI */
export const HMM_USAGE = `emlab hmm — hidden Markov models (one or many sequences, missing cells as latent variables)

Usage:
  emlab hmm fit <data.csv> --states K [--emission gaussian|gmm|poisson|categorical] [--columns a,b]
                [--sequence-column id] [--covariance full|diag|spherical|tied] [--mix M] [--n-categories C]
                [--topology ergodic|left-right] [--initial free|fixed|stationary] [--params ste] [--init-params ste]
                [--initial-pseudo-count a] [--transition-pseudo-count a] [--reg-covar r] [--init kmeans|random]
                [--init-window W] [--estep exact|hard|stochastic] [--estep-option key=value] [--draws S]
                [--n-init R] [--seed S] [--max-iter N] [--tol T] [--json] [--out result.json]
      EM for the model. Rows are time steps in order; --sequence-column groups them into sequences.
      Cells: numbers (category labels for --emission categorical); empty, NA, NaN, nan, ? are missing.
      --estep exact is forward–backward, hard is Viterbi training, stochastic is FFBS (--draws paths).
  emlab hmm decode <data.csv> --model result.json [--columns a,b] [--sequence-column id] [--proba] [--json] [--out states.csv]
      The most probable state path of every sequence (Viterbi) under a fitted model, one line per row in
      file order (sequence, row, state; --proba adds the posterior probability of every state).
  emlab hmm sample --model result.json (--n T | --lengths T1,T2,...) [--seed S] [--out data.csv]
      Sequences drawn from a fitted model: sequence, state and observation columns; CSV on stdout without --out.

Exit codes: 0 ok, 2 user error, 1 internal error.`;

// ---------------------------------------------------------------- flags

/** parseArgs options for every flag-bearing option of a schema (all string-valued). */
function schemaFlags(schema: OptionSchema): Record<string, { type: 'string' }> {
  const out: Record<string, { type: 'string' }> = {};
  for (const spec of Object.values(schema)) if (spec.flag !== undefined) out[spec.flag] = { type: 'string' };
  return out;
}

/** Model options from the flags that were given (each parsed by its spec, errors naming the flag). */
function modelOptionsFromFlags(schema: OptionSchema, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.flag === undefined) continue;
    const text = values[spec.flag];
    if (typeof text === 'string') out[key] = parseOptionText(spec, text, [`--${spec.flag}`]);
  }
  return out;
}

/** Rewrites a library error whose path starts with a known prefix (`options.maxIter`) as the flag (`--max-iter`). */
function asFlag(e: unknown, flags: ReadonlyMap<string, string>): unknown {
  if (!(e instanceof EmError)) return e;
  for (const n of [2, 1]) {
    const prefix = formatPath(e.path.slice(0, n));
    const flag = flags.get(prefix);
    if (flag === undefined || !e.message.startsWith(prefix)) continue;
    const path: ErrorPath = [flag, ...e.path.slice(n)];
    return new EmError(e.code, `${formatPath(path)}${e.message.slice(prefix.length)}`, { path, value: e.value, ...(e.remedy === undefined ? {} : { remedy: e.remedy }), cause: e });
  }
  return e;
}

/** `options.key` → `--flag` for the registration's schema and `fit`'s options. */
function flagMap(schema: OptionSchema): Map<string, string> {
  const m = new Map<string, string>([
    ['options.maxIter', '--max-iter'],
    ['options.tol', '--tol'],
    ['options.nInit', '--n-init'],
    ['options.seed', '--seed'],
    ['options.init', '--init'],
    ['options.eStep', '--estep'],
    ['options.eStepOptions', '--estep-option'],
    ['chainStochasticEStep.nDraws', '--draws'],
    ['chainExactEStep.variant', '--estep-option'],
  ]);
  for (const [key, spec] of Object.entries(schema)) if (spec.flag !== undefined) m.set(`options.${key}`, `--${spec.flag}`);
  return m;
}

function registration(): ModelRegistration {
  // Importing @emlab/models registers `hmm`.
  return findModel('hmm');
}

/** `--estep-option key=value` (repeatable) parsed by the E-step's option schema. */
function eStepOptionsFrom(method: string, texts: readonly string[], draws: number | undefined): Record<string, unknown> | undefined {
  if (texts.length === 0 && draws === undefined) return undefined;
  const entry = findEStep('chain', method, ['--estep']);
  const schema = entry.options ?? {};
  const out: Record<string, unknown> = {};
  for (const text of texts) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw emError('INVALID_ARGUMENT', ['--estep-option'], text, 'is not of the form key=value', 'pass e.g. --estep-option variant=log');
    const key = text.slice(0, eq).trim();
    const spec = schema[key];
    if (spec === undefined) {
      const known = Object.keys(schema);
      throw emError('INVALID_ARGUMENT', ['--estep-option', key], text, `is not an option of E-step ${method}`, known.length > 0 ? `use one of: ${known.join(', ')}` : `${method} takes no options`);
    }
    out[key] = parseOptionText(spec, text.slice(eq + 1).trim(), ['--estep-option', key]);
  }
  if (draws !== undefined) {
    if (!('nDraws' in schema)) throw emError('INVALID_ARGUMENT', ['--draws'], draws, `only applies to --estep stochastic (not ${method})`, 'drop --draws or pass --estep stochastic');
    out['nDraws'] = draws;
  }
  return out;
}

function fmt(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '—';
  return Math.abs(x) >= 1e6 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits) : x.toFixed(digits);
}

const row = (v: readonly number[], digits = 4): string => `[${v.map((x) => fmt(x, digits)).join(', ')}]`;

/** A CSV cell (quoted when needed). */
function cell(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

async function output(io: CliIo, out: string | undefined, text: string): Promise<void> {
  if (out === undefined) io.stdout(text);
  else await writeFileAtomic(out, text, ['--out']);
}

// ---------------------------------------------------------------- hmm fit

const FIT_FLAGS = {
  seed: { type: 'string' },
  'n-init': { type: 'string' },
  'max-iter': { type: 'string' },
  tol: { type: 'string' },
  init: { type: 'string' },
  estep: { type: 'string' },
  'estep-option': { type: 'string', multiple: true },
  draws: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** One paragraph describing a fitted HMM's parameters. */
function describeParams(p: HmmParams, columns: readonly string[]): string[] {
  const lines = [`initial    ${row(p.initial)}`, 'transition'];
  p.transition.forEach((r, i) => lines.push(`  from ${i}   ${row(r)}`));
  const e = p.emission as unknown as Record<string, unknown> & { type: string };
  const k = p.initial.length;
  for (let s = 0; s < k; s++) {
    if (e.type === 'gaussian') lines.push(`state ${s}    mean ${row((e['means'] as number[][])[s] as number[], 3)} (${columns.join(', ')})`);
    else if (e.type === 'gmm') lines.push(`state ${s}    weights ${row((e['weights'] as number[][])[s] as number[], 3)}; means ${((e['means'] as number[][][])[s] as number[][]).map((m) => row(m, 3)).join(' ')}`);
    else if (e.type === 'poisson') lines.push(`state ${s}    rates ${row((e['rates'] as number[][])[s] as number[], 3)} (${columns.join(', ')})`);
    else if (e.type === 'categorical') {
      const probs = (e['probabilities'] as number[][][])[s] as number[][];
      const labels = e['categories'] as string[][] | undefined;
      lines.push(`state ${s}    ${probs.map((dist, d) => `${columns[d] ?? `column ${d}`}: ${dist.map((v, c) => `${labels?.[d]?.[c] ?? c}=${fmt(v, 3)}`).join(' ')}`).join('; ')}`);
    }
  }
  return lines;
}

async function runFit(args: string[], io: CliIo): Promise<number> {
  const reg = registration();
  const { values, positionals } = parseFlags(args, { ...schemaFlags(reg.options), ...FIT_FLAGS }, 'emlab hmm --help');
  if (values.help) {
    io.stdout(`${HMM_USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<data.csv>'], 'emlab hmm fit data.csv --states 3 --sequence-column id') as [string];
  const flags = flagMap(reg.options);
  const given = modelOptionsFromFlags(reg.options, values as Record<string, unknown>);
  if (given['nStates'] === undefined) throw emError('INVALID_ARGUMENT', ['--states'], undefined, 'is required', 'pass the number of hidden states, e.g. --states 3');
  const maxIter = flagNumber('max-iter', values['max-iter'], 'int', 1);
  const tol = flagNumber('tol', values.tol, 'float', 0);
  const nInit = flagNumber('n-init', values['n-init'], 'int', 1);
  const draws = flagNumber('draws', values.draws, 'int', 1);
  const seed = seedOf(values.seed);
  const method = values.estep ?? 'exact';
  findEStep('chain', method, ['--estep']);
  const eStepOptions = eStepOptionsFrom(method, values['estep-option'] ?? [], draws);
  if (values.out !== undefined) {
    checkDistinctOutputs([['--out', values.out], ['<data.csv>', file]]);
    await checkWritable(values.out, ['--out']);
  }
  const warnings: string[] = [];
  let result: FitResult<HmmParams>;
  let table: HmmTable;
  let model: HiddenMarkovModel;
  try {
    if (reg.data?.format !== 'custom') throw new EmError('INTERNAL', 'the hmm registration reads its own data');
    const read = await reg.data.read([file], given);
    table = read.data as HmmTable;
    model = reg.create(read.options) as unknown as HiddenMarkovModel;
    result = (await fit(model as unknown as Model<unknown, HmmParams, unknown>, table, {
      eStep: method,
      ...(eStepOptions === undefined ? {} : { eStepOptions }),
      seed,
      ...(maxIter === undefined ? {} : { maxIter }),
      ...(tol === undefined ? {} : { tol }),
      ...(nInit === undefined ? {} : { nInit }),
      ...(values.init === undefined ? {} : { init: values.init }),
      onIteration: progressLine(io, `hmm fit ${file}`, 'bound', (x) => fmt(x)),
      onWarning: (m) => warnings.push(m),
    })) as FitResult<HmmParams>;
  } catch (e) {
    throw asFlag(e, flags);
  }
  if (io.isTty) io.stderr('\r\u001b[K');
  const layout = { columns: table.columns, sequenceColumn: (given['sequenceColumn'] as string | undefined) ?? null, sequences: table.lengths.length };
  const saved = { ...result, hmm: layout } as FitResult<HmmParams>;
  if (values.out !== undefined) await saveResult(values.out, saved, ['--out']);
  if (values.json) {
    io.stdout(`${toJson({ ...saved, bic: model.bic(result.params as never, table), aic: model.aic(result.params as never, table) })}\n`);
  } else {
    const o = model.options;
    const emission = o['emission'] === 'gaussian' || o['emission'] === 'gmm' ? `${String(o['emission'])} emissions (${String(o['covarianceType'])} covariance${o['emission'] === 'gmm' ? `, ${String(o['nMix'])} components per state` : ''})` : `${String(o['emission'])} emissions`;
    const summary = result.data ?? {};
    const lines = [
      `model      hmm: ${String(o['nStates'])} states, ${emission}, topology ${String(o['topology'])}, initial ${String(o['initial'])}`,
      `data       ${file}: ${table.lengths.length} sequence(s), ${table.rows} time steps × ${table.cols} columns (${table.columns.join(', ')}); ${summary['nMissing'] ?? 0} missing cells, ${summary['nStepsAllMissing'] ?? 0} steps entirely missing`,
      `method     ${result.method.name} (${result.method.family}); seed ${String(result.seed)}`,
      `converged  ${result.converged ? 'yes' : 'no'} (${result.convergenceReason}) after ${result.nIter} iterations; best of ${result.restarts.length} restart(s): #${result.restart + 1}`,
      `bound      ${fmt(result.bound)} (${result.boundKind})`,
      `log-lik    ${fmt(result.logLikelihood)}; BIC ${fmt(model.bic(result.params as never, table), 2)}`,
      ...describeParams(result.params, table.columns),
    ];
    if (values.out !== undefined) lines.push(`written    ${values.out}`);
    io.stdout(`${lines.join('\n')}\n`);
  }
  printWarnings(io, warnings);
  return 0;
}

// ---------------------------------------------------------------- fitted models

interface Fitted {
  readonly model: HiddenMarkovModel;
  readonly params: HmmParams;
  readonly options: Readonly<Record<string, unknown>>;
  readonly columns: readonly string[] | undefined;
}

async function loadFitted(path: string | undefined): Promise<Fitted> {
  if (path === undefined) throw emError('INVALID_ARGUMENT', ['--model'], undefined, 'is required', 'pass a result written by emlab hmm fit --out result.json');
  let result: FitResult<HmmParams> & { hmm?: { columns?: string[] } };
  try {
    result = await loadResult<HmmParams>(path);
  } catch (e) {
    if (e instanceof EmError) throw emError(e.code, ['--model'], path, e.message, 'pass a result written by emlab hmm fit --out result.json', e);
    throw e;
  }
  if (result.model?.name !== 'hmm') throw emError('INVALID_ARGUMENT', ['--model'], path, `holds a ${String(result.model?.name)} model, not an hmm`, 'pass a result written by emlab hmm fit --out');
  const reg = registration();
  let model: HiddenMarkovModel;
  try {
    model = reg.create(result.model.options) as unknown as HiddenMarkovModel;
    model.validateParams(result.params);
  } catch (e) {
    if (e instanceof EmError) throw emError(e.code, ['--model'], path, `holds an unusable model: ${e.message}`, 'refit with emlab hmm fit', e);
    throw e;
  }
  return { model, params: result.params, options: result.model.options, columns: result.hmm?.columns };
}

// ---------------------------------------------------------------- hmm decode

const DECODE_FLAGS = {
  model: { type: 'string' },
  columns: { type: 'string' },
  'sequence-column': { type: 'string' },
  proba: { type: 'boolean' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

async function runDecode(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, DECODE_FLAGS, 'emlab hmm --help');
  if (values.help) {
    io.stdout(`${HMM_USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<data.csv>'], 'emlab hmm decode data.csv --model result.json') as [string];
  if (values.out !== undefined) {
    checkDistinctOutputs([['--out', values.out], ['<data.csv>', file], ['--model', values.model]]);
    await checkWritable(values.out, ['--out']);
  }
  const fitted = await loadFitted(values.model);
  const reg = registration();
  const columns = values.columns === undefined ? fitted.columns : values.columns.split(',').map((s) => s.trim());
  const emission = fitted.params.emission as unknown as { type: string; categories?: string[][] };
  let table: HmmTable;
  let states: ReturnType<HiddenMarkovModel['decode']>;
  let proba: number[][] | undefined;
  try {
    if (reg.data?.format !== 'custom') throw new EmError('INTERNAL', 'the hmm registration reads its own data');
    const read = await reg.data.read([file], {
      ...fitted.options,
      ...(columns === undefined ? {} : { columns }),
      ...(values['sequence-column'] === undefined ? {} : { sequenceColumn: values['sequence-column'] }),
      ...(emission.categories === undefined ? {} : { categories: emission.categories }),
    });
    table = read.data as HmmTable;
    states = fitted.model.decode(fitted.params as never, table);
    if (values.proba) proba = fitted.model.predictProba(fitted.params as never, table);
  } catch (e) {
    throw asFlag(e, new Map([['options.columns', '--columns'], ['options.sequenceColumn', '--sequence-column']]));
  }
  const k = fitted.params.initial.length;
  // Back to file order.
  const seqOfRow = new Int32Array(table.rows);
  let r0 = 0;
  table.lengths.forEach((len, s) => {
    seqOfRow.fill(s, r0, r0 + len);
    r0 += len;
  });
  const byFileRow = new Int32Array(table.rows);
  table.order.forEach((fileRow, p) => (byFileRow[fileRow] = p));
  if (values.json) {
    let start = 0;
    const sequences = table.sequenceIds.map((id, s) => {
      const len = table.lengths[s] as number;
      const out = { id, logJoint: states.logJoints[s] as number, states: Array.from(states.states.subarray(start, start + len)), ...(proba === undefined ? {} : { proba: proba.slice(start, start + len) }) };
      start += len;
      return out;
    });
    await output(io, values.out, `${toJson({ model: values.model, data: file, logJoint: states.logJoint, sequences })}\n`);
  } else {
    const lines = [['sequence', 'row', 'state', ...(proba === undefined ? [] : Array.from({ length: k }, (_, j) => `p${j}`))].join(',')];
    for (let fileRow = 0; fileRow < table.rows; fileRow++) {
      const p = byFileRow[fileRow] as number;
      const cells = [cell(table.sequenceIds[seqOfRow[p] as number] as string), String(fileRow), String(states.states[p])];
      if (proba !== undefined) for (const v of proba[p] as number[]) cells.push(String(v));
      lines.push(cells.join(','));
    }
    await output(io, values.out, `${lines.join('\n')}\n`);
    if (values.out !== undefined) io.stdout(`decoded ${table.lengths.length} sequence(s), ${table.rows} rows (log p(x, ẑ) = ${fmt(states.logJoint)}); written to ${values.out}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------- hmm sample

const SAMPLE_FLAGS = {
  model: { type: 'string' },
  n: { type: 'string' },
  lengths: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

async function runSample(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, SAMPLE_FLAGS, 'emlab hmm --help');
  if (values.help) {
    io.stdout(`${HMM_USAGE}\n`);
    return 0;
  }
  positionalArgs(positionals, [], 'emlab hmm sample --model result.json --n 1000');
  if (values.n !== undefined && values.lengths !== undefined) throw emError('INVALID_ARGUMENT', ['--lengths'], values.lengths, 'conflicts with --n', 'pass either --n T (one sequence) or --lengths T1,T2,...');
  let lengths: number[];
  if (values.lengths !== undefined) {
    lengths = values.lengths.split(',').map((t) => {
      const v = Number(t.trim());
      if (t.trim() === '' || !Number.isSafeInteger(v) || v < 1) throw emError('INVALID_ARGUMENT', ['--lengths'], values.lengths, 'must be a comma-separated list of integers >= 1', 'pass e.g. --lengths 500,300');
      return v;
    });
  } else {
    const n = flagNumber('n', values.n, 'int', 1);
    if (n === undefined) throw emError('INVALID_ARGUMENT', ['--n'], undefined, 'is required (or --lengths)', 'pass the number of time steps, e.g. --n 1000');
    lengths = [n];
  }
  if (values.out !== undefined) await checkWritable(values.out, ['--out']);
  const fitted = await loadFitted(values.model);
  const s = fitted.model.sample(fitted.params as never, lengths, seedOf(values.seed));
  const width = (s.x[0] ?? []).length;
  const names = fitted.columns ?? Array.from({ length: width }, (_, j) => `x${j}`);
  const labels = (fitted.params.emission as unknown as { categories?: string[][] }).categories;
  const lines = [['sequence', 'state', ...names.map(cell)].join(',')];
  let t = 0;
  s.lengths.forEach((len, seq) => {
    for (let i = 0; i < len; i++, t++) {
      const obs = (s.x[t] as number[]).map((v, j) => (labels?.[j]?.[v] !== undefined ? cell(labels[j]?.[v] as string) : String(v)));
      lines.push([String(seq + 1), String(s.states[t]), ...obs].join(','));
    }
  });
  await output(io, values.out, `${lines.join('\n')}\n`);
  if (values.out !== undefined) io.stdout(`sampled ${s.lengths.length} sequence(s), ${t} rows (seed ${String(seedOf(values.seed))}); written to ${values.out}\n`);
  return 0;
}

// ---------------------------------------------------------------- dispatch

/**
 * Runs `emlab hmm <fit|decode|sample> ...` (`args` without the leading `hmm`).
 * @returns the exit code; user errors are thrown as `EmError` for `main` to print (exit 2).
 * @example
 * ```ts
 * await runHmm(['fit', 'data.csv', '--states', '3', '--sequence-column', 'id', '--out', 'result.json'], io);
 * ```
 * @category CLI
 */
export async function runHmm(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'fit':
      return await runFit(rest, io);
    case 'decode':
      return await runDecode(rest, io);
    case 'sample':
      return await runSample(rest, io);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.stdout(`${HMM_USAGE}\n`);
      return 0;
    default:
      throw emError('INVALID_ARGUMENT', ['hmm'], sub, 'is not an hmm command (commands: fit, decode, sample)', 'see emlab hmm --help');
  }
}
