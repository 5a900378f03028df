/**
 * Standard errors of a fit: the observed information by Louis' identity (a model hook) or by a
 * numerical Hessian of the log-likelihood, or a parametric bootstrap; covariances in the model's
 * parametrization and, by the delta method, for every number of the parameters.
 *
 * @see Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm.
 * @see Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap (parametric bootstrap, §6.5).
 * @module
 */
import { symmetricEigen } from '../eigen.js';
import { emError, EmError } from '../errors.js';
import { fit, type FitOptions } from '../fit.js';
import { cholesky, invertLower } from '../linalg.js';
import type { Model, Parametrization, PreparedData } from '../model.js';
import { parseOptions, type OptionSchema } from '../option-schema.js';
import { createRng, validateSeed, type Seed } from '../rng.js';
import { covarianceFromInformation } from './covariance-from-information.js';
import { deltaMethod } from './delta-method.js';
import { modelObjective, withAsyncFunction } from './model-objective.js';
import { flattenParams } from './natural-parameters.js';
import { numericalHessian } from './numerical-hessian.js';
import { numericalJacobian } from './numerical-jacobian.js';
import type { NumericalDerivativeOptions } from './richardson.js';

/** How the covariance is estimated. @category Standard errors */
export type StandardErrorMethod = 'louis' | 'hessian' | 'bootstrap';

/** Options of {@link standardErrors}. @category Standard errors */
export interface StandardErrorsOptions<P = unknown> {
  /** Default `'louis'` when the model has a `louis` hook, else `'hessian'`. */
  readonly method?: StandardErrorMethod;
  /** Also compute the information the other way (Louis ↔ numerical Hessian) and report the difference. Default false. */
  readonly check?: boolean;
  /** Row weights `[rows]` (as in `fit`). */
  readonly weights?: ArrayLike<number>;
  /** Steps of the numerical derivatives (Hessian, Jacobians); see `numericalHessian`. */
  readonly derivatives?: NumericalDerivativeOptions;
  /** Bootstrap replicates B. Default 200. */
  readonly replicates?: number;
  /** Bootstrap root seed (replicate b draws from stream `seed/bootstrap/b`). Default 0. */
  readonly seed?: Seed;
  /** Options of the bootstrap refits (warm-started at the fitted parameters); default `{}` (`fit`'s defaults). */
  readonly fitOptions?: Omit<FitOptions<P>, 'init' | 'nInit' | 'weights' | 'onIteration' | 'signal'>;
  /** Called after each bootstrap replicate. */
  readonly onReplicate?: (done: number, total: number) => void;
  /** Validate the data first. Default true. */
  readonly validate?: boolean;
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The option table of {@link standardErrors}. @category Standard errors */
export const STANDARD_ERRORS_OPTIONS = {
  method: { type: 'enum', values: ['louis', 'hessian', 'bootstrap'], description: "louis (model hook), hessian (numerical, needs only the log-likelihood) or bootstrap (parametric; needs Model.simulate); default louis when the model has the hook" },
  check: { type: 'boolean', default: false, description: 'also compute the information the other way and report the relative difference' },
  weights: {
    type: 'custom',
    shape: 'an array of finite numbers >= 0, one per row',
    description: 'row weights, as in fit',
    check: (v, path) => {
      if (typeof v !== 'object' || v === null || typeof (v as ArrayLike<number>).length !== 'number') throw emError('INVALID_ARGUMENT', path, v, 'must be an array of numbers, one per row', 'pass e.g. weights: [1, 2, 1, ...]');
      const w = Float64Array.from(v as ArrayLike<number>);
      w.forEach((x, i) => {
        if (!Number.isFinite(x) || x < 0) throw emError('INVALID_ARGUMENT', [...path, i], x, 'must be a finite number >= 0', 'pass non-negative finite weights');
      });
      return w;
    },
  },
  derivatives: { type: 'custom', shape: 'an options object of numericalHessian', description: 'steps of the numerical derivatives', check: (v, path) => (isObject(v) ? v : fail(path, v, 'must be an options object { relativeStep, typicalSize, richardsonSteps, reduction }')) },
  replicates: { type: 'integer', min: 2, default: 200, description: 'bootstrap replicates' },
  seed: { type: 'custom', shape: 'a safe integer or a non-empty string', description: 'bootstrap root seed (default 0)', check: (v, path) => (validateSeed(v, path), v) },
  fitOptions: { type: 'custom', shape: 'an options object of fit', description: 'options of the bootstrap refits', check: (v, path) => (isObject(v) ? v : fail(path, v, 'must be an options object of fit')) },
  onReplicate: { type: 'custom', shape: 'a function (done, total) => void', description: 'bootstrap progress', check: (v, path) => (typeof v === 'function' ? v : fail(path, v, 'must be a function')) },
  validate: { type: 'boolean', default: true, description: 'validate the data first' },
} as const satisfies OptionSchema;

function fail(path: readonly (string | number)[], v: unknown, problem: string): never {
  throw emError('INVALID_ARGUMENT', path, v, problem, 'see the options of standardErrors');
}

/** Covariance and standard errors of named quantities. @category Standard errors */
export interface NamedCovariance {
  readonly names: readonly string[];
  readonly values: Float64Array;
  /** `[m × m]` row-major. */
  readonly covariance: Float64Array;
  readonly standardErrors: Float64Array;
}

/** What {@link standardErrors} returns. Every matrix is row-major float64. @category Standard errors */
export interface StandardErrorsResult {
  readonly method: StandardErrorMethod;
  /** The model's parametrization (θ = `toVector(params)`). */
  readonly parametrization: string;
  readonly dim: number;
  /** θ̂, `[p]`. */
  readonly theta: Float64Array;
  /** log p(x | θ̂) (+ log p(θ̂) for MAP models): the objective whose curvature gives the information. */
  readonly objective: number;
  /** Observed information −∇²θ objective, `[p × p]` (null for the bootstrap). */
  readonly information: Float64Array | null;
  /** Cov(θ̂), `[p × p]`: the inverse information, or the bootstrap sample covariance. */
  readonly covariance: Float64Array;
  /** √diag Cov(θ̂), `[p]`. */
  readonly standardErrors: Float64Array;
  /** Every number of the parameters (`flattenParams`): covariance by the delta method (bootstrap: sample covariance). */
  readonly natural: NamedCovariance;
  /** ‖∇θ objective‖₂ at θ̂ (Louis: from Fisher's identity; Hessian: numerical); large values mean θ̂ is not a maximum. Null for the bootstrap. */
  readonly scoreNorm: number | null;
  /** Louis' identity in the model's own coordinates φ (`LouisTerms.coordinates`). */
  readonly louis?: {
    readonly coordinates: string;
    /** Complete-data information −E[∇²], `[d × d]`. */
    readonly completeInformation: Float64Array;
    /** Missing information Cov[score], `[d × d]`. */
    readonly missingInformation: Float64Array;
    /**
     * The largest fraction of missing information, λ_max(I_c⁻¹ I_m), for the complete data the hook
     * chose. When those are EM's complete data (mixtures without missing entries, networks), it is
     * EM's asymptotic rate of convergence near θ̂ (Dempster, Laird & Rubin 1977): close to 1 means
     * slow EM (accelerate it). The Gaussian-mixture hook integrates missing entries out, so there it
     * is the part due to the unknown labels only (EM, which also treats the entries as latent, is slower).
     */
    readonly missingFraction: number;
  };
  /** With `check`: the information the other way and the largest relative differences. */
  readonly check?: { readonly method: 'louis' | 'hessian'; readonly information: Float64Array; readonly informationRelativeDifference: number; readonly standardErrorRelativeDifference: number };
  readonly bootstrap?: { readonly replicates: number; readonly seed: Seed; readonly failed: number; readonly notConverged: number };
  readonly warnings: readonly string[];
}

/**
 * Standard errors of fitted parameters.
 *
 * - `louis`: the observed information by Louis' identity, I = −E[∇² log p(x, z)] − Cov[∇ log p(x, z)]
 *   under the exact posterior, from the model's `louis` hook (in its own coordinates φ), mapped to θ by
 *   the Jacobian dφ/dθ (exact at a stationary point).
 * - `hessian`: I = −∇²θ log p(x | θ) by central differences with Richardson extrapolation; needs
 *   only the log-likelihood (the model's hook or the registered exact E-step).
 * - `bootstrap`: B data sets drawn by `model.simulate` at θ̂ (same rows and missing cells), each
 *   refitted from θ̂; the sample covariance of the estimates (seeded, reproducible).
 *
 * For MAP models (`logPrior`) the objective is log p(x | θ) + log p(θ) (its curvature: approximate
 * posterior standard deviations; a `louis` hook includes the prior's derivatives, see `LouisTerms`). Standard errors of every number of the parameters come by the
 * delta method (`natural`). Evaluate at a converged fit: the information in θ and the delta method
 * assume a maximum (see `scoreNorm`).
 *
 * @param model - the fitted model (needs `parametrization`; `louis` or `simulate` for those methods).
 * @param fitted - a `FitResult` or any `{ params }`.
 * @example
 * ```ts
 * const r = await fit(gmm, rows, { accelerate: 'squarem' });
 * const se = await standardErrors(gmm, r, rows);           // Louis' identity
 * se.natural.names.forEach((n, i) => console.log(n, se.natural.values[i], '±', se.natural.standardErrors[i]));
 * const boot = await standardErrors(gmm, r, rows, { method: 'bootstrap', replicates: 100, seed: 1 });
 * ```
 * @throws EmError `INVALID_ARGUMENT` (options, a missing hook), `INVALID_DATA`, `INVALID_PARAMS`,
 *   `NOT_POSITIVE_DEFINITE` (the information is not positive definite: not a maximum, or an
 *   unidentified parameter; the path names it).
 * @category Standard errors
 */
export async function standardErrors<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  fitted: { readonly params: P },
  data: D,
  options: StandardErrorsOptions<P> = {},
): Promise<StandardErrorsResult> {
  const o = parseOptions(STANDARD_ERRORS_OPTIONS, options, { owner: 'standardErrors', pathOf: (k) => ['options', k] });
  if (typeof fitted !== 'object' || fitted === null || !('params' in fitted)) {
    throw emError('INVALID_ARGUMENT', ['fitted'], fitted, 'must be a FitResult or { params }', 'pass the result of fit');
  }
  const params = fitted.params;
  const method = (o['method'] as StandardErrorMethod | undefined) ?? (model.louis !== undefined ? 'louis' : 'hessian');
  if (model.parametrization === undefined) {
    throw emError('INVALID_ARGUMENT', ['model'], model.name, 'has no parametrization (Model.parametrization): standard errors need coordinates', 'give the model a parametrization hook');
  }
  if (method === 'louis' && model.louis === undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'method'], method, `needs Model.louis, which model ${model.name} does not have`, "use method: 'hessian' (needs only the log-likelihood) or 'bootstrap'");
  }
  if (method === 'bootstrap' && model.simulate === undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'method'], method, `needs Model.simulate, which model ${model.name} does not have`, "use method: 'louis' or 'hessian'");
  }
  if (!(model.precisions ?? ['float64']).includes('float64')) {
    throw emError('INVALID_ARGUMENT', ['model'], model.name, 'does not compute in float64: numerical standard errors need float64 log-likelihoods', 'use a model with float64 kernels');
  }
  const weights = o['weights'] as Float64Array | undefined;
  if (weights !== undefined && !model.acceptsWeights) throw emError('INVALID_ARGUMENT', ['options', 'weights'], 'weights', `are not supported by model ${model.name}`, 'drop the weights');
  if (o['validate'] as boolean) model.validate(data);
  model.validateParams(params, data);
  const derivatives = (o['derivatives'] as NumericalDerivativeOptions | undefined) ?? {};
  const warnings: string[] = [];
  const prepared = model.prepare(data, { ...(weights === undefined ? {} : { weights }), precisions: ['float64'] });
  try {
    const par = model.parametrization(prepared);
    const theta = par.toVector(params);
    const objective = modelObjective(model, prepared);
    const f = (v: Float64Array): Promise<number> => objective(par.fromVector(v));
    const value = await objective(params);
    const naturalOf = (p: P): Float64Array => flattenParams(p).values;
    const { names, values } = flattenParams(params);

    const hessianInformation = async (): Promise<{ information: Float64Array; scoreNorm: number }> => {
      const H = await withAsyncFunction((g) => numericalHessian(g, theta, derivatives), f);
      const grad = await withAsyncFunction((g) => numericalJacobian((x) => [g(x)], theta, derivatives), f);
      return { information: H.map((x) => -x), scoreNorm: norm(grad) };
    };
    const louisInformation = (): { information: Float64Array; scoreNorm: number; louis: NonNullable<StandardErrorsResult['louis']> } => {
      const terms = (model.louis as NonNullable<typeof model.louis>)(prepared, params);
      const coords = terms.coordinates;
      const d = coords.dim;
      if (d !== par.dim) throw new EmError('INTERNAL', `model ${model.name}: Louis coordinates have ${d} dimensions but the parametrization has ${par.dim}`);
      const phi = coords.toVector(params);
      const complete = terms.expectedCompleteHessian.map((x) => -x);
      const informationPhi = new Float64Array(d * d);
      for (let i = 0; i < d * d; i++) informationPhi[i] = (complete[i] as number) - (terms.scoreCovariance[i] as number);
      const scorePhi = terms.score;
      // dφ/dθ at θ̂ (θ unconstrained: steps stay in the domain).
      const J = numericalJacobian((v) => coords.toVector(par.fromVector(v)), theta, derivatives);
      const information = congruence(informationPhi, J, d, par.dim);
      const scoreTheta = new Float64Array(par.dim);
      for (let j = 0; j < par.dim; j++) for (let i = 0; i < d; i++) scoreTheta[j] = (scoreTheta[j] as number) + (J[i * par.dim + j] as number) * (scorePhi[i] as number);
      return {
        information,
        scoreNorm: norm(scoreTheta),
        louis: { coordinates: coords.description, completeInformation: complete, missingInformation: terms.scoreCovariance.slice(), missingFraction: missingFraction(complete, terms.scoreCovariance, d) },
      };
    };

    if (method === 'bootstrap') {
      const boot = await bootstrap(model, params, data, par, o, weights, warnings);
      return {
        method,
        parametrization: par.description,
        dim: par.dim,
        theta,
        objective: value,
        information: null,
        covariance: boot.covTheta,
        standardErrors: diagSqrt(boot.covTheta, par.dim),
        natural: { names, values, covariance: boot.covNatural, standardErrors: diagSqrt(boot.covNatural, names.length) },
        scoreNorm: null,
        bootstrap: { replicates: o['replicates'] as number, seed: (o['seed'] as Seed | undefined) ?? 0, failed: boot.failed, notConverged: boot.notConverged },
        warnings,
      };
    }
    const main: { information: Float64Array; scoreNorm: number; louis?: NonNullable<StandardErrorsResult['louis']> } = method === 'louis' ? louisInformation() : await hessianInformation();
    const { covariance, standardErrors: se } = covarianceFromInformation(main.information);
    const J = numericalJacobian((v) => naturalOf(par.fromVector(v)), theta, derivatives);
    const natural = deltaMethod(covariance, J);
    let check: StandardErrorsResult['check'];
    if (o['check'] as boolean) {
      const other = method === 'louis' ? await hessianInformation() : model.louis !== undefined ? louisInformation() : undefined;
      if (other === undefined) {
        warnings.push(`check skipped: model ${model.name} has no louis hook to compare the numerical Hessian with`);
      } else {
        const otherSe = covarianceFromInformation(other.information).standardErrors;
        check = {
          method: method === 'louis' ? 'hessian' : 'louis',
          information: other.information,
          informationRelativeDifference: maxAbsDiff(main.information, other.information) / Math.max(maxAbs(other.information), Number.MIN_VALUE),
          standardErrorRelativeDifference: Math.max(...Array.from(se, (s, i) => Math.abs(s - (otherSe[i] as number)) / Math.max(otherSe[i] as number, Number.MIN_VALUE))),
        };
      }
    }
    if (main.scoreNorm > 1e-3 * Math.sqrt(prepared.totalWeight ?? prepared.nRows)) {
      warnings.push(`the gradient at the given parameters is ${main.scoreNorm.toExponential(2)} (not a maximum?): converge the fit further before trusting these standard errors`);
    }
    return {
      method,
      parametrization: par.description,
      dim: par.dim,
      theta,
      objective: value,
      information: main.information,
      covariance,
      standardErrors: se,
      natural: { names, values, covariance: natural.covariance, standardErrors: natural.standardErrors },
      scoreNorm: main.scoreNorm,
      ...(main.louis === undefined ? {} : { louis: main.louis }),
      ...(check === undefined ? {} : { check }),
      warnings,
    };
  } finally {
    prepared.dispose();
  }
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((a, x) => a + x * x, 0));
const maxAbs = (a: Float64Array): number => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxAbsDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);
const diagSqrt = (c: Float64Array, n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sqrt(Math.max(0, c[i * n + i] as number)));

/** Jᵀ A J for A `[d × d]` and J `[d × p]`, exactly symmetric. */
function congruence(A: Float64Array, J: Float64Array, d: number, p: number): Float64Array {
  const AJ = new Float64Array(d * p);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const a = A[i * d + k] as number;
    if (a === 0) continue;
    for (let j = 0; j < p; j++) AJ[i * p + j] = (AJ[i * p + j] as number) + a * (J[k * p + j] as number);
  }
  const out = new Float64Array(p * p);
  for (let r = 0; r < p; r++) for (let c = 0; c <= r; c++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += (J[i * p + r] as number) * (AJ[i * p + c] as number);
    out[r * p + c] = s;
    out[c * p + r] = s;
  }
  return out;
}

/** λ_max(I_c⁻¹ I_m) by the symmetric form L⁻¹ I_m L⁻ᵀ (I_c = L Lᵀ); NaN when I_c is not positive definite. */
function missingFraction(complete: Float64Array, missing: Float64Array, d: number): number {
  const L = cholesky(complete, d);
  if (L === null) return Number.NaN;
  const Li = invertLower(L, d);
  const T = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k <= i; k++) s += (Li[i * d + k] as number) * (missing[k * d + j] as number);
    T[i * d + j] = s;
  }
  const M = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let k = 0; k <= j; k++) s += (T[i * d + k] as number) * (Li[j * d + k] as number);
    M[i * d + j] = s;
    M[j * d + i] = s;
  }
  return symmetricEigen(M, d).values[0] as number;
}

/** Sample covariance `[m × m]` of rows `[B][m]` (divisor B − 1). */
function sampleCovariance(rows: readonly Float64Array[], m: number): Float64Array {
  const b = rows.length;
  const mean = new Float64Array(m);
  for (const r of rows) for (let i = 0; i < m; i++) mean[i] = (mean[i] as number) + (r[i] as number) / b;
  const cov = new Float64Array(m * m);
  for (const r of rows) for (let i = 0; i < m; i++) {
    const di = (r[i] as number) - (mean[i] as number);
    for (let j = 0; j <= i; j++) cov[i * m + j] = (cov[i * m + j] as number) + (di * ((r[j] as number) - (mean[j] as number))) / (b - 1);
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) cov[j * m + i] = cov[i * m + j] as number;
  return cov;
}

async function bootstrap<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  params: P,
  data: D,
  par: Parametrization<P>,
  o: Record<string, unknown>,
  weights: Float64Array | undefined,
  warnings: string[],
): Promise<{ covTheta: Float64Array; covNatural: Float64Array; failed: number; notConverged: number }> {
  const replicates = o['replicates'] as number;
  const seed = (o['seed'] as Seed | undefined) ?? 0;
  const fitOptions = (o['fitOptions'] as FitOptions<P> | undefined) ?? {};
  const onReplicate = o['onReplicate'] as ((done: number, total: number) => void) | undefined;
  const root = createRng(seed).child('bootstrap');
  const thetas: Float64Array[] = [];
  const naturals: Float64Array[] = [];
  let failed = 0;
  let notConverged = 0;
  const m = flattenParams(params).values.length;
  for (let b = 0; b < replicates; b++) {
    const rng = root.child(b);
    const sample = (model.simulate as NonNullable<typeof model.simulate>)(params, data, rng.child('simulate')) as D;
    try {
      const r = await fit(model, sample, { onWarning: () => {}, ...fitOptions, init: params, seed: `${String(seed)}/bootstrap/${b}`, ...(weights === undefined ? {} : { weights }) });
      if (!r.converged) notConverged++;
      thetas.push(par.toVector(r.params));
      const nat = flattenParams(r.params).values;
      if (nat.length !== m) throw new EmError('INTERNAL', 'bootstrap estimate has a different number of parameters');
      naturals.push(nat);
    } catch (e) {
      if (!(e instanceof EmError) || e.code === 'INTERNAL' || e.code === 'INVALID_ARGUMENT') throw e;
      failed++;
    }
    onReplicate?.(b + 1, replicates);
  }
  if (thetas.length < 2) {
    throw emError('INVALID_ARGUMENT', ['options', 'replicates'], replicates, `left ${thetas.length} successful refits (${failed} failed): too few for a covariance`, 'use more replicates, or method: louis / hessian');
  }
  if (failed > 0) warnings.push(`${failed} of ${replicates} bootstrap refits failed and were left out`);
  if (notConverged > 0) warnings.push(`${notConverged} of ${replicates} bootstrap refits did not converge (kept)`);
  return { covTheta: sampleCovariance(thetas, par.dim), covNatural: sampleCovariance(naturals, m), failed, notConverged };
}
