/**
 * Checks on fits shared by `checkModel` and `checkEStep`: the trace's
 * monotonicity re-checked from its records, bounds against independently
 * evaluated log-likelihoods, typed errors, and method resolution.
 * @module
 */
import {
  EmError,
  createEStep,
  findEStep,
  isMethod,
  listESteps,
  logLikelihoodOf,
  MONOTONICITY_FACTOR,
  monotonicityTolerance,
  unitRoundoff,
  resolveMethod,
  type EStep,
  type FitResult,
  type IterationRecord,
  type Method,
  type MethodFamily,
  type Model,
  type Precision,
} from '@emlab/core';

/** Options every kit fit passes: warnings are collected, never printed. */
export const QUIET = { onWarning: (): void => undefined } as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModel = Model<any, any, any, any>;

/** A method under test: what to pass to `fit`, and what it is. */
export interface MethodUnderTest {
  /** For names in property labels. */
  readonly label: string;
  readonly family: MethodFamily;
  readonly precisions: readonly Precision[];
  /** A fresh E-step or method object (E-steps are wrapped by the lifecycle checks). */
  create(): EStep | Method;
}

/**
 * Resolves methods for a model: names through the registry (for the model's structure kind), objects as they are.
 * @throws EmError `UNKNOWN_ESTEP` (a name nothing registers), `INVALID_ARGUMENT` (a method for another kind).
 */
export function resolveMethods(model: AnyModel, methods: readonly (string | EStep | Method)[] | undefined): MethodUnderTest[] {
  const kind = model.structureKind;
  const list = methods ?? listESteps(kind).filter((e) => {
    if (e.kind !== '*') return true;
    // Methods for every kind (the gradient baseline) apply when they accept the model.
    try {
      const m = e.create({});
      if (isMethod(m)) m.check?.(model, undefined);
      return true;
    } catch {
      return false;
    }
  }).map((e) => e.method);
  return list.map((m) => {
    const probe = resolveMethod(kind, m);
    return {
      label: probe.name,
      family: probe.family,
      precisions: probe.precisions,
      create: () => (typeof m === 'string' ? createEStep(kind, m) : m),
    };
  });
}

/** The registered exact E-step for a structure kind, if any (a fresh object). */
export function registeredExact(kind: string): EStep | undefined {
  try {
    const e = findEStep(kind, 'exact');
    if (e.family !== 'exact') return undefined;
    const made = e.create({});
    return isMethod(made) ? undefined : made;
  } catch {
    return undefined;
  }
}

/**
 * Counts Monte Carlo estimates against their standard errors. One estimate beyond 4 SE is no
 * evidence of a bug (a skewed estimator — rare draws of an improbable component — exceeds 4 SE with
 * probability up to 1/16 by Chebyshev's inequality, even when its SE is exact), so the kit requires
 * at most a quarter of all checks of a property beyond 4 SE: a biased estimate or an understated
 * standard error fails nearly all of them.
 */
export class StdErrTally {
  /** @param k - standard errors allowed per check (default 4). */
  constructor(readonly k = 4) {}
  checks = 0;
  beyond = 0;
  worst = '';
  private worstZ = 0;
  /** Records |estimate − truth| against k·SE + tol. */
  add(estimate: number, truth: number, se: number, tol: number, where: string): void {
    this.checks++;
    const z = (estimate - truth) / Math.max(se, Number.MIN_VALUE);
    if (!(Math.abs(estimate - truth) <= this.k * se + tol)) {
      this.beyond++;
      if (!(Math.abs(z) <= this.worstZ)) {
        this.worstZ = Math.abs(z);
        this.worst = `${where}: estimate ${estimate}, truth ${truth}, SE ${se} (${z.toFixed(1)} SE)`;
      }
    }
  }
  /** Throws when more than a quarter of the checks were beyond k SE. */
  verify(what: string): void {
    if (this.beyond > Math.floor(this.checks / 4)) fail(`${what}: ${this.beyond} of ${this.checks} Monte Carlo estimates are more than ${this.k} standard errors from the truth (at most a quarter may be); worst: ${this.worst}`);
  }
}

/**
 * Calibration of a Monte Carlo E-step's standard error: per case, R runs with different seeds at
 * one θ. Their mean must be within 4 SE/√R of the truth (counted as in {@link StdErrTally}), and
 * over all cases the estimates' sample variance must be within a factor 5 of the reported SE²
 * (the check that catches a wrong standard error; single estimates of skewed estimators do not).
 */
export class McCalibration {
  readonly tally = new StdErrTally(4);
  private sampleVariance = 0;
  private reportedVariance = 0;
  cases = 0;
  add(estimates: readonly number[], stdErrs: readonly number[], truth: number, tol: number, where: string): void {
    const r = estimates.length;
    const mean = estimates.reduce((a, b) => a + b, 0) / r;
    const v = estimates.reduce((a, b) => a + (b - mean) ** 2, 0) / (r - 1);
    const se2 = stdErrs.reduce((a, b) => a + b * b, 0) / r;
    this.sampleVariance += v;
    this.reportedVariance += se2;
    this.cases++;
    this.tally.add(mean, truth, Math.sqrt(se2 / r), tol, `${where} (mean of ${r} seeds)`);
  }
  verify(what: string): void {
    this.tally.verify(what);
    const ratio = this.sampleVariance / this.reportedVariance;
    if (this.sampleVariance === 0 && this.reportedVariance === 0) return;
    if (!(ratio >= 1 / 5 && ratio <= 5)) fail(`${what}: over ${this.cases} cases the estimates vary across seeds with ${ratio.toPrecision(3)} times the variance their standard errors report (must be within a factor 5): the standard error is wrong`);
  }
}

/** Throws a readable error. */
export function fail(message: string): never {
  throw new Error(message);
}

/**
 * Tolerance for comparing two evaluations of one quantity by different formulas (the bound from
 * statistics against a direct log-likelihood): `monotonicityTolerance` without its cap on the
 * model's conditioning S, since here no check is switched off by a large S — the two formulas
 * really differ by roundoff of that magnitude (a nearly collapsed component).
 */
export function comparisonTolerance(a: number, b: number, totalWeight: number, roundoffScale: number, precision: Precision): number {
  return MONOTONICITY_FACTOR * unitRoundoff(precision) * Math.max(Math.abs(a), Math.abs(b), totalWeight, roundoffScale);
}

const reinitialized = (r: IterationRecord): boolean => r.events.some((e) => e.type === 'reinitialized');

/**
 * Re-checks both half-steps of every record of an exact or restricted fit against
 * `monotonicityTolerance` at the record's precision (plus the M-step's `boundSlack`), skipping
 * half-steps the record marks exempt or that follow a reinitialization.
 */
export function checkTraceMonotone(result: FitResult, what: string): void {
  const w = result.totalWeight;
  let prev: IterationRecord | undefined;
  for (const r of result.trace) {
    if (r.violations.length > 0) fail(`${what}: iteration ${r.iteration} records monotonicity violations ${JSON.stringify(r.violations)}`);
    if (!Number.isFinite(r.boundAfterE) || !Number.isFinite(r.boundAfterM)) fail(`${what}: iteration ${r.iteration} has a non-finite bound (${r.boundAfterE}, ${r.boundAfterM})`);
    if (!reinitialized(r)) {
      const tol = monotonicityTolerance(r.boundAfterE, r.boundAfterM, w, r.roundoffScale, r.precision) + r.mStepSlack;
      if (r.boundAfterM < r.boundAfterE - tol) fail(`${what}: the M-step of iteration ${r.iteration} lowered the bound from ${r.boundAfterE} to ${r.boundAfterM} (tolerance ${tol.toExponential(2)}, ${r.precision})`);
    }
    if (prev !== undefined && !reinitialized(prev) && r.exempt === undefined) {
      const tol = monotonicityTolerance(prev.boundAfterM, r.boundAfterE, w, Math.max(prev.roundoffScale, r.roundoffScale), r.precision);
      if (r.boundAfterE < prev.boundAfterM - tol) fail(`${what}: the E-step of iteration ${r.iteration} lowered the bound from ${prev.boundAfterM} to ${r.boundAfterE} (tolerance ${tol.toExponential(2)}, ${r.precision})`);
    }
    prev = r;
  }
}

/**
 * Checks every record's bounds against log p(x | θ) evaluated independently (`logLikelihoodOf`,
 * plus `logPrior` for MAP models) at the parameters before and after it: exact E-steps
 * L(q_t, θ_t) = log p(x | θ_t), restricted ones ≤, Monte Carlo estimates within 4 standard errors,
 * (counted in `tally`), the gradient baseline's bound = log p(x | θ_{t+1}); L(q_t, θ_{t+1}) ≤ log p(x | θ_{t+1}) for exact
 * and restricted E-steps; the E-step's own log-likelihood and the result's `logLikelihood` agree.
 * The fit must have been run from given parameters `params0` with `recordParams: true`.
 */
export async function checkBoundsAgainstLikelihood<D, P>(model: Model<D, P, unknown>, data: D, weights: readonly number[] | undefined, params0: P, result: FitResult<P>, what: string, tally: StdErrTally): Promise<void> {
  const family = result.method.family;
  const w = result.totalWeight;
  const opts = weights === undefined ? {} : { weights };
  const cache = new Map<unknown, number>();
  // log p(x | θ), plus log p(θ) for MAP models (what L(q, θ) is bounded by), except for the gradient baseline (plain likelihood).
  const ll = async (p: P): Promise<number> => {
    const hit = cache.get(p);
    if (hit !== undefined) return hit;
    const v = await logLikelihoodOf(model, data, p, opts);
    if (v === null) fail(`${what}: log p(x | θ) is not available: give the model a logLikelihood hook or register an exact E-step for structure kind "${model.structureKind}"`);
    const total = v + (family === 'gradient' ? 0 : (model.logPrior?.(p) ?? 0));
    cache.set(p, total);
    return total;
  };
  let before = params0;
  for (const r of result.trace) {
    if (r.params === undefined) fail(`${what}: the trace has no params (internal: fit without recordParams)`);
    const after = r.params as P;
    const llBefore = await ll(before);
    const tolE = comparisonTolerance(r.boundAfterE, llBefore, w, r.roundoffScale, r.precision);
    const at = `${what}, iteration ${r.iteration} (${r.precision})`;
    if (family === 'exact' && !(Math.abs(r.boundAfterE - llBefore) <= tolE)) fail(`${at}: exact E-step bound ${r.boundAfterE} differs from log p(x | θ) = ${llBefore} by more than ${tolE.toExponential(2)}`);
    if (family === 'restricted' && !(r.boundAfterE <= llBefore + tolE)) fail(`${at}: restricted E-step bound ${r.boundAfterE} exceeds log p(x | θ) = ${llBefore} by more than ${tolE.toExponential(2)}`);
    if (family === 'monte-carlo') {
      const se = r.boundStdErr;
      if (se === null || !(se >= 0)) fail(`${at}: a Monte Carlo bound needs a standard error, got ${se}`);
      tally.add(r.boundAfterE, llBefore, se, tolE, at);
    }
    if (family === 'exact' || family === 'restricted') {
      const llAfter = await ll(after);
      const tolM = comparisonTolerance(r.boundAfterM, llAfter, w, r.roundoffScale, r.precision) + r.mStepSlack;
      if (!(r.boundAfterM <= llAfter + tolM)) fail(`${at}: L(q_t, θ_t+1) = ${r.boundAfterM} exceeds log p(x | θ_t+1) = ${llAfter} by more than ${tolM.toExponential(2)}`);
      if (r.gap !== null && !(r.gap >= -tolE)) fail(`${at}: negative gap ${r.gap}`);
    }
    if (family === 'gradient') {
      const llAfter = await ll(after);
      const tolM = comparisonTolerance(r.boundAfterM, llAfter, w, r.roundoffScale, r.precision);
      if (!(Math.abs(r.boundAfterM - llAfter) <= tolM)) fail(`${at}: the gradient method's bound ${r.boundAfterM} differs from log p(x | θ) = ${llAfter} by more than ${tolM.toExponential(2)}`);
    }
    if (r.logLikelihood !== null && family !== 'gradient') {
      const own = r.logLikelihood + (model.logPrior?.(before) ?? 0);
      if (!(Math.abs(own - llBefore) <= tolE)) fail(`${at}: the E-step's own log-likelihood ${r.logLikelihood} differs from log p(x | θ) = ${llBefore}`);
    }
    before = after;
  }
  if (result.logLikelihood === null) fail(`${what}: result.logLikelihood is null (the model has no logLikelihood hook and no exact E-step is registered for "${model.structureKind}")`);
  const llFinal = await logLikelihoodOf(model, data, result.params, opts);
  const last = result.trace[result.trace.length - 1];
  const tol = comparisonTolerance(result.logLikelihood, llFinal ?? Number.NaN, w, last?.roundoffScale ?? 0, last?.precision ?? 'float64');
  if (!(Math.abs(result.logLikelihood - (llFinal as number)) <= tol)) fail(`${what}: result.logLikelihood ${result.logLikelihood} differs from log p(x | θ_final) = ${llFinal}`);
}

/**
 * Runs `f`, which must throw (or reject with) an `EmError` whose code is one of `codes`.
 * @returns the error.
 */
export async function expectEmError(f: () => unknown, codes: readonly string[], what: string): Promise<EmError> {
  let thrown: unknown;
  try {
    await f();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) fail(`${what}: expected an EmError (${codes.join(' or ')}), nothing was thrown`);
  if (!(thrown instanceof EmError)) fail(`${what}: expected an EmError (${codes.join(' or ')}), got ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`);
  if (!codes.includes(thrown.code)) fail(`${what}: expected code ${codes.join(' or ')}, got ${thrown.code}: ${thrown.message}`);
  return thrown;
}
