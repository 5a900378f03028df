/**
 * The results of a benchmark suite: the `results.json` document.
 *
 * Everything except the top-level `timings` key is a deterministic function
 * of the suite (and of the emlab version, Node version, backend and git
 * revision recorded in the manifest): running a suite twice, serially or on
 * worker threads, or interrupted and resumed, writes byte-identical
 * `results.json` files apart from `timings`.
 *
 * @module
 */
import type { Suite } from './suite-schema.js';

/** A run's seed (a suite seed). @category Results */
export type BenchSeed = number | string;

/**
 * Where the results came from.
 * @category Results
 */
export interface BenchManifest {
  /** emlab version (`VERSION` from @emlab/core). */
  readonly emlabVersion: string;
  /** `git rev-parse HEAD` of the working directory, or null outside a git checkout. */
  readonly gitRevision: string | null;
  /** `process.version`, e.g. `'v20.11.1'`. */
  readonly nodeVersion: string;
  /** TensorFlow.js backend the runs used (`'wasm'`, `'cpu'`, `'tensorflow'`). */
  readonly backend: string;
  /** The suite's seeds, in order. */
  readonly seeds: readonly BenchSeed[];
  /** Absolute path of the suite file, or null for a suite built in code (`emlab compare`). */
  readonly suitePath: string | null;
  /** The suite itself, after defaults were filled in (see {@link Suite}). */
  readonly suite: Suite;
}

/** A data set as the runs saw it. @category Results */
export interface DatasetSummary {
  readonly id: string;
  /** The registered data-set kind that made it (`'gaussian-mixture'`, `'csv'`, `'builtin'`, `'bayesian-network'`, a plug-in's). */
  readonly kind: string;
  /** Its data format: `'numeric-table'` or a custom data type (`'bn-table'`, ...); models whose registration reads that format run on it. */
  readonly format: string;
  /** One line: sizes, generator options, file. */
  readonly description: string;
  /** Instances (rows, sequences, ...) before the held-out split. */
  readonly nRows: number;
  readonly nTrain: number;
  /** Held-out instances (0 without a split). */
  readonly nTest: number;
  /** Columns / variables. */
  readonly nFeatures: number;
  /** Whether the true parameters are known (parameter error is then computed). */
  readonly hasTruth: boolean;
  /** Whether true labels are known (the adjusted Rand index is then computed for models with `predict`). */
  readonly hasLabels: boolean;
  /** Missing entries that were masked, or null when none. */
  readonly missing: { readonly rate: number; readonly mechanism: string; readonly seed: BenchSeed; readonly nMissing: number } | null;
}

/** A model as the runs saw it. @category Results */
export interface ModelSummary {
  readonly id: string;
  /** The suite's `type` (a registered name or alias). */
  readonly type: string;
  /** The registration's name (`'gmm'`, `'bayesian-network'`, a plug-in's). */
  readonly name: string;
  /** Its latent structure kind (which methods apply). */
  readonly structureKind: string;
  /** The data format it reads (`'numeric-table'`, or a custom data type). */
  readonly dataFormat: string;
  /** Whether its M-step is MAP (it has a `logPrior`): its bound is then log p(x | θ) + log p(θ) − KL. */
  readonly map: boolean;
  /** `Model.options` (plain JSON) on the first data set it runs on (options implied by the data, such as a true K, included). */
  readonly options: Readonly<Record<string, unknown>>;
}

/** A method (E-step or the gradient baseline) as the runs saw it. @category Results */
export interface MethodSummary {
  readonly id: string;
  /** Registry method name (`'exact'`, `'hard'`, `'stochastic'`, `'gradient'`, a plug-in's). */
  readonly method: string;
  /** The registration's family: `'exact' | 'restricted' | 'monte-carlo'` for E-steps, `'gradient'` for the baseline, or another method family. */
  readonly family: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * One (data set, model, seed): the shared start and the best bound any method found.
 * @category Results
 */
export interface GroupSummary {
  /** `${dataset}/${model}/seed=${seed}`. */
  readonly id: string;
  readonly dataset: string;
  readonly model: string;
  readonly seed: BenchSeed;
  /** Hash (FNV-1a 64-bit, hex) of the initial parameters' JSON: every run of the group has this `initHash`. */
  readonly initHash: string;
  /** Max over the group's successful runs of max_t boundAfterM_t (null when no run succeeded). */
  readonly bestBound: number | null;
  /** The run id that reached `bestBound`. */
  readonly bestRun: string | null;
}

/**
 * One iteration of a run (timings are in `timings.runs[id].elapsedMs`).
 * Same meaning as core's `IterationRecord`; for the gradient baseline
 * `boundAfterE` = `boundAfterM` = log p(x | θ_t) after step t and `gap` = 0.
 * @category Results
 */
export interface RunIteration {
  readonly iteration: number;
  /** L(q_t, θ_t). */
  readonly boundAfterE: number;
  /** L(q_t, θ_{t+1}). */
  readonly boundAfterM: number;
  /** log p(x | θ_t) when tractable, else null. */
  readonly logLikelihood: number | null;
  /** KL(q ‖ posterior) = logLikelihood − boundAfterE, or null. */
  readonly gap: number | null;
  /** Standard error of boundAfterE (Monte Carlo E-steps), else null: the report draws ± 2 SE bands from it. */
  readonly boundStdErr: number | null;
  readonly entropy: number | null;
  /** Passes over the data completed after this iteration (incremental E-steps cover part of one per call). */
  readonly passes: number;
  /**
   * E-step calls of the restart so far, when the method counts them per iteration (`record.eStepCalls`,
   * accelerators that call the E-step more than once per iteration), else null (one call per iteration).
   */
  readonly eStepCalls: number | null;
  /** Monte Carlo sample size of this iteration (`diagnostics.sampleSize`, else `diagnostics.nDraws`), else null. */
  readonly sampleSize: number | null;
  /** The arithmetic of this iteration (`'float32'` or `'float64'`). */
  readonly precision: string;
}

/**
 * Final metrics of one run. Log-likelihoods are totals over rows (per-row
 * means in the `PerRow` fields, comparable across data sets of different sizes).
 * @category Results
 */
export interface RunMetrics {
  /** Final L(q, θ) (after the last M-step). */
  readonly bound: number | null;
  /** `'log-likelihood' | 'lower-bound' | 'estimate'`. */
  readonly boundKind: string | null;
  /** log p(x_train | θ_final), or null when not tractable. */
  readonly trainLogLikelihood: number | null;
  readonly trainLogLikelihoodPerRow: number | null;
  /** log p(x_test | θ_final) on the held-out rows, or null (no split / not tractable). */
  readonly heldOutLogLikelihood: number | null;
  readonly heldOutLogLikelihoodPerRow: number | null;
  /** Iterations run. */
  readonly nIter: number;
  readonly converged: boolean;
  /** `'tol' | 'max-iter' | 'callback' | 'aborted'` (or the baseline's own reason). */
  readonly convergenceReason: string;
  /**
   * First iteration t whose boundAfterM_t is within 1e-3 relative of the
   * group's best bound (bestBound − 1e-3·|bestBound|), or null if never.
   * The matching wall-clock time is `timings.runs[id].timeToBestMs`.
   */
  readonly iterationsToBest: number | null;
  /**
   * With known truth: mean absolute error of all parameters (weights, means,
   * covariances entries) after matching fitted to true components by the
   * Hungarian assignment on mean distance; for BNs the mean absolute CPT error.
   * Null without truth.
   */
  readonly parameterError: number | null;
  /** With known labels: adjusted Rand index of the MAP assignments (training rows) vs the true labels. */
  readonly adjustedRandIndex: number | null;
  /** ‖∇_φ (1/N) log p(x | θ_final)‖₂ over unconstrained parameters φ (@emlab/core's stationarity check: autodiff, or Fisher's identity for missing entries and networks), or null when unavailable. */
  readonly stationarity: number | null;
  /** Passes over the data (`FitResult.passes`). */
  readonly passes: number | null;
  /** E-step (or objective) evaluations over all restarts, including the final log-likelihood (`FitResult.eStepCalls`). */
  readonly eStepCalls: number | null;
  /** Precisions the kept restart used, in order, joined by `+` (`'float64'`, `'float32+float64'`). */
  readonly precision: string | null;
  /** The convergence policy (`FitResult.convergence.policy`) and its last value. */
  readonly convergencePolicy: string | null;
  readonly convergenceValue: number | null;
  /** Degenerate components at the end (`FitResult.degenerate.length`). */
  readonly nDegenerate: number | null;
  /** log p(θ_final) of a MAP model (its bound includes it), else null. */
  readonly logPrior: number | null;
}

/**
 * What `fit` reported about a run (`FitResult` fields), or null for a run that failed.
 * @category Results
 */
export interface RunFitInfo {
  /** The method as `fit` resolved it: name, structure kind (`'*'` for every kind), family, options with defaults. */
  readonly method: { readonly name: string; readonly kind: string; readonly family: string; readonly options: Readonly<Record<string, unknown>> };
  readonly precision: { readonly requested: string; readonly used: readonly string[] };
  readonly passes: number;
  readonly eStepCalls: number;
  readonly convergence: { readonly policy: string; readonly tol: number; readonly description: string; readonly value: number | null };
  readonly degenerate: readonly { readonly component: number; readonly reason: string }[];
}

/** One run: a (data set, model, method, seed). @category Results */
export interface RunRecord {
  /** `${dataset}/${model}/${method}/seed=${seed}`. */
  readonly id: string;
  /** Position in the suite's run order (data set → model → seed → method). */
  readonly index: number;
  /** The group id (shared start). */
  readonly group: string;
  readonly dataset: string;
  readonly model: string;
  /** Method id (suite `esteps[].id`). */
  readonly method: string;
  readonly seed: BenchSeed;
  /**
   * `'ok'`, or `'error'` when the run failed (then `error` is set and metrics are empty). Error codes are
   * EmError codes, or `TIMEOUT` (over `limits.timeMs`), `OUT_OF_MEMORY` (over `limits.memoryMb`),
   * `WORKER_EXIT` (the worker thread exited, e.g. `process.exit` in a plug-in) and `CRASH` (a thrown
   * error that is not an EmError); crashes are tried again `limits.retries` times first.
   */
  readonly status: 'ok' | 'error';
  readonly error: { readonly code: string; readonly message: string } | null;
  /** Hash of the initial parameters (equal for every run of a group). */
  readonly initHash: string;
  /** `fit`'s own account of the run (null when it failed). */
  readonly fit: RunFitInfo | null;
  readonly metrics: RunMetrics;
  readonly trace: readonly RunIteration[];
  readonly warnings: readonly string[];
}

/** A (data set, model, method) that the suite names but that cannot run. @category Results */
export interface SkippedRun {
  readonly dataset: string;
  readonly model: string;
  readonly method: string;
  readonly code: string;
  readonly reason: string;
}

/** Wall-clock numbers of one run. @category Results */
export interface RunTimings {
  /** Whole run (fit + metrics), ms. */
  readonly totalMs: number;
  /** Fit only, ms. */
  readonly fitMs: number;
  /** Cumulative time after each iteration, ms (same length as the run's trace). */
  readonly elapsedMs: readonly number[];
  /** Time at `metrics.iterationsToBest`, ms, or null. */
  readonly timeToBestMs: number | null;
  /** Attempts made (1 unless a crash was retried). */
  readonly attempts: number;
  /** The crashes of earlier attempts, in order. */
  readonly failures: readonly { readonly code: string; readonly message: string }[];
}

/** Every non-deterministic number, under one key. @category Results */
export interface BenchTimings {
  /** ISO time the (last) invocation started. */
  readonly startedAt: string;
  /** Wall-clock time of the (last) invocation, ms. */
  readonly totalMs: number;
  /** Worker threads used by the (last) invocation. */
  readonly workers: number;
  /** By run id. */
  readonly runs: Readonly<Record<string, RunTimings>>;
}

/**
 * The `results.json` document.
 * @category Results
 */
export interface BenchResults {
  readonly format: 'emlab/bench-results';
  /** 2 since emlab 0.2 (data-set kinds, registered models, `fit` info per run). */
  readonly formatVersion: 2;
  /** False when the suite was interrupted (Ctrl-C / signal) before every run finished; `--resume` completes it. */
  readonly complete: boolean;
  /** Runs the suite defines (`runs.length` when complete). */
  readonly nRunsPlanned: number;
  readonly manifest: BenchManifest;
  readonly datasets: readonly DatasetSummary[];
  readonly models: readonly ModelSummary[];
  readonly methods: readonly MethodSummary[];
  readonly groups: readonly GroupSummary[];
  /** (data set, model, method) combinations of the suite that do not run, and why (e.g. a method whose check rejects data with missing entries). */
  readonly skipped: readonly SkippedRun[];
  /** Sorted by `index`. */
  readonly runs: readonly RunRecord[];
  readonly timings: BenchTimings;
}
