/**
 * The stationarity check: ‖∇ (1/N) log p(x | θ)‖ by autodiff (the model's
 * gradient adapter) or by Fisher's identity (an exact E-step and the model's
 * float64 `expectedLogJoint` in its parametrization).
 * @module
 */
import { initBackend } from '../backend.js';
import { EmError, emError } from '../errors.js';
import { isMethod } from '../method.js';
import type { Model, Parametrization, PreparedData } from '../model.js';
import { createEStep, findEStep } from '../registry.js';
import { createRng } from '../rng.js';
import { gradientAdapterFor, hasGradientAdapter, type GradientProblem } from './adapters.js';
import { centralGradient } from './central-difference.js';
import { ensureGradientKernels } from './kernels.js';
import { evaluate, maxAbs, norm2, type Evaluation } from './objective.js';

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
   * from the model's float64 `expectedLogJoint` by central differences in its `parametrization`,
   * or `likelihood-differences` when no exact E-step exists for the model's structure kind (a
   * GLMM's continuous random effects): central differences of the model's own `logLikelihood`
   * (quadrature) in its `parametrization`.
   */
  readonly method: 'autodiff' | 'fisher-identity' | 'likelihood-differences';
  /** log p(x | θ) (total, float32 block sums added in float64). */
  readonly logLikelihood: number;
  /** The adapter's parametrization. */
  readonly parametrization: string;
}

export function report<P>(problem: GradientProblem<P>, e: Evaluation, parametrization: string): StationarityReport {
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
  return await fisherStationarity(model, data, params);
}

/**
 * The stationarity check through Fisher's identity: with q the exact posterior
 * at θ, ∇ log p(x | θ) = ∇_θ' E_q[log p(x, z | θ')] at θ' = θ (plus ∇ log p(θ)
 * for MAP models, whose `expectedLogJoint` includes the prior). One exact
 * E-step (from the registry) gives the statistics; the gradient of the
 * model's float64 `expectedLogJoint` in its `parametrization` is taken by
 * central differences (step 1e-5·max(1, |ϑ_i|): error ~1e-10 of the value).
 */
async function fisherStationarity<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, data: D, params: P): Promise<StationarityReport> {
  let hasExact = true;
  try {
    findEStep(model.structureKind, 'exact');
  } catch {
    hasExact = false;
  }
  if (!hasExact && model.logLikelihood !== undefined) return likelihoodStationarity(model, data, params);
  const exact = createEStep(model.structureKind, 'exact');
  if (isMethod(exact)) throw new EmError('INTERNAL', `the method registered as "exact" for ${model.structureKind} is not an E-step`);
  const precision = (model.precisions ?? ['float64']).includes('float64') ? 'float64' : 'float32';
  const prepared = model.prepare(data, { precisions: [precision] });
  try {
    const coords = (model.parametrization as (prepared: PD) => Parametrization<P>)(prepared);
    const structure = model.structure(prepared, params, { precision });
    let stats: S;
    let logLikelihood: number;
    const rng = createRng(0).child('stationarity');
    let state: unknown;
    try {
      if (exact.start !== undefined) state = exact.start({ rng, restart: -1, structure });
      const e = await exact.run(structure, { rng, iteration: 1, passes: 0, state, precision });
      stats = e.stats as S;
      logLikelihood = e.logLikelihood ?? e.bound;
    } finally {
      if (exact.start !== undefined) exact.dispose?.(state);
      structure.dispose?.();
    }
    const theta = coords.toVector(params);
    const n = prepared.totalWeight ?? prepared.nRows;
    const grad = centralGradient((v) => model.expectedLogJoint(stats, coords.fromVector(v)), theta, n);
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


/**
 * The stationarity check where no exact E-step exists but the model computes log p(x | θ) itself
 * (quadrature): central differences of `logLikelihood` (+ `logPrior`) in the model's parametrization,
 * step 1e-5·max(1, |ϑ_i|) (error ≈ the log-likelihood's own rounding / 1e-5).
 */
function likelihoodStationarity<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, data: D, params: P): StationarityReport {
  const precision = (model.precisions ?? ['float64']).includes('float64') ? 'float64' : 'float32';
  const prepared = model.prepare(data, { precisions: [precision] });
  try {
    const coords = (model.parametrization as (prepared: PD) => Parametrization<P>)(prepared);
    const ll = (p: P): number => (model.logLikelihood as (prepared: PD, params: P) => number).call(model, prepared, p);
    const f = (p: P): number => ll(p) + (model.logPrior?.(p) ?? 0);
    const theta = coords.toVector(params);
    const n = prepared.totalWeight ?? prepared.nRows;
    const grad = centralGradient((v) => f(coords.fromVector(v)), theta, n);
    return {
      gradNorm: norm2(grad),
      gradMaxAbs: maxAbs(grad),
      dim: coords.dim,
      nRows: n,
      objective: model.logPrior === undefined ? 'mean-log-likelihood' : 'mean-log-posterior',
      method: 'likelihood-differences',
      logLikelihood: ll(params),
      parametrization: coords.description,
    };
  } finally {
    prepared.dispose();
  }
}
