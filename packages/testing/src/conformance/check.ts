/**
 * The conformance kit's entry points: `checkModel` and `checkEStep` register
 * the suites as vitest blocks (one `describe` per call, one `it` per property
 * variant), and `runConformance` runs property lists outside a test runner
 * (plain scripts, the examples).
 * @module
 */
import type fc from 'fast-check';
import { describe, it } from 'vitest';
import type { EStep, Method, Model } from '@emlab/core';
import { eStepProperties, type CheckEStepOptions, type StructureCase } from './estep-properties.js';
import { modelProperties, type CheckModelOptions } from './model-properties.js';
import type { ConformanceOutcome, ConformanceProperty } from './types.js';

/**
 * Registers the model conformance suite in the calling vitest file: a `describe` block with one
 * `it` per property and method/precision. The properties, each over fast-check cases drawn from
 * `data` (fixed fast-check seed, `numRuns` cases):
 *
 * - `monotone`: exact and restricted methods, every precision: `fit` with `monotonicity: 'throw'`
 *   from the start `params` gives, at both half-steps of every iteration, no drop beyond
 *   `monotonicityTolerance` at the record's precision (+ the M-step's `boundSlack`).
 * - `bound-vs-log-likelihood`: every method, from the same start, weighted on half the cases:
 *   L(q_t, θ_t) = log p(x | θ_t) (exact), ≤ (restricted), within 4 SE (Monte Carlo); L(q_t, θ_t+1) ≤
 *   log p(x | θ_t+1); the gradient baseline's bound = log p(x | θ); log p(x | θ) is evaluated
 *   independently (`logLikelihoodOf`, + `logPrior` for MAP models); `result.logLikelihood` is filled.
 * - `additive-statistics`: through `prepare` of row subsets and the exact E-step: stats(A) + stats(B)
 *   = stats(A ∪ B), statistics invariant to row order, log-likelihood and entropy additive, the
 *   algebra's laws (zero, scale, inputs untouched).
 * - `weights` (models with `acceptsWeights`): integer weights equal repeated rows (so weight 2 = a
 *   duplicated row) and all-ones weights equal no weights: fits from one start agree to
 *   `weightTolerance` (1e-9 relative in float64) at every iteration.
 * - `round-trip`: `saveResult`/`loadResult` and `saveParams`/`loadParams` in a temporary directory
 *   give identical JSON; reloaded parameters validate, give the same log-likelihood, warm-start a fit.
 * - `tensor-hygiene`: `tf.memory().numTensors` unchanged around fits with restarts, a fit whose
 *   callback throws, an aborted fit, a fit aborted before it starts and a disposed `fitSteps`; the
 *   E-step's `dispose` is called once per `start` (an instrumented wrapper tracks every state).
 * - `bad-input`: malformed options, weights, parameters (a random leaf NaN, ±Infinity or a string,
 *   an array one short, `{}`) and data (`badData`, default `defaultBadData`) raise the right
 *   `EmError` code before `prepare`/`init`/`structure`/`mStep` or the E-step's `start` run (wrong-length
 *   weights may be caught in `prepare`), without leaking tensors.
 * - `reproducible`: the same seed gives identical results (`omitTimings`), `fitSteps` gives the
 *   same result as `fit`, and for Monte Carlo methods some case changes with the seed.
 *
 * @example
 * ```ts
 * import '@emlab/exact';
 * import { checkModel } from '@emlab/testing';
 * checkModel(myModel(), myDataArbitrary, { numRuns: 20 });
 * ```
 * @see {@link modelProperties} for the same suite as plain functions.
 * @category Conformance
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function checkModel<D, P>(model: Model<D, P, any, any>, data: fc.Arbitrary<D>, options: CheckModelOptions<D, P> = {}): void {
  register(options.label ?? `conformance: model ${model.name}`, modelProperties(model, data, options), options.timeout);
}

/**
 * Registers the E-step conformance suite in the calling vitest file. On the kit's own small
 * structures of the E-step's kind (`finite` tables with row weights and a continuous latent part;
 * Bayesian networks as factor graphs, both precisions), plus `structures` when given:
 *
 * - `brute-force`: exact E-steps give the posterior, log p(x) and H(q) of brute force (enumeration
 *   for factor graphs); restricted ones a q in the simplex (and in `inFamily`) whose L(q) and H(q),
 *   recomputed from the statistics, match their bound and entropy, with L(q) ≤ log p(x); Monte
 *   Carlo ones an estimate within 4 SE of log p(x); weight tables sum to the row weights.
 * - `latent-hooks` (`finite`): H(q) includes `latentEntropy`; exact and restricted E-steps use
 *   `stats`, Monte Carlo ones `sampleStats`, whose averages over 48 runs are within 5 SE of w·p and
 *   w·p·E[latent] (core's block loop does this for every E-step that returns its choice to it).
 * - `lifecycle`: `start` once, three (possibly async) `run`s with one state, `dispose` once; the
 *   results' fields are sane, the statistics have the algebra's shape, no tensor leaks.
 * - `reproducible`: one seed, one result; Monte Carlo results change with the seed.
 * - `abort`: a run with an aborted signal finishes or throws `EmError` `ABORTED`, without leaks.
 * - `bad-options` (registered E-steps or with `factory`): unknown options and ill-typed values of
 *   every option of the registration's schema raise `INVALID_ARGUMENT` naming the option.
 * - `fit`: the model suite's monotone, bound-vs-log-likelihood, tensor-hygiene and reproducible
 *   properties with this E-step on `fitCases` (default: the kit's missing-entry mixture for
 *   `finite`, a Bayesian network with a hidden node for `factor-graph`).
 *
 * A method that is not an E-step (the gradient baseline) runs the `fit` properties only, on `fitCases`.
 * @example
 * ```ts
 * import { checkEStep } from '@emlab/testing';
 * checkEStep(myEStep(), undefined, { inFamily: (q) => (q.every((r) => r === null || r.includes(1)) ? undefined : 'not one-hot') });
 * ```
 * @see {@link eStepProperties} for the same suite as plain functions.
 * @category Conformance
 */
export function checkEStep(eStep: EStep | Method, structures?: fc.Arbitrary<StructureCase>, options: CheckEStepOptions = {}): void {
  register(options.label ?? `conformance: E-step ${eStep.kind}/${eStep.name}`, eStepProperties(eStep, structures, options), options.timeout);
}

function register(label: string, properties: readonly ConformanceProperty[], timeout: number | undefined): void {
  describe(label, () => {
    for (const p of properties) it(p.name, () => p.run(), timeout);
  });
}

/**
 * Runs properties one after the other outside a test runner and reports each (a failure does not
 * stop the others).
 * @example
 * ```ts
 * const outcomes = await runConformance(modelProperties(model, data, { properties: ['monotone', 'weights'] }));
 * if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
 * ```
 * @category Conformance
 */
export async function runConformance(properties: readonly ConformanceProperty[]): Promise<ConformanceOutcome[]> {
  const out: ConformanceOutcome[] = [];
  for (const p of properties) {
    const t0 = performance.now();
    try {
      await p.run();
      out.push({ name: p.name, ok: true, ms: performance.now() - t0 });
    } catch (e) {
      // fast-check's error names the counterexample; its cause says what failed.
      const cause = e instanceof Error && e.cause instanceof Error ? `\nCaused by: ${e.cause.message}` : '';
      out.push({ name: p.name, ok: false, ms: performance.now() - t0, error: `${(e instanceof Error ? e.message : String(e)).split('\n').slice(0, 4).join('\n')}${cause}` });
    }
  }
  return out;
}
