/**
 * Numeric flags with ranges, and seeds.
 * @module
 */
import { NO_VALUE, badFlag } from './cli-error.js';

/**
 * A numeric flag (`undefined` when absent), optionally within [min, max] (or [min, max) with `maxOpen`).
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function flagNumber(name: string, text: string | undefined, kind: 'int' | 'float', min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, maxOpen = false): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  const what = kind === 'int' ? 'an integer' : 'a number';
  const range = min === Number.NEGATIVE_INFINITY && max === Number.POSITIVE_INFINITY ? '' : max === Number.POSITIVE_INFINITY ? ` >= ${min}` : ` in [${min}, ${max}${maxOpen ? ')' : ']'}`;
  if (text.trim() === '' || !Number.isFinite(v) || (kind === 'int' && !Number.isSafeInteger(v)) || v < min || v > max || (maxOpen && v === max)) {
    const example = kind === 'int' ? String(Math.min(Math.max(min, 3), max)) : String(min === 0 && max <= 1 ? 0.2 : 1e-6);
    throw badFlag(`--${name}`, text, `must be ${what}${range}`, `pass e.g. --${name} ${example}`);
  }
  return v;
}

/** A required numeric flag. @throws EmError `INVALID_ARGUMENT` naming the flag. */
export function requiredNumber(name: string, text: string | undefined, kind: 'int' | 'float', min?: number, max?: number, example = '3'): number {
  if (text === undefined) throw badFlag(`--${name}`, NO_VALUE, 'is required', `pass --${name} ${example}`);
  return flagNumber(name, text, kind, min, max) as number;
}

/** `--seed`: a safe integer, or any other non-empty text as a string seed; 0 when absent. */
export function seedOf(text: string | undefined): number | string {
  if (text === undefined) return 0;
  const v = Number(text);
  if (text.trim() === '') throw badFlag('--seed', text, 'must be an integer or a non-empty string', 'pass e.g. --seed 42');
  return Number.isSafeInteger(v) ? v : text;
}
