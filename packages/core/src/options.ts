/**
 * Option checking shared by E-step factories and models.
 * @module
 */
import { emError } from './errors.js';

/**
 * Throws `INVALID_ARGUMENT` for a key of `options` not in `known` (catches typos like `ndraws`).
 * @category Errors
 */
export function rejectUnknownOptions(options: Readonly<Record<string, unknown>>, known: readonly string[], owner: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw emError('INVALID_ARGUMENT', [owner, key], options[key], `is not an option of ${owner}`, known.length > 0 ? `use one of: ${known.join(', ')}` : `${owner} takes no options`);
    }
  }
}

/**
 * Checks an integer option: `options[key]` must be an integer in [min, max].
 * @throws EmError `INVALID_ARGUMENT`
 * @category Errors
 */
export function integerOption(value: unknown, path: readonly (string | number)[], min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw emError('INVALID_ARGUMENT', path, value, `must be an integer ${range}`, `pass an integer ${range}`);
  }
  return value;
}

/**
 * Checks a number option: finite and in [min, max].
 * @throws EmError `INVALID_ARGUMENT`
 * @category Errors
 */
export function numberOption(value: unknown, path: readonly (string | number)[], min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw emError('INVALID_ARGUMENT', path, value, `must be a finite number in [${min}, ${max}]`, `pass a number in [${min}, ${max}]`);
  }
  return value;
}
