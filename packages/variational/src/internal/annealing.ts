/**
 * The β schedule of deterministic annealing (Ueda & Nakano 1998), shared by
 * the tempered E-steps of every structure kind: a list of inverse
 * temperatures rising to 1, each held until the free energy F_β settles or
 * for at most `itersPerBeta` iterations; β = 1 is held for good.
 * @internal
 * @module
 */
import { emError } from '@emlab/core';

/** The checked schedule. */
export interface AnnealingSchedule {
  /** Strictly increasing, in (0, 1], the last one 1. */
  readonly betas: readonly number[];
  readonly itersPerBeta: number;
  readonly stageTol: number;
}

/** Where a restart is in its schedule (the E-step's state). */
export interface AnnealingState {
  stage: number;
  /** Iterations run at the current stage. */
  iterations: number;
  /** F_β of the previous iteration at this stage (undefined at the stage's first). */
  lastFreeEnergy: number | undefined;
  /** Whether F_β settled at the last iteration (move on at the next call). */
  settled: boolean;
}

/**
 * The list of β from options: `betas` as given (1 appended when absent), else β₀, β₀·g, β₀·g², …
 * capped at 1.
 * @throws EmError `INVALID_ARGUMENT` for a list that does not increase strictly within (0, 1].
 */
export function betaList(beta0: number, growth: number, betas: readonly number[] | undefined, path: readonly (string | number)[]): number[] {
  if (betas !== undefined) {
    const out = [...betas];
    out.forEach((b, i) => {
      if (!(b > 0 && b <= 1) || (i > 0 && !(b > (out[i - 1] as number)))) {
        throw emError('INVALID_ARGUMENT', [...path, 'betas', i], b, 'must be in (0, 1] and larger than the β before it', 'pass a strictly increasing list of inverse temperatures in (0, 1], e.g. [0.1, 0.3, 0.6]');
      }
    });
    if (out[out.length - 1] !== 1) out.push(1);
    return out;
  }
  const out: number[] = [];
  for (let b = beta0; b < 1; b *= growth) out.push(b);
  out.push(1);
  return out;
}

/** A fresh state at the first β. */
export function startAnnealing(): AnnealingState {
  return { stage: 0, iterations: 0, lastFreeEnergy: undefined, settled: false };
}

/**
 * The β of this call: moves to the next stage when the last one settled or ran `itersPerBeta`
 * iterations (never past β = 1). Returns β, and the previous β when it changed.
 */
export function nextBeta(schedule: AnnealingSchedule, state: AnnealingState): { beta: number; stage: number; from?: number } {
  const last = schedule.betas.length - 1;
  if (state.iterations > 0 && state.stage < last && (state.settled || state.iterations >= schedule.itersPerBeta)) {
    const from = schedule.betas[state.stage] as number;
    state.stage++;
    state.iterations = 0;
    state.lastFreeEnergy = undefined;
    state.settled = false;
    return { beta: schedule.betas[state.stage] as number, stage: state.stage, from };
  }
  return { beta: schedule.betas[state.stage] as number, stage: state.stage };
}

/** Records this iteration's F_β (W the total row weight): the stage settles when |ΔF_β| ≤ stageTol · max(|F_β|, W). */
export function observeFreeEnergy(schedule: AnnealingSchedule, state: AnnealingState, freeEnergy: number, totalWeight: number): void {
  const prev = state.lastFreeEnergy;
  state.iterations++;
  state.lastFreeEnergy = freeEnergy;
  state.settled = prev !== undefined && Math.abs(freeEnergy - prev) <= schedule.stageTol * Math.max(Math.abs(freeEnergy), totalWeight);
}
