/**
 * The gradient-ascent baseline (`fitGradient`) and the stationarity check
 * (`stationarity`) of @emlab/core, looked up at run time so a build without
 * them (or a model without a gradient adapter) degrades to a clear error
 * (gradient method) or a null metric (stationarity).
 * @module
 */
import * as core from '@emlab/core';

type AnyFn = (...args: unknown[]) => unknown;
const lookup = (name: string): AnyFn | undefined => {
  const v = (core as Record<string, unknown>)[name];
  return typeof v === 'function' ? (v as AnyFn) : undefined;
};

/** Whether gradient ascent and the stationarity check can run on `model`. @internal */
export function hasGradient(model: { readonly name: string }): boolean {
  const has = lookup('hasGradientAdapter');
  return lookup('fitGradient') !== undefined && lookup('stationarity') !== undefined && has !== undefined && has(model) === true;
}

/** `fitGradient(model, data, options)`, or undefined. @internal */
export function gradientFit(): AnyFn | undefined {
  return lookup('fitGradient');
}

/** Options of the `gradient` method in suites (checked before any run). @internal */
export const GRADIENT_OPTIONS = ['optimizer', 'learningRate', 'history'] as const;

/**
 * ‖∇_ϑ (1/N) log p(x | θ)‖₂ at `params` (core's `stationarity(...).gradNorm`),
 * or null when the model has neither a gradient adapter nor a parametrization hook.
 * @internal
 */
export async function stationarityNorm(model: { readonly name: string; readonly parametrization?: unknown }, data: unknown, params: unknown): Promise<number | null> {
  const fn = lookup('stationarity');
  // autodiff through a gradient adapter, or Fisher's identity through the model's parametrization hook
  if (fn === undefined || (!hasGradient(model) && typeof model.parametrization !== 'function')) return null;
  const out = (await fn(model, data, params)) as { gradNorm?: unknown } | null;
  return out !== null && typeof out === 'object' && typeof out.gradNorm === 'number' ? out.gradNorm : null;
}
