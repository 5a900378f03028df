/**
 * A numeric table read in row blocks from somewhere else than memory (a row
 * cache on disk, see `@emlab/core/node`'s `openRowSource`), so a fit can use
 * data larger than memory: a model that accepts a `RowSource` reads blocks of
 * rows as it needs them, pass after pass, and never holds the whole table.
 * Browser-safe: only the interface lives here.
 * @module
 */

/**
 * Rows of numbers (NaN = missing) served in blocks.
 * @category Data
 */
export interface RowSource {
  readonly kind: 'row-source';
  readonly nRows: number;
  readonly nColumns: number;
  /** Column names, in order. */
  readonly columns: readonly string[];
  /**
   * Rows `start … start + rows − 1` as a row-major float64 array `[rows × nColumns]` (written into
   * `out` when given; it must hold `rows × nColumns` values). Synchronous: models read inside their
   * kernels.
   */
  read(start: number, rows: number, out?: Float64Array): Float64Array;
  /**
   * Where another thread or machine can open the same rows (e.g. the cache file), for sharded fits;
   * absent when the rows cannot be reopened elsewhere.
   */
  readonly locator?: string;
  /** Counters of what was read so far (progress lines per pass). */
  readonly stats?: { readonly rowsRead: number; readonly bytesRead: number };
}

/** Whether a value is a {@link RowSource}. @category Data */
export function isRowSource(v: unknown): v is RowSource {
  return typeof v === 'object' && v !== null && (v as RowSource).kind === 'row-source' && typeof (v as RowSource).read === 'function';
}

const OPENER_KEY = Symbol.for('emlab.rowSourceOpener.v1');

/** Registers how a {@link RowSource} is reopened from its `locator` (Node: `@emlab/core/node` registers row caches). @category Data */
export function registerRowSourceOpener(open: (locator: string) => RowSource): void {
  (globalThis as unknown as Record<symbol, unknown>)[OPENER_KEY] = open;
}

/** Reopens a row source from its locator, or undefined when nothing can (no opener registered). @category Data */
export function reopenRowSource(locator: string): RowSource | undefined {
  const open = (globalThis as unknown as Record<symbol, ((l: string) => RowSource) | undefined>)[OPENER_KEY];
  return open?.(locator);
}
