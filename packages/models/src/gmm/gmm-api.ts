/**
 * The scikit-learn-style prediction API of a fitted Gaussian mixture:
 * responsibilities, labels, per-row log-likelihoods, BIC/AIC and sampling.
 * Everything runs on the host in float64, so these numbers agree with a
 * float64 reference (and with `fit`'s reported log-likelihood) to roundoff.
 * @module
 */
import { createRng, emError, integerOption, type Seed } from '@emlab/core';
import { prepareGmmData, type GmmPrepared } from './gmm-data.js';
import { factorCovariances, gmmParameterCount } from './gmm-math.js';
import { gmmStructure } from './gmm-structure.js';
import type { CovarianceType, GmmData, GmmParams } from './gmm-types.js';
import { validateGmmParams } from './gmm-validate.js';

/** Per-row results from prepared order back to the caller's row order; rows with every entry missing get `fill`. */
export function inCallerOrder<T>(prepared: GmmPrepared, perPosition: T[], fill: () => T): T[] {
  const m = prepared.missing;
  if (m === undefined) return perPosition;
  const out = new Array<T>(m.nOriginalRows);
  perPosition.forEach((v, p) => (out[m.order[p] as number] = v));
  for (const r of m.allMissingRows) out[r] = fill();
  return out;
}

/** Prepares `data` (host only) for `params` and runs `fn`; checks that the widths agree. */
function withData<T>(params: GmmParams, data: GmmData, fn: (prepared: GmmPrepared) => T): T {
  validateGmmParams(params, params.weights.length, undefined);
  // Data scaled like the parameters' covariances when they declare a scale, else by their own spread.
  const prepared = prepareGmmData(data, { precisions: ['float64'], frame: params.scale === undefined ? 'auto' : Float64Array.from(params.scale) });
  try {
    const d = (params.means[0] as number[]).length;
    if (prepared.nFeatures !== d) {
      throw emError('INVALID_DATA', ['data'], prepared.nFeatures, `has ${prepared.nFeatures} features but the parameters have ${d}`, 'pass data with the columns the model was fitted on');
    }
    return fn(prepared);
  } finally {
    prepared.dispose();
  }
}

/** Calls `fn(logJoint, rows, start)` per block of the float64 structure. */
function forEachTable(prepared: GmmPrepared, params: GmmParams, fn: (table: ArrayLike<number>, rows: number, start: number) => void): void {
  const s = gmmStructure(prepared, params, 'float64');
  try {
    for (const chunk of s.chunks()) fn(chunk.logJoint(), chunk.rows, chunk.start);
  } finally {
    s.dispose();
  }
}

function logSumExp(t: ArrayLike<number>, o: number, k: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < k; j++) m = Math.max(m, t[o + j] as number);
  if (m === Number.NEGATIVE_INFINITY) return m;
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp((t[o + j] as number) - m);
  return m + Math.log(s);
}

/** log p(x_n | θ) per row `[nSamples]` (0 for a row with every entry missing). @category Gaussian mixtures */
export function gmmScoreSamples(params: GmmParams, data: GmmData): Float64Array {
  return withData(params, data, (prepared) => {
    const k = params.weights.length;
    const out = new Float64Array(prepared.nRows);
    forEachTable(prepared, params, (t, rows, start) => {
      for (let r = 0; r < rows; r++) out[start + r] = logSumExp(t, r * k, k);
    });
    return prepared.missing === undefined ? out : Float64Array.from(inCallerOrder(prepared, Array.from(out), () => 0));
  });
}

/** Posterior responsibilities `[nSamples][nComponents]` (the weights for a row with every entry missing). @category Gaussian mixtures */
export function gmmPredictProba(params: GmmParams, data: GmmData): number[][] {
  return withData(params, data, (prepared) => {
    const k = params.weights.length;
    const out: number[][] = new Array(prepared.nRows);
    forEachTable(prepared, params, (t, rows, start) => {
      for (let r = 0; r < rows; r++) {
        const lse = logSumExp(t, r * k, k);
        const row = new Array<number>(k);
        for (let j = 0; j < k; j++) row[j] = Math.exp((t[r * k + j] as number) - lse);
        out[start + r] = row;
      }
    });
    return inCallerOrder(prepared, out, () => params.weights.slice());
  });
}

/** Most probable component per row `[nSamples]` (ties: lowest index). @category Gaussian mixtures */
export function gmmPredict(params: GmmParams, data: GmmData): number[] {
  return withData(params, data, (prepared) => {
    const k = params.weights.length;
    const out: number[] = new Array(prepared.nRows);
    forEachTable(prepared, params, (t, rows, start) => {
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let j = 1; j < k; j++) if ((t[r * k + j] as number) > (t[r * k + best] as number)) best = j;
        out[start + r] = best;
      }
    });
    return inCallerOrder(prepared, out, () => params.weights.indexOf(Math.max(...params.weights)));
  });
}

/** Number of free parameters of a mixture. @category Gaussian mixtures */
export function gmmNParameters(covarianceType: CovarianceType, params: GmmParams): number {
  return gmmParameterCount(covarianceType, params.weights.length, (params.means[0] as number[]).length);
}

/** Bayesian information criterion, −2 log L + p log N (lower is better; scikit-learn's sign). @category Gaussian mixtures */
export function gmmBic(covarianceType: CovarianceType, params: GmmParams, data: GmmData): number {
  const s = gmmScoreSamples(params, data);
  return -2 * s.reduce((a, b) => a + b, 0) + gmmNParameters(covarianceType, params) * Math.log(s.length);
}

/** Akaike information criterion, −2 log L + 2p (lower is better). @category Gaussian mixtures */
export function gmmAic(covarianceType: CovarianceType, params: GmmParams, data: GmmData): number {
  const s = gmmScoreSamples(params, data);
  return -2 * s.reduce((a, b) => a + b, 0) + 2 * gmmNParameters(covarianceType, params);
}

/**
 * Draws `n` rows from the mixture with a seed.
 * @returns rows `[n][D]` and their component labels.
 * @category Gaussian mixtures
 */
export function gmmSample(params: GmmParams, n: number, seed: Seed): { x: number[][]; labels: number[] } {
  integerOption(n, ['n'], 1);
  validateGmmParams(params, params.weights.length, undefined);
  const rng = createRng(seed).child('gmm-sample');
  const { chol } = factorCovariances(params);
  const d = (params.means[0] as number[]).length;
  // Covariances in declared units (params.scale) scale the noise back to original units.
  const units = params.scale ?? new Array<number>(d).fill(1);
  const x: number[][] = [];
  const labels: number[] = [];
  const eps = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const c = rng.categorical(params.weights);
    const L = chol[c] as Float64Array;
    const mu = params.means[c] as number[];
    for (let j = 0; j < d; j++) eps[j] = rng.normal();
    const row: number[] = [];
    for (let r = 0; r < d; r++) {
      const v = mu[r] as number;
      let noise = 0;
      for (let j = 0; j <= r; j++) noise += (L[r * d + j] as number) * (eps[j] as number);
      row.push(v + noise * (units[r] as number));
    }
    x.push(row);
    labels.push(c);
  }
  return { x, labels };
}
