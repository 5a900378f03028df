/**
 * Mean field on factor graphs: a fully factorized q per distinct evidence
 * pattern, by coordinate ascent on the host in float64, warm-started from the
 * previous iteration.
 * @module
 */
import {
  findEStep,
  isMethod,
  emError,
  EmError,
  parseOptions,
  registerEStep,
  yielder,
  type EStep,
  type EvidencePatterns,
  type FactorGraphStructure,
  type OptionSchema,
} from '@emlab/core';
import { eliminationCost } from './internal/elimination-cost.js';
import { factorIndex } from './internal/factor-index.js';
import { clampEvidence, meanFieldAccount, meanFieldScratch, meanFieldSweeps, type MeanFieldSettings } from './internal/mean-field-kernel.js';

/** The option table of {@link meanFieldEStep}. @category E-steps */
export const MEAN_FIELD_OPTIONS = {
  innerTol: { type: 'number', min: 0, default: 1e-10, description: 'a pattern’s sweeps stop when no marginal q_v(x) moves by more than this' },
  maxSweeps: { type: 'integer', min: 1, default: 200, description: 'at most this many sweeps over the unobserved variables per pattern and iteration' },
  damping: { type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0, description: 'q_v ← (1 − d) · update + d · q_v (still never lowers L)' },
  warmStart: { type: 'boolean', default: true, description: 'start each pattern from its q of the previous iteration (false: from uniform; the E-half is then exempt)' },
  exactLogLikelihood: { type: 'enum', values: ['auto', 'always', 'never'], default: 'auto', description: 'also compute log p(x | θ) with the registered exact E-step, for the gap in the trace (auto: when the junction tree is small)' },
  exactBudget: { type: 'number', min: 0, default: 1e8, description: 'auto: the exact E-step runs when its estimated table entries × distinct patterns ≤ this' },
} as const satisfies OptionSchema;

/** Options of {@link meanFieldEStep}. @category E-steps */
export interface MeanFieldOptions {
  /** Inner tolerance on the marginals (max change per sweep). Default 1e-10. */
  readonly innerTol?: number;
  /** Sweeps at most per pattern and iteration. Default 200. */
  readonly maxSweeps?: number;
  /** Damping d ∈ [0, 1). Default 0. */
  readonly damping?: number;
  /** Warm start from the previous iteration's q. Default true. */
  readonly warmStart?: boolean;
  /** `'auto'` (default), `'always'` or `'never'`: the exact log-likelihood for the gap. */
  readonly exactLogLikelihood?: 'auto' | 'always' | 'never';
  /** The `auto` budget (estimated junction-tree entries × patterns). Default 1e8. */
  readonly exactBudget?: number;
}

/** The mean-field E-step's state: q per pattern, keyed by evidence (one per fit, or per incremental block), and the exact E-step. @category E-steps */
export interface MeanFieldState {
  warm: Map<EvidencePatterns, Float64Array>;
  exact: EStep | undefined;
  exactState: unknown;
}

function uniform(q: Float64Array, cards: Int32Array, offsets: Int32Array): void {
  for (let v = 0; v < cards.length; v++) q.fill(1 / (cards[v] as number), offsets[v] as number, (offsets[v] as number) + (cards[v] as number));
}

/**
 * Mean field on a factor graph (Bayesian networks with hidden nodes or missing cells, any
 * `factor-graph` model): for every distinct evidence pattern p, q_p = Π_v q_{p,v}, with observed
 * variables fixed at their states and each unobserved one updated in turn by
 * q_v(x_v) ∝ exp(Σ_{f ∋ v} E_{q−v}[log φ_f]) (structural zeros give exact zeros), sweeping until no
 * marginal moves by more than `innerTol` (or `maxSweeps`), optionally damped. Warm-started from the
 * previous iteration's q of the same pattern, every update raises L, so the E-half never lowers it.
 *
 * Statistics: family counts Σ_p m_p Π_{v ∈ family} q_{p,v}. Bound (every constant):
 * L = Σ_p m_p (Σ_f E_{q_p}[log φ_f] + logConstant + H(q_p)) ≤ log p(x | θ); entropy Σ_p m_p Σ_v H(q_{p,v}).
 * When the junction tree is small enough (`exactLogLikelihood`), the registered exact E-step also
 * computes log p(x | θ), so the trace shows the gap KL(q ‖ posterior); it is timed separately.
 * Host float64; cost per iteration ≈ sweeps × Σ_v Σ_{f ∋ v} |φ_f| · |scope f| per pattern.
 *
 * Diagnostics: `sweeps` (mean per pattern), `maxSweeps`, `unconverged` (patterns that hit
 * `maxSweeps`), `exactMs` (time of the exact log-likelihood, when computed).
 *
 * @example
 * ```ts
 * const r = await fit(bayesianNetwork(net, { hidden: ['Z'] }), data, { eStep: 'mean-field', eStepOptions: { damping: 0.2 } });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option; `UNKNOWN_ESTEP` when `exactLogLikelihood` is `always` and no exact E-step is registered.
 * @see Jordan, M. I., Ghahramani, Z., Jaakkola, T. S. & Saul, L. K. (1999). An introduction to variational methods for graphical models.
 * @see Neal, R. M. & Hinton, G. E. (1998).
 * @category E-steps
 */
export function meanFieldEStep(options: MeanFieldOptions = {}): EStep<FactorGraphStructure, MeanFieldState> {
  const o = parseOptions(MEAN_FIELD_OPTIONS, options, 'meanFieldEStep');
  const settings: MeanFieldSettings = { tol: o['innerTol'] as number, maxSweeps: o['maxSweeps'] as number, damping: o['damping'] as number };
  const warmStart = o['warmStart'] as boolean;
  const exactMode = o['exactLogLikelihood'] as 'auto' | 'always' | 'never';
  const budget = o['exactBudget'] as number;
  return {
    name: 'mean-field',
    kind: 'factor-graph',
    family: 'restricted',
    options: { ...o },
    precisions: ['float64'],
    start(ctx) {
      let exact: EStep | undefined;
      if (exactMode !== 'never') {
        try {
          const made = findEStep('factor-graph', 'exact').create({});
          if (!isMethod(made) && made.family === 'exact') exact = made;
        } catch (e) {
          if (exactMode === 'always') throw e;
        }
        if (exact === undefined && exactMode === 'always') {
          throw emError('UNKNOWN_ESTEP', ['options', 'eStepOptions', 'exactLogLikelihood'], 'always', 'needs an exact factor-graph E-step', 'import @emlab/exact, or pass exactLogLikelihood: never');
        }
      }
      const exactState = exact?.start?.({ rng: ctx.rng.child('exact'), restart: ctx.restart, structure: ctx.structure });
      return { warm: new Map(), exact, exactState };
    },
    async run(structure, ctx) {
      const state = ctx.state;
      const index = factorIndex(structure.spec);
      const ev = structure.evidence;
      const nv = ev.nVariables;
      const logPhi = structure.factorTables.map((t) => t.map((x) => Math.log(x)));
      let q = state.warm.get(ev);
      const first = q === undefined;
      if (q === undefined) {
        q = new Float64Array(ev.nPatterns * index.qSize);
        for (let p = 0; p < ev.nPatterns; p++) uniform(q.subarray(p * index.qSize, (p + 1) * index.qSize), index.cards, index.offsets);
        state.warm.set(ev, q);
      }
      const scratch = meanFieldScratch(index);
      const familyCounts = index.families.map((f) => new Float64Array(f.size));
      let bound = 0;
      let entropy = 0;
      let sweeps = 0;
      let most = 0;
      let unconverged = 0;
      let visited = 0;
      const pause = yielder();
      for (let p = 0; p < ev.nPatterns; p++) {
        const m = ev.counts[p] as number;
        if (m === 0) continue;
        if (ctx.signal?.aborted) throw new EmError('ABORTED', 'the E-step was aborted', { path: ['options', 'signal'] });
        const qp = q.subarray(p * index.qSize, (p + 1) * index.qSize);
        if (!warmStart && !first) uniform(qp, index.cards, index.offsets);
        const nh = clampEvidence(index, ev.values.subarray(p * nv, (p + 1) * nv), qp, scratch);
        const r = nh === 0 ? { sweeps: 0, converged: true } : meanFieldSweeps(index, logPhi, qp, nh, settings, scratch);
        const a = meanFieldAccount(index, logPhi, qp, nh, scratch, m, familyCounts);
        bound += m * (a.expectedLog + a.entropy);
        entropy += m * a.entropy;
        sweeps += r.sweeps;
        most = Math.max(most, r.sweeps);
        if (!r.converged) unconverged++;
        visited++;
        await pause();
      }
      bound += (structure.logConstant ?? 0) * ev.totalWeight;
      let logLikelihood: number | undefined;
      let exactMs: number | undefined;
      if (state.exact !== undefined && (exactMode === 'always' || eliminationCost(structure.spec) * ev.nPatterns <= budget)) {
        const t0 = performance.now();
        const e = await state.exact.run(structure, { ...ctx, state: state.exactState, precision: 'float64' });
        exactMs = performance.now() - t0;
        logLikelihood = e.logLikelihood;
      }
      return {
        stats: structure.stats(familyCounts),
        bound,
        entropy,
        ...(logLikelihood === undefined ? {} : { logLikelihood }),
        diagnostics: { sweeps: visited === 0 ? 0 : sweeps / visited, maxSweeps: most, unconverged, ...(exactMs === undefined ? {} : { exactMs }) },
        ...(warmStart || first ? {} : { exempt: 'mean field restarted from uniform q (warmStart: false): the E-half need not raise L' }),
      };
    },
    dispose(state) {
      state.warm.clear();
      if (state.exact?.start !== undefined) state.exact.dispose?.(state.exactState);
    },
  };
}

registerEStep({
  kind: 'factor-graph',
  method: 'mean-field',
  family: 'restricted',
  description: 'mean field: fully factorized q per distinct evidence pattern, coordinate ascent warm-started from the last iteration (host float64)',
  options: MEAN_FIELD_OPTIONS,
  create: (options) => meanFieldEStep((options ?? {}) as MeanFieldOptions),
});
