/**
 * User errors of the command line in the house format, naming the flag (or
 * positional argument), its value when there is one, and a remedy:
 * `--components = "0": must be an integer >= 1. Remedy: ...`, or without a
 * value `--out: is required. Remedy: ...`.
 * @module
 */
import { EmError, describeValue, formatPath, type EmErrorCode, type ErrorPath } from '@emlab/core';

/** Marks a problem with no value to show (a missing flag). */
export const NO_VALUE: unique symbol = Symbol('no value');

/**
 * An `EmError` naming a flag: `path = value: problem. Remedy: remedy` (no `= value` with {@link NO_VALUE}).
 */
export function flagError(code: EmErrorCode, path: ErrorPath, value: unknown, problem: string, remedy: string, cause?: unknown): EmError {
  const head = value === NO_VALUE ? formatPath(path) : `${formatPath(path)} = ${describeValue(value)}`;
  return new EmError(code, `${head}: ${problem}. Remedy: ${remedy}`, {
    path,
    ...(value === NO_VALUE ? {} : { value }),
    remedy,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** An `INVALID_ARGUMENT` naming a flag. */
export function badFlag(flag: string, value: unknown, problem: string, remedy: string, cause?: unknown): EmError {
  return flagError('INVALID_ARGUMENT', [flag], value, problem, remedy, cause);
}

/** The problem part of a house-format message (`path = value: PROBLEM. Remedy: ...`). */
export function problemOf(e: EmError): string {
  const m = e.message;
  const head = m.indexOf(': ');
  const tail = m.lastIndexOf('. Remedy: ');
  return m.slice(head < 0 ? 0 : head + 2, tail < 0 ? m.length : tail);
}

/**
 * Runs `parse` (which checks a flag's text as a value) and, on a user error, names the flag with the
 * text as typed (`--components = "abc"`, not `= NaN`).
 */
export function asTyped<T>(flag: string, typed: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw retype(e, flag, typed);
  }
}

/** {@link asTyped} for an asynchronous check (reading a file named by a flag). */
export async function asTypedAsync<T>(flag: string, typed: string, parse: () => Promise<T>): Promise<T> {
  try {
    return await parse();
  } catch (e) {
    throw retype(e, flag, typed);
  }
}

function retype(e: unknown, flag: string, typed: string): unknown {
  if (!(e instanceof EmError) || e.code === 'INTERNAL') return e;
  // A path inside the value (params.weights of a parameters file) stays in the problem.
  const rest = e.path[0] === typed || e.path[0] === 'path' ? e.path.slice(1) : e.path;
  const inner = rest.length >= 2 ? `${formatPath(rest)}: ` : '';
  return flagError(e.code, [flag], typed, `${inner}${problemOf(e)}`, e.remedy ?? `see the command's --help for ${flag}`, e);
}

/**
 * `e` (which names a file, line and column) as an error about `flag` = `value`, its whole message
 * kept as the problem: `--weights-column = "w": data.csv.row[2]... = "-1": line 4 ...: weight "-1" ...`.
 */
export function aboutFlag(e: EmError, flag: string, value: string): EmError {
  const at = e.message.lastIndexOf('. Remedy: ');
  return flagError(e.code, [flag], value, at < 0 ? e.message : e.message.slice(0, at), e.remedy ?? `see the command's --help for ${flag}`, e);
}
