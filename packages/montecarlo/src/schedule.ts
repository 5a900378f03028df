/**
 * Monte Carlo sample sizes per MCEM iteration.
 *
 * | schedule | m_t | why |
 * |---|---|---|
 * | `constant` | nDraws | Wei & Tanner's original; the iterates then fluctuate around the fixed point with a spread ∝ 1/√m forever |
 * | `linear` | nDraws + increment · (t − 1) | slowly shrinking noise; Σ 1/m_t diverges, so convergence is in probability only |
 * | `geometric` | ⌈nDraws · ratio^(t−1)⌉ | Σ 1/m_t < ∞: almost-sure convergence (Fort & Moulines 2003); cost grows fast |
 * | `auto` | grown by the ascent rule (Caffo, Jank & Jones 2005) | draws are added only when ΔQ cannot be told from noise |
 * | a function | f(t) | anything else (an integer ≥ 1 per iteration) |
 *
 * Every schedule is capped at `maxDraws`.
 *
 * @see Wei, G. C. G. & Tanner, M. A. (1990). A Monte Carlo implementation of the EM algorithm and the poor man's data augmentation algorithms. JASA 85, 699–704.
 * @see Fort, G. & Moulines, E. (2003). Convergence of the Monte Carlo expectation maximization for curved exponential families. Annals of Statistics 31, 1220–1259.
 * @see Caffo, B. S., Jank, W. & Jones, G. L. (2005). Ascent-based Monte Carlo expectation–maximization. JRSS B 67, 235–251.
 * @module
 */
import { emError } from '@emlab/core';

/** The named schedules. @category Schedules */
export const SCHEDULES = ['constant', 'linear', 'geometric', 'auto'] as const;

/** A sample-size schedule: a name, or m_t as a function of the 1-based iteration t. @category Schedules */
export type SampleSizeSchedule = (typeof SCHEDULES)[number] | ((iteration: number) => number);

/** The numbers a schedule uses. @category Schedules */
export interface ScheduleParameters {
  /** m_1 (and every m_t of `constant`). */
  readonly nDraws: number;
  /** m_{t+1} − m_t of `linear`. */
  readonly increment: number;
  /** m_{t+1} / m_t of `geometric`. */
  readonly ratio: number;
  /** Upper limit of every m_t. */
  readonly maxDraws: number;
}

/**
 * m_t for a named or functional schedule (`auto` returns its starting size `nDraws`; the ascent rule grows it).
 * @throws EmError `INVALID_ARGUMENT` when a schedule function returns something other than an integer ≥ 1.
 * @category Schedules
 */
export function scheduledDraws(schedule: SampleSizeSchedule, iteration: number, p: ScheduleParameters): number {
  let m: number;
  if (typeof schedule === 'function') {
    m = schedule(iteration);
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 1) {
      throw emError('INVALID_ARGUMENT', ['options', 'schedule'], m, `returned ${String(m)} at iteration ${iteration}: a schedule must return an integer >= 1`, 'return a positive integer number of draws');
    }
  } else if (schedule === 'linear') {
    m = p.nDraws + p.increment * (iteration - 1);
  } else if (schedule === 'geometric') {
    m = Math.ceil(p.nDraws * Math.pow(p.ratio, iteration - 1) - 1e-9);
  } else {
    m = p.nDraws;
  }
  return Math.min(m, p.maxDraws);
}

/** Checks a `schedule` option value. @internal */
export function checkSchedule(value: unknown, path: readonly (string | number)[]): SampleSizeSchedule {
  if (typeof value === 'function') return value as (t: number) => number;
  if (typeof value === 'string' && (SCHEDULES as readonly string[]).includes(value)) return value as SampleSizeSchedule;
  throw emError('INVALID_ARGUMENT', path, value, `must be one of ${SCHEDULES.join(', ')} or a function (iteration) => draws`, "pass schedule: 'auto' (the ascent rule) or 'geometric'");
}
