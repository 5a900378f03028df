/**
 * HMM data: the accepted forms read into one float64 matrix plus sequence
 * lengths, checked (ragged rows, empty sequences, lengths that do not add
 * up), and cut into blocks of whole sequences.
 * @module
 */
import { emError } from '@emlab/core';
import { readMatrix } from '../gmm/gmm-data.js';
import type { DenseMatrix } from '../gmm/gmm-types.js';
import type { HmmData, ObservationMatrix } from './hmm-types.js';

/** Observations with their sequence layout. @category Hidden Markov models */
export interface SequenceData extends ObservationMatrix {
  /** `[S]` sequence lengths (each ≥ 1, summing to `rows`). */
  readonly lengths: Int32Array;
  /** `[S + 1]` first row of each sequence, and `rows` at the end. */
  readonly offsets: Int32Array;
}

/** A block of whole sequences. @category Hidden Markov models */
export interface SequenceBlock {
  /** First sequence and number of sequences. */
  readonly start: number;
  readonly count: number;
  /** First row and number of rows. */
  readonly rowStart: number;
  readonly rows: number;
}

/** Rows per block of sequences (a longer sequence is a block of its own). @category Hidden Markov models */
export const HMM_BLOCK_ROWS = 65536;

function isDense(x: unknown): x is DenseMatrix {
  return typeof x === 'object' && x !== null && 'values' in x && 'rows' in x && 'cols' in x;
}

/**
 * Reads HMM data (see {@link HmmData}) into a float64 matrix and sequence lengths.
 * @throws EmError `INVALID_DATA` naming the field: not a matrix, ragged rows, ±∞ cells, lengths that are
 *   not positive integers (an empty sequence) or do not sum to the number of rows.
 * @category Hidden Markov models
 */
export function readSequences(data: HmmData, name = 'data'): SequenceData {
  let x: unknown;
  let lengths: ArrayLike<number> | undefined;
  let path: (string | number)[] = [name];
  if (Array.isArray(data)) {
    x = data;
  } else if (typeof data === 'object' && data !== null && 'x' in data) {
    x = (data as { x: unknown }).x;
    lengths = (data as { lengths?: ArrayLike<number> }).lengths;
    path = [name, 'x'];
  } else if (isDense(data)) {
    x = data;
    lengths = (data as { lengths?: ArrayLike<number> }).lengths;
  } else {
    throw emError('INVALID_DATA', [name], data, 'must be { x, lengths? }, a matrix { values, rows, cols, lengths? } or rows number[][]', 'pass the observations in time order with the sequence lengths, e.g. { x: rows, lengths: [100, 80] }');
  }
  const m = readMatrix(x as DenseMatrix, path.join('.'));
  const len = sequenceLengths(lengths, m.rows, name);
  const offsets = new Int32Array(len.length + 1);
  for (let s = 0; s < len.length; s++) offsets[s + 1] = (offsets[s] as number) + (len[s] as number);
  return { ...m, lengths: len, offsets };
}

/**
 * Checks sequence lengths against the number of rows (absent: one sequence of every row).
 * @throws EmError `INVALID_DATA` naming `data.lengths[s]`.
 * @category Hidden Markov models
 */
export function sequenceLengths(lengths: ArrayLike<number> | undefined, rows: number, name = 'data'): Int32Array {
  if (lengths === undefined) return Int32Array.of(rows);
  if (typeof lengths !== 'object' || lengths === null || typeof lengths.length !== 'number') {
    throw emError('INVALID_DATA', [name, 'lengths'], lengths, 'must be an array of sequence lengths', 'pass e.g. lengths: [100, 80, 120] (they sum to the number of rows)');
  }
  if (lengths.length === 0) throw emError('INVALID_DATA', [name, 'lengths'], lengths, 'is empty', 'give at least one sequence length');
  const out = new Int32Array(lengths.length);
  let total = 0;
  for (let s = 0; s < lengths.length; s++) {
    const v = lengths[s];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw emError('INVALID_DATA', [name, 'lengths', s], v, 'must be a positive integer (a sequence length)', 'give every sequence length as a whole number of rows');
    }
    if (v === 0) throw emError('INVALID_DATA', [name, 'lengths', s], v, 'is an empty sequence', 'drop empty sequences: every length must be at least 1');
    out[s] = v;
    total += v;
  }
  if (total !== rows) {
    throw emError('INVALID_DATA', [name, 'lengths'], total, `sum to ${total} but the data has ${rows} rows`, 'make the sequence lengths add up to the number of rows (rows in time order, sequences one after the other)');
  }
  return out;
}

/**
 * Cuts the sequences into blocks of about `blockRows` rows (whole sequences; a longer sequence alone).
 * @category Hidden Markov models
 */
export function sequenceBlocks(lengths: Int32Array, blockRows = HMM_BLOCK_ROWS): SequenceBlock[] {
  const blocks: SequenceBlock[] = [];
  let start = 0;
  let rowStart = 0;
  while (start < lengths.length) {
    let count = 0;
    let rows = 0;
    while (start + count < lengths.length && (count === 0 || rows + (lengths[start + count] as number) <= blockRows)) {
      rows += lengths[start + count] as number;
      count++;
    }
    blocks.push({ start, count, rowStart, rows });
    start += count;
    rowStart += rows;
  }
  return blocks;
}
