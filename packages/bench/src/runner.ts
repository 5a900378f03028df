/**
 * The suite runner: validate everything, plan the runs, make each group's
 * start once, run every method from it (in this thread or on worker threads,
 * each run isolated: a crash fails that run only), journal finished runs so
 * an interrupted suite can be resumed, and write `results.json`, `runs.csv`,
 * `runs.parquet` and `report.html`.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { VERSION, emError, fromJson, initBackend, toJson } from '@emlab/core';
import { writeFileAtomic } from '@emlab/core/node';
import type { BenchResults, GroupSummary, RunRecord, RunTimings } from './results.js';
import { runsCsv } from './runs-csv.js';
import { checkSuite, planSuite, type Plan } from './plan.js';
import { runInThread, runOnPool, type ExecOptions } from './pool.js';
import { parseRedisUrl } from './queue/connection.js';
import type { SuiteQueueOptions } from './queue/submit.js';
import { RunContext, importPlugins, type RunOutcome } from './run-one.js';
import { isLoadedSuite, locateSuiteError, validateSuite, loadSuite, type LoadedSuite } from './suite.js';
import type { Suite } from './suite-schema.js';
import { hashJson } from './metrics.js';

/** A progress report after each finished run. @category Runner */
export interface ProgressEvent {
  /** Runs finished so far, including runs restored by `resume`. */
  readonly done: number;
  readonly total: number;
  /** Runs restored from the journal by `resume`. */
  readonly resumed: number;
  /** The run that just finished (absent for the first event of a resumed suite). */
  readonly run?: { readonly id: string; readonly status: 'ok' | 'error'; readonly error?: { readonly code: string; readonly message: string } };
  /** Wall-clock ms since this invocation started. */
  readonly elapsedMs: number;
  /** Estimated ms until every run is done (null before the first run of this invocation finishes). */
  readonly etaMs: number | null;
}

/** Which Parquet files to write: none, one row per run, or also one row per iteration. @category Runner */
export type ParquetOutput = false | 'runs' | 'iterations';

/** Options of {@link runSuite}. @category Runner */
export interface RunSuiteOptions {
  /** Output directory (created). Without it nothing is written and the results are only returned. An existing file there is an error. */
  readonly outDir?: string;
  /** Worker threads; 1 runs in this thread (unless `isolate` or `limits.memoryMb`). Default `os.availableParallelism()`. */
  readonly workers?: number;
  /** Run on worker threads even with `workers: 1` (crash isolation for one thread). Default: `workers > 1` or a memory limit. */
  readonly isolate?: boolean;
  /** Override the suite's `limits` (time and memory per run, retries of crashed runs). */
  readonly limits?: { readonly timeMs?: number | null; readonly memoryMb?: number | null; readonly retries?: number };
  /** Continue the runs journalled in `outDir` (same suite) instead of starting over. Default false. */
  readonly resume?: boolean;
  /** Called after every finished run. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Stops between runs (in-flight runs are dropped); the finished runs are kept and written with `complete: false`. */
  readonly signal?: AbortSignal;
  /** Directory relative paths of the suite (CSV, BIF, plug-ins) resolve against. Default: the loaded suite's directory, else `process.cwd()`. */
  readonly baseDir?: string;
  /** Recorded as `manifest.suitePath`. Default: the loaded suite's path, else null. */
  readonly suitePath?: string | null;
  /** Write `report.html`. Default true. */
  readonly report?: boolean;
  /** Parquet output: `'runs'` (runs.parquet, the default), `'iterations'` (also iterations.parquet), or false. */
  readonly parquet?: ParquetOutput;
  /**
   * Run on a BullMQ queue instead of this machine: a Redis URL (`redis://host:port`) or queue options.
   * Workers started with `runWorker` (`emlab worker --queue …`) on any machines take the runs; this
   * call collects them and writes the same files as a local run. `workers` and `isolate` are then unused.
   */
  readonly queue?: string | SuiteQueueOptions;
}

/** The journal of finished runs in the output directory. @category Runner */
export const JOURNAL_FILE = 'runs.jsonl';

function checkRunOptions(o: RunSuiteOptions): void {
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1)) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], o.workers, 'must be an integer >= 1', 'pass workers: 1 to run in this thread, or the number of cores');
  }
  if (o.resume === true && o.outDir === undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'resume'], true, 'needs outDir (the journal of finished runs lives there)', 'pass the outDir of the interrupted suite');
  }
  const l = o.limits ?? {};
  if (l.timeMs !== undefined && l.timeMs !== null && !(typeof l.timeMs === 'number' && Number.isFinite(l.timeMs) && l.timeMs >= 1)) {
    throw emError('INVALID_ARGUMENT', ['options', 'limits', 'timeMs'], l.timeMs, 'must be a number of ms >= 1, or null', 'pass e.g. 60000');
  }
  if (l.memoryMb !== undefined && l.memoryMb !== null && !(typeof l.memoryMb === 'number' && Number.isFinite(l.memoryMb) && l.memoryMb >= 32)) {
    throw emError('INVALID_ARGUMENT', ['options', 'limits', 'memoryMb'], l.memoryMb, 'must be a number of MB >= 32, or null', 'pass e.g. 2048');
  }
  if (l.retries !== undefined && !(Number.isInteger(l.retries) && l.retries >= 0 && l.retries <= 3)) {
    throw emError('INVALID_ARGUMENT', ['options', 'limits', 'retries'], l.retries, 'must be an integer in [0, 3]', 'pass 0, 1, 2 or 3');
  }
  if (o.queue !== undefined) parseRedisUrl(typeof o.queue === 'string' ? o.queue : o.queue?.url, ['options', 'queue']);
  if (o.parquet !== undefined && o.parquet !== false && o.parquet !== 'runs' && o.parquet !== 'iterations') {
    throw emError('INVALID_ARGUMENT', ['options', 'parquet'], o.parquet, 'must be false, "runs" or "iterations"', 'pass "runs" (runs.parquet) or "iterations" (also iterations.parquet)');
  }
}

/** The output directory must be a directory (or not exist yet): checked before any work. */
async function checkOutDir(outDir: string): Promise<void> {
  try {
    const s = await stat(outDir);
    if (!s.isDirectory()) throw emError('IO_ERROR', ['options', 'outDir'], outDir, 'is an existing file, not a directory', 'name a directory for the output (it is created when missing), not a file');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function gitRevision(dir: string): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
    return /^[0-9a-f]{7,64}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

/** The journal header: which suite (and plan) the journalled runs belong to. */
function journalHeader(suite: Suite, p: Plan): string {
  return toJson({ type: 'header', format: 'emlab/bench-journal', formatVersion: 2, suiteHash: hashJson(suite), planHash: hashJson(p.tasks.map((t) => [t.id, t.initHash])), nRuns: p.tasks.length }, 0);
}

async function readJournal(file: string, header: string): Promise<Map<number, RunOutcome>> {
  const done = new Map<number, RunOutcome>();
  if (!existsSync(file)) return done;
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return done;
  if (lines[0] !== header) {
    throw emError('INVALID_ARGUMENT', ['options', 'resume'], file, 'holds runs of a different suite (or a different emlab start)', 'resume with the suite that wrote this directory, or use a new --out directory');
  }
  for (const line of lines.slice(1)) {
    let entry: { type?: string; outcome?: RunOutcome };
    try {
      entry = fromJson(line, file) as typeof entry;
    } catch {
      continue; // a line cut short by a hard kill: that run is simply run again
    }
    if (entry.type === 'run' && entry.outcome !== undefined) done.set(entry.outcome.record.index, entry.outcome);
  }
  return done;
}

/** Relative closeness to the best bound that counts as "reached" (1e-3). @category Runner */
export const REACH_TOLERANCE = 1e-3;

/**
 * Assembles the results document from finished runs (any order): groups'
 * best bounds, iterations and time to reach them.
 */
function assemble(p: Plan, outcomes: ReadonlyMap<number, RunOutcome>, manifest: BenchResults['manifest'], meta: { startedAt: string; totalMs: number; workers: number }): BenchResults {
  const finished = [...outcomes.values()].sort((a, b) => a.record.index - b.record.index);
  // Monte Carlo bounds are estimates (noisy, possibly biased upwards): they set the best bound only
  // when a group has no other method; they can still reach it.
  const monteCarlo = new Set(p.methods.filter((m) => m.family === 'monte-carlo').map((m) => m.id));
  const groups: GroupSummary[] = p.groups.map((g) => {
    let best: number | null = null;
    let bestRun: string | null = null;
    const mine = finished.filter((o) => o.record.group === g.id && o.record.status === 'ok');
    const setters = mine.some((o) => !monteCarlo.has(o.record.method)) ? mine.filter((o) => !monteCarlo.has(o.record.method)) : mine;
    for (const o of setters) {
      for (const it of o.record.trace) {
        if (Number.isFinite(it.boundAfterM) && (best === null || it.boundAfterM > best)) {
          best = it.boundAfterM;
          bestRun = o.record.id;
        }
      }
    }
    return { ...g, bestBound: best, bestRun };
  });
  const bestOf = new Map(groups.map((g) => [g.id, g.bestBound]));
  const runs: RunRecord[] = [];
  const runTimings: Record<string, RunTimings> = {};
  for (const o of finished) {
    const best = bestOf.get(o.record.group) ?? null;
    let reached: number | null = null;
    if (best !== null && o.record.status === 'ok') {
      const target = best - REACH_TOLERANCE * Math.abs(best);
      const i = o.record.trace.findIndex((it) => it.boundAfterM >= target);
      reached = i < 0 ? null : i + 1;
    }
    runs.push({ ...o.record, metrics: { ...o.record.metrics, iterationsToBest: reached } });
    runTimings[o.record.id] = { ...o.timings, timeToBestMs: reached === null ? null : (o.timings.elapsedMs[reached - 1] ?? null) };
  }
  return {
    format: 'emlab/bench-results',
    formatVersion: 2,
    complete: runs.length === p.tasks.length,
    nRunsPlanned: p.tasks.length,
    manifest,
    datasets: p.datasets,
    models: p.models,
    methods: p.methods,
    groups,
    skipped: p.skipped,
    runs,
    timings: { startedAt: meta.startedAt, totalMs: meta.totalMs, workers: meta.workers, runs: runTimings },
  };
}

/** Where {@link runSuite} wrote its files. @category Runner */
export interface SuiteOutputFiles {
  readonly results: string;
  readonly runsCsv: string;
  /** Null when Parquet output is off. */
  readonly runsParquet: string | null;
  /** Null unless Parquet output is `'iterations'`. */
  readonly iterationsParquet: string | null;
  /** Null when the report was not written. */
  readonly report: string | null;
  readonly journal: string;
}

/**
 * Writes `results.json`, `runs.csv`, `runs.parquet` (and `iterations.parquet`) and `report.html` into
 * `outDir`, each atomically. The report's chart libraries and the Parquet writer are loaded only here.
 * @throws EmError `IO_ERROR`
 * @category Runner
 */
export async function writeResults(results: BenchResults, outDir: string, report = true, parquet: ParquetOutput = 'runs'): Promise<SuiteOutputFiles> {
  await mkdir(outDir, { recursive: true });
  const files: SuiteOutputFiles = {
    results: join(outDir, 'results.json'),
    runsCsv: join(outDir, 'runs.csv'),
    runsParquet: parquet === false ? null : join(outDir, 'runs.parquet'),
    iterationsParquet: parquet === 'iterations' ? join(outDir, 'iterations.parquet') : null,
    report: report ? join(outDir, 'report.html') : null,
    journal: join(outDir, JOURNAL_FILE),
  };
  await writeFileAtomic(files.results, `${toJson(results)}\n`, ['outDir']);
  await writeFileAtomic(files.runsCsv, runsCsv(results), ['outDir']);
  if (files.runsParquet !== null || files.iterationsParquet !== null) {
    const { runsParquet, iterationsParquet } = await import('./runs-parquet.js');
    if (files.runsParquet !== null) await writeFileAtomic(files.runsParquet, runsParquet(results), ['outDir']);
    if (files.iterationsParquet !== null) await writeFileAtomic(files.iterationsParquet, iterationsParquet(results), ['outDir']);
  }
  if (files.report !== null) {
    const { renderReport } = await import('./report/index.js');
    await writeFileAtomic(files.report, await renderReport(results), ['outDir']);
  }
  return files;
}

/**
 * Runs a benchmark suite.
 *
 * Everything is validated first (suite structure, plug-ins, model types and options against the model
 * registry, method names and options against the method registry, data-set kinds, options and sizes,
 * the output directory); then each (data set, model, seed) gets its initial parameters once (the
 * start `fit` would make), and every method starts from them with the same seed and stopping rule.
 * Each run is isolated: a crash or a limit fails that run (recorded, crashes tried again), never the
 * suite. Finished runs are appended to `outDir/runs.jsonl`; with `resume` they are not run again. The
 * results equal an uninterrupted serial run whatever `workers` and interruptions were (except `timings`).
 *
 * @param suite - a {@link LoadedSuite} (errors then carry the file's line and column, and `baseDir`
 *   and `suitePath` default to the file's), a validated suite, or a raw suite object (validated here).
 * @throws EmError (before any run) for every invalid input, naming `suite.…` paths (or `options.…`).
 * @example
 * ```ts
 * const results = await runSuite(await loadSuite('benchmarks/suites/default.json'), { outDir: 'bench-out', workers: 2 });
 * ```
 * @category Runner
 */
export async function runSuite(suite: LoadedSuite | Suite | unknown, options: RunSuiteOptions = {}): Promise<BenchResults> {
  const loaded = isLoadedSuite(suite) ? suite : undefined;
  try {
    return await runValidated(loaded === undefined ? validateSuite(suite) : loaded.suite, {
      ...options,
      baseDir: options.baseDir ?? loaded?.baseDir ?? process.cwd(),
      suitePath: options.suitePath !== undefined ? options.suitePath : (loaded?.path ?? null),
    });
  } catch (e) {
    throw loaded === undefined ? e : locateSuiteError(e, loaded);
  }
}

async function runValidated(s: Suite, options: RunSuiteOptions & { baseDir: string; suitePath: string | null }): Promise<BenchResults> {
  checkRunOptions(options);
  if (options.outDir !== undefined) await checkOutDir(options.outDir);
  const baseDir = resolve(options.baseDir);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  await importPlugins(s.plugins, baseDir);
  await checkSuite(s, baseDir);
  const backend = await initBackend();
  const ctx = new RunContext(s, baseDir);
  const p = await planSuite(s, ctx);
  const limits = { ...s.limits, ...Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined)) } as Suite['limits'];
  const workers = Math.min(options.workers ?? availableParallelism(), p.tasks.length);
  const isolate = options.isolate ?? (workers > 1 || limits.memoryMb !== null);
  const manifest: BenchResults['manifest'] = {
    emlabVersion: VERSION,
    gitRevision: gitRevision(baseDir),
    nodeVersion: process.version,
    backend,
    seeds: s.seeds,
    suitePath: options.suitePath,
    suite: s,
  };

  const outcomes = new Map<number, RunOutcome>();
  let journal: string | undefined;
  if (options.outDir !== undefined) {
    await mkdir(options.outDir, { recursive: true });
    journal = join(options.outDir, JOURNAL_FILE);
    const header = journalHeader(s, p);
    if (options.resume === true) {
      for (const [k, v] of await readJournal(journal, header)) outcomes.set(k, v);
      if (!existsSync(journal)) await writeFile(journal, `${header}\n`, 'utf8');
    } else {
      await writeFile(journal, `${header}\n`, 'utf8');
    }
  }
  const resumed = outcomes.size;
  const total = p.tasks.length;
  let doneHere = 0;
  if (resumed > 0) options.onProgress?.({ done: resumed, total, resumed, elapsedMs: 0, etaMs: null });
  // Journal appends are chained so lines never interleave; progress counts are taken synchronously.
  let writes: Promise<void> = Promise.resolve();
  const finish = async (o: RunOutcome): Promise<void> => {
    outcomes.set(o.record.index, o);
    const done = outcomes.size;
    doneHere++;
    const line = `${toJson({ type: 'run', outcome: o }, 0)}\n`;
    if (journal !== undefined) {
      const file = journal;
      writes = writes.then(() => appendFile(file, line, 'utf8'));
      await writes;
    }
    const elapsedMs = performance.now() - t0;
    const run = { id: o.record.id, status: o.record.status, ...(o.record.error === null ? {} : { error: o.record.error }) };
    options.onProgress?.({ done, total, resumed, run, elapsedMs, etaMs: (elapsedMs / doneHere) * (total - done) });
  };
  const pending = p.tasks.filter((t) => !outcomes.has(t.index));
  if (pending.length > 0 && options.signal?.aborted !== true) {
    const exec: ExecOptions = {
      suite: s,
      baseDir,
      threads: isolate ? Math.max(1, workers) : 0,
      timeMs: limits.timeMs,
      memoryMb: limits.memoryMb,
      retries: limits.retries,
      finish,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    if (options.queue !== undefined) {
      const { runOnQueue } = await import('./queue/submit.js');
      await runOnQueue(exec, pending, typeof options.queue === 'string' ? { url: options.queue } : options.queue, options.outDir, options.resume === true);
    } else if (exec.threads === 0) await runInThread(exec, ctx, pending);
    else await runOnPool(exec, pending);
  }
  const results = assemble(p, outcomes, manifest, { startedAt, totalMs: performance.now() - t0, workers: isolate ? Math.max(1, workers) : 1 });
  if (options.outDir !== undefined) await writeResults(results, options.outDir, options.report ?? true, options.parquet ?? 'runs');
  return results;
}

/**
 * Loads a suite file and runs it (relative paths resolve against the file's directory; errors carry
 * the file's line and column).
 * @category Runner
 */
export async function runSuiteFile(path: string, options: Omit<RunSuiteOptions, 'baseDir' | 'suitePath'> = {}): Promise<BenchResults> {
  return runSuite(await loadSuite(path), options);
}
