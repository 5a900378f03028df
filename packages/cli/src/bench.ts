/**
 * `emlab bench <suite.json>` and `emlab compare <data.csv>`: run a benchmark
 * suite (or a one-line suite built from flags), show progress, write the
 * output directory and print where the report is and a summary table.
 *
 * Thin over `@emlab/bench`'s public API (`loadSuite`, `validateSuite`,
 * `runSuite`, `buildSections`): the suite format is the bench package's;
 * `compareSuite` is the one place that writes it.
 * @module
 */
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EmError, formatPath } from '@emlab/core';
import { checkWritable } from '@emlab/core/node';
import type { BenchResults, ParquetOutput, ProgressEvent, Suite } from '@emlab/bench';
import { readNumericCsv } from '@emlab/data';
import { NO_VALUE, badFlag, flagError, problemOf } from './internal/cli-error.js';
import { commandFlags, commandSpec, type CommandSpec } from './internal/commands.js';
import { inTerms, parseCommandArgs, vocabulary } from './internal/fit-session.js';
import type { CliIo } from './internal/io.js';
import { checkApplies, methodsFromFlags, type MethodChoice } from './internal/method-flags.js';
import { modelOptions } from './internal/model-flags.js';
import { flagNumber } from './internal/numbers.js';
import { on, parseFlags, positionalArgs, text, texts, type ParsedFlags } from './internal/parse-flags.js';
import { importPlugins, pluginPaths } from './internal/plugins.js';
import { inFlagTerms } from './internal/rephrase.js';
import { benchQueueFlag } from './internal/scale-flags.js';
import { loadBuiltins } from './internal/builtins.js';

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A progress bar redrawn in place on a terminal; one plain line per run otherwise. */
function progressPrinter(io: CliIo): (e: ProgressEvent) => void {
  return (e) => {
    const eta = e.etaMs === null ? '' : e.done === e.total ? '' : `, ETA ${duration(e.etaMs)}`;
    if (io.isTty) {
      const width = 30;
      const filled = Math.round((width * e.done) / e.total);
      io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total} runs, ${duration(e.elapsedMs)}${eta}\u001b[K`);
      if (e.done === e.total) io.stderr('\n');
    } else if (e.run === undefined) {
      io.stderr(`resumed ${e.resumed}/${e.total} finished runs\n`);
    } else {
      io.stderr(`[${e.done}/${e.total}] ${e.run.id} ${e.run.status}${eta}\n`);
    }
  };
}

const fmt = (x: number | null, digits = 3): string => {
  if (x === null || !Number.isFinite(x)) return '—';
  return Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(digits);
};

/**
 * The summary table: one row per (data set, model, method), means over seeds
 * ("reached best": runs within 1e-3 relative of the group's best bound; "ms to
 * best": mean time to get there over the runs that did). The numbers are the
 * report's (`buildSections`), means only.
 * @category CLI
 */
export async function summaryTable(results: BenchResults): Promise<string> {
  const { buildSections } = await import('@emlab/bench');
  const header = ['data set', 'model', 'method', 'ok', 'final bound', 'train ll/row', 'held-out ll/row', 'iters', 'reached best', 'ms to best', 'ARI', 'param err', '‖∇‖', 'fit ms'];
  const rows: string[][] = [header];
  for (const section of buildSections(results)) {
    for (const row of section.table) {
      const mean = (key: string, digits: number): string => fmt(row.cells[key]?.mean ?? null, digits);
      const ok = row.nRuns - row.nErrors;
      rows.push([
        section.dataset,
        section.model,
        row.method,
        `${ok}/${row.nRuns}`,
        mean('bound', 2),
        mean('trainLogLikelihoodPerRow', 4),
        mean('heldOutLogLikelihoodPerRow', 4),
        mean('nIter', 1),
        `${row.cells['iterationsToBest']?.n ?? 0}/${ok}`,
        mean('timeToBestMs', 0),
        mean('adjustedRandIndex', 3),
        mean('parameterError', 3),
        mean('stationarity', 3),
        mean('fitMs', 0),
      ]);
    }
  }
  const widths = header.map((_, c) => Math.max(...rows.map((row) => [...(row[c] as string)].length)));
  const lines: string[] = [];
  rows.forEach((row, i) => {
    lines.push(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd());
    if (i === 0) lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Checks the output directory before any work: it is a directory or does not exist yet, and its
 * parent is writable.
 * @throws EmError naming `--out`.
 */
async function checkOutDir(dir: string): Promise<void> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw badFlag('--out', dir, 'names an existing file, not a directory', 'name a new or existing directory for the results');
    await checkWritable(join(dir, 'results.json'), ['--out']);
  } catch (e) {
    if (e instanceof EmError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw flagError('IO_ERROR', ['--out'], dir, `cannot be inspected (${(e as NodeJS.ErrnoException).code ?? ''})`, 'check the path and permissions');
    await checkWritable(dir, ['--out']);
  }
}

/** How a suite is run, from the flags (`runSuite`'s options). */
interface RunnerFlags {
  readonly workers?: number;
  readonly resume: boolean;
  readonly isolate?: true;
  readonly limits?: { timeMs?: number; memoryMb?: number; retries?: number };
  readonly parquet?: ParquetOutput;
}

const PARQUET = { runs: 'runs', iterations: 'iterations', none: false } as const;

/**
 * `--workers`, `--resume`, `--isolate`, `--time-limit`, `--memory-limit`, `--retries`, `--parquet`,
 * checked with the runner's own ranges before any work.
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
function runnerFlags(parsed: ParsedFlags): RunnerFlags {
  const workers = flagNumber('workers', text(parsed, 'workers'), 'int', 1);
  const timeMs = flagNumber('time-limit', text(parsed, 'time-limit'), 'int', 1);
  const memoryMb = flagNumber('memory-limit', text(parsed, 'memory-limit'), 'int', 32);
  const retries = flagNumber('retries', text(parsed, 'retries'), 'int', 0, 3);
  const parquetText = text(parsed, 'parquet');
  if (parquetText !== undefined && !(parquetText in PARQUET)) throw badFlag('--parquet', parquetText, 'is not a Parquet output (runs, iterations, none)', 'pass --parquet runs (default), iterations (also iterations.parquet) or none');
  const limits = { ...(timeMs === undefined ? {} : { timeMs }), ...(memoryMb === undefined ? {} : { memoryMb }), ...(retries === undefined ? {} : { retries }) };
  return {
    ...(workers === undefined ? {} : { workers }),
    resume: on(parsed, 'resume'),
    ...(on(parsed, 'isolate') ? { isolate: true as const } : {}),
    ...(Object.keys(limits).length === 0 ? {} : { limits }),
    ...(parquetText === undefined ? {} : { parquet: PARQUET[parquetText as keyof typeof PARQUET] }),
  };
}

/** `runSuite`'s option paths → the flags that set them. */
const RUNNER_OPTION_FLAGS: Readonly<Record<string, string>> = {
  outDir: '--out',
  workers: '--workers',
  resume: '--resume',
  isolate: '--isolate',
  'limits.timeMs': '--time-limit',
  'limits.memoryMb': '--memory-limit',
  'limits.retries': '--retries',
  parquet: '--parquet',
  queue: '--queue',
};

/** An error of `runSuite` about its options (`options.outDir`) or its output files (`outDir`) in flag terms (`--out`). */
function runnerInFlagTerms(e: unknown): unknown {
  if (!(e instanceof EmError) || e.code === 'INTERNAL') return e;
  // ['options', 'outDir'] (checks), ['outDir'] (writing the output files).
  const key = e.path[0] === 'options' ? e.path.slice(1).join('.') : e.path[0] === 'outDir' ? 'outDir' : undefined;
  if (key === undefined) return e;
  const flag = RUNNER_OPTION_FLAGS[key];
  if (flag === undefined) return e;
  return flagError(e.code, [flag], e.value === undefined ? NO_VALUE : e.value, problemOf(e), e.remedy ?? 'see emlab bench --help', e);
}

async function execute(suite: Suite, io: CliIo, opts: RunnerFlags & { outDir: string; queue: string | undefined; baseDir: string; suitePath: string | null }): Promise<number> {
  const { runSuite } = await import('@emlab/bench');
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: leave now
    io.stderr(`${io.isTty ? '\n' : ''}emlab: interrupted: finishing cleanly (press Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let results: BenchResults;
  try {
    results = await runSuite(suite, {
      outDir: opts.outDir,
      ...(opts.workers === undefined ? {} : { workers: opts.workers }),
      ...(opts.queue === undefined ? {} : { queue: opts.queue }),
      resume: opts.resume,
      ...(opts.isolate === undefined ? {} : { isolate: opts.isolate }),
      ...(opts.limits === undefined ? {} : { limits: opts.limits }),
      ...(opts.parquet === undefined ? {} : { parquet: opts.parquet }),
      baseDir: opts.baseDir,
      suitePath: opts.suitePath,
      signal: controller.signal,
      onProgress: progressPrinter(io),
    });
  } catch (e) {
    {
      // options.outDir, options.queue, ... → --out, --queue, ...; other library paths in flag terms.
      const mapped = runnerInFlagTerms(e);
      throw mapped !== e ? mapped : inFlagTerms(e, {});
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  const out = resolve(opts.outDir);
  if (!results.complete) {
    io.stderr(`emlab: ${results.runs.length} of ${results.nRunsPlanned} runs finished and kept in ${out}; continue with --resume\n`);
    return 130;
  }
  io.stdout(`\n${await summaryTable(results)}\n`);
  const errors = results.runs.filter((r) => r.status === 'error');
  for (const r of errors) io.stderr(`emlab: run ${r.id} failed: ${r.error?.message ?? ''}\n`);
  io.stdout(`report:  ${join(out, 'report.html')}\nresults: ${join(out, 'results.json')}\nruns:    ${join(out, 'runs.csv')}\n`);
  return 0;
}

/**
 * `emlab bench <suite.json> --out <dir> [--workers N | --queue redis://HOST:PORT] [--resume] [--plugin FILE]`.
 * @returns the exit code (130 when interrupted).
 * @category CLI
 */
export async function runBench(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(args, commandFlags(commandSpec('bench') as CommandSpec), 'emlab bench --help');
  const [file] = positionalArgs(parsed.positionals, ['<suite.json>'], 'emlab bench benchmarks/suites/default.json --out bench-out') as [string];
  const out = text(parsed, 'out');
  if (out === undefined) throw badFlag('--out', NO_VALUE, 'is required', 'pass an output directory: --out bench-out');
  const queue = benchQueueFlag(parsed);
  const runner = runnerFlags(parsed);
  await checkOutDir(out);
  await loadBuiltins();
  const plugins = texts(parsed, 'plugin');
  await importPlugins(plugins);
  const { loadSuite } = await import('@emlab/bench');
  const loaded = await loadSuite(file);
  // Plug-ins named on the command line join the suite's (workers import them again).
  const suite = plugins.length === 0 ? loaded.suite : { ...loaded.suite, plugins: [...loaded.suite.plugins, ...pluginPaths(plugins)] };
  return execute(suite, io, { ...runner, queue, outDir: out, baseDir: loaded.baseDir, suitePath: loaded.path });
}

/** What `emlab compare` puts in its one-line suite. */
export interface CompareSpec {
  readonly model: { readonly type: string; readonly options: Readonly<Record<string, unknown>> };
  readonly esteps: readonly { readonly method: string; readonly options: Readonly<Record<string, unknown>> }[];
  readonly seeds: number;
  readonly maxIter?: number;
  readonly tol?: number;
  readonly heldOut?: number;
  readonly plugins?: readonly string[];
}

/**
 * The one-line suite of `emlab compare` (exported for tests and docs).
 * @category CLI
 */
export async function compareSuite(csvPath: string, o: CompareSpec): Promise<Suite> {
  const { validateSuite } = await import('@emlab/bench');
  const id = basename(csvPath).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'data';
  return validateSuite({
    name: `compare ${basename(csvPath)}`,
    description: `emlab compare: ${o.esteps.map((e) => e.method).join(', ')} on ${basename(csvPath)} with model ${o.model.type}, seeds 0..${o.seeds - 1}`,
    ...(o.plugins === undefined || o.plugins.length === 0 ? {} : { plugins: [...o.plugins] }),
    // The canonical data-set form of the bench schema ({ id, kind, options }), not the older { csv } shorthand.
    datasets: [{ id, kind: 'csv', options: { path: resolve(csvPath) } }],
    models: [{ id: o.model.type, type: o.model.type, options: { ...o.model.options } }],
    esteps: o.esteps.map((e) => ({ method: e.method, options: { ...e.options } })),
    seeds: Array.from({ length: o.seeds }, (_, i) => i),
    stopping: { ...(o.maxIter === undefined ? {} : { maxIter: o.maxIter }), ...(o.tol === undefined ? {} : { tol: o.tol }) },
    ...(o.heldOut === undefined || o.heldOut === 0 ? {} : { heldOut: { fraction: o.heldOut, seed: 0 } }),
  });
}

/**
 * `emlab compare <data.csv> --out <dir> [--model gmm] [model flags] [--esteps a,b,c] [flags]`.
 * @category CLI
 */
export async function runCompare(args: readonly string[], io: CliIo): Promise<number> {
  const { parsed, model: mf } = await parseCommandArgs('compare', args, 'gmm');
  const [file] = positionalArgs(parsed.positionals, ['<data.csv>'], 'emlab compare data.csv --model gmm --components 3 --esteps exact,hard --out cmp') as [string];
  const registration = mf.registration;
  if ((registration.data ?? { format: 'numeric-table' }).format !== 'numeric-table') {
    throw badFlag('--model', registration.name, 'reads its own data files, and compare reads one numeric CSV', 'write a benchmark suite for it (docs/bench.md) and run emlab bench');
  }
  const out = text(parsed, 'out');
  if (out === undefined) throw badFlag('--out', NO_VALUE, 'is required', 'pass an output directory: --out cmp-out');
  const options = modelOptions(mf, parsed);
  const methods = methodsFromFlags(registration.structureKind, parsed, 'exact,hard,stochastic');
  const seeds = flagNumber('seeds', text(parsed, 'seeds'), 'int', 1) ?? 5;
  const maxIter = flagNumber('max-iter', text(parsed, 'max-iter'), 'int', 1);
  const tol = flagNumber('tol', text(parsed, 'tol'), 'float', 0);
  const heldOut = flagNumber('held-out', text(parsed, 'held-out'), 'float', 0, 0.9);
  const queue = benchQueueFlag(parsed);
  const runner = runnerFlags(parsed);
  await checkOutDir(out);
  // Every method must run on this model and data (e.g. gradient ascent needs complete data): checked now.
  const table = await readNumericCsv(file);
  const v = vocabulary(mf, file, table.columns);
  const model = await inTerms(v, () => registration.create(options));
  await inTerms(v, () => model.validate(table));
  for (const m of methods) checkApplies(m, model, table, `--esteps ${m.name}`, v);
  const spec: CompareSpec = {
    model: { type: registration.name, options },
    esteps: methods.map((m: MethodChoice) => ({ method: m.name, options: m.options })),
    seeds,
    ...(maxIter === undefined ? {} : { maxIter }),
    ...(tol === undefined ? {} : { tol }),
    ...(heldOut === undefined ? {} : { heldOut }),
    plugins: pluginPaths(texts(parsed, 'plugin')),
  };
  try {
    const suite = await compareSuite(file, spec);
    return await execute(suite, io, { ...runner, queue, outDir: out, baseDir: process.cwd(), suitePath: null });
  } catch (e) {
    throw compareFlagTerms(e, mf.flagOf);
  }
}

/** `suite.models[0].options.nComponents` → `--components` in compare's errors. */
function compareFlagTerms(e: unknown, flagOf: ReadonlyMap<string, string>): unknown {
  if (!(e instanceof EmError) || e.path[0] !== 'suite') return e;
  const last = e.path[e.path.length - 1];
  let flag: string | undefined = typeof last === 'string' && flagOf.has(last) ? `--${flagOf.get(last) as string}` : undefined;
  if (e.path[1] === 'esteps') flag = e.path[3] === 'options' && typeof last === 'string' ? (last === 'nDraws' ? '--draws' : `--estep-option ${last}`) : '--esteps';
  if (e.path[1] === 'models' && last === 'type') flag = '--model';
  if (e.path[1] === 'stopping' && typeof last === 'string') flag = last === 'maxIter' ? '--max-iter' : last === 'tol' ? '--tol' : undefined;
  if (flag === undefined) return e;
  return flagError(e.code, [flag], e.value, problemOf(e).replace(formatPath(e.path), flag), e.remedy ?? 'see emlab compare --help', e);
}
