/**
 * The suite runner: plan the runs, make each group's start once, run every
 * method from it (in this thread or on worker threads), journal finished runs
 * so an interrupted suite can be resumed, and write `results.json`,
 * `runs.csv` and `report.html`.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EmError, VERSION, createRng, emError, fromJson, initBackend, toJson } from '@emlab/core';
import { renderReport } from './report/index.js';
import type { BenchResults, DatasetSummary, GroupSummary, MethodSummary, ModelSummary, RunRecord, RunTimings } from './results.js';
import { runsCsv } from './runs-csv.js';
import { RunContext, buildModel, checkMethod, errorOutcome, importPlugins, initMethodOf, methodAvailable, methodFamily, modelApplies, runTask, type RunOutcome, type RunTask } from './run-one.js';
import { loadSuite, validateSuite } from './suite.js';
import type { Suite } from './suite-types.js';
import { hashJson } from './metrics.js';

/** A progress report after each finished run. @category Runner */
export interface ProgressEvent {
  /** Runs finished so far, including runs restored by `resume`. */
  readonly done: number;
  readonly total: number;
  /** Runs restored from the journal by `resume`. */
  readonly resumed: number;
  /** The run that just finished (absent for the first event of a resumed suite). */
  readonly run?: { readonly id: string; readonly status: 'ok' | 'error' };
  /** Wall-clock ms since this invocation started. */
  readonly elapsedMs: number;
  /** Estimated ms until every run is done (null before the first run of this invocation finishes). */
  readonly etaMs: number | null;
}

/** Options of {@link runSuite}. @category Runner */
export interface RunSuiteOptions {
  /** Output directory (created). Without it nothing is written and the results are only returned. */
  readonly outDir?: string;
  /** Worker threads; 1 runs in this thread. Default `os.availableParallelism()`. */
  readonly workers?: number;
  /** Continue the runs journalled in `outDir` (same suite) instead of starting over. Default false. */
  readonly resume?: boolean;
  /** Called after every finished run. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Stops between runs (in-flight runs are dropped); the finished runs are kept and written with `complete: false`. */
  readonly signal?: AbortSignal;
  /** Directory relative paths of the suite (CSV, BIF, plug-ins) resolve against. Default `process.cwd()`. */
  readonly baseDir?: string;
  /** Recorded as `manifest.suitePath`. Default null. */
  readonly suitePath?: string | null;
  /** Write `report.html` (R's `renderReport`). Default true. */
  readonly report?: boolean;
}

/** The journal of finished runs in the output directory. @category Runner */
export const JOURNAL_FILE = 'runs.jsonl';

interface Plan {
  readonly tasks: RunTask[];
  readonly groups: { id: string; dataset: string; model: string; seed: number | string; initHash: string }[];
  readonly datasets: DatasetSummary[];
  readonly models: ModelSummary[];
  readonly methods: MethodSummary[];
}

function checkRunOptions(o: RunSuiteOptions): void {
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1)) {
    throw emError('INVALID_ARGUMENT', ['options', 'workers'], o.workers, 'must be an integer >= 1', 'pass workers: 1 to run in this thread, or the number of cores');
  }
  if (o.resume === true && o.outDir === undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'resume'], true, 'needs outDir (the journal of finished runs lives there)', 'pass the outDir of the interrupted suite');
  }
}

/**
 * Validates everything against the registry and the data (before any run),
 * makes the data sets, and the initial parameters of each (data set, model, seed) once.
 */
async function plan(suite: Suite, ctx: RunContext): Promise<Plan> {
  const tasks: RunTask[] = [];
  const groups: Plan['groups'] = [];
  const datasets: DatasetSummary[] = [];
  const models = new Map<string, ModelSummary>();
  const methods = new Map<string, MethodSummary>();
  for (let d = 0; d < suite.datasets.length; d++) datasets.push((await ctx.dataset(d)).summary);
  const used = new Set<number>();
  let firstModel: ReturnType<typeof buildModel> | undefined;
  for (let d = 0; d < suite.datasets.length; d++) {
    const data = await ctx.dataset(d);
    for (let m = 0; m < suite.models.length; m++) {
      if (!modelApplies(suite, m, data)) continue;
      const model = buildModel(suite, m, data);
      const mSpec = suite.models[m] as Suite['models'][number];
      if (!models.has(mSpec.id)) models.set(mSpec.id, { id: mSpec.id, type: mSpec.type, name: model.name, options: model.options });
      const init = initMethodOf(suite, m, model);
      if (!model.initMethods.includes(init.method)) {
        throw emError('INVALID_ARGUMENT', init.path, init.method, `is not an initialization method of ${model.name} (known: ${model.initMethods.join(', ')})`, 'use one of those, or set "init" per model');
      }
      try {
        model.validate(data.train);
      } catch (e) {
        if (e instanceof EmError) throw new EmError(e.code, `suite.datasets[${d}] ("${data.id}") cannot be fitted by suite.models[${m}] ("${mSpec.id}"): ${e.message}`, { path: ['suite', 'datasets', d], cause: e });
        throw e;
      }
      // Methods of this model: those it lists (each must run on it), else every suite method that runs on its structure kind.
      const methodIdx: number[] = [];
      for (let j = 0; j < suite.esteps.length; j++) {
        const spec = suite.esteps[j] as Suite['esteps'][number];
        const listed = mSpec.esteps === undefined || mSpec.esteps.includes(spec.id);
        if (!listed) continue;
        if (!methodAvailable(suite, j, model, data)) {
          if (mSpec.esteps !== undefined) checkMethod(suite, j, model); // throws: named by this model but not runnable on it
          continue;
        }
        checkMethod(suite, j, model);
        used.add(j);
        methodIdx.push(j);
        if (!methods.has(spec.id)) methods.set(spec.id, { id: spec.id, method: spec.method, family: methodFamily(model.structureKind, spec), options: spec.options });
      }
      firstModel ??= model;
      const prepared = model.prepare(data.train, { precisions: model.precisions ?? ['float64'] });
      try {
        for (const seed of suite.seeds) {
          // The stream fit itself would use for restart 0: the same start as fit(model, data, { seed }).
          const start = model.init(prepared, init.method, createRng(seed).child('restart', 0).child('init'));
          const group = `${data.id}/${mSpec.id}/seed=${String(seed)}`;
          const initHash = hashJson(start);
          groups.push({ id: group, dataset: data.id, model: mSpec.id, seed, initHash });
          for (const j of methodIdx) {
            const spec = suite.esteps[j] as Suite['esteps'][number];
            tasks.push({ index: tasks.length, id: `${data.id}/${mSpec.id}/${spec.id}/seed=${String(seed)}`, group, datasetIndex: d, modelIndex: m, methodIndex: j, seed, init: start, initHash });
          }
        }
      } finally {
        prepared.dispose();
      }
    }
  }
  for (let j = 0; j < suite.esteps.length; j++) {
    // A method no model can run: name it (checkMethod throws UNKNOWN_ESTEP with what is registered).
    if (!used.has(j) && firstModel !== undefined) checkMethod(suite, j, firstModel);
  }
  if (tasks.length === 0) {
    throw emError('INVALID_ARGUMENT', ['suite', 'models'], suite.models.length, 'no model applies to any data set', 'check the models\' "type" and "datasets" fields');
  }
  return { tasks, groups, datasets, models: [...models.values()], methods: [...methods.values()] };
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
  return toJson({ type: 'header', format: 'emlab/bench-journal', suiteHash: hashJson(suite), planHash: hashJson(p.tasks.map((t) => [t.id, t.initHash])), nRuns: p.tasks.length }, 0);
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

function workerScript(): URL {
  const here = import.meta.url;
  // Under vitest the runner is loaded from src/*.ts; workers always run the built dist/worker.js.
  const url = here.endsWith('.ts') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new EmError('INTERNAL', `the worker script ${fileURLToPath(url)} is missing. Remedy: build @emlab/bench (npx tsc -b packages/bench) or run with workers: 1`, { path: ['options', 'workers'] });
  }
  return url;
}

async function runSerial(ctx: RunContext, tasks: readonly RunTask[], finish: (o: RunOutcome) => Promise<void>, signal?: AbortSignal): Promise<void> {
  for (const task of tasks) {
    if (signal?.aborted) return;
    let outcome: RunOutcome | null;
    try {
      outcome = await runTask(ctx, task, signal);
    } catch (e) {
      outcome = errorOutcome(ctx.suite, task, 'INTERNAL', (e as Error).message);
    }
    if (outcome === null) return; // aborted mid-run: dropped
    await finish(outcome);
  }
}

async function runPool(suite: Suite, baseDir: string, n: number, tasks: readonly RunTask[], finish: (o: RunOutcome) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const script = workerScript();
  const queue = [...tasks];
  const workers: Worker[] = [];
  await new Promise<void>((resolveAll, rejectAll) => {
    let active = 0;
    let settled = false;
    const end = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      Promise.all(workers.map((w) => w.terminate())).then(() => (err === undefined ? resolveAll() : rejectAll(err)), rejectAll);
    };
    const onAbort = (): void => end();
    signal?.addEventListener('abort', onAbort);
    const feed = (w: Worker): void => {
      if (settled) return;
      if (signal?.aborted) return end();
      const task = queue.shift();
      if (task === undefined) {
        active--;
        if (active === 0) end();
        return;
      }
      w.postMessage({ type: 'run', task });
    };
    const byIndex = new Map(tasks.map((t) => [t.index, t]));
    for (let i = 0; i < Math.min(n, tasks.length); i++) {
      const w = new Worker(script);
      workers.push(w);
      active++;
      w.on('message', (msg: { type: 'done'; index: number; outcome: RunOutcome | null } | { type: 'failed'; index: number; message: string }) => {
        if (settled) return;
        const outcome = msg.type === 'done' ? msg.outcome : errorOutcome(suite, byIndex.get(msg.index) as RunTask, 'INTERNAL', msg.message);
        if (outcome === null) return feed(w);
        finish(outcome).then(() => feed(w), end);
      });
      w.on('error', (e) => end(e));
      w.postMessage({ type: 'setup', suite, baseDir });
      feed(w);
    }
    if (workers.length === 0) end();
  });
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
    formatVersion: 1,
    complete: runs.length === p.tasks.length,
    nRunsPlanned: p.tasks.length,
    manifest,
    datasets: p.datasets,
    models: p.models,
    methods: p.methods,
    groups,
    runs,
    timings: { startedAt: meta.startedAt, totalMs: meta.totalMs, workers: meta.workers, runs: runTimings },
  };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text, 'utf8');
  await rename(`${file}.tmp`, file);
}

/** Where {@link runSuite} wrote its files. @category Runner */
export interface SuiteOutputFiles {
  readonly results: string;
  readonly runsCsv: string;
  /** Null when the report was not written. */
  readonly report: string | null;
  readonly journal: string;
}

/** Writes `results.json`, `runs.csv` and (unless `report: false`) `report.html` into `outDir`. @category Runner */
export async function writeResults(results: BenchResults, outDir: string, report = true): Promise<SuiteOutputFiles> {
  await mkdir(outDir, { recursive: true });
  const files = { results: join(outDir, 'results.json'), runsCsv: join(outDir, 'runs.csv'), report: report ? join(outDir, 'report.html') : null, journal: join(outDir, JOURNAL_FILE) };
  await writeAtomic(files.results, `${toJson(results)}\n`);
  await writeAtomic(files.runsCsv, runsCsv(results));
  if (files.report !== null) await writeAtomic(files.report, await renderReport(results));
  return files;
}

/**
 * Runs a benchmark suite.
 *
 * Everything is validated first (suite structure, plug-ins, E-step names and
 * options against the registry, model options, data sets); then each
 * (data set, model, seed) gets its initial parameters once (the model's
 * `init` method on the stream `fit` would use), and every method starts from
 * them with the same seed and stopping rule. Finished runs are appended to
 * `outDir/runs.jsonl`; with `resume` they are not run again. The results equal
 * an uninterrupted serial run whatever `workers` and interruptions were
 * (except `timings`).
 *
 * @param suite - a validated suite (`loadSuite`/`validateSuite`) or a raw object (validated here).
 * @throws EmError (before any run) for every invalid input, naming `suite.…` paths.
 * @example
 * ```ts
 * const { suite, path, baseDir } = await loadSuite('benchmarks/suites/default.json');
 * const results = await runSuite(suite, { outDir: 'bench-out', baseDir, suitePath: path, workers: 2 });
 * ```
 * @category Runner
 */
export async function runSuite(suite: Suite | unknown, options: RunSuiteOptions = {}): Promise<BenchResults> {
  checkRunOptions(options);
  const s = validateSuite(suite);
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const backend = await initBackend();
  await importPlugins(s.plugins, baseDir);
  const ctx = new RunContext(s, baseDir);
  const p = await plan(s, ctx);
  const workers = Math.min(options.workers ?? availableParallelism(), p.tasks.length);
  const manifest: BenchResults['manifest'] = {
    emlabVersion: VERSION,
    gitRevision: gitRevision(baseDir),
    nodeVersion: process.version,
    backend,
    seeds: s.seeds,
    suitePath: options.suitePath ?? null,
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
    options.onProgress?.({ done, total, resumed, run: { id: o.record.id, status: o.record.status }, elapsedMs, etaMs: (elapsedMs / doneHere) * (total - done) });
  };
  const pending = p.tasks.filter((t) => !outcomes.has(t.index));
  if (pending.length > 0 && options.signal?.aborted !== true) {
    if (workers <= 1) await runSerial(ctx, pending, finish, options.signal);
    else await runPool(s, baseDir, workers, pending, finish, options.signal);
  }
  const results = assemble(p, outcomes, manifest, { startedAt, totalMs: performance.now() - t0, workers });
  if (options.outDir !== undefined) await writeResults(results, options.outDir, options.report ?? true);
  return results;
}

/**
 * Loads a suite file and runs it (relative paths resolve against the file's directory).
 * @category Runner
 */
export async function runSuiteFile(path: string, options: Omit<RunSuiteOptions, 'baseDir' | 'suitePath'> = {}): Promise<BenchResults> {
  const loaded = await loadSuite(path);
  return runSuite(loaded.suite, { ...options, baseDir: loaded.baseDir, suitePath: loaded.path });
}
