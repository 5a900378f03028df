/**
 * `FitResult`, the per-iteration trace, and their JSON round trip.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { emError } from './errors.js';
import type { BoundKind, EStepFamily } from './estep.js';
import type { ModelEvent } from './model.js';
import type { Seed } from './rng.js';

/** A monotonicity check that failed (beyond {@link monotonicityTolerance}). @category Results */
export interface MonotonicityViolation {
  /** `'E'`: L(q_t, θ_t) < L(q_{t−1}, θ_t); `'M'`: L(q_t, θ_{t+1}) < L(q_t, θ_t). */
  readonly halfStep: 'E' | 'M';
  /** How much the bound dropped (> 0). */
  readonly drop: number;
  readonly tolerance: number;
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
  readonly eStepMs: number;
  readonly mStepMs: number;
  /** The E-step's own numbers, and `eStepBound` (its float32 value of L(q_t, θ_t)). */
  readonly diagnostics: Readonly<Record<string, number>>;
  /** What the M-step had to do (regularize, reinitialize). */
  readonly events: readonly ModelEvent[];
  readonly violations: readonly MonotonicityViolation[];
}

/** Why the loop stopped. @category Results */
export type ConvergenceReason = 'tol' | 'max-iter' | 'callback' | 'aborted';

/** Summary of one restart. @category Results */
export interface RestartSummary {
  readonly restart: number;
  readonly bound: number;
  readonly nIter: number;
  readonly converged: boolean;
}

/**
 * Everything a fit produced. Plain data: `saveResult`/`loadResult` round-trip it exactly.
 * @typeParam P - the model's parameters.
 * @category Results
 */
export interface FitResult<P = unknown> {
  readonly format: 'emlab/fit-result';
  readonly formatVersion: 1;
  readonly model: { readonly name: string; readonly options: Readonly<Record<string, unknown>> };
  readonly params: P;
  /** Final L(q, θ) (after the last M-step). */
  readonly bound: number;
  readonly boundKind: BoundKind;
  /** log p(x | θ_final) when tractable, else null. */
  readonly logLikelihood: number | null;
  readonly converged: boolean;
  readonly convergenceReason: ConvergenceReason;
  readonly nIter: number;
  readonly trace: readonly IterationRecord[];
  /** Index of the restart kept (best final bound). */
  readonly restart: number;
  readonly restarts: readonly RestartSummary[];
  readonly seed: Seed;
  readonly eStep: { readonly name: string; readonly kind: string; readonly family: EStepFamily; readonly options: Readonly<Record<string, unknown>> };
  readonly options: { readonly maxIter: number; readonly tol: number; readonly nInit: number; readonly init: string; readonly monotonicity: string };
  /** Rows the fit used (rows with nothing observed are left out). */
  readonly nRows: number;
  /** What the model says about the data (`Model.summarizeData`: e.g. missing cells and patterns), when it says anything. */
  readonly data?: Readonly<Record<string, number>>;
  readonly backend: string;
  readonly version: string;
  readonly warnings: readonly string[];
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

/**
 * Parses a saved result; with `model`, also validates its parameters.
 * @throws EmError `PARSE_ERROR`, `INVALID_PARAMS`
 * @category Results
 */
export function parseResult<P>(text: string, model?: ParamsValidator, source = 'result'): FitResult<P> {
  const doc = checkFormat(fromJson(text, source), 'emlab/fit-result', source);
  checkModel(doc, (doc['model'] as { name?: unknown } | undefined)?.name, model, source);
  return doc as unknown as FitResult<P>;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw emError('IO_ERROR', ['path'], path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path and permissions', e);
  }
}

async function writeText(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, 'utf8');
  } catch (e) {
    throw emError('IO_ERROR', ['path'], path, `cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check that the directory exists and is writable', e);
  }
}

/**
 * Writes a result as JSON.
 * @example
 * ```ts
 * await saveResult('gmm.json', result);
 * const again = await loadResult<GmmParams>('gmm.json', gmm);
 * ```
 * @throws EmError `IO_ERROR`
 * @category Results
 */
export async function saveResult(path: string, result: FitResult): Promise<void> {
  await writeText(path, toJson(result));
}

/** Reads a result written by {@link saveResult}. @throws EmError `IO_ERROR`, `PARSE_ERROR`, `INVALID_PARAMS` @category Results */
export async function loadResult<P>(path: string, model?: ParamsValidator): Promise<FitResult<P>> {
  return parseResult<P>(await readText(path), model, path);
}

/** Writes parameters alone. @throws EmError `IO_ERROR` @category Results */
export async function saveParams<P>(path: string, modelName: string, params: P): Promise<void> {
  const doc: SavedParams<P> = { format: 'emlab/params', formatVersion: 1, model: modelName, params };
  await writeText(path, toJson(doc));
}

/** Reads parameters written by {@link saveParams}; with `model`, validates them. @throws EmError `IO_ERROR`, `PARSE_ERROR`, `INVALID_PARAMS` @category Results */
export async function loadParams<P>(path: string, model?: ParamsValidator): Promise<P> {
  const doc = checkFormat(fromJson(await readText(path), path), 'emlab/params', path);
  checkModel(doc, doc['model'], model, path);
  return doc['params'] as P;
}

