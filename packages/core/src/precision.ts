/**
 * Arithmetic precision of a fit.
 *
 * `float32`: TensorFlow.js kernels (fast; reported numbers carry float32
 * roundoff, about 1e-7 relative per operation). `float64`: host kernels in
 * JavaScript doubles (every number to about 1e-15 relative; slower on large
 * data). `auto` (the default of `fit`): float64 when the problem is small;
 * otherwise float32 until the change per iteration reaches float32's noise
 * floor, then float64 iterations to the requested tolerance, so the reported
 * numbers are float64-accurate at float32 speed for most of the run.
 *
 * @module
 */
import { emError } from './errors.js';

/** A precision a model or E-step computes in. @category Numerics */
export type Precision = 'float32' | 'float64';

/** The `precision` option of `fit`. @category Numerics */
export type PrecisionOption = Precision | 'auto';

/** The precisions, in speed order. @category Numerics */
export const PRECISIONS: readonly Precision[] = ['float32', 'float64'];

/** Unit roundoff: 2⁻²⁴ for float32, 2⁻⁵³ for float64. @category Numerics */
export function unitRoundoff(precision: Precision): number {
  return precision === 'float32' ? 2 ** -24 : 2 ** -53;
}

/** A host array of either precision. @category Numerics */
export type FloatArray = Float32Array | Float64Array;

/** A new zero-filled array of `precision`. @category Numerics */
export function floatArray(precision: Precision, length: number): FloatArray {
  return precision === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/**
 * Checks a `precision` option.
 * @throws EmError `INVALID_ARGUMENT`
 * @category Numerics
 */
export function checkPrecision(value: unknown, path: readonly (string | number)[] = ['options', 'precision']): PrecisionOption {
  if (value === 'float32' || value === 'float64' || value === 'auto') return value;
  throw emError('INVALID_ARGUMENT', path, value, "must be 'float32', 'float64' or 'auto'", "pass precision: 'auto' (the default), 'float64' for reference accuracy or 'float32' for speed");
}
