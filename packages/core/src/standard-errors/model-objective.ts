/**
 * A model's log-likelihood (plus log prior) at parameters, in float64, on prepared data: the
 * model's own `logLikelihood` hook, else one call of the exact E-step registered for its structure
 * kind. And derivatives of such asynchronous objectives with the synchronous numerical-derivative
 * routines: the points are collected first, evaluated, then looked up.
 *
 * @module
 * @internal
 */
import { emError, EmError } from '../errors.js';
import type { EStep } from '../estep.js';
import { isMethod } from '../method.js';
import type { Model, PreparedData } from '../model.js';
import { findEStep } from '../registry.js';
import { createRng } from '../rng.js';

/** θ-params ↦ log p(x | θ) (+ log p(θ)) on prepared data, float64. */
export interface ModelObjective<P> {
  /** log p(x | params) + log p(params) (the objective EM ascends). */
  (params: P): Promise<number>;
}

/**
 * The objective of a model on prepared data.
 * @throws EmError `INVALID_ARGUMENT` when the model has no `logLikelihood` hook and no exact E-step is registered for its kind.
 */
export function modelObjective<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, prepared: PD): ModelObjective<P> {
  const prior = (p: P): number => model.logPrior?.(p) ?? 0;
  if (model.logLikelihood !== undefined) {
    const ll = model.logLikelihood.bind(model);
    return async (p) => ll(prepared, p) + prior(p);
  }
  let eStep: EStep;
  try {
    const made = findEStep(model.structureKind, 'exact').create({});
    if (isMethod(made) || made.family !== 'exact') throw new EmError('INTERNAL', 'not an exact E-step');
    eStep = made;
  } catch {
    throw emError('INVALID_ARGUMENT', ['model'], model.name, `has no logLikelihood hook and no exact E-step is registered for structure kind "${model.structureKind}"`, 'import the package that registers it (e.g. @emlab/exact), or give the model a logLikelihood hook');
  }
  const rng = createRng(0).child('standard-errors');
  let calls = 0;
  return async (p) => {
    const structure = model.structure(prepared, p, { precision: 'float64' });
    let state: unknown;
    try {
      if (eStep.start !== undefined) state = eStep.start({ rng: rng.child('start', calls), restart: -1, structure });
      const e = await eStep.run(structure, { rng: rng.child('run', calls++), iteration: 1, passes: 0, state, precision: 'float64' });
      if (e.logLikelihood === undefined) throw new EmError('INTERNAL', `the exact E-step for "${model.structureKind}" did not report a log-likelihood`);
      return e.logLikelihood + prior(p);
    } finally {
      if (eStep.start !== undefined) eStep.dispose?.(state);
      structure.dispose?.();
    }
  };
}

/**
 * Runs a synchronous derivative routine (`numericalHessian`, `numericalJacobian`) on an
 * asynchronous scalar function: a first pass records the points the routine asks for (answering
 * 0), they are evaluated in order, and a second pass answers from the table. The routines query
 * deterministic points, so both passes ask for the same ones.
 */
export async function withAsyncFunction<T>(routine: (f: (x: Float64Array) => number) => T, f: (x: Float64Array) => Promise<number>): Promise<T> {
  const key = (x: Float64Array): string => Array.from(x, (v) => v.toString()).join(',');
  const points = new Map<string, Float64Array>();
  routine((x) => {
    points.set(key(x), Float64Array.from(x));
    return 0;
  });
  const values = new Map<string, number>();
  for (const [k, x] of points) values.set(k, await f(x));
  return routine((x) => {
    const v = values.get(key(x));
    if (v === undefined) throw new EmError('INTERNAL', 'a derivative routine asked for a point it had not asked for before');
    return v;
  });
}
