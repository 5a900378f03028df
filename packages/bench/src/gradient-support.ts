/**
 * The gradient-ascent baseline and the stationarity check, from @emlab/core
 * when that build has them (`fitGradient`, `stationarity`).
 * @module
 */
import * as core from '@emlab/core';

type AnyFn = (...args: unknown[]) => unknown;
const lookup = (name: string): AnyFn | undefined => {
  const v = (core as Record<string, unknown>)[name];
  return typeof v === 'function' ? (v as AnyFn) : undefined;
};

/** The gradient baseline `fitGradient(model, data, options)`, or undefined. @internal */
export function gradientFit(): AnyFn | undefined {
  return lookup('fitGradient');
}

/** The stationarity norm ‖∇ log p(x | θ)‖ at `params`, or null when unavailable or not defined for the model. @internal */
export function stationarityNorm(model: unknown, data: unknown, params: unknown): number | null {
  const fn = lookup('stationarity');
  if (fn === undefined) return null;
  const out = fn(model, data, params) as unknown;
  if (typeof out === 'number') return out;
  if (out !== null && typeof out === 'object' && typeof (out as { norm?: unknown }).norm === 'number') return (out as { norm: number }).norm;
  return null;
}
