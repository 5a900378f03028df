/**
 * The gradient-ascent baseline as a registered method (`'gradient'`, family
 * `gradient`, any structure kind whose model has a gradient adapter): `fit`,
 * `emlab fit --estep gradient`, `compare` and suites run it like an E-step,
 * with `fit`'s options, restarts, stopping rules, callbacks, step API and
 * result.
 *
 * Record t of the trace: `boundAfterE` = `logLikelihood` = log p(x | θ_{t−1})
 * (before the step), `boundAfterM` = log p(x | θ_t) (after it), both from the
 * model's own `logLikelihood` when it has one, else from the objective;
 * `gap` = 0, `entropy` = 0, `eStepMs` = objective and gradient evaluations,
 * `mStepMs` = the update and the new log-likelihood; precision `float32` (the
 * autodiff objective's arithmetic). Gradient ascent is not monotone: a step
 * that lowers L is recorded as `diagnostics.drop` and counted in the report,
 * never as a violation.
 *
 * @see Xu, L. & Jordan, M. I. (1996). On convergence properties of the EM algorithm for Gaussian mixtures.
 * @module
 */
import { emError } from '../errors.js';
import { fit, type FitOptions } from '../fit.js';
import type { FitContext, Method, MethodSession, RestartContext, RestartRun } from '../method.js';
import type { Model, PreparedData } from '../model.js';
import { parseOptions, type OptionSchema } from '../option-schema.js';
import { nowMs } from '../platform.js';
import { registerEStep } from '../registry.js';
import type { FitResult, IterationRecord } from '../result.js';
import { gradientAdapterFor, type GradientProblem } from './adapters.js';
import { ensureGradientKernels } from './kernels.js';
import { evaluate, norm2, type Evaluation } from './objective.js';
import { adam, lbfgs } from './optimizers.js';
import { report, type StationarityReport } from './stationarity.js';

/** The optimizers of the gradient baseline. @category Gradient ascent */
export type GradientOptimizer = 'lbfgs' | 'adam';

/** Default Adam step size, in unconstrained units (the GMM adapter's are standardized data units). @category Gradient ascent */
export const DEFAULT_ADAM_LEARNING_RATE = 0.05;

/** Default L-BFGS memory (pairs kept). @category Gradient ascent */
export const DEFAULT_LBFGS_HISTORY = 10;

/** Options of the gradient method (its registry schema). @category Gradient ascent */
export const GRADIENT_OPTIONS = {
  optimizer: { type: 'enum', values: ['lbfgs', 'adam'], default: 'lbfgs', description: 'limited-memory BFGS with a backtracking Armijo line search, or Adam' },
  learningRate: { type: 'number', min: 0, exclusiveMin: true, description: `Adam's step size (default ${DEFAULT_ADAM_LEARNING_RATE}); with L-BFGS the first step length (default 1, capped at 1/‖g‖∞)` },
  history: { type: 'integer', min: 1, max: 1000, default: DEFAULT_LBFGS_HISTORY, description: 'L-BFGS memory (pairs kept)' },
} as const satisfies OptionSchema;

/** The gradient method's options. @category Gradient ascent */
export interface GradientMethodOptions {
  readonly optimizer?: GradientOptimizer;
  readonly learningRate?: number;
  readonly history?: number;
}

/** What the gradient method reports in `FitResult.report`. @category Gradient ascent */
export type GradientReport = {
  readonly algorithm: 'gradient-ascent';
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

/** A `FitResult` of the gradient method. @category Gradient ascent */
export type GradientFitResult<P = unknown> = FitResult<P> & { readonly report: GradientReport };

/**
 * The gradient method's own options, checked and with defaults; errors are anchored at `path`.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @category Gradient ascent
 */
export function gradientMethodOptions(o: unknown, path: readonly (string | number)[] = ['gradient']): { optimizer: GradientOptimizer; learningRate: number; history: number } {
  const p = parseOptions(GRADIENT_OPTIONS, o, { owner: 'gradient', pathOf: (k) => [...path, k] });
  const optimizer = p['optimizer'] as GradientOptimizer;
  return { optimizer, learningRate: (p['learningRate'] as number | undefined) ?? (optimizer === 'adam' ? DEFAULT_ADAM_LEARNING_RATE : 1), history: p['history'] as number };
}

/**
 * Gradient ascent on log p(x | θ) as a method for `fit` (see the module documentation).
 * @example
 * ```ts
 * const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { eStep: gradientMethod({ optimizer: 'adam' }) });
 * // or by name: fit(gmm, rows, { eStep: 'gradient', eStepOptions: { optimizer: 'adam' } })
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option.
 * @category Gradient ascent
 */
export function gradientMethod(options: GradientMethodOptions = {}): Method {
  const s = gradientMethodOptions(options);
  const methodOptions = s.optimizer === 'adam' ? { optimizer: s.optimizer, learningRate: s.learningRate } : { optimizer: s.optimizer, learningRate: s.learningRate, history: s.history };
  return {
    name: 'gradient',
    kind: '*',
    family: 'gradient',
    options: methodOptions,
    precisions: ['float32', 'float64'],
    check(model, data) {
      const adapter = gradientAdapterFor(model);
      if (data !== undefined) adapter.accepts?.(data);
    },
    open<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>): MethodSession<P> {
      ensureGradientKernels();
      const adapter = gradientAdapterFor<D, P>(fc.model);
      const problem = adapter.prepare(fc.data);
      const outcomes = new Map<number, { nDrops: number; maxDrop: number; nEvaluations: number; last: Evaluation }>();
      return {
        begin: (rc: RestartContext<P>) => gradientRestart(problem, fc, rc, s, (o) => outcomes.set(rc.restart, o)),
        summary(kept): GradientReport {
          const o = outcomes.get(kept.restart);
          const last = o?.last ?? evaluate(problem, problem.toUnconstrained(kept.params));
          return {
            algorithm: 'gradient-ascent',
            optimizer: s.optimizer,
            learningRate: s.learningRate,
            history: s.optimizer === 'lbfgs' ? s.history : null,
            parametrization: adapter.parametrization,
            dim: problem.dim,
            nDrops: o?.nDrops ?? 0,
            maxDrop: o?.maxDrop ?? 0,
            nEvaluations: o?.nEvaluations ?? 0,
            stationarity: report(problem, last, adapter.parametrization),
          };
        },
        dispose() {
          problem.dispose();
        },
      };
    },
  };
}

function gradientRestart<D, P, S, PD extends PreparedData>(
  problem: GradientProblem<P>,
  fc: FitContext<D, P, S, PD>,
  rc: RestartContext<P>,
  s: { optimizer: GradientOptimizer; learningRate: number; history: number },
  done: (o: { nDrops: number; maxDrop: number; nEvaluations: number; last: Evaluation }) => void,
): RestartRun<P> {
  const n = problem.nRows;
  const model: Model<D, P, S, PD> = fc.model;
  // The model's own log-likelihood when it has one, else the objective's value at the evaluation already made.
  const exactLL = (params: P, at: Evaluation): number => (model.logLikelihood ? model.logLikelihood(fc.prepared, params) : at.value * n);
  const stepper = s.optimizer === 'adam' ? adam(problem, s.learningRate) : lbfgs(problem, s.history, s.learningRate);
  let theta = problem.toUnconstrained(rc.params);
  let params = rc.params;
  let at: Evaluation | undefined;
  let L = Number.NaN;
  let evalMs = 0;
  let nEvaluations = 0;
  let nDrops = 0;
  let maxDrop = 0;
  let t = 0;
  return {
    async step() {
      if (at === undefined) {
        const t0 = nowMs();
        at = evaluate(problem, theta);
        evalMs = nowMs() - t0;
        nEvaluations = 1;
        L = exactLL(params, at);
      }
      t++;
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
        // The bound is the model's own log-likelihood when it has one (its arithmetic), else the float32 objective.
        precision: model.logLikelihood === undefined ? 'float32' : (model.precisions ?? ['float64']).includes('float64') ? 'float64' : 'float32',
        passes: t,
        eStepMs: evalMs + (t2 - t1),
        mStepMs: t3 - t2,
        diagnostics: { gradNorm, stepSize: step.stepSize, evaluations: step.evaluations, drop, lineSearchFailed: step.failed ? 1 : 0, objective: at.value * n },
        events: [],
        violations: [],
      };
      evalMs = 0;
      done({ nDrops, maxDrop, nEvaluations, last: at });
      return { record, params };
    },
    dispose() {
      // Tensors live in the per-fit problem (freed by the session); nothing per restart.
    },
  };
}

/**
 * Gradient ascent with `fit`'s options: `fit(model, data, { ...options, eStep: gradientMethod(options) })`.
 * @example
 * ```ts
 * import { fitGradient } from '@emlab/core';
 * import { gaussianMixture } from '@emlab/models'; // registers the GMM adapter
 * const r = await fitGradient(gaussianMixture({ nComponents: 3 }), rows, { seed: 0, optimizer: 'lbfgs' });
 * console.log(r.logLikelihood, r.nIter, r.report.stationarity.gradNorm);
 * ```
 * @throws EmError `INVALID_ARGUMENT` (options, or no gradient adapter for the model), `INVALID_DATA`, `INVALID_PARAMS`, `ABORTED`
 * @category Gradient ascent
 */
export async function fitGradient<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  data: D,
  options: Omit<FitOptions<P>, 'eStep' | 'eStepOptions'> & GradientMethodOptions = {},
): Promise<GradientFitResult<P>> {
  for (const key of ['eStep', 'eStepOptions'] as const) {
    if (key in (options as Record<string, unknown>)) {
      throw emError('INVALID_ARGUMENT', ['options', key], (options as Record<string, unknown>)[key], 'is not an option of fitGradient (the method is gradient ascent)', 'drop it, or call fit with that E-step instead');
    }
  }
  const { optimizer, learningRate, history, ...rest } = options;
  const m = gradientMethod({ ...(optimizer === undefined ? {} : { optimizer }), ...(learningRate === undefined ? {} : { learningRate }), ...(history === undefined ? {} : { history }) });
  return (await fit(model, data, { ...rest, eStep: m })) as GradientFitResult<P>;
}

registerEStep({
  kind: '*',
  method: 'gradient',
  family: 'gradient',
  description: 'gradient ascent on log p(x | θ) (L-BFGS or Adam through autodiff): the non-EM baseline; needs a model with a gradient adapter',
  options: GRADIENT_OPTIONS,
  create: (options) => gradientMethod((options ?? {}) as GradientMethodOptions),
});
