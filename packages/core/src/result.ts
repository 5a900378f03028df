/**
 * `FitResult`, the per-iteration trace, and their JSON round trip.
 * @module
 */
import { emError } from './errors.js';
import type { BoundKind, MethodFamily } from './estep.js';
import type { DegenerateComponent, ModelEvent } from './model.js';
import type { Precision, PrecisionOption } from './precision.js';
import type { Seed } from './rng.js';

/** What to do when an exact or restricted E-step lowers the bound beyond tolerance. @category Fitting */
export type MonotonicityPolicy = 'warn' | 'throw' | 'off';

/** A monotonicity check that failed (beyond {@link monotonicityTolerance}). @category Results */
export interface MonotonicityViolation {
  /** `'E'`: L(q_t, θ_t) < L(q_{t−1}, θ_t); `'M'`: L(q_t, θ_{t+1}) < L(q_t, θ_t). */
  readonly halfStep: 'E' | 'M';
  /** How much the bound dropped (> 0). */
  readonly drop: number;
  readonly tolerance: number;
  /**
   * The half-step's conditioning magnitude S exceeded the cap of `monotonicityTolerance` (the record
   * has an `ill-conditioned` event) and the drop is within the uncapped roundoff estimate 64 · u · S:
   * it may be roundoff amplified by a near-singular Σ⁻¹. A larger drop is never marked.
   * In float64 such a violation is recorded and warned about but does not stop a fit under
   * `monotonicity: 'throw'` (no finer arithmetic exists); in float32 it does (use float64).
   */
  readonly illConditioned?: true;
}

/**
 * One iteration, in Neal–Hinton accounting.
 * @category Results
 */
export interface IterationRecord {
  /** 1-based. */
  readonly iteration: number;
  /**
   * L(q_t, θ_t): the bound after the E-step (= log p(x | θ_t) for exact E-steps), computed
   * like `boundAfterM` from the statistics in float64 (`expectedLogJoint(stats, θ_t) + H(q_t)`);
   * the E-step's own float32 value is `diagnostics.eStepBound`.
   */
  readonly boundAfterE: number;
  /** L(q_t, θ_{t+1}) = E_q[log p(x, z | θ_{t+1})] + H(q_t): the bound after the M-step. */
  readonly boundAfterM: number;
  /** log p(x | θ_t) when the E-step computed it, else null. */
  readonly logLikelihood: number | null;
  /** log p(x | θ_t) (+ log p(θ_t) for MAP models, see `Model.logPrior`) − L(q_t, θ_t) = KL(q ‖ posterior) (≥ 0 up to roundoff), or null. */
  readonly gap: number | null;
  /** H(q_t). */
  readonly entropy: number;
  /** Standard error of `boundAfterE` (Monte Carlo E-steps), else null. */
  readonly boundStdErr: number | null;
  /** The M-step's allowance for a regularized objective (`MStepResult.boundSlack`), added to the M-half tolerance. */
  readonly mStepSlack: number;
  /** The model's roundoff magnitude S at θ_t and θ_{t+1} (the larger), used in the tolerance. */
  readonly roundoffScale: number;
  /** The arithmetic of this iteration's kernels. */
  readonly precision: Precision;
  /** Passes over the data completed after this iteration (an incremental E-step's call covers part of one). */
  readonly passes: number;
  readonly eStepMs: number;
  readonly mStepMs: number;
  /** The E-step's own numbers, and `eStepBound` (its own value of L(q_t, θ_t)). */
  readonly diagnostics: Readonly<Record<string, number>>;
  /** What the M-step (or the fit) had to do: `regularized`, `reinitialized`, `ill-conditioned`, ... */
  readonly events: readonly ModelEvent[];
  readonly violations: readonly MonotonicityViolation[];
  /** Why this E-half was not checked for monotonicity (β changed, precision switched, ...), when it was not. */
  readonly exempt?: string;
  /** Why `fit` may not stop on this iteration (a tempered step at β < 1, a sparse step between refreshes), when so (see `EStepResult.unsettled`). */
  readonly unsettled?: string;
  /** The convergence policy's value and threshold after this pass (absent mid-pass and before two passes). */
  readonly convergence?: { readonly value: number; readonly threshold: number };
  /** θ_{t+1} (plain JSON), with `recordParams`. */
  readonly params?: unknown;
}

/**
 * Why the loop stopped: `tol` (the convergence policy is met), `max-iter`, `noise-floor` (the
 * changes fell below what the precision resolves before tol was met: use float64), `callback`, `aborted`.
 * @category Results
 */
export type ConvergenceReason = 'tol' | 'max-iter' | 'noise-floor' | 'callback' | 'aborted';

/** Summary of one restart. @category Results */
export interface RestartSummary {
  readonly restart: number;
  readonly bound: number;
  readonly nIter: number;
  readonly converged: boolean;
  readonly reason: ConvergenceReason;
  /** Degenerate components at its end (see `Model.degenerate`). */
  readonly degenerate: readonly DegenerateComponent[];
}

/**
 * Everything a fit produced. Plain data: `saveResult`/`loadResult` round-trip it exactly.
 * @typeParam P - the model's parameters.
 * @category Results
 */
export interface FitResult<P = unknown> {
  readonly format: 'emlab/fit-result';
  readonly formatVersion: 2;
  readonly model: { readonly name: string; readonly options: Readonly<Record<string, unknown>> };
  readonly params: P;
  /** Final L(q, θ) (after the last M-step). */
  readonly bound: number;
  readonly boundKind: BoundKind;
  /** log p(x | θ_final) when tractable, else null. */
  readonly logLikelihood: number | null;
  readonly converged: boolean;
  readonly convergenceReason: ConvergenceReason;
  /** The convergence policy and its last value (see `convergence.ts`). */
  readonly convergence: { readonly policy: string; readonly tol: number; readonly description: string; readonly value: number | null };
  /** Iterations (E-step calls) of the kept restart. */
  readonly nIter: number;
  /** Passes over the data of the kept restart (= nIter unless the E-step updates part of the data per call). */
  readonly passes: number;
  /** E-step (or objective) evaluations over all restarts, including the final log-likelihood. */
  readonly eStepCalls: number;
  readonly trace: readonly IterationRecord[];
  /** Index of the restart kept (the best final bound among non-degenerate restarts unless `allowDegenerate`). */
  readonly restart: number;
  readonly restarts: readonly RestartSummary[];
  /** Degenerate components of the kept fit (empty when none). */
  readonly degenerate: readonly DegenerateComponent[];
  readonly seed: Seed;
  /** The method: an E-step (family exact, restricted, monte-carlo) or another algorithm (family gradient). */
  readonly method: { readonly name: string; readonly kind: string; readonly family: MethodFamily; readonly options: Readonly<Record<string, unknown>> };
  readonly options: {
    readonly maxIter: number;
    readonly tol: number;
    readonly nInit: number;
    readonly init: string;
    readonly monotonicity: string;
    readonly precision: PrecisionOption;
    readonly convergence: string;
    readonly weighted: boolean;
  };
  /** The arithmetic: what was asked, and what the kept restart's iterations used (in order, deduplicated). */
  readonly precision: { readonly requested: PrecisionOption; readonly used: readonly Precision[] };
  /** Rows the fit used (rows with nothing observed are left out). */
  readonly nRows: number;
  /** W: the total row weight (= nRows when unweighted); BIC and per-row figures use it. */
  readonly totalWeight: number;
  /** What the model says about the data (`Model.summarizeData`: e.g. missing cells and patterns), when it says anything. */
  readonly data?: Readonly<Record<string, number>>;
  readonly backend: string;
  readonly version: string;
  readonly warnings: readonly string[];
  /** What the method reports about itself beyond the trace (the gradient baseline: optimizer, evaluations, stationarity). */
  readonly report?: Readonly<Record<string, unknown>>;
}

/** Saved parameters alone. @category Results */
export interface SavedParams<P = unknown> {
  readonly format: 'emlab/params';
  readonly formatVersion: 1;
  readonly model: string;
  readonly params: P;
}

// JSON has no NaN/Infinity: encode them as strings and decode them back, so the round trip is exact.
const NONFINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}
function reviver(_k: string, v: unknown): unknown {
  return typeof v === 'string' && v in NONFINITE ? NONFINITE[v] : v;
}

/** A result or params object as a JSON string (non-finite numbers encoded as strings). @category Results */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, replacer, indent);
}

/** Parses JSON written by {@link toJson}. @throws EmError `PARSE_ERROR` @category Results */
export function fromJson(text: string, source = 'json'): unknown {
  try {
    return JSON.parse(text, reviver) as unknown;
  } catch (e) {
    throw emError('PARSE_ERROR', [source], text.slice(0, 40), `is not valid JSON (${(e as Error).message})`, 'pass a file written by saveResult/saveParams or `emlab fit --out`', e);
  }
}

/**
 * A copy of a result without wall-clock fields (`eStepMs`, `mStepMs`): equal
 * seeds and backend give equal copies, bit for bit.
 * @category Results
 */
export function omitTimings<P>(result: FitResult<P>): unknown {
  return { ...result, trace: result.trace.map(({ eStepMs: _e, mStepMs: _m, ...rest }) => rest) };
}

/** Validates parameters on load (a model's `validateParams`). @category Results */
export interface ParamsValidator {
  readonly name: string;
  validateParams(params: unknown): void;
}

function checkFormat(obj: unknown, format: string, source: string): Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null || (obj as { format?: unknown }).format !== format) {
    throw emError('PARSE_ERROR', [source, 'format'], (obj as { format?: unknown } | null)?.format, `is not an ${format} document`, `pass a file written by ${format === 'emlab/params' ? 'saveParams' : 'saveResult or `emlab fit --out`'}`);
  }
  return obj as Record<string, unknown>;
}

function checkModel(doc: Record<string, unknown>, name: unknown, model: ParamsValidator | undefined, source: string): void {
  if (model === undefined) return;
  if (name !== model.name) {
    throw emError('INVALID_PARAMS', [source, 'model'], name, `was saved by model "${String(name)}", not "${model.name}"`, 'load it with the model that produced it');
  }
  model.validateParams(doc['params']);
}

/** A format-1 result (emlab 0.1) in format 2: `eStep` became `method`; fields added since get neutral values. */
function upgradeV1(doc: Record<string, unknown>): Record<string, unknown> {
  const { eStep, ...rest } = doc as { eStep?: unknown } & Record<string, unknown>;
  const trace = (rest['trace'] as Record<string, unknown>[] | undefined) ?? [];
  const options = (rest['options'] as Record<string, unknown> | undefined) ?? {};
  return {
    ...rest,
    formatVersion: 2,
    method: eStep,
    trace: trace.map((r, i) => ({ precision: 'float32', passes: i + 1, ...r })),
    passes: trace.length,
    eStepCalls: trace.length,
    convergence: { policy: 'legacy', tol: options['tol'] ?? null, description: '|ΔL| ≤ tol · max(|L|, N) (emlab 0.1)', value: null },
    degenerate: [],
    restarts: ((rest['restarts'] as Record<string, unknown>[] | undefined) ?? []).map((r) => ({ reason: r['converged'] ? 'tol' : 'max-iter', degenerate: [], ...r })),
    options: { precision: 'float32', convergence: 'legacy', weighted: false, ...options },
    precision: { requested: 'float32', used: ['float32'] },
    totalWeight: rest['nRows'],
  };
}

/**
 * Parses a saved result (format 2, or format 1 from emlab 0.1, upgraded); with `model`, also validates its parameters.
 * @throws EmError `PARSE_ERROR`, `INVALID_PARAMS`
 * @category Results
 */
export function parseResult<P>(text: string, model?: ParamsValidator, source = 'result'): FitResult<P> {
  let doc = checkFormat(fromJson(text, source), 'emlab/fit-result', source);
  if (doc['formatVersion'] === 1) doc = upgradeV1(doc);
  else if (doc['formatVersion'] !== 2) {
    throw emError('PARSE_ERROR', [source, 'formatVersion'], doc['formatVersion'], 'is not a result format this version of emlab reads (1 or 2)', 'upgrade emlab or refit');
  }
  checkModel(doc, (doc['model'] as { name?: unknown } | undefined)?.name, model, source);
  return doc as unknown as FitResult<P>;
}

/**
 * Parses saved parameters (`saveParams`, or the `params` of a saved result); with `model`, validates them.
 * @throws EmError `PARSE_ERROR`, `INVALID_PARAMS`
 * @category Results
 */
export function parseParams<P>(text: string, model?: ParamsValidator, source = 'params'): P {
  const raw = fromJson(text, source);
  const format = (raw as { format?: unknown } | null)?.format;
  if (format === 'emlab/fit-result') return parseResult<P>(text, model, source).params;
  const doc = checkFormat(raw, 'emlab/params', source);
  checkModel(doc, doc['model'], model, source);
  return doc['params'] as P;
}

/** The document {@link parseParams} reads: parameters alone, with the model's name. @category Results */
export function paramsDocument<P>(modelName: string, params: P): SavedParams<P> {
  return { format: 'emlab/params', formatVersion: 1, model: modelName, params };
}

