/**
 * Flag parsing shared by every `emlab` command: node's `parseArgs` with
 * negative numbers allowed as values, numeric flags with ranges, seeds, and
 * the progress line of long fits.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EmError, emError, type IterationRecord } from '@emlab/core';
import type { CliIo } from './main.js';


/**
 * `--tol -1` → `--tol=-1`: node's parseArgs refuses a string option's value
 * that starts with a dash, but a negative number is a value (which the option
 * checks then reject or accept with a proper message).
 */
export function joinNegativeValues(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(?:\d|\.\d|Infinity$)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Strict `parseArgs` with positionals; node's multi-line messages become one
 * `INVALID_ARGUMENT` line pointing at `help`.
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
  help = 'emlab --help',
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals: true, strict: true } as const);
  } catch (e) {
    // One line: node's messages span several lines and end with a period.
    const message = (e as Error).message.replace(/\s*\n\s*/g, ' ').replace(/\.+$/, '');
    throw new EmError('INVALID_ARGUMENT', `${message}. Remedy: see ${help}`, { path: ['argv'] });
  }
}

/**
 * A numeric flag (`undefined` when absent), optionally within [min, max] (or [min, max) with `maxOpen`).
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function flagNumber(name: string, text: string | undefined, kind: 'int' | 'float', min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, maxOpen = false): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  const what = kind === 'int' ? 'an integer' : 'a number';
  const range = min === Number.NEGATIVE_INFINITY && max === Number.POSITIVE_INFINITY ? '' : max === Number.POSITIVE_INFINITY ? ` >= ${min}` : ` in [${min}, ${max}${maxOpen ? ')' : ']'}`;
  if (text.trim() === '' || !Number.isFinite(v) || (kind === 'int' && !Number.isInteger(v)) || v < min || v > max || (maxOpen && v === max)) {
    const example = kind === 'int' ? String(Math.max(min, 3)) : String(min === 0 && max === 1 ? 0.2 : 1e-6);
    throw emError('INVALID_ARGUMENT', [`--${name}`], text, `must be ${what}${range}`, `pass e.g. --${name} ${example}`);
  }
  return v;
}

/** `--seed`: a safe integer, or any other non-empty text as a string seed; 0 when absent. */
export function seedOf(text: string | undefined): number | string {
  if (text === undefined) return 0;
  const v = Number(text);
  if (text.trim() === '') throw emError('INVALID_ARGUMENT', ['--seed'], text, 'must be an integer or a non-empty string', 'pass e.g. --seed 42');
  return Number.isSafeInteger(v) ? v : text;
}

/**
 * An `onIteration` that prints a progress line on stderr for fits longer than
 * a second: redrawn in place on a terminal, every 5 s otherwise.
 */
export function progressLine(io: CliIo, label: string, valueName: string, format: (x: number) => string): (r: IterationRecord, info: { restart: number; nInit: number; maxIter: number }) => void {
  const started = performance.now();
  let lastPrint = Number.NEGATIVE_INFINITY;
  return (r, info) => {
    const now = performance.now();
    if (now - started < 1000 || now - lastPrint < (io.isTty ? 100 : 5000)) return;
    lastPrint = now;
    const line = `${label}: restart ${info.restart + 1}/${info.nInit}, iteration ${r.iteration}/${info.maxIter}, ${valueName} ${format(r.boundAfterM)}`;
    io.stderr(io.isTty ? `\r${line}\u001b[K` : `${line}\n`);
  };
}

/**
 * The positional arguments a command needs, by name (e.g. `<data.csv>`): each
 * missing one, or any extra one, is an `INVALID_ARGUMENT` naming it, with `example` as the remedy.
 */
export function positionalArgs(positionals: readonly string[], names: readonly string[], example: string): string[] {
  names.forEach((name, i) => {
    if (positionals[i] === undefined) throw emError('INVALID_ARGUMENT', [name], undefined, 'is missing', `pass it: ${example}`);
  });
  if (positionals.length > names.length) {
    throw emError('INVALID_ARGUMENT', ['argv'], positionals.slice(names.length).join(' '), 'unexpected extra arguments', `pass exactly ${names.join(' ')}: ${example}`);
  }
  return positionals.slice(0, names.length);
}

/** Prints collected warnings on stderr, one `emlab: warning:` line each. */
export function printWarnings(io: CliIo, warnings: readonly string[]): void {
  for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
}
