/**
 * Running an E-step outside `fit` (unit tests, the conformance kit): its
 * whole lifecycle — `start`, one `run` with a full context, `dispose`.
 * @module
 */
import { createRng, type EStep, type EStepContext, type EStepResult, type LatentStructure, type Rng } from '@emlab/core';

/** Context fields a test may set; the rest get defaults (`rng` seed 0, iteration 1, passes 0, the structure's precision). @category Testing */
export interface RunEStepOptions {
  readonly rng?: Rng;
  readonly iteration?: number;
  readonly passes?: number;
  readonly signal?: AbortSignal;
}

/**
 * Starts an E-step on `structure`, runs it once and disposes its state (also when `run` throws).
 * @example
 * ```ts
 * const e = await runEStep(exactEStep(), tableStructure(table), { rng: createRng(1) });
 * ```
 * @category Testing
 */
export async function runEStep<L extends LatentStructure>(eStep: EStep<L>, structure: L, options: RunEStepOptions = {}): Promise<EStepResult> {
  const rng = options.rng ?? createRng(0);
  const state = eStep.start?.({ rng: rng.child('estep-start'), restart: 0, structure });
  try {
    const ctx: EStepContext = {
      rng,
      iteration: options.iteration ?? 1,
      passes: options.passes ?? 0,
      state,
      precision: structure.precision ?? 'float64',
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    return await eStep.run(structure, ctx);
  } finally {
    if (eStep.start !== undefined) eStep.dispose?.(state);
  }
}
