/**
 * Row subsets of the data shapes emlab's built-in models accept, for the
 * conformance kit's additivity, row-order and weight properties: arrays of
 * rows (`number[][]`), dense row-major matrices (`{ values, rows, cols }`),
 * and discrete tables (`{ columns, nRows, values: Int32Array }`, Bayesian
 * networks). A model with another data shape passes `selectRows` to
 * `checkModel`.
 * @module
 */
import { emError } from '@emlab/core';

/** Takes rows of a data set, in the given order and with repeats (a new data set of the same shape). @category Conformance */
export type RowSelector<D> = (data: D, rows: readonly number[]) => D;

interface Dense {
  readonly values: ArrayLike<number>;
  readonly rows: number;
  readonly cols: number;
}
interface Discrete {
  readonly columns: readonly string[];
  readonly nRows: number;
  readonly values: Int32Array;
}

const isRows = (d: unknown): d is readonly (readonly unknown[])[] => Array.isArray(d) && d.every((r) => Array.isArray(r));
const isDense = (d: unknown): d is Dense =>
  typeof d === 'object' && d !== null && typeof (d as Dense).rows === 'number' && typeof (d as Dense).cols === 'number' && typeof (d as Dense).values === 'object';
const isDiscrete = (d: unknown): d is Discrete =>
  typeof d === 'object' && d !== null && Array.isArray((d as Discrete).columns) && typeof (d as Discrete).nRows === 'number' && (d as Discrete).values instanceof Int32Array;

/**
 * The number of rows of a data set of a known shape, or undefined.
 * @category Conformance
 */
export function countRows(data: unknown): number | undefined {
  if (isRows(data)) return data.length;
  if (isDiscrete(data)) return data.nRows;
  if (isDense(data)) return data.rows;
  return undefined;
}

/**
 * Rows `rows` of `data` (arrays of rows, dense matrices, discrete tables), as a new data set of the same shape.
 * @example
 * ```ts
 * selectRows([[1, 2], [3, 4], [5, 6]], [2, 0, 0]); // [[5, 6], [1, 2], [1, 2]]
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a data shape it does not know (pass `selectRows` to `checkModel`).
 * @category Conformance
 */
export function selectRows<D>(data: D, rows: readonly number[]): D {
  if (isRows(data)) return rows.map((r) => (data[r] as readonly unknown[]).slice()) as unknown as D;
  if (isDiscrete(data)) {
    const c = data.columns.length;
    const values = new Int32Array(rows.length * c);
    rows.forEach((r, i) => values.set(data.values.subarray(r * c, (r + 1) * c), i * c));
    return { ...data, columns: data.columns.slice(), nRows: rows.length, values } as unknown as D;
  }
  if (isDense(data)) {
    const c = data.cols;
    const values = new Float64Array(rows.length * c);
    rows.forEach((r, i) => {
      for (let j = 0; j < c; j++) values[i * c + j] = data.values[r * c + j] as number;
    });
    return { ...data, rows: rows.length, values } as unknown as D;
  }
  throw emError('INVALID_ARGUMENT', ['data'], data, 'is not number[][], { values, rows, cols } or { columns, nRows, values: Int32Array }: selectRows cannot take its rows', 'pass a selectRows option to checkModel for this data shape');
}

/** A malformed input the kit feeds `fit`, and the error code it must raise. @category Conformance */
export interface BadInput<T> {
  /** What is wrong, e.g. `'a ragged row'`. */
  readonly label: string;
  readonly value: T;
  /** The `EmError` code `fit` must throw. Default `INVALID_DATA` for data, `INVALID_PARAMS` for parameters. */
  readonly code?: string;
}

/**
 * Malformed versions of a data set of a known shape: no rows, a ragged or widened row, ±Infinity,
 * a string in a cell, a wrong length, an unknown column or an out-of-range state. Each must make
 * `fit` throw `INVALID_DATA`. Models whose data may legitimately contain such values pass their own
 * `badData` to `checkModel`.
 * @category Conformance
 */
export function defaultBadData<D>(data: D): BadInput<D>[] {
  const out: BadInput<unknown>[] = [{ label: 'a string instead of data', value: 'data.csv' }, { label: 'null data', value: null }];
  if (isRows(data)) {
    const rows = data.map((r) => r.slice());
    const first = rows[0] as unknown[];
    out.push(
      { label: 'no rows', value: [] },
      { label: 'a row with one extra entry', value: [[...first, 0], ...rows.slice(1)] },
      { label: 'Infinity in a cell', value: [[Number.POSITIVE_INFINITY, ...first.slice(1)], ...rows.slice(1)] },
      { label: '-Infinity in a cell', value: [...rows.slice(0, -1), [...(rows[rows.length - 1] as unknown[]).slice(0, -1), Number.NEGATIVE_INFINITY]] },
      { label: 'a string in a cell', value: [['1.5', ...first.slice(1)], ...rows.slice(1)] },
    );
    if (first.length > 1) out.push({ label: 'a row with one entry missing', value: [first.slice(0, -1), ...rows.slice(1)] });
  } else if (isDiscrete(data)) {
    const c = data.columns.length;
    const bump = Int32Array.from(data.values);
    bump[0] = 1_000;
    const below = Int32Array.from(data.values);
    below[below.length - 1] = -2;
    out.push(
      { label: 'a state index out of range', value: { ...data, values: bump } },
      { label: 'a state index below -1', value: { ...data, values: below } },
      { label: 'values shorter than nRows × columns', value: { ...data, values: data.values.slice(0, data.values.length - 1) } },
      { label: 'an unknown column', value: { ...data, columns: [...data.columns.slice(0, -1), '__no_such_node__'] } },
      { label: 'a repeated column', value: c > 1 ? { ...data, columns: [...data.columns.slice(0, -1), data.columns[0] as string] } : { ...data, nRows: -1 } },
    );
  } else if (isDense(data)) {
    const inf = Float64Array.from(data.values as ArrayLike<number>);
    inf[0] = Number.POSITIVE_INFINITY;
    out.push(
      { label: 'Infinity in a cell', value: { ...data, values: inf } },
      { label: 'values shorter than rows × cols', value: { ...data, values: Float64Array.from(data.values as ArrayLike<number>).subarray(0, data.rows * data.cols - 1) } },
    );
  }
  return out as BadInput<D>[];
}
