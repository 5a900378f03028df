/**
 * Size limits checked before any work, so an oversized request is a clear
 * error naming the flag instead of an allocation failure (or a wasm crash)
 * after minutes of work.
 * @module
 */
import { badFlag } from './cli-error.js';

/** Cells of float64 output held in memory at once: 2²⁷ (1 GiB). */
export const MAX_OUTPUT_CELLS = 2 ** 27;

/** Characters of one text output built in memory (V8's string limit is about 2²⁹). */
export const MAX_TEXT_CHARS = 2 ** 29 - 64;

/**
 * Checks a size against its limit.
 * @param what - how the size is made up, e.g. `5 draws × 1000 rows × 4 columns`.
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function checkCells(flag: string, value: string, cells: number, what: string, max: number, unit = 'cells'): void {
  if (cells <= max) return;
  throw badFlag(flag, value, `would need ${what} = ${cells.toExponential(2)} ${unit}, beyond the limit of ${max.toExponential(2)}`, 'ask for less (split the work into several runs)');
}
