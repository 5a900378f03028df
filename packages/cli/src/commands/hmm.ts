/**
 * `emlab hmm`: hidden Markov models from the command line — `hmm fit` (EM
 * with any chain method; the model flags are the `hmm` registration's),
 * `hmm decode` (Viterbi paths and posterior state probabilities of data under
 * a fitted model, in file order) and `hmm sample` (sequences drawn from a
 * fitted model, as CSV).
 *
 * Same conventions as the rest of the CLI: every flag is checked and every
 * output path is checked before any work; user errors name the flag (or the
 * file, line and column) in one line with exit code 2; outputs are written
 * atomically at the end, so a failed run leaves a previous file as it was.
 * @module
 */
import { EmError, findModel, toJson, type FitResult, type Model } from '@emlab/core';
import { loadResult } from '@emlab/core/node';
import type { HiddenMarkovModel, HmmParams, HmmTable } from '@emlab/models';
import { NO_VALUE, badFlag, flagError, problemOf } from '../internal/cli-error.js';
import { commandFlags, commandSpec, type CommandSpec } from '../internal/commands.js';
import { fitFlags } from '../internal/fit-flags.js';
import { inTerms, parseCommandArgs, readInitParams, runFitJob, vocabulary } from '../internal/fit-session.js';
import { loadBuiltins } from '../internal/builtins.js';
import { Interrupt } from '../internal/interrupt.js';
import type { CliIo } from '../internal/io.js';
import { MAX_OUTPUT_CELLS, checkCells } from '../internal/limits.js';
import { methodFromFlags } from '../internal/method-flags.js';
import { readModelData } from '../internal/model-data.js';
import { modelOptions } from '../internal/model-flags.js';
import { flagNumber, seedOf } from '../internal/numbers.js';
import { checkOutputs, commitOutputs } from '../internal/outputs.js';
import { on, parseFlags, positionalArgs, text } from '../internal/parse-flags.js';
import { Progress } from '../internal/progress.js';
import type { Vocabulary } from '../internal/rephrase.js';
import { fitScaleFlags, fitWorkers, type FitWorkers } from '../internal/scale-flags.js';

const FIT_EXAMPLE = 'emlab hmm fit data.csv --states 3 --sequence-column id';

/** What `hmm fit --out` adds to the FitResult: how the CSV was read (decode and sample use it). */
interface HmmLayout {
  readonly columns: readonly string[];
  readonly sequenceColumn: string | null;
  readonly sequences: number;
}

// ---------------------------------------------------------------- formatting

function fmt(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '—';
  return Math.abs(x) >= 1e6 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits) : x.toFixed(digits);
}

const vector = (v: readonly number[], digits = 4): string => `[${v.map((x) => fmt(x, digits)).join(', ')}]`;

/** A CSV cell (quoted when needed). */
function cell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The lines describing a fitted HMM's parameters. */
function describeParams(p: HmmParams, columns: readonly string[]): string[] {
  const lines = [`initial    ${vector(p.initial)}`, 'transition'];
  p.transition.forEach((r, i) => lines.push(`  from ${i}   ${vector(r)}`));
  const e = p.emission as unknown as Record<string, unknown> & { type: string };
  const k = p.initial.length;
  for (let s = 0; s < k; s++) {
    if (e.type === 'gaussian') lines.push(`state ${s}    mean ${vector((e['means'] as number[][])[s] as number[], 3)} (${columns.join(', ')})`);
    else if (e.type === 'gmm') lines.push(`state ${s}    weights ${vector((e['weights'] as number[][])[s] as number[], 3)}; means ${((e['means'] as number[][][])[s] as number[][]).map((m) => vector(m, 3)).join(' ')}`);
    else if (e.type === 'poisson') lines.push(`state ${s}    rates ${vector((e['rates'] as number[][])[s] as number[], 3)} (${columns.join(', ')})`);
    else if (e.type === 'categorical') {
      const probs = (e['probabilities'] as number[][][])[s] as number[][];
      const labels = e['categories'] as string[][] | undefined;
      lines.push(`state ${s}    ${probs.map((dist, d) => `${columns[d] ?? `column ${d + 1}`}: ${dist.map((v, c) => `${labels?.[d]?.[c] ?? c}=${fmt(v, 3)}`).join(' ')}`).join('; ')}`);
    }
  }
  return lines;
}

// ---------------------------------------------------------------- hmm fit

/**
 * `emlab hmm fit <data.csv> --states K [model flags] [--estep NAME] [flags]`.
 * @returns the exit code (130 when interrupted).
 * @example
 * ```ts
 * await runHmmFit(['rolls.csv', '--states', '2', '--emission', 'categorical', '--sequence-column', 'session', '--out', 'casino.json'], io);
 * ```
 * @category CLI
 */
export async function runHmmFit(args: readonly string[], io: CliIo): Promise<number> {
  const { parsed, model: mf } = await parseCommandArgs('hmm fit', args, 'hmm');
  const [file] = positionalArgs(parsed.positionals, ['<data.csv>'], FIT_EXAMPLE) as [string];
  const registration = mf.registration;
  const given = modelOptions(mf, parsed);
  const method = methodFromFlags(registration.structureKind, parsed);
  const options = fitFlags(parsed);
  const scale = fitScaleFlags(parsed, undefined);
  const out = text(parsed, 'out');
  await checkOutputs([['--out', out]], [['<data.csv>', file], ['--init-params', options.initParams]]);

  const progress = new Progress(io, `hmm fit ${file}`);
  const interrupt = new Interrupt(io, 'the fit');
  let engine: FitWorkers | undefined;
  // Library errors about options.workers are reported under the flag as typed.
  const terms = (w: Vocabulary): Vocabulary => (scale.workersFlag === undefined ? w : { ...w, workersFlag: scale.workersFlag });
  try {
    let v = terms(vocabulary(mf));
    // The model is built first, so cross-option errors come before the data is read.
    await inTerms(v, () => registration.create(given));
    const loaded = await inTerms(v, () => readModelData(registration, [file], given, { progress, example: FIT_EXAMPLE }));
    const table = loaded.data as HmmTable;
    v = terms(vocabulary(mf, file, table.columns));
    const model = (await inTerms(v, () => registration.create(loaded.options))) as unknown as HiddenMarkovModel;
    await inTerms(v, () => model.validate(table));
    const initParams = options.initParams === undefined ? undefined : await inTerms(v, () => readInitParams(options.initParams as string, model as unknown as Model<unknown, unknown, unknown>));
    const warnings: string[] = [];
    engine = await fitWorkers(scale);
    const result = (await runFitJob({ model: model as unknown as Model<unknown, HmmParams, unknown>, data: table, method, options, initParams, progress, interrupt, vocabulary: v, workers: engine.workers }, warnings)) as FitResult<HmmParams> | null;
    if (result === null) {
      io.stderr('emlab: interrupted: the fit stopped; nothing was written\n');
      return 130;
    }
    const layout: HmmLayout = { columns: table.columns, sequenceColumn: (given['sequenceColumn'] as string | undefined) ?? null, sequences: table.lengths.length };
    const saved = { ...result, hmm: layout };
    if (out !== undefined) {
      interrupt.set('defer');
      await commitOutputs([{ flag: '--out', path: out, content: () => `${toJson(saved)}\n` }]);
      interrupt.set('exit');
    }
    const bic = model.bic(result.params as never, table);
    if (on(parsed, 'json')) {
      io.stdout(`${toJson({ ...saved, bic, aic: model.aic(result.params as never, table) })}\n`);
    } else {
      const o = model.options as Readonly<Record<string, unknown>>;
      const gaussian = o['emission'] === 'gaussian' || o['emission'] === 'gmm';
      const emission = gaussian ? `${String(o['emission'])} emissions (${String(o['covarianceType'])} covariance${o['emission'] === 'gmm' ? `, ${String(o['nMix'])} components per state` : ''})` : `${String(o['emission'])} emissions`;
      const summary = (result.data ?? {}) as Record<string, unknown>;
      const lines = [
        `model      hmm: ${String(o['nStates'])} states, ${emission}, topology ${String(o['topology'])}, initial ${String(o['initial'])}`,
        `data       ${file}: ${table.lengths.length} sequence(s), ${table.rows} time steps × ${table.cols} columns (${table.columns.join(', ')}); ${String(summary['nMissing'] ?? 0)} missing cells, ${String(summary['nStepsAllMissing'] ?? 0)} steps entirely missing`,
        `method     ${result.method.name} (${result.method.family})${Object.keys(result.method.options).length === 0 ? '' : ` ${Object.entries(result.method.options).map(([key, x]) => `${key}=${typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)}`).join(' ')}`}; seed ${String(result.seed)}`,
        `converged  ${result.converged ? 'yes' : 'no'} (${result.convergenceReason}) after ${result.nIter} iterations; best of ${result.restarts.length} restart(s): #${result.restart + 1}`,
        `bound      ${fmt(result.bound)} (${result.boundKind})`,
        `log-lik    ${fmt(result.logLikelihood)}; BIC ${fmt(bic, 2)}`,
        ...describeParams(result.params, table.columns),
      ];
      if (out !== undefined) lines.push(`written    ${out}`);
      io.stdout(`${lines.join('\n')}\n`);
    }
    for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
    return 0;
  } finally {
    interrupt.dispose();
    await engine?.close();
  }
}

// ---------------------------------------------------------------- fitted models

interface Fitted {
  readonly model: HiddenMarkovModel;
  readonly params: HmmParams;
  readonly options: Readonly<Record<string, unknown>>;
  readonly columns: readonly string[] | undefined;
}

const FITTED_REMEDY = 'pass a result written by emlab hmm fit --out result.json';

/**
 * The fitted HMM of `--result RESULT.json`.
 * @throws EmError naming `--result`.
 */
async function loadFitted(path: string | undefined): Promise<Fitted> {
  if (path === undefined) throw badFlag('--result', NO_VALUE, 'is required', FITTED_REMEDY);
  let result: FitResult<HmmParams> & { hmm?: Partial<HmmLayout> };
  try {
    result = (await loadResult<HmmParams>(path)) as typeof result;
  } catch (e) {
    if (!(e instanceof EmError) || e.code === 'INTERNAL') throw e;
    let registered = false;
    try {
      findModel(path);
      registered = true;
    } catch {
      // not a model name either
    }
    const remedy = registered ? `hmm decode and hmm sample take the result file of a fit: ${FITTED_REMEDY}` : FITTED_REMEDY;
    throw flagError(e.code, ['--result'], path, problemOf(e), remedy, e);
  }
  if (result.model?.name !== 'hmm') throw badFlag('--result', path, `holds a result of model ${JSON.stringify(result.model?.name)}, not hmm`, FITTED_REMEDY);
  const registration = findModel('hmm');
  let model: HiddenMarkovModel;
  try {
    model = registration.create(result.model.options) as unknown as HiddenMarkovModel;
    model.validateParams(result.params as never);
  } catch (e) {
    if (!(e instanceof EmError) || e.code === 'INTERNAL') throw e;
    throw flagError(e.code, ['--result'], path, `holds an unusable model: ${problemOf(e)}`, 'refit with emlab hmm fit --out', e);
  }
  return { model, params: result.params, options: result.model.options, columns: result.hmm?.columns };
}

function parseSimple(command: string, args: readonly string[]): ReturnType<typeof parseFlags> {
  return parseFlags(args, commandFlags(commandSpec(command) as CommandSpec), `emlab ${command} --help`);
}

// ---------------------------------------------------------------- hmm decode

/**
 * `emlab hmm decode <data.csv> --result RESULT.json [--columns a,b] [--sequence-column id] [--proba] [--json] [--out FILE]`.
 * @returns the exit code.
 * @category CLI
 */
export async function runHmmDecode(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseSimple('hmm decode', args);
  const [file] = positionalArgs(parsed.positionals, ['<data.csv>'], 'emlab hmm decode data.csv --result result.json') as [string];
  const resultFile = text(parsed, 'result');
  if (resultFile === undefined) throw badFlag('--result', NO_VALUE, 'is required', FITTED_REMEDY);
  const columnsText = text(parsed, 'columns');
  const columns = columnsText === undefined ? undefined : columnsText.split(',').map((s) => s.trim());
  if (columns?.some((c) => c === '')) throw badFlag('--columns', columnsText, 'has an empty column name', 'pass comma-separated column names, e.g. --columns a,b');
  const sequenceColumn = text(parsed, 'sequence-column');
  const out = text(parsed, 'out');
  const proba = on(parsed, 'proba');
  await checkOutputs([['--out', out]], [['<data.csv>', file], ['--result', resultFile]]);
  await loadBuiltins();
  const fitted = await loadFitted(resultFile);
  const registration = findModel('hmm');
  if (registration.data?.format !== 'custom') throw new EmError('INTERNAL', 'the hmm registration reads its own data');
  const emission = fitted.params.emission as unknown as { type: string; categories?: string[][] };
  const v: Vocabulary = { file, modelFlags: new Map([['columns', 'columns'], ['sequenceColumn', 'sequence-column']]) };
  const readOptions = {
    ...fitted.options,
    ...((columns ?? fitted.columns) === undefined ? {} : { columns: columns ?? fitted.columns }),
    ...(sequenceColumn === undefined ? {} : { sequenceColumn }),
    ...(emission.categories === undefined ? {} : { categories: emission.categories }),
  };
  const read = await inTerms(v, () => (registration.data as { read: (f: readonly string[], o: Record<string, unknown>) => Promise<{ data: unknown }> }).read([file], readOptions));
  const table = read.data as HmmTable;
  const k = fitted.params.initial.length;
  if (proba) checkCells('--proba', 'on', table.rows * k, `${table.rows} rows × ${k} states`, MAX_OUTPUT_CELLS);
  const states = await inTerms(v, () => fitted.model.decode(fitted.params as never, table));
  const probabilities = proba ? await inTerms(v, () => fitted.model.predictProba(fitted.params as never, table)) : undefined;
  // Back to file order: table.order[p] is the file row of position p.
  const seqOfPosition = new Int32Array(table.rows);
  let r0 = 0;
  table.lengths.forEach((len, s) => {
    seqOfPosition.fill(s, r0, r0 + len);
    r0 += len;
  });
  const positionOfRow = new Int32Array(table.rows);
  table.order.forEach((fileRow, p) => (positionOfRow[fileRow] = p));
  let content: string;
  if (on(parsed, 'json')) {
    let start = 0;
    const sequences = table.sequenceIds.map((id, s) => {
      const len = table.lengths[s] as number;
      const seq = {
        id,
        logJoint: states.logJoints[s] as number,
        rows: Array.from(table.order.slice(start, start + len)),
        states: Array.from(states.states.subarray(start, start + len)),
        ...(probabilities === undefined ? {} : { proba: probabilities.slice(start, start + len) }),
      };
      start += len;
      return seq;
    });
    content = `${toJson({ model: resultFile, data: file, logJoint: states.logJoint, sequences })}\n`;
  } else {
    const lines = [['sequence', 'row', 'state', ...(probabilities === undefined ? [] : Array.from({ length: k }, (_, j) => `p${j}`))].join(',')];
    for (let fileRow = 0; fileRow < table.rows; fileRow++) {
      const p = positionOfRow[fileRow] as number;
      const cells = [cell(table.sequenceIds[seqOfPosition[p] as number] as string), String(fileRow), String(states.states[p])];
      if (probabilities !== undefined) for (const x of probabilities[p] as number[]) cells.push(String(x));
      lines.push(cells.join(','));
    }
    content = `${lines.join('\n')}\n`;
  }
  if (out === undefined) {
    io.stdout(content);
  } else {
    await commitOutputs([{ flag: '--out', path: out, content: () => content }]);
    io.stdout(`decoded ${table.lengths.length} sequence(s), ${table.rows} rows (log p(x, ẑ) = ${fmt(states.logJoint)}); written to ${out}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------- hmm sample

/** `--lengths T1,T2,...`, each an integer >= 1. @throws EmError naming `--lengths`. */
function parseLengths(value: string): number[] {
  return value.split(',').map((t) => {
    const x = Number(t.trim());
    if (t.trim() === '' || !Number.isSafeInteger(x) || x < 1) throw badFlag('--lengths', value, 'must be a comma-separated list of integers >= 1', 'pass e.g. --lengths 500,300');
    return x;
  });
}

/**
 * `emlab hmm sample --result RESULT.json (--n T | --lengths T1,T2,...) [--seed S] [--out data.csv]`.
 * @returns the exit code.
 * @category CLI
 */
export async function runHmmSample(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseSimple('hmm sample', args);
  positionalArgs(parsed.positionals, [], 'emlab hmm sample --result result.json --n 1000');
  const resultFile = text(parsed, 'result');
  if (resultFile === undefined) throw badFlag('--result', NO_VALUE, 'is required', FITTED_REMEDY);
  const nText = text(parsed, 'n');
  const lengthsText = text(parsed, 'lengths');
  if (nText !== undefined && lengthsText !== undefined) throw badFlag('--lengths', lengthsText, 'conflicts with --n', 'pass either --n T (one sequence) or --lengths T1,T2,...');
  let lengths: number[];
  if (lengthsText !== undefined) {
    lengths = parseLengths(lengthsText);
  } else {
    const n = flagNumber('n', nText, 'int', 1);
    if (n === undefined) throw badFlag('--n', NO_VALUE, 'is required (or --lengths)', 'pass the number of time steps, e.g. --n 1000');
    lengths = [n];
  }
  const seed = seedOf(text(parsed, 'seed'));
  const out = text(parsed, 'out');
  await checkOutputs([['--out', out]], [['--result', resultFile]]);
  const total = lengths.reduce((a, b) => a + b, 0);
  await loadBuiltins();
  const fitted = await loadFitted(resultFile);
  const width = fitted.columns?.length ?? 1;
  const sizeFlag = lengthsText === undefined ? '--n' : '--lengths';
  checkCells(sizeFlag, lengthsText ?? (nText as string), total * (width + 2), `${total} time steps × ${width + 2} columns`, MAX_OUTPUT_CELLS);
  const s = fitted.model.sample(fitted.params as never, lengths, seed);
  const names = fitted.columns ?? Array.from({ length: (s.x[0] ?? []).length }, (_, j) => `x${j}`);
  const labels = (fitted.params.emission as unknown as { categories?: string[][] }).categories;
  const lines = [['sequence', 'state', ...names.map(cell)].join(',')];
  let t = 0;
  s.lengths.forEach((len, seq) => {
    for (let i = 0; i < len; i++, t++) {
      const obs = (s.x[t] as number[]).map((x, j) => (labels?.[j]?.[x] !== undefined ? cell(labels[j]?.[x] as string) : String(x)));
      lines.push([String(seq + 1), String(s.states[t]), ...obs].join(','));
    }
  });
  const csv = `${lines.join('\n')}\n`;
  if (out === undefined) {
    io.stdout(csv);
  } else {
    await commitOutputs([{ flag: '--out', path: out, content: () => csv }]);
    io.stdout(`sampled ${s.lengths.length} sequence(s), ${t} rows (seed ${String(seed)}); written to ${out}\n`);
  }
  return 0;
}
