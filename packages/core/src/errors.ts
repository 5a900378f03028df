/**
 * The one error class of emlab, with a closed set of codes.
 *
 * Every message names the argument (as a path), the offending value and a
 * remedy, e.g. `options.tol = -1: must be a finite number >= 0. Remedy: pass
 * tol >= 0 (default 1e-6).`
 *
 * @module
 */

/**
 * The closed set of error codes.
 *
 * - `INVALID_ARGUMENT`: an option or argument has a bad type or value.
 * - `INVALID_DATA`: the data has a bad shape, NaN/Infinity where not allowed, too few rows, ...
 * - `INVALID_PARAMS`: given parameters have the wrong shape or are not valid (weights, PD covariances).
 * - `NOT_POSITIVE_DEFINITE`: a matrix stayed non positive definite after jitter escalation.
 * - `UNKNOWN_ESTEP`: no E-step registered under (structure kind, method).
 * - `PARSE_ERROR`: a malformed file (CSV, JSON result, ...), with row and column when known.
 * - `IO_ERROR`: a file could not be read or written.
 * - `MONOTONICITY_VIOLATION`: the bound decreased beyond the stated tolerance and `monotonicity: 'throw'`.
 * - `ABORTED`: an AbortSignal fired before any parameters existed.
 * - `BACKEND_UNAVAILABLE`: the requested TensorFlow.js backend cannot be initialised.
 * - `WORKER_LOST`: a worker of a sharded fit or distributed suite died or stayed unreachable beyond the retry budget.
 * - `INTERNAL`: a bug in emlab: please report it.
 *
 * @category Errors
 */
export type EmErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_DATA'
  | 'INVALID_PARAMS'
  | 'NOT_POSITIVE_DEFINITE'
  | 'UNKNOWN_ESTEP'
  | 'PARSE_ERROR'
  | 'IO_ERROR'
  | 'MONOTONICITY_VIOLATION'
  | 'ABORTED'
  | 'BACKEND_UNAVAILABLE'
  | 'WORKER_LOST'
  | 'INTERNAL';

/** All codes, for exhaustive tests and CLI mapping. @category Errors */
export const EM_ERROR_CODES: readonly EmErrorCode[] = [
  'INVALID_ARGUMENT',
  'INVALID_DATA',
  'INVALID_PARAMS',
  'NOT_POSITIVE_DEFINITE',
  'UNKNOWN_ESTEP',
  'PARSE_ERROR',
  'IO_ERROR',
  'MONOTONICITY_VIOLATION',
  'ABORTED',
  'BACKEND_UNAVAILABLE',
  'WORKER_LOST',
  'INTERNAL',
];

/** A path to the offending argument: `['options', 'tol']`, `['data', 3, 1]`. @category Errors */
export type ErrorPath = readonly (string | number)[];

/** Fields of an {@link EmError}. @category Errors */
export interface EmErrorInit {
  /** Where the problem is, e.g. `['data', 3, 1]` for row 3, column 1. */
  readonly path?: ErrorPath;
  /** The offending value (kept for programmatic access; shown abbreviated in the message). */
  readonly value?: unknown;
  /** What the user should do about it. */
  readonly remedy?: string;
  /** The underlying error, if any. */
  readonly cause?: unknown;
}

/**
 * The error thrown by every emlab package for user-facing problems.
 *
 * @example
 * ```ts
 * try { await fit(gmm, x, { tol: -1 }); }
 * catch (e) { if (e instanceof EmError && e.code === 'INVALID_ARGUMENT') console.log(e.path); }
 * ```
 * @category Errors
 */
export class EmError extends Error {
  override readonly name = 'EmError';
  readonly code: EmErrorCode;
  readonly path: ErrorPath;
  readonly value: unknown;
  readonly remedy: string | undefined;

  constructor(code: EmErrorCode, message: string, init: EmErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.path = init.path ?? [];
    this.value = init.value;
    this.remedy = init.remedy;
  }

  /** A plain-object form for JSON output (CLI `--json` errors). */
  toJSON(): { code: EmErrorCode; message: string; path: ErrorPath } {
    return { code: this.code, message: this.message, path: this.path };
  }
}

/** Formats a path as `options.tol` or `data[3][1]`. @category Errors */
export function formatPath(path: ErrorPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(input)' : out;
}

/** Abbreviates a value for an error message. @category Errors */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === 'object') {
    const shape = (value as { shape?: unknown }).shape;
    if (Array.isArray(shape)) return `tensor of shape [${shape.join(', ')}]`;
    return 'object';
  }
  return String(value);
}

/**
 * Builds an {@link EmError} whose message follows the house format:
 * `<path> = <value>: <problem>. Remedy: <remedy>`.
 *
 * @category Errors
 */
export function emError(
  code: EmErrorCode,
  path: ErrorPath,
  value: unknown,
  problem: string,
  remedy: string,
  cause?: unknown,
): EmError {
  const message = `${formatPath(path)} = ${describeValue(value)}: ${problem}. Remedy: ${remedy}`;
  return new EmError(code, message, cause === undefined ? { path, value, remedy } : { path, value, remedy, cause });
}
