/**
 * Validation of a {@link ChainBatch}: shapes (cheap, run by every kernel) and
 * values (`validateChainBatch`, run by callers once per new input).
 *
 * @module
 */
import { emError, type ErrorPath } from '../errors.js';
import type { ChainBatch } from './types.js';

/** Tolerance on |Σ_j exp(logTransition[i, j]) − 1| and |Σ_k exp(logInitial[k]) − 1|. @category Chain */
export const CHAIN_ROW_SUM_TOLERANCE = 1e-9;

/** The sizes of a batch whose shapes were checked. @category Chain */
export interface ChainLayout {
  /** K. */
  readonly nStates: number;
  /** S. */
  readonly nSequences: number;
  /** ΣT. */
  readonly nRows: number;
  /** max_s T_s (0 for an empty batch). */
  readonly maxLength: number;
}

/**
 * Checks the shapes of a batch (O(S), no pass over the data): every kernel runs it first.
 * @throws EmError `INVALID_ARGUMENT` naming the field.
 * @internal
 */
export function checkChainShapes(batch: ChainBatch, path: ErrorPath = ['batch']): ChainLayout {
  if (typeof batch !== 'object' || batch === null) {
    throw emError('INVALID_ARGUMENT', path, batch, 'must be a ChainBatch object', 'pass { nStates, lengths, logEmission, logInitial, logTransition, weights? }');
  }
  const k = batch.nStates;
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1) {
    throw emError('INVALID_ARGUMENT', [...path, 'nStates'], k, 'must be an integer >= 1', 'pass the number of hidden states K');
  }
  const lengths = batch.lengths;
  if (!(lengths instanceof Int32Array)) {
    throw emError('INVALID_ARGUMENT', [...path, 'lengths'], lengths, 'must be an Int32Array', 'pass the sequence lengths as Int32Array.from(...)');
  }
  let nRows = 0;
  let maxLength = 0;
  for (let s = 0; s < lengths.length; s++) {
    const t = lengths[s] as number;
    if (t < 1) {
      throw emError('INVALID_ARGUMENT', [...path, 'lengths', s], t, 'must be >= 1', 'drop empty sequences from the batch');
    }
    nRows += t;
    if (t > maxLength) maxLength = t;
  }
  const floatArray = (name: 'logEmission' | 'logInitial' | 'logTransition', expected: number | null): void => {
    const a = batch[name];
    if (!(a instanceof Float64Array)) {
      throw emError('INVALID_ARGUMENT', [...path, name], a, 'must be a Float64Array', `pass ${name} as a Float64Array`);
    }
    if (expected !== null && a.length !== expected) {
      throw emError('INVALID_ARGUMENT', [...path, name], a, `has length ${a.length}, expected ${expected} for nStates = ${k}`, 'make its shape match nStates');
    }
  };
  floatArray('logEmission', null);
  floatArray('logInitial', k);
  floatArray('logTransition', k * k);
  const emission = batch.logEmission;
  if (emission.length % k !== 0) {
    throw emError('INVALID_ARGUMENT', [...path, 'logEmission'], emission, `has length ${emission.length}, not a multiple of nStates = ${k}`, 'pass a [ΣT, K] row-major array with K = nStates');
  }
  if (emission.length / k !== nRows) {
    throw emError('INVALID_ARGUMENT', [...path, 'lengths'], lengths, `sum to ${nRows} but logEmission has ${emission.length / k} rows`, 'make the lengths add up to the rows of logEmission');
  }
  const w = batch.weights;
  if (w !== undefined) {
    if (!(w instanceof Float64Array)) {
      throw emError('INVALID_ARGUMENT', [...path, 'weights'], w, 'must be a Float64Array or undefined', 'pass one weight per sequence as a Float64Array');
    }
    if (w.length !== lengths.length) {
      throw emError('INVALID_ARGUMENT', [...path, 'weights'], w, `has length ${w.length}, expected one weight per sequence (${lengths.length})`, 'pass one weight per sequence');
    }
  }
  return { nStates: k, nSequences: lengths.length, nRows, maxLength };
}

function checkLogProbabilities(a: Float64Array, path: ErrorPath, rowLength: number, matrix: boolean, what: string): void {
  for (let r = 0; r * rowLength < a.length; r++) {
    let sum = 0;
    for (let j = 0; j < rowLength; j++) {
      const v = a[r * rowLength + j] as number;
      if (Number.isNaN(v) || v === Infinity) {
        const at = matrix ? [...path, r, j] : [...path, j];
        throw emError('INVALID_ARGUMENT', at, v, 'must be a finite log-probability or −∞', `fix the ${what}`);
      }
      sum += Math.exp(v);
    }
    if (!(Math.abs(sum - 1) <= CHAIN_ROW_SUM_TOLERANCE)) {
      const at = matrix ? [...path, r] : path;
      throw emError('INVALID_ARGUMENT', at, sum, `probabilities sum to ${sum}, not 1 within ${CHAIN_ROW_SUM_TOLERANCE}`, `normalize the ${what} (log-sum-exp of the row must be 0)`);
    }
  }
}

/**
 * Checks a batch completely: shapes, no NaN or +∞ anywhere, frequency
 * weights finite and ≥ 0, and `logInitial` and every row of `logTransition`
 * summing to 1 within {@link CHAIN_ROW_SUM_TOLERANCE} in probability.
 *
 * The kernels check only shapes (O(S)); values are checked here so that a
 * caller validates each new input once, and so that tests may run the kernels
 * on unnormalized tables. On unvalidated NaN input the kernels return NaN.
 *
 * @param path Prefix of error paths (default `['batch']`).
 * @returns The layout: K, S, ΣT and the longest length.
 * @throws EmError `INVALID_ARGUMENT` naming the field, e.g. `batch.logEmission[12][3]`, `batch.logTransition[2]`.
 * @category Chain
 */
export function validateChainBatch(batch: ChainBatch, path: ErrorPath = ['batch']): ChainLayout {
  const layout = checkChainShapes(batch, path);
  const k = layout.nStates;
  const e = batch.logEmission;
  for (let i = 0; i < e.length; i++) {
    const v = e[i] as number;
    if (Number.isNaN(v) || v === Infinity) {
      throw emError('INVALID_ARGUMENT', [...path, 'logEmission', Math.floor(i / k), i % k], v, 'must be a finite log-density or −∞', 'fix the emission model (0 for a missing step, −∞ for an impossible one)');
    }
  }
  checkLogProbabilities(batch.logInitial, [...path, 'logInitial'], k, false, 'initial distribution');
  checkLogProbabilities(batch.logTransition, [...path, 'logTransition'], k, true, 'transition matrix rows');
  const w = batch.weights;
  if (w !== undefined) {
    for (let s = 0; s < w.length; s++) {
      const v = w[s] as number;
      if (!(Number.isFinite(v) && v >= 0)) {
        throw emError('INVALID_ARGUMENT', [...path, 'weights', s], v, 'must be a finite number >= 0', 'pass non-negative frequency weights');
      }
    }
  }
  return layout;
}
