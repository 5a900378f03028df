/**
 * Plain EM as an {@link Accelerator}: θ → F(θ), one map call per step; the baseline the schemes are measured against.
 *
 * @module
 */
import type { Accelerator } from './accelerator.js';
import { emResult, fixedPointResult, moved, plainStep, startAt } from './step-helpers.js';

/**
 * The identity accelerator: every step is one plain EM step (one map call).
 *
 * @example
 * ```ts
 * const em = plainEm();
 * let s = await em.start(theta0, map);
 * while (!done(s)) s = await em.step(s, map);
 * ```
 * @category Acceleration
 */
export function plainEm(): Accelerator<null> {
  return {
    name: 'em',
    options: {},
    start: (theta, map) => startAt(theta, map, null),
    async step(state, map) {
      const s = await plainStep(state, map);
      return moved(s) ? emResult(s, null) : fixedPointResult(state, null);
    },
  };
}
