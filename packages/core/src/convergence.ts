/**
 * Convergence policies: when does a fit stop, and what does `converged: true` promise?
 *
 * A policy looks at the trace of one restart (one record per completed pass
 * over the data) and says whether the fit is at its optimum to the policy's
 * tolerance. Built in:
 *
 * | name | stops when | scale |
 * |---|---|---|
 * | `aitken` (default) | the Aitken-extrapolated remaining gain L∞ − L_t and the last change are both ≤ tol · max(\|L\|, W) | relative (per row below 1 nat/row) |
 * | `absolute` | \|L_t − L_{t−1}\| / W ≤ tol (scikit-learn's rule on the mean bound per row) | nats per row |
 * | `relative` | \|L_t − L_{t−1}\| / \|L_t\| ≤ tol | relative |
 * | `params` | the extrapolated remaining parameter change ‖θ∞ − θ_t‖∞ / (1 + ‖θ_t‖∞) ≤ tol, in the model's parametrization | relative |
 * | `gradient` | ‖∇_θ L / W‖₂ ≤ tol (Fisher's identity: the gradient of the log-likelihood for exact E-steps) | per row |
 * | `monte-carlo` | means of the last two windows of 5 passes differ by ≤ tol · max(\|L\|, W) or by ≤ 2 standard errors | relative |
 * | `accelerated` | max(\|ΔL\|, g/(1 − r²)) ≤ tol · max(\|L\|, W), g and r the gain and rate of one plain EM step from the current point (the default of accelerated EM) | relative |
 *
 * W is the total row weight (N for unweighted data). Why `aitken` is the
 * default: EM converges linearly, L_t → L∞ with L∞ − L_t ≈ ΔL_t · r/(1 − r)
 * for the rate r = ΔL_t/ΔL_{t−1}; a rule on ΔL alone stops slowly converging
 * fits (r ≈ 0.95–0.999, e.g. heavy missingness) far from the optimum, and the
 * extrapolated gain does not (Böhning et al. 1994; McNicholas et al. 2010).
 * Its default tol = 1e-10 makes the reported L accurate to about 1e-10
 * relative when the arithmetic allows it (float64, or precision `auto`).
 *
 * Every policy also refuses to report convergence while the bound is falling
 * (a last change below −the monotonicity tolerance), and reports a *floor*
 * when the changes are below the arithmetic's resolution (float32 roundoff):
 * `fit` then switches to float64 (precision `auto`) or stops with reason
 * `noise-floor` and `converged: false`.
 *
 * @see Böhning, D., Dietz, E., Schaub, R., Schlattmann, P. & Lindsay, B. G. (1994). The distribution of the likelihood ratio for mixtures of densities from the one-parameter exponential family.
 * @see McNicholas, P. D., Murphy, T. B., McDaid, A. F. & Frost, D. (2010). Serial and parallel implementations of model-based clustering via parsimonious Gaussian mixture models.
 * @module
 */
import { emError } from './errors.js';
import type { MethodFamily } from './estep.js';
import { unitRoundoff, type Precision } from './precision.js';
import type { IterationRecord } from './result.js';
import { monotonicityTolerance } from './tolerance.js';

/** What a policy sees after each pass. @category Convergence */
export interface ConvergenceInput {
  /** One record per completed pass of this restart (the last one is the newest). */
  readonly trace: readonly IterationRecord[];
  /** W: the total row weight (N when unweighted). */
  readonly totalWeight: number;
  /** Precision of the newest record. */
  readonly precision: Precision;
  readonly family: MethodFamily;
  /** θ at the last two pass ends (and the one before when available) in the model's parametrization; undefined without one. */
  parameterHistory(): readonly Float64Array[] | undefined;
  /** ‖∇_θ L / W‖₂ at the newest parameters (from the last statistics), or undefined when the model has no parametrization. */
  gradientNorm(): number | undefined;
}

/** A policy's answer. @category Convergence */
export interface ConvergenceVerdict {
  readonly converged: boolean;
  /** The quantity compared with `threshold` (recorded in the trace). NaN when not yet computable. */
  readonly value: number;
  readonly threshold: number;
  /** The change is below what the precision resolves: the policy cannot decide in this arithmetic. */
  readonly floor?: boolean;
}

/** A stopping rule. @category Convergence */
export interface ConvergencePolicy {
  readonly name: string;
  readonly tol: number;
  /** One line on what is compared (recorded in results). */
  readonly description: string;
  check(input: ConvergenceInput): ConvergenceVerdict;
}

/** The built-in policy names. @category Convergence */
export type ConvergencePolicyName = 'aitken' | 'absolute' | 'relative' | 'params' | 'gradient' | 'monte-carlo' | 'accelerated';

/** The built-in names. @category Convergence */
export const CONVERGENCE_POLICIES: readonly ConvergencePolicyName[] = ['aitken', 'absolute', 'relative', 'params', 'gradient', 'monte-carlo', 'accelerated'];

/** Default tolerance of each built-in policy. @category Convergence */
export const DEFAULT_TOL: Readonly<Record<ConvergencePolicyName, number>> = {
  aitken: 1e-10,
  // Ten times tighter than aitken: near the optimum accelerated steps are cheap, and on the slow
  // problems of benchmarks/accel-speed.mjs this stops every accelerator at least as close to the
  // optimum as plain EM's default stop.
  accelerated: 1e-11,
  absolute: 1e-3,
  relative: 1e-8,
  params: 1e-6,
  gradient: 1e-5,
  'monte-carlo': 1e-6,
};

const MC_WINDOW = 5;
const NOT_YET: ConvergenceVerdict = { converged: false, value: Number.NaN, threshold: Number.NaN };

function lastTwo(trace: readonly IterationRecord[]): [IterationRecord, IterationRecord] | undefined {
  const n = trace.length;
  if (n < 2) return undefined;
  return [trace[n - 2] as IterationRecord, trace[n - 1] as IterationRecord];
}

/** The bound is falling beyond roundoff, or the last half-steps broke the monotonicity check: never "converged". */
function falling(prev: IterationRecord, last: IterationRecord, input: ConvergenceInput): boolean {
  if (input.family === 'monte-carlo') return false;
  if (last.violations.length > 0) return true;
  const drop = prev.boundAfterM - last.boundAfterM;
  return drop > monotonicityTolerance(prev.boundAfterM, last.boundAfterM, input.totalWeight, 0, input.precision);
}

/**
 * The smallest change of L the arithmetic resolves: 64 u max(|L|, W) in float32 (the monotonicity
 * tolerance: float32 statistics carry that much noise), 4 u max(|L|, W) in float64 (float64 bounds
 * are computed to a few ulps).
 */
export function noiseFloor(before: number, after: number, totalWeight: number, precision: Precision): number {
  const scale = Math.max(Math.abs(before), Math.abs(after), totalWeight);
  return precision === 'float32' ? monotonicityTolerance(before, after, totalWeight, 0, 'float32') : 4 * unitRoundoff('float64') * scale;
}

/** |ΔL| at or below the arithmetic's resolution of L. */
function atFloor(prev: IterationRecord, last: IterationRecord, input: ConvergenceInput): boolean {
  return Math.abs(last.boundAfterM - prev.boundAfterM) <= noiseFloor(prev.boundAfterM, last.boundAfterM, input.totalWeight, input.precision);
}

/**
 * The verdict from a policy's value. At the arithmetic's floor, float32 cannot tell convergence from
 * noise (a change of exactly 0 is common there): the verdict is `floor`, so precision `auto` moves on
 * to float64; in float64 the floor is the end of what any arithmetic resolves, so the value decides.
 */
function decide(value: number, tol: number, prev: IterationRecord, last: IterationRecord, input: ConvergenceInput): ConvergenceVerdict {
  const floorHit = atFloor(prev, last, input);
  const converged = value <= tol && !falling(prev, last, input) && !(floorHit && input.precision === 'float32');
  return { converged, value, threshold: tol, ...(!converged && floorHit ? { floor: true } : {}) };
}

function changePolicy(name: 'absolute' | 'relative', tol: number): ConvergencePolicy {
  return {
    name,
    tol,
    description: name === 'absolute' ? `|ΔL| / W ≤ ${tol} (mean bound per row)` : `|ΔL| / |L| ≤ ${tol}`,
    check(input) {
      const pair = lastTwo(input.trace);
      if (pair === undefined) return NOT_YET;
      const [prev, last] = pair;
      const scale = name === 'absolute' ? input.totalWeight : Math.abs(last.boundAfterM);
      const value = Math.abs(last.boundAfterM - prev.boundAfterM) / scale;
      return decide(value, tol, prev, last, input);
    },
  };
}

function aitkenPolicy(tol: number): ConvergencePolicy {
  return {
    name: 'aitken',
    tol,
    description: `Aitken-extrapolated remaining gain and last change ≤ ${tol} · max(|L|, W)`,
    check(input) {
      const t = input.trace;
      const pair = lastTwo(t);
      if (pair === undefined) return NOT_YET;
      const [prev, last] = pair;
      const scale = Math.max(Math.abs(last.boundAfterM), input.totalWeight);
      const d1 = last.boundAfterM - prev.boundAfterM;
      let remaining = Math.abs(d1);
      if (t.length >= 3) {
        const d0 = prev.boundAfterM - (t[t.length - 3] as IterationRecord).boundAfterM;
        const a = d1 / d0;
        // Linear convergence: L∞ − L_t = d1 · a / (1 − a). Outside [0, 1) the sequence is not (yet)
        // in its linear regime: the remaining gain cannot be bounded, so only a change at the floor counts.
        remaining = d1 === 0 ? 0 : a >= 0 && a < 1 ? Math.max(Math.abs(d1), (Math.abs(d1) * a) / (1 - a)) : Number.POSITIVE_INFINITY;
      } else {
        remaining = Number.POSITIVE_INFINITY;
      }
      // Below the resolution of L, a is noise: the fit has reached what this arithmetic can tell.
      if (atFloor(prev, last, input) && !Number.isFinite(remaining)) remaining = Math.abs(d1);
      return decide(remaining / scale, tol, prev, last, input);
    },
  };
}

/**
 * For accelerated EM (`acceleratedMethod`), whose steps mix extrapolations and plain EM steps, so
 * that the ratio of successive changes of L says nothing about what remains. Each record carries the
 * plain EM step from the point it started at: its gain g = ℓ(F(θ_t)) − ℓ(θ_t) and its rate
 * r = ‖F(F(θ_t)) − F(θ_t)‖ / ‖F(θ_t) − θ_t‖ (diagnostics `emGain`, `emRate`). Plain EM from θ_t
 * would still gain about g / (1 − r²) (gains shrink by r² per step in its slowest direction), which
 * bounds what remains; the policy compares max(|ΔL|, g / (1 − r²)) with tol · max(|L|, W), r the
 * largest rate (below 1) of the restart so far. Records without those diagnostics are judged like `aitken`.
 */
function acceleratedPolicy(tol: number): ConvergencePolicy {
  const fallback = aitkenPolicy(tol);
  return {
    name: 'accelerated',
    tol,
    description: `remaining gain max(|ΔL|, g/(1 − r²)) ≤ ${tol} · max(|L|, W), g and r the gain and rate of one plain EM step (accelerated EM)`,
    check(input) {
      const pair = lastTwo(input.trace);
      if (pair === undefined) return NOT_YET;
      const [prev, last] = pair;
      const g = last.diagnostics['emGain'];
      if (g === undefined || last.diagnostics['emRate'] === undefined) return fallback.check(input);
      // The slowest rate seen so far: the rate at one point underestimates EM's asymptotic rate
      // when the step there is not yet along the slowest direction.
      let r = 0;
      for (const rec of input.trace) {
        const x = rec.diagnostics['emRate'];
        if (x !== undefined && x < 1 && x > r) r = x;
      }
      const scale = Math.max(Math.abs(last.boundAfterM), input.totalWeight);
      // A gain below the arithmetic's resolution of L is no gain: plain EM could not show more progress either.
      const em = g <= noiseFloor(last.boundAfterE, last.boundAfterE + g, input.totalWeight, input.precision) ? 0 : r < 1 ? g / (1 - r * r) : Number.POSITIVE_INFINITY;
      return decide(Math.max(Math.abs(last.boundAfterM - prev.boundAfterM), em) / scale, tol, prev, last, input);
    },
  };
}

function paramsPolicy(tol: number): ConvergencePolicy {
  return {
    name: 'params',
    tol,
    description: `extrapolated remaining ‖Δθ‖∞ / (1 + ‖θ‖∞) ≤ ${tol} in the model's parametrization`,
    check(input) {
      const pair = lastTwo(input.trace);
      if (pair === undefined) return NOT_YET;
      const h = input.parameterHistory();
      if (h === undefined) {
        throw emError('INVALID_ARGUMENT', ['options', 'convergence'], 'params', 'needs a model with a parametrization (Model.parametrization)', "use convergence: 'aitken' or give the model a parametrization");
      }
      if (h.length < 2) return NOT_YET;
      const cur = h[h.length - 1] as Float64Array;
      const prev = h[h.length - 2] as Float64Array;
      let step = 0;
      let size = 0;
      for (let i = 0; i < cur.length; i++) {
        step = Math.max(step, Math.abs((cur[i] as number) - (prev[i] as number)));
        size = Math.max(size, Math.abs(cur[i] as number));
      }
      let remaining = step;
      if (h.length >= 3) {
        const older = h[h.length - 3] as Float64Array;
        let before = 0;
        for (let i = 0; i < cur.length; i++) before = Math.max(before, Math.abs((prev[i] as number) - (older[i] as number)));
        const r = before > 0 ? step / before : 0;
        remaining = r < 1 ? step / (1 - r) : Number.POSITIVE_INFINITY;
      }
      const value = remaining / (1 + size);
      const [p, l] = pair;
      return { converged: value <= tol && !falling(p, l, input), value, threshold: tol };
    },
  };
}

function gradientPolicy(tol: number): ConvergencePolicy {
  return {
    name: 'gradient',
    tol,
    description: `‖∇θ L / W‖₂ ≤ ${tol} in the model's parametrization`,
    check(input) {
      const pair = lastTwo(input.trace);
      if (pair === undefined) return NOT_YET;
      const g = input.gradientNorm();
      if (g === undefined) {
        throw emError('INVALID_ARGUMENT', ['options', 'convergence'], 'gradient', 'needs a model with a parametrization (Model.parametrization)', "use convergence: 'aitken' or give the model a parametrization");
      }
      const [p, l] = pair;
      return { converged: g <= tol && !falling(p, l, input), value: g, threshold: tol };
    },
  };
}

function monteCarloPolicy(tol: number): ConvergencePolicy {
  return {
    name: 'monte-carlo',
    tol,
    description: `means of the last two windows of ${MC_WINDOW} passes differ by ≤ ${tol} · max(|L|, W) or ≤ 2 standard errors`,
    check(input) {
      const trace = input.trace;
      const t = trace.length;
      if (t < 2 * MC_WINDOW) return NOT_YET;
      const window = (from: number): { mean: number; se2: number } => {
        let mean = 0;
        let se2 = 0;
        for (let i = from; i < from + MC_WINDOW; i++) {
          const rec = trace[i] as IterationRecord;
          mean += rec.boundAfterM / MC_WINDOW;
          se2 += (rec.boundStdErr ?? 0) ** 2 / (MC_WINDOW * MC_WINDOW);
        }
        return { mean, se2 };
      };
      const a = window(t - 2 * MC_WINDOW);
      const b = window(t - MC_WINDOW);
      const diff = Math.abs(b.mean - a.mean);
      const threshold = Math.max(tol * Math.max(Math.abs(a.mean), input.totalWeight), 2 * Math.sqrt(a.se2 + b.se2));
      return { converged: diff <= threshold, value: diff, threshold };
    },
  };
}

/**
 * A built-in policy by name.
 * @param tol - its tolerance (default {@link DEFAULT_TOL}); 0 never converges (runs `maxIter`).
 * @throws EmError `INVALID_ARGUMENT` for an unknown name or a bad tol.
 * @category Convergence
 */
export function convergencePolicy(name: ConvergencePolicyName, tol?: number): ConvergencePolicy {
  if (!CONVERGENCE_POLICIES.includes(name)) {
    throw emError('INVALID_ARGUMENT', ['options', 'convergence'], name, 'is not a convergence policy', `use one of ${CONVERGENCE_POLICIES.join(', ')} or a ConvergencePolicy object`);
  }
  const t = tol ?? DEFAULT_TOL[name];
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
    throw emError('INVALID_ARGUMENT', ['options', 'tol'], t, 'must be a finite number >= 0', `pass e.g. tol: ${DEFAULT_TOL[name]} (0 runs exactly maxIter iterations)`);
  }
  switch (name) {
    case 'aitken':
      return aitkenPolicy(t);
    case 'accelerated':
      return acceleratedPolicy(t);
    case 'absolute':
    case 'relative':
      return changePolicy(name, t);
    case 'params':
      return paramsPolicy(t);
    case 'gradient':
      return gradientPolicy(t);
    case 'monte-carlo':
      return monteCarloPolicy(t);
  }
}

/** Whether a value is a {@link ConvergencePolicy} object. @category Convergence */
export function isConvergencePolicy(v: unknown): v is ConvergencePolicy {
  return typeof v === 'object' && v !== null && typeof (v as ConvergencePolicy).check === 'function' && typeof (v as ConvergencePolicy).name === 'string';
}
