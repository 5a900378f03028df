/**
 * The stochastic approximation EM (Delyon, Lavielle & Moulines 1999): at
 * iteration k, draws at θ_k give statistics S̃_k, and the running statistics
 * follow s_k = s_{k−1} + γ_k (S̃_k − s_{k−1}) (with the model's statistics
 * algebra, `scale` and `add`); the M-step maximizes Q(s_k, θ).
 *
 * Step sizes: γ_k = 1 for the first K₁ iterations (exploration: s_k = S̃_k,
 * i.e. stochastic EM), then γ_k = (k − K₁)^(−α) with α ∈ (1/2, 1]
 * (smoothing: Σ γ_k = ∞ and Σ γ_k² < ∞, the Robbins–Monro conditions), for
 * K₂ more iterations; the method's convergence policy stops after K₁ + K₂.
 * Defaults K₁ = 100, K₂ = 100, α = 1 (saemix uses 300 and 100 with α = 1).
 *
 * Simulated annealing (saemix's `alpha.sa`, default off): during the first
 * `annealingIterations` (default K₁/2), the statistics handed to the M-step
 * keep every variance at least `annealing` × its current value
 * (`ContinuousStructure.annealStats`: the GLMM inflates Σ_b), so variances
 * shrink slowly while the chains explore.
 *
 * Polyak–Ruppert averaging: θ̄ = the mean of θ_k over the smoothing phase in
 * the model's parametrization (`Model.parametrization`), reported beside the
 * last iterate in the result's `report` (with its log-likelihood when the
 * model computes one).
 *
 * @see Delyon, B., Lavielle, M. & Moulines, E. (1999). Convergence of a stochastic approximation version of the EM algorithm. Annals of Statistics 27, 94–128.
 * @see Kuhn, E. & Lavielle, M. (2004). Coupling a stochastic approximation version of EM with an MCMC procedure. ESAIM: P&S 8, 115–131.
 * @see Polyak, B. T. & Juditsky, A. B. (1992). Acceleration of stochastic approximation by averaging. SIAM J. Control Optim. 30, 838–855.
 * @see Comets, E., Lavenu, A. & Lavielle, M. (2017). Parameter estimation in nonlinear mixed effect models using saemix. J. Stat. Softw. 80(3).
 * @module
 */
import {
  DEFAULT_TOL,
  emError,
  fisherGradientNorm,
  parseOptions,
  registerEStep,
  type ContinuousStructure,
  type ConvergencePolicy,
  type FitContext,
  type LatentStructure,
  type Method,
  type MethodSession,
  type MethodStep,
  type OptionSchema,
  type PreparedData,
  type RestartContext,
  type RestartRun,
  type StatsAlgebra,
} from '@emlab/core';
import { monteCarloRecord } from './internal/mc-record.js';
import { MCMC_OPTION_ROWS, rejectMcmcOptionsForFinite, SAMPLED_KINDS, samplerFor, samplerSettings, type SampledKind } from './internal/sampler-options.js';
import { checkAbort } from './samplers/sampler.js';

/** The option table of {@link saemEStep}. @category SAEM */
export const SAEM_OPTIONS = {
  k1: { type: 'integer', min: 0, max: 1_000_000, default: 100, description: 'K1: iterations with step size 1 (exploration: stochastic EM)' },
  k2: { type: 'integer', min: 1, max: 1_000_000, default: 100, description: 'K2: iterations with step size (k − K1)^−alpha (smoothing); the fit stops after K1 + K2' },
  alpha: { type: 'number', min: 0.5, max: 1, exclusiveMin: true, default: 1, description: 'step-size exponent in (1/2, 1]' },
  nDraws: { type: 'integer', min: 1, max: 1_000_000, default: 1, description: 'draws per chain (finite: per row) at every iteration' },
  annealing: { type: 'number', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, description: "simulated annealing (saemix's alpha.sa, e.g. 0.97): variances shrink by at most this factor per iteration in the first phase (default off)" },
  annealingIterations: { type: 'integer', min: 0, max: 1_000_000, description: 'iterations with annealing (default K1 / 2)' },
  average: { type: 'boolean', default: true, description: 'Polyak-Ruppert averages of the parameters over the smoothing phase (in the model parametrization), reported beside the last iterate' },
  ...MCMC_OPTION_ROWS,
} as const satisfies OptionSchema;

/** Options of {@link saemEStep}. @category SAEM */
export interface SaemOptions {
  readonly k1?: number;
  readonly k2?: number;
  readonly alpha?: number;
  readonly nDraws?: number;
  readonly annealing?: number;
  readonly annealingIterations?: number;
  readonly average?: boolean;
  readonly chains?: number;
  readonly burnIn?: number;
  readonly initialBurnIn?: number;
  readonly thin?: number;
  readonly proposal?: 'random-walk' | 'independence';
  readonly df?: number;
  readonly importanceDraws?: number;
}

/** SAEM's step size γ_k (k 1-based): 1 for k ≤ K₁, then (k − K₁)^(−α). @category SAEM */
export function saemStepSize(k: number, k1: number, alpha: number): number {
  return k <= k1 ? 1 : Math.pow(k - k1, -alpha);
}

/**
 * SAEM's schedule as a convergence policy: converged after K₁ + K₂ iterations. The tolerance is
 * recorded but not compared (SAEM's iterates converge by the step sizes, not by a change test);
 * tol = 0 still means "run maxIter iterations", as for every policy.
 * @category SAEM
 */
export function saemPolicy(iterations: number, tol = DEFAULT_TOL['monte-carlo']): ConvergencePolicy {
  return {
    name: 'saem-schedule',
    tol,
    description: `the SAEM schedule of ${iterations} iterations is complete`,
    check(input) {
      const done = input.trace.length;
      return { converged: done >= iterations, value: Math.max(0, iterations - done), threshold: 0 };
    },
    withTol: (t) => saemPolicy(iterations, t),
  };
}

/** What SAEM adds to the result's `report`. @category SAEM */
export interface SaemReport {
  readonly k1: number;
  readonly k2: number;
  readonly alpha: number;
  /** Polyak–Ruppert average of θ over the smoothing phase (null without averaging, a parametrization, or smoothing iterations). */
  readonly averagedParams: unknown;
  /** Iterates averaged. */
  readonly nAveraged: number;
  /** log p(x | θ̄) when the model computes it. */
  readonly averagedLogLikelihood: number | null;
}

/**
 * SAEM as a fitting method (see the module notes). Each iteration's record carries the estimate of
 * log p(x | θ_k) ± its standard error (`boundAfterE`, `boundStdErr`), the exact log-likelihood when
 * available, and the diagnostics `stepSize`, `annealing` (the factor, when active), `nDraws`, `ess`,
 * and for MCMC `acceptanceRate` and `rHat`. The result's `report` is a {@link SaemReport}.
 *
 * Randomness: iteration k draws from `seed/restart/r/iter/k/estep`; chains start from
 * `seed/restart/r/estep-start`.
 *
 * @param kind - the structure kind it is registered for (default `'*'`).
 * @example
 * ```ts
 * const r = await fit(glmm({ family: 'logistic' }), data, { eStep: saemEStep({ k1: 150, k2: 150, chains: 3, annealing: 0.97 }), seed: 2 });
 * r.params;                  // the last iterate
 * r.report?.averagedParams;  // the Polyak–Ruppert average
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option, MCMC options on a finite model, or annealing on a model without `annealStats`.
 * @category SAEM
 */
export function saemEStep(options: Readonly<Record<string, unknown>> & SaemOptions = {}, kind: SampledKind | '*' = '*'): Method {
  const o = parseOptions(SAEM_OPTIONS, options, 'saemEStep');
  if (kind !== '*') rejectMcmcOptionsForFinite(options, kind, 'saemEStep');
  const k1 = o['k1'] as number;
  const k2 = o['k2'] as number;
  const annealingIterations = (o['annealingIterations'] as number | undefined) ?? Math.floor(k1 / 2);
  const recorded: Record<string, unknown> = { ...o, ...(o['annealing'] === undefined ? {} : { annealingIterations }) };
  const averages = new Map<number, () => SaemReport>();
  return {
    name: 'saem',
    kind,
    family: 'monte-carlo',
    options: recorded,
    precisions: ['float64'],
    convergence: saemPolicy(k1 + k2),
    check(model) {
      if (!(SAMPLED_KINDS as readonly string[]).includes(model.structureKind)) {
        throw emError('INVALID_ARGUMENT', ['options', 'eStep'], 'saem', `cannot sample structure kind "${model.structureKind}" of model ${model.name} (it samples ${SAMPLED_KINDS.join(', ')})`, 'use a model of one of those kinds, or another method');
      }
      rejectMcmcOptionsForFinite(options, model.structureKind, 'saemEStep');
      if (o['annealing'] !== undefined && model.structureKind !== 'continuous') {
        throw emError('INVALID_ARGUMENT', ['saemEStep', 'annealing'], o['annealing'], `needs a model whose structure inflates variances (continuous kind with annealStats); ${model.name} has kind "${model.structureKind}"`, 'drop annealing');
      }
    },
    open<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>): MethodSession<P> {
      averages.clear();
      return {
        begin: (rc: RestartContext<P>) => saemRestart(fc, rc, o, annealingIterations, (r) => averages.set(rc.restart, r)),
        summary: (kept) => {
          const r = averages.get(kept.restart);
          return r === undefined ? {} : { saem: r() };
        },
        dispose() {},
      };
    },
  };
}

function saemRestart<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>, rc: RestartContext<P>, o: Record<string, unknown>, annealingIterations: number, report: (r: () => SaemReport) => void): RestartRun<P> {
  const model = fc.model;
  const algebra = model.stats as StatsAlgebra<S>;
  const kind = model.structureKind;
  const settings = samplerSettings(o, kind, 1);
  const sampler = samplerFor(kind, settings, 'saem');
  const k1 = o['k1'] as number;
  const k2 = o['k2'] as number;
  const alpha = o['alpha'] as number;
  const nDraws = o['nDraws'] as number;
  const annealing = o['annealing'] as number | undefined;
  const par = (o['average'] as boolean) ? model.parametrization?.(fc.prepared) : undefined;
  let params = rc.params;
  let k = 0;
  let chains: unknown;
  let running: S | undefined;
  let lastStats: S | undefined;
  let lastParamsBefore: P | undefined;
  let sum: Float64Array | undefined;
  let nAveraged = 0;
  // Evaluated when the result is assembled (the log-likelihood of θ̄ may cost a quadrature).
  report(() => {
    let averagedParams: unknown = null;
    let averagedLogLikelihood: number | null = null;
    if (par !== undefined && sum !== undefined && nAveraged > 0) {
      const avg = par.fromVector(sum.map((v) => v / nAveraged));
      averagedParams = avg;
      averagedLogLikelihood = model.logLikelihood?.(fc.prepared, avg) ?? null;
    }
    return { k1, k2, alpha, averagedParams, nAveraged, averagedLogLikelihood };
  });
  return {
    async step(): Promise<MethodStep<P>> {
      k++;
      const iterRng = rc.rng.child('iter', k);
      const t0 = performance.now();
      const structure: LatentStructure = model.structure(fc.prepared, params, { precision: 'float64' });
      let stats: S;
      let batch;
      const gamma = saemStepSize(k, k1, alpha);
      let factor: number | undefined;
      try {
        checkAbort(fc.signal);
        const first = chains === undefined;
        if (first) chains = sampler.start(structure, rc.rng.child('estep-start'));
        const burnIn = sampler.independent ? 0 : settings.burnIn + (first ? settings.initialBurnIn : 0);
        batch = await sampler.sample(structure, chains, { rng: iterRng.child('estep'), nDraws, burnIn, thin: settings.thin, estimate: true, ...(fc.signal === undefined ? {} : { signal: fc.signal }) });
        const drawn = batch.stats as S;
        running = running === undefined || gamma === 1 ? drawn : algebra.add(algebra.scale(running, 1 - gamma), algebra.scale(drawn, gamma));
        stats = running;
        if (annealing !== undefined && k <= annealingIterations) {
          const anneal = (structure as ContinuousStructure<S>).annealStats;
          if (anneal === undefined) throw emError('INVALID_ARGUMENT', ['saemEStep', 'annealing'], annealing, `model ${model.name} has no variances to anneal (its structure has no annealStats)`, 'drop annealing');
          stats = anneal(running, annealing);
          factor = annealing;
        }
      } finally {
        structure.dispose?.();
      }
      const t1 = performance.now();
      const m = model.mStep(stats, params, { rng: iterRng.child('mstep'), prepared: fc.prepared, iteration: k });
      const t2 = performance.now();
      const record = monteCarloRecord(model, {
        iteration: k,
        passes: k,
        precision: 'float64',
        stats,
        paramsBefore: params,
        m,
        estimate: batch.estimate,
        logLikelihood: batch.logLikelihood,
        diagnostics: { ...batch.diagnostics, stepSize: gamma, ...(factor === undefined ? {} : { annealing: factor }) },
        eStepMs: t1 - t0,
        mStepMs: t2 - t1,
        ...(factor === undefined ? {} : { exempt: 'simulated annealing inflated the variances in the statistics' }),
      });
      lastStats = stats;
      lastParamsBefore = params;
      params = m.params;
      if (par !== undefined && k > k1) {
        const v = par.toVector(params);
        if (sum === undefined) sum = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) sum[i] = sum[i]! + v[i]!;
        nAveraged++;
      }
      return { record, params };
    },
    gradientNorm() {
      const p = model.parametrization?.(fc.prepared);
      if (p === undefined || lastStats === undefined || lastParamsBefore === undefined) return undefined;
      return fisherGradientNorm(model, p, lastStats, p.toVector(lastParamsBefore), fc.totalWeight);
    },
    degenerate() {
      if (model.degenerate === undefined || lastStats === undefined) return [];
      return model.degenerate(lastStats, params);
    },
    dispose() {},
  };
}

for (const kind of SAMPLED_KINDS) {
  registerEStep({
    kind,
    method: 'saem',
    family: 'monte-carlo',
    description: `stochastic approximation EM: running statistics with step sizes 1 for K1 iterations then (k − K1)^−alpha, ${kind === 'finite' ? 'exact posterior draws' : kind === 'chain' ? 'forward-filtering backward-sampling' : kind === 'factor-graph' ? 'Gibbs chains' : 'Metropolis-Hastings chains, optional simulated annealing of the variances'}, Polyak-Ruppert averages`,
    options: SAEM_OPTIONS,
    create: (options) => saemEStep(options ?? {}, kind),
  });
}
