/**
 * Monte Carlo EM (Wei & Tanner 1990): at θ_t, m_t draws of the latent
 * variables from p(z | x, θ_t) replace the E-step's expectation by an average,
 * and the M-step maximizes the Monte Carlo Q̃. The sample size follows a
 * schedule (`schedule.ts`) or the ascent-based rule (`ascent.ts`), which also
 * decides when to stop.
 *
 * MCEM is a method, not a bare E-step: the ascent rule may reject θ_{t+1} and
 * redo the M-step from θ_t with more draws, which only the method driving both
 * half-steps can do. It still runs on `fit`'s loop (restarts, callbacks,
 * convergence policies, results), and supplies its convergence policy
 * (the ascent rule's upper bound).
 *
 * Samplers: exact posterior draws (`finite`), forward-filtering backward-sampling
 * (`chain`), Gibbs sweeps (`factor-graph`), Metropolis–Hastings (`continuous`);
 * see `samplers/`.
 *
 * @see Wei, G. C. G. & Tanner, M. A. (1990). A Monte Carlo implementation of the EM algorithm and the poor man's data augmentation algorithms. JASA 85, 699–704.
 * @see Caffo, B. S., Jank, W. & Jones, G. L. (2005). Ascent-based Monte Carlo expectation–maximization. JRSS B 67, 235–251.
 * @module
 */
import {
  emError,
  fisherGradientNorm,
  parseOptions,
  registerEStep,
  type FitContext,
  type LatentStructure,
  type Method,
  type MethodSession,
  type MethodStep,
  type MStepResult,
  type OptionSchema,
  type PreparedData,
  type RestartContext,
  type RestartRun,
  type StatsAlgebra,
} from '@emlab/core';
import { ascentPolicy, deltaQ } from './ascent.js';
import { monteCarloRecord } from './internal/mc-record.js';
import { upperQuantile } from './internal/normal-quantile.js';
import { MCMC_OPTION_ROWS, rejectMcmcOptionsForFinite, SAMPLED_KINDS, samplerFor, samplerSettings, type SampledKind } from './internal/sampler-options.js';
import { weightedAverage } from './internal/unit-stats.js';
import { checkAbort, type DrawBatch, type DrawUnit } from './samplers/sampler.js';
import { checkSchedule, scheduledDraws, SCHEDULES, type SampleSizeSchedule } from './schedule.js';

/** The option table of {@link mcemEStep}. @category MCEM */
export const MCEM_OPTIONS = {
  schedule: {
    type: 'custom',
    default: 'auto',
    shape: `one of ${SCHEDULES.join(', ')} or a function (iteration) => draws`,
    description: 'sample size per iteration: constant, linear, geometric, auto (the ascent-based rule), or a function of the iteration',
    check: (v, path) => checkSchedule(v, path),
    parse: (text, path) => checkSchedule(text, path),
  },
  nDraws: { type: 'integer', min: 1, max: 10_000_000, default: 20, description: 'draws at the first iteration (every iteration for constant); MCMC kinds split them over the chains' },
  increment: { type: 'integer', min: 0, max: 10_000_000, description: 'linear schedule: draws added per iteration (default nDraws)' },
  ratio: { type: 'number', min: 1, max: 10, default: 1.2, description: 'geometric schedule: growth factor per iteration' },
  maxDraws: { type: 'integer', min: 1, max: 10_000_000, default: 10_000, description: 'upper limit of the draws per iteration (every schedule)' },
  alpha: { type: 'number', min: 0, max: 0.5, exclusiveMin: true, exclusiveMax: true, default: 0.25, description: 'ascent rule: append draws while the (1 − alpha) lower confidence bound of ΔQ is not positive' },
  beta: { type: 'number', min: 0, max: 0.5, exclusiveMin: true, exclusiveMax: true, default: 0.25, description: 'ascent rule: start the next iteration with enough draws to see ΔQ with probability 1 − beta' },
  gamma: { type: 'number', min: 0, max: 0.5, exclusiveMin: true, exclusiveMax: true, default: 0.05, description: 'ascent rule: stop when the (1 − gamma) upper confidence bound of ΔQ is below tol · max(|L|, W)' },
  append: { type: 'integer', min: 1, max: 1000, default: 3, description: 'ascent rule: append m/append draws when the lower bound is not positive (k in Caffo et al.)' },
  crn: { type: 'boolean', default: false, description: 'common random numbers: the same random stream at every iteration (MCMC chains restart from the same state), so the Monte Carlo Q̃ changes smoothly with θ' },
  ...MCMC_OPTION_ROWS,
} as const satisfies OptionSchema;

/** Options of {@link mcemEStep}. @category MCEM */
export interface McemOptions {
  readonly schedule?: SampleSizeSchedule;
  readonly nDraws?: number;
  readonly increment?: number;
  readonly ratio?: number;
  readonly maxDraws?: number;
  readonly alpha?: number;
  readonly beta?: number;
  readonly gamma?: number;
  readonly append?: number;
  readonly crn?: boolean;
  readonly chains?: number;
  readonly burnIn?: number;
  readonly initialBurnIn?: number;
  readonly thin?: number;
  readonly proposal?: 'random-walk' | 'independence';
  readonly df?: number;
  readonly importanceDraws?: number;
}

/**
 * Monte Carlo EM with a sample-size schedule or the ascent-based rule, as a fitting method.
 *
 * Each iteration draws m_t latent configurations at θ_t (in units: batches of independent draws, or
 * single sweeps of each Markov chain), averages their statistics, runs the model's M-step, and
 * estimates ΔQ = Q(θ_{t+1}) − Q(θ_t) with its standard error from the units. With `schedule: 'auto'`
 * draws are appended while the lower bound is not positive (see `ascent.ts`). Every iteration's
 * record carries the estimate of log p(x | θ_t) ± its standard error (`boundAfterE`, `boundStdErr`;
 * exact posterior draws also give the exact log-likelihood, the GLMM its quadrature value) and the
 * diagnostics `nDraws` (the sample size, for plots), `extensions`, `deltaQ`, `deltaQStdErr`,
 * `deltaQLower`, `deltaQUpper`, `nextDraws` (auto), `ess`, and for MCMC `acceptanceRate` and `rHat`.
 *
 * Randomness: iteration t's draws use `seed/restart/r/iter/t/estep/extend/e` (e = 0, 1, … for appended
 * batches), or `seed/restart/r/crn/extend/e` at every iteration with `crn`; chains start from
 * `seed/restart/r/estep-start`.
 *
 * @param kind - the structure kind it is registered for (default `'*'`: whatever the model has, checked by `check`).
 * @example
 * ```ts
 * const r = await fit(glmm({ family: 'poisson' }), data, { eStep: mcemEStep({ schedule: 'auto', nDraws: 50 }), seed: 1 });
 * r.trace.map((t) => t.diagnostics.nDraws); // the sample size per iteration
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad or unknown option, or MCMC options on a finite model.
 * @see Wei & Tanner (1990); Caffo, Jank & Jones (2005); Booth, J. G. & Hobert, J. P. (1999). Maximizing generalized linear mixed model likelihoods with an automated Monte Carlo EM algorithm. JRSS B 61, 265–285.
 * @category MCEM
 */
export function mcemEStep(options: Readonly<Record<string, unknown>> & McemOptions = {}, kind: SampledKind | '*' = '*'): Method {
  const o = parseOptions(MCEM_OPTIONS, options, 'mcemEStep');
  if (kind !== '*') rejectMcmcOptionsForFinite(options, kind, 'mcemEStep');
  const schedule = o['schedule'] as SampleSizeSchedule;
  const nDraws = o['nDraws'] as number;
  const maxDraws = o['maxDraws'] as number;
  if (maxDraws < nDraws) throw emError('INVALID_ARGUMENT', ['mcemEStep', 'maxDraws'], maxDraws, `is below nDraws = ${nDraws}`, 'raise maxDraws or lower nDraws');
  const increment = (o['increment'] as number | undefined) ?? nDraws;
  const recorded: Record<string, unknown> = { ...o, increment, schedule: typeof schedule === 'function' ? 'function' : schedule };
  return {
    name: 'mcem',
    kind,
    family: 'monte-carlo',
    options: recorded,
    precisions: ['float64'],
    convergence: ascentPolicy(),
    check(model) {
      if (!(SAMPLED_KINDS as readonly string[]).includes(model.structureKind)) {
        throw emError('INVALID_ARGUMENT', ['options', 'eStep'], 'mcem', `cannot sample structure kind "${model.structureKind}" of model ${model.name} (it samples ${SAMPLED_KINDS.join(', ')})`, 'use a model of one of those kinds, or another method');
      }
      rejectMcmcOptionsForFinite(options, model.structureKind, 'mcemEStep');
    },
    open<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>): MethodSession<P> {
      return { begin: (rc: RestartContext<P>) => mcemRestart(fc, rc, o, schedule, increment), dispose() {} };
    },
  };
}

function mcemRestart<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>, rc: RestartContext<P>, o: Record<string, unknown>, schedule: SampleSizeSchedule, increment: number): RestartRun<P> {
  const model = fc.model;
  const kind = model.structureKind;
  const settings = samplerSettings(o, kind, 2);
  const sampler = samplerFor(kind, settings, 'mcem');
  const auto = schedule === 'auto';
  const crn = o['crn'] as boolean;
  const nDraws = o['nDraws'] as number;
  const maxDraws = o['maxDraws'] as number;
  const k = o['append'] as number;
  const zAlpha = upperQuantile(o['alpha'] as number);
  const zBeta = upperQuantile(o['beta'] as number);
  const zGamma = upperQuantile(o['gamma'] as number);
  const params0 = rc.params;
  let params = params0;
  let t = 0;
  let chains: unknown;
  let initialChains: unknown;
  let started = false;
  let mStart = nDraws;
  let lastStats: S | undefined;
  let lastParamsBefore: P | undefined;
  const perChain = (total: number): number => (sampler.independent ? total : Math.max(1, Math.ceil(total / settings.chains)));

  return {
    async step(): Promise<MethodStep<P>> {
      t++;
      const iterRng = rc.rng.child('iter', t);
      const t0 = performance.now();
      const structure: LatentStructure = model.structure(fc.prepared, params, { precision: 'float64' });
      let mStepMs = 0;
      let m: MStepResult<P>;
      let stats: S;
      let dq: { value: number; stdErr: number };
      const batches: DrawBatch[] = [];
      const units: DrawUnit[] = [];
      let total = 0;
      let ext = 0;
      try {
        const first = !started;
        if (!started) {
          started = true;
          chains = sampler.start(structure, rc.rng.child('estep-start'));
          if (crn) initialChains = sampler.clone(chains);
        }
        const use = crn ? sampler.clone(initialChains) : chains;
        const base = crn ? rc.rng.child('crn') : iterRng.child('estep');
        const target = auto ? mStart : scheduledDraws(schedule, t, { nDraws, increment, ratio: o['ratio'] as number, maxDraws });
        for (;;) {
          checkAbort(fc.signal);
          const want = ext === 0 ? target : Math.max(1, Math.ceil(total / k));
          const n = Math.max(1, Math.min(want, maxDraws - total));
          const burnIn = sampler.independent ? 0 : ext > 0 ? 0 : settings.burnIn + (first || crn ? settings.initialBurnIn : 0);
          const batch = await sampler.sample(structure, use, { rng: base.child('extend', ext), nDraws: perChain(n), burnIn, thin: settings.thin, estimate: ext === 0, ...(fc.signal === undefined ? {} : { signal: fc.signal }) });
          batches.push(batch);
          units.push(...batch.units);
          total += batch.nDraws;
          const algebra = model.stats as StatsAlgebra<S>;
          stats = batches.length === 1 ? (batch.stats as S) : weightedAverage(algebra, batches.map((b) => ({ stats: b.stats as S, weight: b.nDraws })));
          const tm = performance.now();
          m = model.mStep(stats, params, { rng: iterRng.child('mstep'), prepared: fc.prepared, iteration: t });
          dq = deltaQ(model, units, params, m.params);
          mStepMs += performance.now() - tm;
          const lower = Number.isNaN(dq.stdErr) ? Number.NEGATIVE_INFINITY : dq.value - zAlpha * dq.stdErr;
          if (!auto || lower > 0 || total >= maxDraws) break;
          ext++;
        }
      } finally {
        structure.dispose?.();
      }
      const se = Number.isNaN(dq!.stdErr) ? Number.POSITIVE_INFINITY : dq!.stdErr;
      if (auto && dq!.value > 0 && Number.isFinite(se)) {
        // σ̂² per draw = ASE² · m; the size at which the next lower bound is positive with probability 1 − β.
        const need = Math.ceil((se * se * total * (zAlpha + zBeta) ** 2) / (dq!.value * dq!.value));
        mStart = Math.min(maxDraws, Math.max(mStart, need));
      }
      const firstBatch = batches[0]!;
      const diagnostics: Record<string, number> = {
        ...firstBatch.diagnostics,
        nDraws: total,
        extensions: ext,
        deltaQ: dq!.value,
        deltaQStdErr: se,
        deltaQLower: dq!.value - zAlpha * se,
        deltaQUpper: dq!.value + zGamma * se,
        ...(auto ? { nextDraws: mStart } : {}),
        ...(sampler.independent ? { ess: total } : {}),
      };
      const t2 = performance.now();
      const record = monteCarloRecord(model, {
        iteration: t,
        passes: t,
        precision: 'float64',
        stats: stats!,
        paramsBefore: params,
        m: m!,
        estimate: firstBatch.estimate,
        logLikelihood: firstBatch.logLikelihood,
        diagnostics,
        eStepMs: t2 - t0 - mStepMs,
        mStepMs,
      });
      lastStats = stats!;
      lastParamsBefore = params;
      params = m!.params;
      return { record, params };
    },
    gradientNorm() {
      const par = model.parametrization?.(fc.prepared);
      if (par === undefined || lastStats === undefined || lastParamsBefore === undefined) return undefined;
      return fisherGradientNorm(model, par, lastStats, par.toVector(lastParamsBefore), fc.totalWeight);
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
    method: 'mcem',
    family: 'monte-carlo',
    description:
      kind === 'finite'
        ? 'Monte Carlo EM with exact posterior draws: sample-size schedules or the ascent-based rule (Caffo et al. 2005), which also stops it'
        : kind === 'chain'
          ? 'Monte Carlo EM with state paths drawn by forward-filtering backward-sampling: sample-size schedules or the ascent-based rule'
        : kind === 'factor-graph'
          ? 'Monte Carlo EM with Gibbs sweeps over evidence patterns: sample-size schedules or the ascent-based rule'
          : 'Monte Carlo EM with Metropolis-Hastings draws of the random effects: sample-size schedules or the ascent-based rule',
    options: MCEM_OPTIONS,
    create: (options) => mcemEStep(options ?? {}, kind),
  });
}
