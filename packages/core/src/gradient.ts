/**
 * A gradient-ascent baseline for EM, and a stationarity check, both through
 * TensorFlow.js autodiff and written once for every model that provides a
 * {@link GradientAdapter}.
 *
 * `fitGradient` maximizes log p(x | θ) directly over unconstrained
 * coordinates ϑ (the adapter maps parameters to ϑ and back: softmax logits for
 * weights, log-diagonal Cholesky factors, ...), from the same start as `fit`
 * (the same `init` stream) and with the same stopping rule, and returns a
 * `FitResult` with the same trace fields, so EM and gradient ascent compare
 * iteration by iteration. `stationarity` is ‖∇ϑ (1/N) log p(x | θ)‖₂: the
 * gradient norm of the mean per-row log-likelihood, near 0 (float32 roundoff)
 * at a stationary point, comparable across data sizes.
 *
 * The optimizers run on the host in float64 over the flat vector ϑ (it is
 * small: parameters, not data); only the objective and its gradient are tensor
 * computations, block by block, with block sums added in float64.
 *
 * @see Nocedal, J. (1980). Updating quasi-Newton matrices with limited storage.
 * @see Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization.
 * @see Hager, W. W. & Zhang, H. (2005). A new conjugate gradient method with guaranteed descent and an efficient line search.
 * @see Xu, L. & Jordan, M. I. (1996). On convergence properties of the EM algorithm for Gaussian mixtures.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import { EmError, emError } from './errors.js';
import { checkOptions, nowMs, resolveInit, yieldToEventLoop, type FitOptions, type IterationInfo, type RestartOutcome } from './fit.js';
import { ensureGradientKernels } from './gradient-kernels.js';
import type { Model, Parametrization, PreparedData } from './model.js';
import { integerOption, rejectUnknownOptions } from './options.js';
import { createEStep } from './registry.js';
import type { ConvergenceReason, FitResult, IterationRecord, RestartSummary } from './result.js';
import { createRng, validateSeed, type Seed } from './rng.js';
import { convergenceScale } from './tolerance.js';
import { VERSION } from './version.js';

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
}

/** Any model (the registry is keyed by `model.name`). @category Gradient ascent */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModel = Model<any, any, any, any>;

/** Makes the adapter for one model instance (its options: K, covariance type, ...). @category Gradient ascent */
export type GradientAdapterFactory = (model: AnyModel) => GradientAdapter<unknown, unknown>;

const adapters = new Map<string, GradientAdapterFactory>();

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

/** The optimizers of {@link fitGradient}. @category Gradient ascent */
export type GradientOptimizer = 'lbfgs' | 'adam';

/** Default Adam step size, in unconstrained units (the GMM adapter's are standardized data units). @category Gradient ascent */
export const DEFAULT_ADAM_LEARNING_RATE = 0.05;

/** Default L-BFGS memory (pairs kept). @category Gradient ascent */
export const DEFAULT_LBFGS_HISTORY = 10;

/**
 * Options of {@link fitGradient}: `fit`'s stopping rule, start and callbacks
 * (same names and defaults), plus the optimizer.
 * @category Gradient ascent
 */
export interface GradientFitOptions<P = unknown> extends Pick<FitOptions<P>, 'maxIter' | 'tol' | 'nInit' | 'init' | 'seed' | 'signal' | 'validate' | 'onWarning'> {
  /** `'lbfgs'` (default: limited-memory BFGS with a backtracking Armijo line search) or `'adam'`. */
  readonly optimizer?: GradientOptimizer;
  /** Adam's step size (default {@link DEFAULT_ADAM_LEARNING_RATE}); with L-BFGS, the first iteration's step length (default 1, capped at 1/‖g‖∞). */
  readonly learningRate?: number;
  /** L-BFGS memory (default {@link DEFAULT_LBFGS_HISTORY}). */
  readonly history?: number;
  /** Called after every iteration with a record like `fit`'s; return `false` or `'stop'` to stop. */
  readonly onIteration?: (record: IterationRecord, info: IterationInfo) => void | boolean | 'stop';
}

/**
 * The stationarity check: the gradient of the mean per-row log-likelihood
 * (1/N) log p(x | θ) with respect to the unconstrained coordinates ϑ.
 * @category Gradient ascent
 */
export interface StationarityReport {
  /** ‖∇ϑ (1/N) log p(x | θ)‖₂, nats per row per unit of ϑ. */
  readonly gradNorm: number;
  /** max_i |∂/∂ϑ_i (1/N) log p(x | θ)|. */
  readonly gradMaxAbs: number;
  /** Length of ϑ. */
  readonly dim: number;
  readonly nRows: number;
  /** What was differentiated: the log-likelihood, or for MAP models (`Model.logPrior`) the log posterior, per row. */
  readonly objective: 'mean-log-likelihood' | 'mean-log-posterior';
  /**
   * How: `autodiff` of the adapter's log-likelihood, or `fisher-identity`:
   * ∇ log p(x | θ) = ∇_θ' E_q[log p(x, z | θ')] at θ' = θ with q the exact posterior at θ,
   * from the model's float64 `expectedLogJoint` by central differences in its `parametrization`.
   */
  readonly method: 'autodiff' | 'fisher-identity';
  /** log p(x | θ) (total, float32 block sums added in float64). */
  readonly logLikelihood: number;
  /** The adapter's parametrization. */
  readonly parametrization: string;
}

/**
 * What {@link fitGradient} returns: a `FitResult` (saves and loads with
 * `saveResult`/`loadResult`) marked `algorithm: 'gradient-ascent'`, with the
 * optimizer settings and the final stationarity check.
 * @category Gradient ascent
 */
export interface GradientFitResult<P = unknown> extends FitResult<P> {
  /** Not EM: the trace's E/M fields are filled as documented in `docs/gradient.md`. */
  readonly algorithm: 'gradient-ascent';
  readonly gradient: {
    readonly optimizer: GradientOptimizer;
    readonly learningRate: number;
    readonly history: number | null;
    readonly parametrization: string;
    readonly dim: number;
    /** Iterations (in the kept restart) whose step lowered log p(x | θ), and the largest drop (nats). */
    readonly nDrops: number;
    readonly maxDrop: number;
    /** Objective and gradient evaluations in the kept restart. */
    readonly nEvaluations: number;
    /** At the final parameters. */
    readonly stationarity: StationarityReport;
  };
}

const OPTION_KEYS = ['maxIter', 'tol', 'nInit', 'init', 'seed', 'signal', 'validate', 'onWarning', 'onIteration', 'optimizer', 'learningRate', 'history'];

interface Settings {
  readonly maxIter: number;
  readonly tol: number;
  readonly nInit: number;
  readonly seed: Seed;
  readonly optimizer: GradientOptimizer;
  readonly learningRate: number;
  readonly history: number;
}

function checkGradientOptions<P>(o: GradientFitOptions<P>): Settings {
  if (typeof o !== 'object' || o === null) throw emError('INVALID_ARGUMENT', ['options'], o, 'must be an object', 'pass e.g. { optimizer: "lbfgs", seed: 0 }');
  rejectUnknownOptions(o as Readonly<Record<string, unknown>>, OPTION_KEYS, 'options');
  checkOptions(o); // the options shared with fit, checked as fit checks them
  const { optimizer, learningRate, history } = gradientMethodOptions(o);
  if (o.validate !== undefined && typeof o.validate !== 'boolean') throw emError('INVALID_ARGUMENT', ['options', 'validate'], o.validate, 'must be a boolean', 'pass validate: true or false');
  return {
    maxIter: o.maxIter ?? 100,
    tol: o.tol ?? 1e-6,
    nInit: o.nInit ?? 1,
    seed: o.seed ?? 0,
    optimizer,
    learningRate,
    history,
  };
}

/**
 * The gradient method's own options (`optimizer`, `learningRate`, `history`), checked and
 * with defaults; errors are anchored at `path` (suites check them before any run with this too).
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @category Gradient ascent
 */
export function gradientMethodOptions(
  o: { readonly optimizer?: unknown; readonly learningRate?: unknown; readonly history?: unknown },
  path: readonly (string | number)[] = ['options'],
): { optimizer: GradientOptimizer; learningRate: number; history: number } {
  const optimizer = o.optimizer ?? 'lbfgs';
  if (optimizer !== 'lbfgs' && optimizer !== 'adam') {
    throw emError('INVALID_ARGUMENT', [...path, 'optimizer'], optimizer, 'is not an optimizer of fitGradient', "pass optimizer: 'lbfgs' or 'adam'");
  }
  const lr = o.learningRate;
  if (lr !== undefined && (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0)) {
    throw emError('INVALID_ARGUMENT', [...path, 'learningRate'], lr, 'must be a finite number > 0', `pass e.g. learningRate: ${DEFAULT_ADAM_LEARNING_RATE}`);
  }
  const history = o.history === undefined ? DEFAULT_LBFGS_HISTORY : integerOption(o.history, [...path, 'history'], 1, 1000);
  return { optimizer, learningRate: (lr as number | undefined) ?? (optimizer === 'adam' ? DEFAULT_ADAM_LEARNING_RATE : 1), history };
}

/**
 * The initial parameters `fit` uses for restart `restart` with `init` and
 * `seed`: `init` itself when it is given parameters, else
 * `model.init(prepared, init, createRng(seed).child('restart', restart).child('init'))`,
 * the stream `fit` draws from. {@link fitGradient} starts from these; a
 * benchmark runner can make them once and pass them as `init` to every method.
 * @throws EmError `INVALID_ARGUMENT` (unknown init method), `INVALID_DATA`
 * @category Gradient ascent
 */
export async function initialParams<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  data: D,
  options: { readonly init?: string | P; readonly seed?: Seed; readonly restart?: number } = {},
): Promise<P> {
  const init = resolveInit(model, options.init);
  const seed = options.seed ?? 0;
  validateSeed(seed);
  const restart = options.restart === undefined ? 0 : integerOption(options.restart, ['options', 'restart'], 0);
  if (typeof init !== 'string') {
    model.validateParams(init, data);
    return init;
  }
  model.validate(data);
  await initBackend();
  const prepared = model.prepare(data);
  try {
    return model.init(prepared, init, createRng(seed).child('restart', restart).child('init'));
  } finally {
    prepared.dispose();
  }
}

/** Value and gradient of the mean per-row log-likelihood at ϑ, block sums in float64. */
interface Evaluation {
  /** (1/N) log p(x | θ(ϑ)). */
  readonly value: number;
  /** ∇ϑ of it. */
  readonly grad: Float64Array;
}

function evaluate<P>(problem: GradientProblem<P>, theta: Float64Array): Evaluation {
  const n = problem.nRows;
  const grad = new Float64Array(problem.dim);
  let value = 0;
  const th = tf.tensor1d(Float32Array.from(theta));
  try {
    for (let b = 0; b < problem.nBlocks; b++) {
      const { value: v, grad: g } = tf.valueAndGrad((t: tf.Tensor) => tf.mul(problem.blockLogLikelihood(b, t as tf.Tensor1D), 1 / n) as tf.Scalar)(th);
      const gv = g.dataSync();
      value += (v.dataSync()[0] as number);
      for (let i = 0; i < gv.length; i++) grad[i] = (grad[i] as number) + (gv[i] as number);
      v.dispose();
      g.dispose();
    }
  } finally {
    th.dispose();
  }
  return { value, grad };
}

function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] as number));
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function report<P>(problem: GradientProblem<P>, e: Evaluation, parametrization: string): StationarityReport {
  return {
    gradNorm: norm2(e.grad),
    gradMaxAbs: maxAbs(e.grad),
    dim: problem.dim,
    nRows: problem.nRows,
    objective: 'mean-log-likelihood',
    method: 'autodiff',
    logLikelihood: e.value * problem.nRows,
    parametrization,
  };
}

/**
 * The stationarity check at `params`: ‖∇ϑ (1/N) log p(x | θ)‖₂ over the
 * adapter's unconstrained coordinates ϑ, by autodiff (float32 per block,
 * float64 across blocks). Near 0 at a stationary point of the likelihood
 * (EM's fixed points are such points); its float32 floor is about 1e-5.
 * @example
 * ```ts
 * const r = await fit(gmm, rows);
 * const { gradNorm } = await stationarity(gmm, rows, r.params);
 * ```
 * @throws EmError `INVALID_ARGUMENT` (no adapter for the model), `INVALID_DATA`, `INVALID_PARAMS`
 * @category Gradient ascent
 */
export async function stationarity<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  data: D,
  params: P,
  options: { readonly method?: 'auto' | 'autodiff' | 'fisher-identity' } = {},
): Promise<StationarityReport> {
  const method = options.method ?? 'auto';
  if (!['auto', 'autodiff', 'fisher-identity'].includes(method)) {
    throw emError('INVALID_ARGUMENT', ['options', 'method'], method, "must be 'auto', 'autodiff' or 'fisher-identity'", "omit it ('auto': autodiff when the model's gradient adapter accepts the data, else Fisher's identity)");
  }
  const fisherOk = model.parametrization !== undefined;
  if (method === 'fisher-identity' && !fisherOk) {
    throw emError('INVALID_ARGUMENT', ['model'], model.name, 'has no parametrization hook, so the Fisher-identity stationarity check cannot run on it', 'give the model a parametrization(prepared) hook, or use the autodiff method');
  }
  // The adapter is looked up first: a model without one gets its typed error before any work.
  const adapter = method === 'autodiff' || (method === 'auto' && (hasGradientAdapter(model) || !fisherOk)) ? gradientAdapterFor<D, P>(model) : undefined;
  model.validate(data);
  model.validateParams(params, data);
  await initBackend();
  if (adapter !== undefined) {
    ensureGradientKernels();
    let problem: GradientProblem<P> | undefined;
    try {
      problem = adapter.prepare(data);
    } catch (e) {
      // Data the adapter cannot differentiate (e.g. missing entries): Fisher's identity, when the model allows it.
      if (!(method === 'auto' && fisherOk && e instanceof EmError && e.code === 'INVALID_DATA')) throw e;
    }
    if (problem !== undefined) {
      try {
        return report(problem, evaluate(problem, problem.toUnconstrained(params)), adapter.parametrization);
      } finally {
        problem.dispose();
      }
    }
  }
  return fisherStationarity(model, data, params);
}

/**
 * The stationarity check through Fisher's identity: with q the exact posterior
 * at θ, ∇ log p(x | θ) = ∇_θ' E_q[log p(x, z | θ')] at θ' = θ (plus ∇ log p(θ)
 * for MAP models, whose `expectedLogJoint` includes the prior). One exact
 * E-step (from the registry) gives the statistics; the gradient of the
 * model's float64 `expectedLogJoint` in its `parametrization` is taken by
 * central differences (step 1e-5·max(1, |ϑ_i|): error ~1e-10 of the value).
 */
function fisherStationarity<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, data: D, params: P): StationarityReport {
  const prepared = model.prepare(data);
  try {
    const coords = (model.parametrization as (prepared: PD) => Parametrization<P>)(prepared);
    const structure = model.structure(prepared, params);
    let stats: S;
    let logLikelihood: number;
    try {
      const e = createEStep(model.structureKind, 'exact').run(structure, { rng: createRng(0).child('stationarity'), iteration: 1 });
      stats = e.stats as S;
      logLikelihood = e.logLikelihood ?? e.bound;
    } finally {
      structure.dispose?.();
    }
    const theta = coords.toVector(params);
    const n = prepared.nRows;
    const q = (v: Float64Array): number => model.expectedLogJoint(stats, coords.fromVector(v));
    const grad = new Float64Array(coords.dim);
    const v = Float64Array.from(theta);
    for (let i = 0; i < coords.dim; i++) {
      const t = theta[i] as number;
      const h = 1e-5 * Math.max(1, Math.abs(t));
      v[i] = t + h;
      const up = q(v);
      v[i] = t - h;
      const down = q(v);
      v[i] = t;
      grad[i] = (up - down) / (2 * h) / n;
    }
    const prior = model.logPrior?.(params) ?? 0;
    return {
      gradNorm: norm2(grad),
      gradMaxAbs: maxAbs(grad),
      dim: coords.dim,
      nRows: n,
      objective: prior === 0 ? 'mean-log-likelihood' : 'mean-log-posterior',
      method: 'fisher-identity',
      logLikelihood,
      parametrization: coords.description,
    };
  } finally {
    prepared.dispose();
  }
}

interface GradientRestartOutcome<P> extends RestartOutcome<P> {
  readonly nDrops: number;
  readonly maxDrop: number;
  readonly nEvaluations: number;
  readonly last: Evaluation;
}

/** One optimizer step from `theta` (with its evaluation): the new point and its evaluation. */
interface Stepper {
  step(theta: Float64Array, at: Evaluation): { theta: Float64Array; at: Evaluation; evaluations: number; stepSize: number; failed: boolean };
}

/** Adam on −(1/N) log p, bias-corrected (Kingma & Ba 2015), β₁ = 0.9, β₂ = 0.999, ε = 1e-8. */
function adam<P>(problem: GradientProblem<P>, lr: number): Stepper {
  const m = new Float64Array(problem.dim);
  const v = new Float64Array(problem.dim);
  const b1 = 0.9;
  const b2 = 0.999;
  let t = 0;
  return {
    step(theta, at) {
      t++;
      const next = new Float64Array(theta.length);
      for (let i = 0; i < theta.length; i++) {
        const g = -(at.grad[i] as number); // minimize the negative
        m[i] = b1 * (m[i] as number) + (1 - b1) * g;
        v[i] = b2 * (v[i] as number) + (1 - b2) * g * g;
        const mh = (m[i] as number) / (1 - b1 ** t);
        const vh = (v[i] as number) / (1 - b2 ** t);
        next[i] = (theta[i] as number) - (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
      return { theta: next, at: evaluate(problem, next), evaluations: 1, stepSize: lr, failed: false };
    },
  };
}

/** Relative noise of the float32 objective the line search tolerates (2⁻²⁰ ≈ 1e-6). */
const VALUE_NOISE = 2 ** -20;

/**
 * L-BFGS on −(1/N) log p (two-loop recursion, Nocedal 1980) with a
 * backtracking Armijo line search (c₁ = 1e-4, halving, at most 40 trials).
 * Near the optimum the float32 objective cannot resolve the decrease, so a
 * step is also accepted when the value rose by at most {@link VALUE_NOISE}
 * relative and the approximate Wolfe conditions of Hager & Zhang (2005) hold
 * for the directional derivative: 0.9 φ'(0) ≤ φ'(α) ≤ −0.8 φ'(0).
 * A failed line search takes no step and clears the memory; a pair with
 * sᵀy ≤ 0 is not stored.
 */
function lbfgs<P>(problem: GradientProblem<P>, history: number, firstStep: number): Stepper {
  const pairs: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  return {
    step(theta, at) {
      const g = at.grad.map((x) => -x); // gradient of the minimized −(1/N) log p
      const q = Float64Array.from(g);
      const alphas: number[] = [];
      for (let i = pairs.length - 1; i >= 0; i--) {
        const p = pairs[i] as (typeof pairs)[number];
        const a = p.rho * dot(p.s, q);
        alphas[i] = a;
        for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) - a * (p.y[j] as number);
      }
      const lastPair = pairs[pairs.length - 1];
      const gamma = lastPair === undefined ? 1 : dot(lastPair.s, lastPair.y) / dot(lastPair.y, lastPair.y);
      for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) * gamma;
      for (let i = 0; i < pairs.length; i++) {
        const p = pairs[i] as (typeof pairs)[number];
        const b = p.rho * dot(p.y, q);
        for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) + (p.s[j] as number) * ((alphas[i] as number) - b);
      }
      let d = q.map((x) => -x);
      let slope = dot(g, d);
      if (!(slope < 0)) {
        pairs.length = 0;
        d = g.map((x) => -x);
        slope = dot(g, d);
      }
      let alpha = pairs.length === 0 ? Math.min(firstStep, 1 / Math.max(maxAbs(g), 1e-12)) : 1;
      const f0 = -at.value;
      let evaluations = 0;
      for (let trial = 0; trial < 40; trial++) {
        const next = theta.map((x, i) => x + alpha * (d[i] as number));
        const e = evaluate(problem, next);
        evaluations++;
        const f1 = -e.value;
        // Armijo, or near the optimum where float32 values cannot show the decrease, the
        // approximate Wolfe conditions of Hager & Zhang (2005) checked on the (accurate) gradient.
        const armijo = f1 <= f0 + 1e-4 * alpha * slope && f1 < f0;
        let approxWolfe = false;
        if (!armijo && f1 <= f0 + VALUE_NOISE * Math.abs(f0)) {
          let slope1 = 0;
          for (let i = 0; i < d.length; i++) slope1 -= (d[i] as number) * (e.grad[i] as number);
          approxWolfe = slope1 >= 0.9 * slope && slope1 <= -0.8 * slope;
        }
        if (Number.isFinite(f1) && (armijo || approxWolfe)) {
          const s = next.map((x, i) => x - (theta[i] as number));
          const y = e.grad.map((x, i) => -x - (g[i] as number));
          const sy = dot(s, y);
          if (sy > 1e-12 * norm2(s) * norm2(y)) {
            pairs.push({ s, y, rho: 1 / sy });
            if (pairs.length > history) pairs.shift();
          }
          return { theta: next, at: e, evaluations, stepSize: alpha, failed: false };
        }
        alpha *= 0.5;
      }
      pairs.length = 0;
      return { theta, at, evaluations, stepSize: 0, failed: true };
    },
  };
}

/**
 * Maximizes the log-likelihood of `model` by gradient ascent over the
 * adapter's unconstrained coordinates (see `docs/gradient.md`).
 *
 * Same start as `fit` (`init` given parameters, or the model's `init` method
 * on the stream `seed/restart/r/init`: `fit` and `fitGradient` with equal
 * `init`, `seed` and `nInit` start every restart from equal parameters), same
 * stopping rule (`|L_t − L_{t−1}| ≤ tol · max(|L_{t−1}|, N)`, `maxIter`), and
 * a trace with `fit`'s fields: record t has `boundAfterE` = `logLikelihood` =
 * log p(x | θ_{t−1}) (before the step), `boundAfterM` = log p(x | θ_t) (after
 * it), both from the model's own `logLikelihood` (float64 sums) when it has
 * one, `gap` = 0, `entropy` = 0, `eStepMs` = objective and gradient
 * evaluations, `mStepMs` = the update and the new log-likelihood. Gradient
 * ascent is not monotone: no monotonicity check runs, `violations` stays
 * empty, and a step that lowers L is recorded as `diagnostics.drop` (nats)
 * and counted in `gradient.nDrops`. Result fields: `eStep.name` `'gradient'`,
 * `boundKind` `'log-likelihood'`, `algorithm` `'gradient-ascent'`.
 *
 * @example
 * ```ts
 * import { fitGradient, stationarity } from '@emlab/core';
 * import { gaussianMixture } from '@emlab/models'; // registers the GMM adapter
 * const r = await fitGradient(gaussianMixture({ nComponents: 3 }), rows, { seed: 0, optimizer: 'lbfgs' });
 * console.log(r.logLikelihood, r.nIter, r.gradient.stationarity.gradNorm);
 * ```
 * @throws EmError `INVALID_ARGUMENT` (options, or no gradient adapter for the model), `INVALID_DATA`, `INVALID_PARAMS`, `ABORTED`
 * @category Gradient ascent
 */
export async function fitGradient<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  data: D,
  options: GradientFitOptions<P> = {},
): Promise<GradientFitResult<P>> {
  const s = checkGradientOptions(options);
  const init = resolveInit(model, options.init);
  const adapter = gradientAdapterFor<D, P>(model);
  const given = typeof init !== 'string';
  const nInit = given ? 1 : s.nInit;
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    if (options.onWarning) options.onWarning(message);
    else process.emitWarning(message, { code: 'EMLAB_WARNING' });
  };
  if (given && s.nInit > 1) warn(`nInit=${s.nInit} ignored: init is given parameters, so every restart would be identical`);
  if (options.validate ?? true) model.validate(data);
  if (given) model.validateParams(init, data);
  if (options.signal?.aborted) throw new EmError('ABORTED', 'fitGradient was aborted before it started', { path: ['options', 'signal'] });

  const backend = await initBackend();
  ensureGradientKernels();
  const rootRng = createRng(s.seed);
  const prepared = model.prepare(data);
  let problem: GradientProblem<P> | undefined;
  const startTensors = tf.memory().numTensors;
  try {
    problem = adapter.prepare(data);
    const p = problem;
    // The model's float64 log-likelihood when it has one, else the adapter's, from the evaluation the step already made.
    const exactLL = (params: P, at: Evaluation): number => (model.logLikelihood ? model.logLikelihood(prepared, params) : at.value * p.nRows);
    let best: (GradientRestartOutcome<P> & { restart: number }) | undefined;
    const restarts: RestartSummary[] = [];
    for (let r = 0; r < nInit; r++) {
      const params0 = given ? (init as P) : model.init(prepared, init as string, rootRng.child('restart', r).child('init'));
      const outcome = await runRestart(p, params0, exactLL, s, r, nInit, options);
      restarts.push({ restart: r, bound: outcome.bound, nIter: outcome.trace.length, converged: outcome.converged });
      if (best === undefined || outcome.bound > best.bound || Number.isNaN(best.bound)) best = { ...outcome, restart: r };
      if (outcome.reason === 'aborted' || outcome.reason === 'callback') break;
    }
    if (best === undefined) throw new EmError('INTERNAL', 'no restart ran');
    if (!best.converged && best.reason === 'max-iter') {
      warn(`${model.name} with gradient ascent (${s.optimizer}) did not converge in maxIter=${s.maxIter} iterations (restart ${best.restart}); increase maxIter, loosen tol (${s.tol}), or check the trace`);
    }
    const stationarityReport = report(p, best.last, adapter.parametrization);
    p.dispose();
    problem = undefined;
    const leaked = tf.memory().numTensors - startTensors;
    if (leaked !== 0) warn(`${leaked} tensors were not freed during gradient ascent (model ${model.name}); please report this`);
    const methodOptions = s.optimizer === 'adam' ? { optimizer: s.optimizer, learningRate: s.learningRate } : { optimizer: s.optimizer, learningRate: s.learningRate, history: s.history };
    return {
      format: 'emlab/fit-result',
      formatVersion: 1,
      model: { name: model.name, options: model.options },
      params: best.params,
      bound: best.bound,
      boundKind: 'log-likelihood',
      // exactLL at the kept parameters: the last bound of the kept restart.
      logLikelihood: best.bound,
      converged: best.converged,
      convergenceReason: best.reason,
      nIter: best.trace.length,
      trace: best.trace,
      restart: best.restart,
      restarts,
      seed: s.seed,
      // Not an E-step: the name says so, and the family is that of the bound it reports (the exact log-likelihood).
      eStep: { name: 'gradient', kind: model.structureKind, family: 'exact', options: methodOptions },
      options: { maxIter: s.maxIter, tol: s.tol, nInit, init: given ? 'given' : (init as string), monotonicity: 'off' },
      nRows: prepared.nRows,
      backend,
      version: VERSION,
      warnings,
      algorithm: 'gradient-ascent',
      gradient: {
        optimizer: s.optimizer,
        learningRate: s.learningRate,
        history: s.optimizer === 'lbfgs' ? s.history : null,
        parametrization: adapter.parametrization,
        dim: p.dim,
        nDrops: best.nDrops,
        maxDrop: best.maxDrop,
        nEvaluations: best.nEvaluations,
        stationarity: stationarityReport,
      },
    };
  } finally {
    problem?.dispose();
    prepared.dispose();
  }
}

async function runRestart<P>(
  problem: GradientProblem<P>,
  params0: P,
  exactLL: (params: P, at: Evaluation) => number,
  s: Settings,
  r: number,
  nInit: number,
  options: GradientFitOptions<P>,
): Promise<GradientRestartOutcome<P>> {
  const n = problem.nRows;
  const stepper = s.optimizer === 'adam' ? adam(problem, s.learningRate) : lbfgs(problem, s.history, s.learningRate);
  let theta = problem.toUnconstrained(params0);
  let params = params0;
  const t0 = nowMs();
  let at = evaluate(problem, theta);
  let evalMs = nowMs() - t0;
  let nEvaluations = 1;
  let L = exactLL(params, at);
  const trace: IterationRecord[] = [];
  let reason: ConvergenceReason = 'max-iter';
  let nDrops = 0;
  let maxDrop = 0;
  for (let t = 1; t <= s.maxIter; t++) {
    if (options.signal?.aborted) {
      if (trace.length === 0 && r === 0) throw new EmError('ABORTED', 'fitGradient was aborted before the first iteration finished', { path: ['options', 'signal'] });
      reason = 'aborted';
      break;
    }
    const gradNorm = norm2(at.grad);
    const t1 = nowMs();
    const step = stepper.step(theta, at);
    const t2 = nowMs();
    nEvaluations += step.evaluations;
    const before = L;
    if (!step.failed) {
      theta = step.theta;
      at = step.at;
      params = problem.fromUnconstrained(theta);
      L = exactLL(params, at);
    }
    const t3 = nowMs();
    const drop = Math.max(0, before - L);
    if (drop > 0) {
      nDrops++;
      maxDrop = Math.max(maxDrop, drop);
    }
    // Objective/gradient time: the evaluation carried from the last step (first iteration) plus this step's.
    const stepEvalMs = evalMs + (t2 - t1);
    evalMs = 0;
    const record: IterationRecord = {
      iteration: t,
      boundAfterE: before,
      boundAfterM: L,
      logLikelihood: before,
      gap: 0,
      entropy: 0,
      boundStdErr: null,
      mStepSlack: 0,
      roundoffScale: 0,
      eStepMs: stepEvalMs,
      mStepMs: t3 - t2,
      diagnostics: { gradNorm, stepSize: step.stepSize, evaluations: step.evaluations, drop, lineSearchFailed: step.failed ? 1 : 0, objective: at.value * n },
      events: [],
      violations: [],
    };
    trace.push(record);
    const verdict = options.onIteration?.(record, { restart: r, nInit, maxIter: s.maxIter });
    if (verdict === false || verdict === 'stop') {
      reason = 'callback';
      break;
    }
    if (s.tol > 0 && trace.length >= 2 && Math.abs(L - before) <= s.tol * convergenceScale(before, n)) {
      reason = 'tol';
      break;
    }
    await yieldToEventLoop();
  }
  return { params, trace, bound: L, converged: reason === 'tol', reason, nDrops, maxDrop, nEvaluations, last: at };
}
