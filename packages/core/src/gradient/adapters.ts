/**
 * Gradient adapters: how a model exposes its log-likelihood as a
 * differentiable function of unconstrained coordinates (for the gradient
 * baseline and the autodiff stationarity check). Models opt in by
 * registering one (`@emlab/models` does for `'gmm'`); the registry is one per
 * realm, like the method and model registries.
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { emError } from '../errors.js';
import type { Model, PreparedData } from '../model.js';

/**
 * A model's log-likelihood on one data set as a differentiable function of
 * unconstrained coordinates ϑ (what {@link GradientAdapter.prepare} returns).
 * @typeParam P - the model's parameters.
 * @category Gradient ascent
 */
export interface GradientProblem<P> {
  /** Number of rows N. */
  readonly nRows: number;
  /** Length of ϑ. */
  readonly dim: number;
  /** Number of row blocks the objective is split into (bounded memory for any N). */
  readonly nBlocks: number;
  /** ϑ for parameters `params` (float64). Inverse of {@link fromUnconstrained}. @throws EmError `INVALID_PARAMS` */
  toUnconstrained(params: P): Float64Array;
  /** Parameters (plain JSON, original units) for ϑ. */
  fromUnconstrained(theta: ArrayLike<number>): P;
  /**
   * Σ over the rows of block `block` of log p(x_n | θ(ϑ)), every constant
   * included, as a float32 scalar differentiable in `theta` `[dim]` with
   * `tf.grad` (use only kernels with registered gradients: see `gradient-kernels.ts`).
   * Creates tensors: called inside `tf.tidy`/`tf.grad`.
   */
  blockLogLikelihood(block: number, theta: tf.Tensor1D): tf.Scalar;
  /** Frees the uploaded data. */
  dispose(): void;
}

/**
 * What a model provides for gradient ascent and the stationarity check.
 * @typeParam D - the model's data; P - its parameters.
 * @category Gradient ascent
 */
export interface GradientAdapter<D, P> {
  /** One line naming the unconstrained coordinates (recorded in results). */
  readonly parametrization: string;
  /** Validates (rejecting what the objective does not support) and uploads the data. @throws EmError `INVALID_DATA` */
  prepare(data: D): GradientProblem<P>;
  /** Checks, without uploading, that the objective supports the data (e.g. no missing entries). @throws EmError `INVALID_DATA` */
  accepts?(data: D): void;
}

/** Any model (the registry is keyed by `model.name`). @category Gradient ascent */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModel = Model<any, any, any, any>;

/** Makes the adapter for one model instance (its options: K, covariance type, ...). @category Gradient ascent */
export type GradientAdapterFactory = (model: AnyModel) => GradientAdapter<unknown, unknown>;

const KEY = Symbol.for('emlab.gradient-adapters.v2');
const adapters: Map<string, GradientAdapterFactory> = ((globalThis as unknown as Record<symbol, Map<string, GradientAdapterFactory> | undefined>)[KEY] ??= new Map());

/**
 * Registers the gradient adapter of models named `modelName` (model packages
 * do this on import: `@emlab/models` for `'gmm'`). A second registration replaces the first.
 * @throws EmError `INVALID_ARGUMENT`
 * @category Gradient ascent
 */
export function registerGradientAdapter(modelName: string, factory: GradientAdapterFactory): void {
  if (typeof modelName !== 'string' || modelName.length === 0) throw emError('INVALID_ARGUMENT', ['modelName'], modelName, 'must be a non-empty string', "pass the model's name, e.g. 'gmm'");
  if (typeof factory !== 'function') throw emError('INVALID_ARGUMENT', ['factory'], factory, 'must be a function (model) => GradientAdapter', 'pass a factory function');
  adapters.set(modelName, factory);
}

/** Removes a registration; returns whether there was one. @category Gradient ascent */
export function unregisterGradientAdapter(modelName: string): boolean {
  return adapters.delete(modelName);
}

/** Names of models with a registered gradient adapter. @category Gradient ascent */
export function listGradientAdapters(): string[] {
  return [...adapters.keys()].sort();
}

/** Whether `model` has a gradient adapter. @category Gradient ascent */
export function hasGradientAdapter(model: { readonly name: string }): boolean {
  return adapters.has(model.name);
}

/**
 * The gradient adapter for `model`.
 * @throws EmError `INVALID_ARGUMENT` naming the model when none is registered.
 * @category Gradient ascent
 */
export function gradientAdapterFor<D, P>(model: Model<D, P, unknown, PreparedData> | AnyModel): GradientAdapter<D, P> {
  const name = typeof model === 'object' && model !== null ? (model as { name?: unknown }).name : undefined;
  const factory = typeof name === 'string' ? adapters.get(name) : undefined;
  if (factory === undefined) {
    throw emError('INVALID_ARGUMENT', ['model'], name ?? model,
      `has no gradient adapter (registered: ${listGradientAdapters().join(', ') || 'none'}), so gradient ascent and the stationarity check cannot run on it`,
      `import the package that registers one (the Gaussian mixture's is registered by importing '@emlab/models'), or call registerGradientAdapter(${JSON.stringify(String(name))}, factory)`);
  }
  return factory(model as AnyModel) as GradientAdapter<D, P>;
}

