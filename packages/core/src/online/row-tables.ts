/**
 * Row tables as online EM re-batches them: arrays of rows (number[][], or number[] with one value
 * per row), `{ values, rows, cols }` numeric
 * tables (a CSV block), and `{ columns, nRows, values }` discrete tables (Bayesian-network data).
 * Other data are served as they come (one block = one minibatch).
 *
 * @module
 * @internal
 */

type Dense = { readonly values: ArrayLike<number>; readonly rows: number; readonly cols: number; readonly columns?: readonly string[] };
type Discrete = { readonly columns: readonly string[]; readonly nRows: number; readonly values: Int32Array };

function isDense(x: unknown): x is Dense {
  return typeof x === 'object' && x !== null && 'values' in x && typeof (x as Dense).rows === 'number' && typeof (x as Dense).cols === 'number';
}
function isDiscrete(x: unknown): x is Discrete {
  return typeof x === 'object' && x !== null && (x as Discrete).values instanceof Int32Array && typeof (x as Discrete).nRows === 'number' && Array.isArray((x as Discrete).columns);
}
/** An array of rows: number[][] (one row per entry) or number[] (one value per row), not a list of blocks. */
export function isRowArray(x: unknown): x is readonly unknown[] {
  if (!Array.isArray(x)) return false;
  if (x.length === 0 || typeof x[0] === 'number') return true;
  const first: unknown = x[0];
  return Array.isArray(first) && (first.length === 0 || typeof first[0] === 'number');
}

/** Rows of a table, or null when the data are not a table online EM can split. */
export function rowCount(x: unknown): number | null {
  if (isRowArray(x)) return x.length;
  if (isDiscrete(x)) return x.nRows;
  if (isDense(x)) return x.rows;
  return null;
}

/** Rows [from, to) of a table (same shape). */
export function sliceRows<D>(x: D, from: number, to: number): D {
  if (isRowArray(x)) return x.slice(from, to) as unknown as D;
  if (isDiscrete(x)) {
    const c = x.columns.length;
    return { columns: x.columns, nRows: to - from, values: x.values.slice(from * c, to * c) } as unknown as D;
  }
  const d = x as unknown as Dense;
  const values = Float64Array.from({ length: (to - from) * d.cols }, (_, i) => d.values[from * d.cols + i] as number);
  return { values, rows: to - from, cols: d.cols, ...(d.columns === undefined ? {} : { columns: d.columns }) } as unknown as D;
}

/** The rows of a then b (same shape and width). */
export function concatRows<D>(a: D, b: D): D {
  if (isRowArray(a)) return [...a, ...(b as unknown as unknown[])] as unknown as D;
  if (isDiscrete(a)) {
    const bb = b as unknown as Discrete;
    const values = new Int32Array(a.values.length + bb.values.length);
    values.set(a.values);
    values.set(bb.values, a.values.length);
    return { columns: a.columns, nRows: a.nRows + bb.nRows, values } as unknown as D;
  }
  const da = a as unknown as Dense;
  const db = b as unknown as Dense;
  const values = new Float64Array((da.rows + db.rows) * da.cols);
  for (let i = 0; i < da.rows * da.cols; i++) values[i] = da.values[i] as number;
  for (let i = 0; i < db.rows * db.cols; i++) values[da.rows * da.cols + i] = db.values[i] as number;
  return { values, rows: da.rows + db.rows, cols: da.cols, ...(da.columns === undefined ? {} : { columns: da.columns }) } as unknown as D;
}

/**
 * Minibatches of `size` rows from blocks of any size. A full minibatch is held back until the next
 * one is complete, so a short remainder at the end (fewer than size/2 rows) joins the last
 * minibatch instead of standing alone (a minibatch of 3 rows could not be fitted). Blocks that are
 * not tables are served as they are.
 */
export async function* minibatches<D>(blocks: AsyncIterable<D> | Iterable<D>, size: number): AsyncGenerator<D> {
  let pending: D | null = null;
  let held: D | null = null;
  for await (const awaited of blocks) {
    const block = awaited as D;
    const n0 = rowCount(block);
    if (n0 === null) {
      if (held !== null) yield held;
      if (pending !== null) yield pending;
      held = null;
      pending = null;
      yield block;
      continue;
    }
    if (n0 === 0) continue;
    const cur: D = pending === null ? block : concatRows(pending, block);
    pending = null;
    const n = rowCount(cur) as number;
    let from = 0;
    while (n - from >= size) {
      const b = sliceRows(cur, from, from + size);
      from += size;
      if (held !== null) yield held;
      held = b;
    }
    if (from < n) pending = from === 0 ? cur : sliceRows(cur, from, n);
  }
  if (held !== null && pending !== null) {
    if ((rowCount(pending) as number) < size / 2) yield concatRows(held, pending);
    else {
      yield held;
      yield pending;
    }
  } else if (held !== null) yield held;
  else if (pending !== null) yield pending;
}
