/**
 * Shared by the HMM tests: seeded random true parameters for every emission
 * family, data drawn from them, and NaN masks.
 */
import { createRng, type Rng } from '@emlab/core';
import { hiddenMarkovModel, type HiddenMarkovModelOptions, type HmmParams } from '@emlab/models';

/** A random distribution (Dirichlet(1) by normalized exponentials), floored so nothing is tiny. */
export function randomDistribution(rng: Rng, n: number, floor = 0.05): number[] {
  const e = Array.from({ length: n }, () => floor - Math.log(1 - rng.uniform()));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Sticky random transitions: diagonal ≥ 0.6. */
export function stickyTransitions(rng: Rng, k: number): number[][] {
  return Array.from({ length: k }, (_, i) => {
    if (k === 1) return [1];
    const off = randomDistribution(rng, k - 1).map((v) => v * 0.3);
    const row: number[] = [];
    let j = 0;
    for (let c = 0; c < k; c++) row.push(c === i ? 0 : (off[j++] as number));
    const rest = row.reduce((a, b) => a + b, 0);
    row[i] = 1 - rest;
    return row;
  });
}

export type Family = 'gaussian-full' | 'gaussian-diag' | 'gaussian-spherical' | 'gaussian-tied' | 'gmm' | 'poisson' | 'categorical';
export const FAMILIES: readonly Family[] = ['gaussian-full', 'gaussian-diag', 'gaussian-spherical', 'gaussian-tied', 'gmm', 'poisson', 'categorical'];

/** Model options for a family. */
export function optionsOf(family: Family, k: number, extra: Partial<HiddenMarkovModelOptions> = {}): HiddenMarkovModelOptions {
  if (family.startsWith('gaussian')) return { nStates: k, emission: 'gaussian', covarianceType: family.slice(9) as 'full', ...extra };
  if (family === 'gmm') return { nStates: k, emission: 'gmm', nMix: 2, covarianceType: 'diag', ...extra };
  if (family === 'poisson') return { nStates: k, emission: 'poisson', ...extra };
  return { nStates: k, emission: 'categorical', nCategories: [4, 3], ...extra };
}

/** Seeded true parameters of a family with K states and D = 2 columns, states well apart. */
export function trueParams(family: Family, k: number, seed: number | string): HmmParams {
  const rng = createRng(seed).child('truth', family);
  const initial = randomDistribution(rng, k);
  const transition = stickyTransitions(rng, k);
  const d = 2;
  const cov = (type: string): number[][] => {
    if (type === 'spherical') {
      const v = 0.3 + rng.uniform();
      return [[v, 0], [0, v]];
    }
    if (type === 'diag') return [[0.3 + rng.uniform(), 0], [0, 0.3 + rng.uniform()]];
    const a = 0.3 + rng.uniform();
    const b = 0.3 + rng.uniform();
    const c = (rng.uniform() - 0.5) * Math.sqrt(a * b);
    return [[a, c], [c, b]];
  };
  if (family.startsWith('gaussian')) {
    const type = family.slice(9);
    const shared = cov('full');
    return {
      initial,
      transition,
      emission: {
        type: 'gaussian',
        covarianceType: type,
        means: Array.from({ length: k }, (_, s) => Array.from({ length: d }, (_, j) => 4 * s * (j === 0 ? 1 : -0.5) + rng.normal() * 0.3)),
        covariances: Array.from({ length: k }, () => (type === 'tied' ? shared.map((r) => [...r]) : cov(type))),
      },
    } as HmmParams;
  }
  if (family === 'gmm') {
    return {
      initial,
      transition,
      emission: {
        type: 'gmm',
        covarianceType: 'diag',
        weights: Array.from({ length: k }, () => randomDistribution(rng, 2, 0.5)),
        means: Array.from({ length: k }, (_, s) => [[6 * s, 0], [6 * s + 1.5, 1.5]]),
        covariances: Array.from({ length: k }, () => [cov('diag'), cov('diag')]),
      },
    } as HmmParams;
  }
  if (family === 'poisson') {
    return { initial, transition, emission: { type: 'poisson', rates: Array.from({ length: k }, (_, s) => [1 + 5 * s + rng.uniform(), 8 - 2 * s + rng.uniform()]) } } as HmmParams;
  }
  return {
    initial,
    transition,
    emission: { type: 'categorical', probabilities: Array.from({ length: k }, (_, s) => [4, 3].map((c) => rotate(randomDistribution(rng, c, 0.1), s))) },
  } as HmmParams;
}

/** Rotates a distribution by s places (so states differ). */
function rotate(p: number[], s: number): number[] {
  return p.map((_, i) => p[(i + s) % p.length] as number);
}

/** Data drawn from a family's true parameters: `{ x, lengths }`. */
export function drawData(family: Family, k: number, lengths: readonly number[], seed: number | string): { x: number[][]; lengths: number[]; states: number[] } {
  const model = hiddenMarkovModel(optionsOf(family, k));
  const s = model.sample(trueParams(family, k, seed) as never, lengths, seed);
  return { x: s.x, lengths: s.lengths, states: s.states };
}

/** Masks cells as NaN in place with probability `rate` (seeded); `fullRows` rows become fully missing. */
export function maskCells(x: number[][], rate: number, seed: number | string, fullRows = 0): number[][] {
  const rng = createRng(seed).child('mask');
  for (const row of x) for (let j = 0; j < row.length; j++) if (rng.uniform() < rate) row[j] = Number.NaN;
  for (let i = 0; i < fullRows; i++) {
    const row = x[rng.int(x.length)] as number[];
    row.fill(Number.NaN);
  }
  return x;
}
