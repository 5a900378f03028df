/**
 * Looking up the E-step another method runs inside itself (the incremental
 * E-step's per-block E-step, variational Bayes's E-step on q(z)) in core's
 * registry, so this package never imports `@emlab/exact`.
 * @internal
 * @module
 */
import { emError, findEStep, isMethod, type EStep, type ErrorPath } from '@emlab/core';

/**
 * The registered E-step `name` for structure kind `kind`, built with no options; it must be an
 * E-step (not another method) of family `exact` or `restricted` (their bounds are exact for their q).
 * @throws EmError `UNKNOWN_ESTEP` (with a remedy naming the package to import), `INVALID_ARGUMENT`.
 */
export function innerEStep(kind: string, name: string, path: ErrorPath, owner: string, exclude: readonly string[] = []): EStep {
  if (exclude.includes(name)) {
    throw emError('INVALID_ARGUMENT', path, name, `cannot run inside ${owner}`, `pick another E-step (e.g. 'exact')`);
  }
  const entry = findEStep(kind, name, path);
  if (entry.family !== 'exact' && entry.family !== 'restricted') {
    throw emError('INVALID_ARGUMENT', path, name, `is a ${entry.family} method; ${owner} needs an E-step whose bound is exact for its q (family exact or restricted)`, "use 'exact' (import @emlab/exact) or a restricted E-step");
  }
  const made = entry.create({});
  if (isMethod(made)) {
    throw emError('INVALID_ARGUMENT', path, name, `is a method, not an E-step; ${owner} runs an E-step inside itself`, "use 'exact' (import @emlab/exact) or a restricted E-step");
  }
  return made;
}
