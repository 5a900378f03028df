/**
 * Variational Bayes over the parameters as a registered method (`vb`): on a
 * model with a conjugate prior (`Model.conjugate`), coordinate ascent on the
 * evidence lower bound of log p(x) over q(z) q(θ).
 * @module
 */
import {
  emError,
  monotonicityTolerance,
  parseOptions,
  registerEStep,
  type ConjugateHooks,
  type EStep,
  type EStepResult,
  type FitContext,
  type IterationRecord,
  type LatentStructure,
  type Method,
  type MethodSession,
  type Model,
  type MonotonicityViolation,
  type OptionSchema,
  type PreparedData,
  type RestartContext,
  type RestartRun,
} from '@emlab/core';
import { innerEStep } from './internal/inner-estep.js';

const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The option table of {@link vbMethod}. @category Variational Bayes */
export const VB_OPTIONS = {
  prior: {
    type: 'custom',
    shape: "an object of the model's prior options (JSON on the command line)",
    description: "the prior's options, checked against the model's conjugate priorOptions (GMM: weightConcentrationPrior, ...; networks: concentration)",
    check: (v, path) => {
      if (!plainObject(v)) throw emError('INVALID_ARGUMENT', path, v, 'must be an object of prior options', 'pass e.g. { weightConcentrationPrior: 0.01 }');
      return { ...v };
    },
    parse: (text, path) => {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        throw emError('INVALID_ARGUMENT', path, text, 'is not JSON', `pass e.g. --estep-option 'prior={"weightConcentrationPrior":0.01}'`);
      }
      if (!plainObject(v)) throw emError('INVALID_ARGUMENT', path, text, 'must be a JSON object', `pass e.g. --estep-option 'prior={"weightConcentrationPrior":0.01}'`);
      return v;
    },
  },
  eStep: { type: 'string', default: 'exact', description: 'the registered E-step for q(z) on the structure E_q(θ) log p(x, z | θ) (exact: the VB E-step; mean-field on networks)' },
} as const satisfies OptionSchema;

/** Options of {@link vbMethod}. @category Variational Bayes */
export interface VbMethodOptions {
  /** The model's prior options (see its `conjugate.priorOptions`). Default {} (the model's defaults). */
  readonly prior?: Readonly<Record<string, unknown>>;
  /** The E-step for q(z), by registered name. Default `'exact'`. */
  readonly eStep?: string;
}

/** What the `vb` method reports in `FitResult.report`. @category Variational Bayes */
export type VbReport = {
  readonly algorithm: 'variational-bayes';
  /** What `bound` is: the evidence lower bound on log p(x) (the marginal likelihood), every constant included. */
  readonly bound: 'elbo';
  /** The prior options as validated. */
  readonly prior: Readonly<Record<string, unknown>>;
  /** The posterior hyperparameters (and the prior) of the kept restart, the model's `conjugate.toJson`. */
  readonly posterior: Readonly<Record<string, unknown>>;
  /** KL(q(θ) ‖ p(θ)) at the end. */
  readonly klDivergence: number;
  /** The E-step used for q(z). */
  readonly eStep: string;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyConjugate = ConjugateHooks<any, any, any, any, unknown, unknown>;

function conjugateOf(model: Model<any, any, any, any>): AnyConjugate { // eslint-disable-line @typescript-eslint/no-explicit-any
  const c = (model as { conjugate?: AnyConjugate }).conjugate;
  if (c === undefined || typeof c.posterior !== 'function') {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], 'vb', `needs a model with a conjugate prior (Model.conjugate); ${model.name} has none`, 'use a model with one (gmm, bayesian-network) or fit by EM');
  }
  return c;
}

/**
 * Variational Bayes over θ (Attias 1999; Beal 2003): on a model with a conjugate prior p(θ)
 * (`Model.conjugate`: Gaussian mixtures with Dirichlet or stick-breaking weights and Normal–Wishart
 * components; Bayesian networks with Dirichlet CPTs), q(z, θ) = q(z) q(θ) and coordinate ascent on
 * ELBO = E_q[log p(x, z | θ)] + H(q(z)) − KL(q(θ) ‖ p(θ)) ≤ log p(x), the log marginal likelihood.
 *
 * Per iteration: the E-step (`eStep`, exact by default) on the model's structure at q(θ), whose
 * log-joint is E_q(θ)[log p(x, z | θ)], gives q(z) and its statistics; `boundAfterE` is the ELBO at
 * (q(z)_t, q(θ)_t); the conjugate update gives q(θ)_{t+1}; `boundAfterM` is the ELBO at
 * (q(z)_t, q(θ)_{t+1}) (what scikit-learn's `BayesianGaussianMixture` reports after each M-step).
 * Both half-steps are checked for monotonicity (the update's exact slack, e.g. regCovar, added).
 * The first q(θ) comes from the E-step at the starting parameters (`init`), as scikit-learn's
 * initialization from responsibilities.
 *
 * Result: `params` is the model's point estimate (posterior means: E[π], m_k, E[Λ_k]⁻¹; posterior-mean
 * CPTs), so `logLikelihood` is log p(x | θ̂); `report` ({@link VbReport}) holds the posterior
 * hyperparameters; `boundKind` is `lower-bound` (on log p(x), not on log p(x | θ)); the trace's
 * `logLikelihood` and `gap` are null. Predictive densities: {@link vbPredictiveLogDensities}.
 *
 * @example
 * ```ts
 * const r = await fit(gaussianMixture({ nComponents: 10 }), x, { eStep: 'vb', eStepOptions: { prior: { weightConcentrationPrior: 0.01 } } });
 * console.log(r.bound, r.report.posterior); // the ELBO, the hyperparameters
 * ```
 * @throws EmError `INVALID_ARGUMENT` (options; a model without a conjugate prior; prior options the model rejects), `UNKNOWN_ESTEP` (eStep not registered).
 * @see Attias, H. (1999). Inferring parameters and structure of latent variable models by variational Bayes.
 * @see Beal, M. J. (2003). Variational algorithms for approximate Bayesian inference.
 * @see Bishop, C. M. (2006), §10.2; Blei, D. M. & Jordan, M. I. (2006).
 * @category Variational Bayes
 */
export function vbMethod(options: VbMethodOptions = {}): Method {
  const o = parseOptions(VB_OPTIONS, options, { owner: 'vb', pathOf: (k) => ['options', 'eStepOptions', k] });
  const priorInput = (o['prior'] ?? {}) as Record<string, unknown>;
  const eStepName = o['eStep'] as string;
  const checkPrior = (model: Model<any, any, any, any>): Record<string, unknown> => // eslint-disable-line @typescript-eslint/no-explicit-any
    parseOptions(conjugateOf(model).priorOptions, priorInput, { owner: `the prior of ${model.name}`, pathOf: (k) => ['options', 'eStepOptions', 'prior', k] });
  return {
    name: 'vb',
    kind: '*',
    family: 'restricted',
    options: { prior: priorInput, eStep: eStepName },
    precisions: ['float64'],
    check(model, data) {
      checkPrior(model);
      if (data !== undefined) conjugateOf(model).check?.(data);
      innerEStep(model.structureKind, eStepName, ['options', 'eStepOptions', 'eStep'], 'variational Bayes');
    },
    open<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>): MethodSession<P> {
      const conj = conjugateOf(fc.model);
      const priorOptions = checkPrior(fc.model);
      const kept = new Map<number, { posterior: unknown; kl: number }>();
      return {
        begin: (rc: RestartContext<P>) => {
          const inner = innerEStep(fc.model.structureKind, eStepName, ['options', 'eStepOptions', 'eStep'], 'variational Bayes');
          return vbRestart(conj, inner, priorOptions, fc, rc, (posterior, kl) => kept.set(rc.restart, { posterior, kl }));
        },
        summary(k): VbReport {
          const last = kept.get(k.restart);
          return { algorithm: 'variational-bayes', bound: 'elbo', prior: priorOptions, posterior: last === undefined ? {} : conj.toJson(last.posterior), klDivergence: last?.kl ?? Number.NaN, eStep: eStepName };
        },
        dispose() {},
      };
    },
  };
}

function vbRestart<D, P, S, PD extends PreparedData>(
  conj: AnyConjugate,
  inner: EStep,
  priorOptions: Readonly<Record<string, unknown>>,
  fc: FitContext<D, P, S, PD>,
  rc: RestartContext<P>,
  keep: (posterior: unknown, kl: number) => void,
): RestartRun<P> {
  const model = fc.model;
  const strict = fc.monotonicity !== 'off';
  const W = fc.totalWeight;
  let prior: unknown;
  let posterior: unknown;
  let innerState: unknown;
  let started = false;
  let disposed = false;
  let prev: IterationRecord | undefined;
  let t = 0;
  let passes = 0;

  const runInner = async (structure: LatentStructure, iteration: number, rng: RestartContext<P>['rng']): Promise<EStepResult> => {
    try {
      if (!started) {
        started = true;
        if (inner.start !== undefined) innerState = inner.start({ rng: rc.rng.child('estep-start'), restart: rc.restart, structure });
      }
      return await inner.run(structure, { rng, iteration, passes, state: innerState, precision: 'float64', ...(fc.signal === undefined ? {} : { signal: fc.signal }) });
    } finally {
      structure.dispose?.();
    }
  };

  return {
    async step() {
      t++;
      const iterRng = rc.rng.child('iter', t);
      const t0 = performance.now();
      if (posterior === undefined) {
        // q(θ) from the E-step at the starting parameters (scikit-learn: _initialize from responsibilities).
        prior = conj.prior(fc.prepared, priorOptions, rc.params);
        const e0 = await runInner(model.structure(fc.prepared, rc.params, { precision: 'float64' }), 0, rc.rng.child('init-estep'));
        posterior = conj.posterior(e0.stats, prior).posterior;
      }
      const e = await runInner(conj.structure(fc.prepared, posterior, { precision: 'float64' }), t, iterRng.child('estep'));
      const t1 = performance.now();
      const stats = e.stats;
      const klBefore = conj.klDivergence(posterior, prior);
      const boundAfterE = conj.expectedLogJoint(stats, posterior) + e.entropy - klBefore;
      const update = conj.posterior(stats, prior, posterior);
      const next = update.posterior;
      const slack = update.slack ?? 0;
      const klAfter = conj.klDivergence(next, prior);
      const boundAfterM = conj.expectedLogJoint(stats, next) + e.entropy - klAfter;
      const params = conj.pointEstimate(next) as P;
      const t2 = performance.now();

      const violations: MonotonicityViolation[] = [];
      if (strict) {
        const check = (halfStep: 'E' | 'M', before: number, after: number, extra = 0): void => {
          const tolerance = monotonicityTolerance(before, after, W, 0, 'float64') + extra;
          if (after < before - tolerance) violations.push({ halfStep, drop: before - after, tolerance });
        };
        if (prev !== undefined && e.exempt === undefined) check('E', prev.boundAfterM, boundAfterE);
        check('M', boundAfterE, boundAfterM, slack);
      }
      passes += e.coverage ?? 1;
      const record: IterationRecord = {
        iteration: t,
        boundAfterE,
        boundAfterM,
        logLikelihood: null,
        gap: null,
        entropy: e.entropy,
        boundStdErr: null,
        mStepSlack: slack,
        roundoffScale: 0,
        precision: 'float64',
        passes,
        eStepMs: t1 - t0,
        mStepMs: t2 - t1,
        diagnostics: { ...e.diagnostics, eStepBound: e.bound, klDivergence: klAfter },
        events: [],
        violations,
        ...(e.exempt === undefined ? {} : { exempt: e.exempt }),
        ...(e.unsettled === undefined ? {} : { unsettled: e.unsettled }),
      };
      prev = record;
      posterior = next;
      keep(next, klAfter);
      return { record, params };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (started && inner.start !== undefined) inner.dispose?.(innerState);
    },
  };
}

/**
 * log p(x_n | data) per row under a `vb` fit's q(θ): the model's `conjugate.predictiveLogDensity` from
 * the result's posterior hyperparameters (GMM: a mixture of Student-t densities), or, for models
 * whose predictive is the likelihood at the posterior-mean point estimate (Dirichlet–multinomial:
 * Bayesian networks), null (use `logLikelihoodOf(model, data, result.params)`, which sums it).
 * @throws EmError `INVALID_ARGUMENT` for a result that is not from the `vb` method or a model without a conjugate prior.
 * @category Variational Bayes
 */
export function vbPredictiveLogDensities<D>(model: Model<D, any, any, any>, result: { readonly method: { readonly name: string }; readonly report?: Readonly<Record<string, unknown>> }, data: D): Float64Array | null { // eslint-disable-line @typescript-eslint/no-explicit-any
  const conj = conjugateOf(model);
  const posterior = result.report?.['posterior'];
  if (result.method.name !== 'vb' || !plainObject(posterior)) {
    throw emError('INVALID_ARGUMENT', ['result'], result.method.name, 'is not a result of the vb method (no report.posterior)', "fit with eStep: 'vb'");
  }
  return conj.predictiveLogDensity === undefined ? null : conj.predictiveLogDensity(posterior, data);
}

registerEStep({
  kind: '*',
  method: 'vb',
  family: 'restricted',
  description: 'variational Bayes over θ (conjugate priors: GMM Dirichlet/stick-breaking + Normal–Wishart, networks Dirichlet); the bound is the ELBO on log p(x)',
  options: VB_OPTIONS,
  create: (options) => vbMethod((options ?? {}) as VbMethodOptions),
});
