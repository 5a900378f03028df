/**
 * `emlab bench <suite.json>` and `emlab compare <data.csv>`: run a benchmark
 * suite (or a one-line suite built from flags), show progress, write the
 * output directory and print where the report is and a summary table.
 * @module
 */
import { basename, join, resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { EmError, emError, formatPath } from '@emlab/core';
import { buildSections, loadSuite, runSuite, validateSuite, type BenchResults, type ProgressEvent, type Suite } from '@emlab/bench';
import { flagNumber, parseFlags, positionalArgs } from './args.js';

/** Where the commands write; the CLI's `CliIo`. @category CLI */
export interface BenchIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTty: boolean;
}

export const BENCH_USAGE = `  emlab bench <suite.json> --out <dir> [--workers N] [--resume]
                                              run a benchmark suite (docs/bench.md)
  emlab compare <data.csv> --model gmm --components K --esteps exact,hard,stochastic[,gradient]
            [--seeds 5] [--covariance full] [--draws S] [--max-iter N] [--tol T]
            [--held-out F] [--workers N] --out <dir>
                                              compare E-steps from shared starts (a one-line suite)`;

function fail(flag: string, value: unknown, problem: string, remedy: string): never {
  throw emError('INVALID_ARGUMENT', [flag], value, problem, remedy);
}

/** The command's one file argument. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A progress bar redrawn in place on a terminal; one plain line per run otherwise. */
function progressPrinter(io: BenchIo): (e: ProgressEvent) => void {
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
export function summaryTable(results: BenchResults): string {
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

async function execute(suite: Suite, io: BenchIo, opts: { outDir: string; workers: number | undefined; resume: boolean; baseDir: string; suitePath: string | null }): Promise<number> {
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
      resume: opts.resume,
      baseDir: opts.baseDir,
      suitePath: opts.suitePath,
      signal: controller.signal,
      onProgress: progressPrinter(io),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  const out = resolve(opts.outDir);
  if (!results.complete) {
    io.stderr(`emlab: ${results.runs.length} of ${results.nRunsPlanned} runs finished and kept in ${out}; continue with --resume\n`);
    return 130;
  }
  io.stdout(`\n${summaryTable(results)}\n`);
  const errors = results.runs.filter((r) => r.status === 'error');
  for (const r of errors) io.stderr(`emlab: run ${r.id} failed: ${r.error?.message ?? ''}\n`);
  io.stdout(`report:  ${join(out, 'report.html')}\nresults: ${join(out, 'results.json')}\nruns:    ${join(out, 'runs.csv')}\n`);
  return 0;
}

const BENCH_OPTIONS = {
  out: { type: 'string' },
  workers: { type: 'string' },
  resume: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/**
 * `emlab bench <suite.json> --out <dir> [--workers N] [--resume]`.
 * @returns the exit code (130 when interrupted).
 * @category CLI
 */
export async function runBench(args: string[], io: BenchIo): Promise<number> {
  const { values, positionals } = parseFlags(args, BENCH_OPTIONS);
  if (values.help) {
    io.stdout(`Usage:\n${BENCH_USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<suite.json>'], 'emlab bench benchmarks/suites/default.json --out bench-out') as [string];
  if (values.out === undefined) fail('--out', undefined, 'is required', 'pass an output directory: --out bench-out');
  const workers = flagNumber('workers', values.workers, 'int', 1);
  const loaded = await loadSuite(file);
  return execute(loaded.suite, io, { outDir: values.out, workers, resume: values.resume === true, baseDir: loaded.baseDir, suitePath: loaded.path });
}

const COMPARE_OPTIONS = {
  model: { type: 'string' },
  components: { type: 'string' },
  covariance: { type: 'string' },
  esteps: { type: 'string' },
  draws: { type: 'string' },
  seeds: { type: 'string' },
  'max-iter': { type: 'string' },
  tol: { type: 'string' },
  'held-out': { type: 'string' },
  workers: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/**
 * The one-line suite of `emlab compare` (exported for tests and docs).
 * @category CLI
 */
export function compareSuite(csvPath: string, o: { components: number; covariance?: string; esteps: readonly string[]; draws?: number; seeds: number; maxIter?: number; tol?: number; heldOut?: number }): Suite {
  const id = basename(csvPath).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'data';
  return validateSuite({
    name: `compare ${basename(csvPath)}`,
    description: `emlab compare: ${o.esteps.join(', ')} on ${basename(csvPath)}, K = ${o.components}, seeds 0..${o.seeds - 1}`,
    datasets: [{ id, csv: resolve(csvPath) }],
    models: [{ id: 'gmm', type: 'gmm', options: { nComponents: o.components, ...(o.covariance === undefined ? {} : { covarianceType: o.covariance }) } }],
    esteps: o.esteps.map((m) => ({ method: m, options: m === 'stochastic' && o.draws !== undefined ? { nDraws: o.draws } : {} })),
    seeds: Array.from({ length: o.seeds }, (_, i) => i),
    stopping: { ...(o.maxIter === undefined ? {} : { maxIter: o.maxIter }), ...(o.tol === undefined ? {} : { tol: o.tol }) },
    ...(o.heldOut === undefined || o.heldOut === 0 ? {} : { heldOut: { fraction: o.heldOut, seed: 0 } }),
  });
}

/**
 * `emlab compare <data.csv> --model gmm --components K --esteps a,b,c [--seeds 5] --out <dir>`.
 * @category CLI
 */
export async function runCompare(args: string[], io: BenchIo): Promise<number> {
  const { values, positionals } = parseFlags(args, COMPARE_OPTIONS);
  if (values.help) {
    io.stdout(`Usage:\n${BENCH_USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<data.csv>'], 'emlab compare data.csv --model gmm --components 3 --esteps exact,hard --out cmp') as [string];
  const model = values.model ?? 'gmm';
  if (model !== 'gmm') fail('--model', model, 'is not a model compare supports (known: gmm)', 'pass --model gmm, or write a suite file for other models');
  const components = flagNumber('components', values.components, 'int', 1);
  if (components === undefined) fail('--components', undefined, 'is required', 'pass --components K');
  if (values.out === undefined) fail('--out', undefined, 'is required', 'pass an output directory: --out cmp-out');
  const esteps = (values.esteps ?? 'exact,hard,stochastic').split(',').map((s) => s.trim());
  esteps.forEach((e, i) => {
    if (e === '') fail('--esteps', values.esteps, `item ${i + 1} is empty`, 'pass comma-separated method names, e.g. exact,hard,stochastic');
    if (esteps.indexOf(e) !== i) fail('--esteps', values.esteps, `lists "${e}" twice`, 'list each method once');
  });
  const draws = flagNumber('draws', values.draws, 'int', 1);
  const seeds = flagNumber('seeds', values.seeds, 'int', 1) ?? 5;
  const maxIter = flagNumber('max-iter', values['max-iter'], 'int', 1);
  const tol = flagNumber('tol', values.tol, 'float', 0);
  const heldOut = flagNumber('held-out', values['held-out'], 'float', 0, 0.9);
  const workers = flagNumber('workers', values.workers, 'int', 1);
  const suite = compareSuite(file, {
    components,
    esteps,
    seeds,
    ...(values.covariance === undefined ? {} : { covariance: values.covariance }),
    ...(draws === undefined ? {} : { draws }),
    ...(maxIter === undefined ? {} : { maxIter }),
    ...(tol === undefined ? {} : { tol }),
    ...(heldOut === undefined ? {} : { heldOut }),
  });
  try {
    return await execute(suite, io, { outDir: values.out, workers, resume: values.resume === true, baseDir: process.cwd(), suitePath: null });
  } catch (e) {
    throw compareFlagTerms(e);
  }
}

const COMPARE_FLAG: Readonly<Record<string, string>> = { nComponents: '--components', covarianceType: '--covariance', nDraws: '--draws' };

/** `suite.models[0].options.nComponents` → `--components` in compare's errors. */
function compareFlagTerms(e: unknown): unknown {
  if (!(e instanceof EmError) || e.path[0] !== 'suite') return e;
  const last = e.path[e.path.length - 1];
  let flag: string | undefined = typeof last === 'string' ? COMPARE_FLAG[last] : undefined;
  if (e.path[1] === 'esteps' && e.path[3] === 'method') flag = '--esteps';
  if (flag === undefined) return e;
  return new EmError(e.code, e.message.replace(formatPath(e.path), flag), { path: [flag], value: e.value, cause: e });
}
