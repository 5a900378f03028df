/**
 * Richardson extrapolation of central-difference estimates, and the step sizes they start from.
 *
 * @module
 * @internal
 */
import { emError } from '../errors.js';

/** Options shared by {@link numericalHessian} and {@link numericalJacobian}. @category Standard errors */
export interface NumericalDerivativeOptions {
  /** Initial step relative to the coordinate's size: h_i = relativeStep · max(|x_i|, typicalSize) (default 1e-2). */
  readonly relativeStep?: number;
  /**
   * Size below which steps stop shrinking with |x_i| (default 1), for all
   * coordinates or one per coordinate. Pass the coordinates' typical sizes when
   * they differ widely: a coordinate far smaller than the others gets tiny steps
   * otherwise, and the rounding error of f (relative to |f|) divided by h² swamps
   * its second derivatives.
   */
  readonly typicalSize?: number | Float64Array;
  /** Number of step sizes h, h/v, h/v², … combined by Richardson extrapolation (default 4). */
  readonly richardsonSteps?: number;
  /** Step reduction factor v between successive estimates (default 2). */
  readonly reduction?: number;
}

/** Resolved {@link NumericalDerivativeOptions}. */
export interface ResolvedDerivativeOptions {
  readonly relativeStep: number;
  readonly typicalSize: number | Float64Array;
  readonly richardsonSteps: number;
  readonly reduction: number;
}

function positive(value: unknown, name: string, fallback: number, remedy: string, integer = false, min = 0): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > min) || (integer && !Number.isInteger(v))) {
    throw emError('INVALID_ARGUMENT', ['options', name], v, `must be ${integer ? 'an integer' : 'a finite number'} > ${min}`, remedy);
  }
  return v;
}

/** Validates derivative options and fills in defaults. */
export function resolveDerivativeOptions(options: NumericalDerivativeOptions): ResolvedDerivativeOptions {
  return {
    relativeStep: positive(options.relativeStep, 'relativeStep', 1e-2, 'pass e.g. 1e-2 (default)'),
    typicalSize:
      options.typicalSize instanceof Float64Array
        ? checkSizes(options.typicalSize)
        : positive(options.typicalSize, 'typicalSize', 1, 'pass the size of a typical coordinate (default 1), or one per coordinate'),
    richardsonSteps: positive(options.richardsonSteps, 'richardsonSteps', 4, 'pass an integer >= 1 (default 4)', true, 0),
    reduction: positive(options.reduction, 'reduction', 2, 'pass a factor > 1 (default 2)', false, 1),
  };
}

function checkSizes(sizes: Float64Array): Float64Array {
  if (sizes.length === 0 || sizes.some((v) => !Number.isFinite(v) || !(v > 0))) {
    throw emError('INVALID_ARGUMENT', ['options', 'typicalSize'], sizes, 'must hold finite numbers > 0', 'pass one positive typical size per coordinate');
  }
  return sizes;
}

/** Checks that x is a non-empty finite Float64Array. */
export function checkPoint(x: unknown): asserts x is Float64Array {
  let ok = x instanceof Float64Array && x.length > 0;
  if (ok) for (const v of x as Float64Array) if (!Number.isFinite(v)) ok = false;
  if (!ok) throw emError('INVALID_ARGUMENT', ['x'], x, 'must be a non-empty Float64Array of finite numbers', 'pass the point at which to differentiate');
}

/** Initial steps h_i = relativeStep · max(|x_i|, typicalSize_i). */
export function initialSteps(x: Float64Array, o: ResolvedDerivativeOptions): Float64Array {
  const t = o.typicalSize;
  if (t instanceof Float64Array && t.length !== x.length) {
    throw emError('INVALID_ARGUMENT', ['options', 'typicalSize'], t, `must have one entry per coordinate (${x.length})`, 'pass a number or a Float64Array as long as x');
  }
  return Float64Array.from(x, (xi, i) => o.relativeStep * Math.max(Math.abs(xi), t instanceof Float64Array ? t[i]! : t));
}

/**
 * Richardson extrapolation of estimates D(h), D(h/v), … whose error is a series in h², h⁴, …
 * (central differences); `estimates[k]` is a vector of estimates at step h/vᵏ. Returns the extrapolated vector.
 */
export function richardson(estimates: Float64Array[], v: number): Float64Array {
  let table: Float64Array[] = estimates.map((e) => Float64Array.from(e));
  for (let m = 1; table.length > 1; m++) {
    const f = v ** (2 * m);
    const next: Float64Array[] = [];
    for (let k = 0; k + 1 < table.length; k++) {
      const a = table[k]!;
      const b = table[k + 1]!;
      next.push(Float64Array.from(a, (ak, i) => (f * b[i]! - ak) / (f - 1)));
    }
    table = next;
  }
  return table[0]!;
}

/** Calls f and throws when the value is not finite (a step left f's domain). */
export function finiteValue(value: number, where: string): number {
  if (!Number.isFinite(value)) {
    throw emError(
      'INVALID_ARGUMENT',
      ['f'],
      value,
      `is not finite at ${where}`,
      'reduce options.relativeStep (or typicalSize) so that every step stays inside the function\'s domain',
    );
  }
  return value;
}
