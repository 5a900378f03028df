/**
 * Shared fixtures of the restricted-E-step tests: seeded Gaussian-mixture data,
 * a table-structure runner that keeps an E-step's state across calls, and
 * trace checks used by every method.
 */
import { expect } from 'vitest';
import { createRng, monotonicityTolerance, type EStep, type FitResult, type IterationRecord, type LatentStructure } from '@emlab/core';
import { makeGaussianMixture } from '@emlab/data';

/** A seeded mixture sample as a dense matrix. */
export function mixtureData(seed: number, n = 400, k = 3, d = 2, separation = 2.5): { values: Float64Array; rows: number; cols: number } {
  const g = makeGaussianMixture({ nSamples: n, nComponents: k, nFeatures: d, seed, separation });
  return { values: Float64Array.from(g.x), rows: g.rows, cols: g.cols };
}

/** Rows of a dense matrix. */
export function rowsOf(x: { values: ArrayLike<number>; rows: number; cols: number }): number[][] {
  return Array.from({ length: x.rows }, (_, r) => Array.from({ length: x.cols }, (_, c) => x.values[r * x.cols + c] as number));
}

/** An E-step driven by hand across calls (state kept), like `fit` does. */
export function driver<L extends LatentStructure, St>(eStep: EStep<L, St>, first: L, seed = 0): { run(structure: L): ReturnType<EStep<L, St>['run']>; dispose(): void; readonly state: St } {
  const rng = createRng(seed);
  const state = eStep.start?.({ rng: rng.child('estep-start'), restart: 0, structure: first }) as St;
  let t = 0;
  let passes = 0;
  return {
    state,
    run(structure: L) {
      t++;
      const r = eStep.run(structure, { rng: rng.child('iter', t), iteration: t, passes, state, precision: structure.precision ?? 'float64' });
      passes += 1;
      return r;
    },
    dispose() {
      eStep.dispose?.(state);
    },
  };
}

/** Every half-step that is not exempt is monotone within the float64 tolerance (fit checked it; this re-checks the trace). */
export function expectMonotone(trace: readonly IterationRecord[], totalWeight: number): void {
  trace.forEach((rec, i) => {
    expect(rec.violations).toEqual([]);
    const tolM = monotonicityTolerance(rec.boundAfterE, rec.boundAfterM, totalWeight, rec.roundoffScale, rec.precision) + rec.mStepSlack;
    expect(rec.boundAfterM).toBeGreaterThanOrEqual(rec.boundAfterE - tolM);
    const prev = trace[i - 1];
    if (prev !== undefined && rec.exempt === undefined && !prev.events.some((e) => e.type === 'reinitialized')) {
      const tolE = monotonicityTolerance(prev.boundAfterM, rec.boundAfterE, totalWeight, Math.max(prev.roundoffScale, rec.roundoffScale), rec.precision);
      expect(rec.boundAfterE).toBeGreaterThanOrEqual(prev.boundAfterM - tolE);
    }
  });
}

/** bound ≤ log p(x | θ) wherever the E-step reported the log-likelihood (gap ≥ −tolerance). */
export function expectBelowLogLikelihood(trace: readonly IterationRecord[], totalWeight: number): void {
  for (const rec of trace) {
    if (rec.logLikelihood === null) continue;
    expect(rec.gap).not.toBeNull();
    expect(rec.gap as number).toBeGreaterThanOrEqual(-monotonicityTolerance(rec.logLikelihood, rec.boundAfterE, totalWeight, 0, rec.precision));
  }
}

/** Two results of the same fit agree exactly (timings aside). */
export function expectSameFit(a: FitResult, b: FitResult): void {
  expect(b.params).toEqual(a.params);
  expect(b.trace.map((r) => [r.boundAfterE, r.boundAfterM, r.passes, r.exempt ?? '', r.unsettled ?? ''])).toEqual(a.trace.map((r) => [r.boundAfterE, r.boundAfterM, r.passes, r.exempt ?? '', r.unsettled ?? '']));
}
