/**
 * Forward filtering, backward sampling for a batch of HMM sequences: the
 * Monte Carlo E-step of `chain`.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { Rng } from '../rng.js';
import { scaledForward } from './scaled-forward.js';
import type { ChainBatch, FfbsOptions, FfbsResult } from './types.js';
import { checkChainShapes } from './validate.js';

/**
 * Draws `nPaths` state paths per sequence from the exact posterior
 * p(z | x_s), with their log joints and the statistics averaged over draws.
 *
 * Forward filtering keeps α̂_t(k) = p(z_t = k | x_{1:t}) (the scaled filter of
 * `forwardBackward`, so log p(x_s) comes for free); backward sampling draws
 * z_T ~ α̂_T and then z_t ~ α̂_t(i) A_{i, z_{t+1}} for t = T − 1, ..., 1.
 * Sequence s draws from its own stream `rng.child('sequence', sequenceOffset + s)`,
 * path after path, so the draws of a sequence do not depend on how a data set
 * is split into batches (pass each batch's global first index as
 * `sequenceOffset`).
 *
 * The per-sequence sample variance v_s of log p(x_s, z) over draws gives the
 * Monte Carlo standard error of the weighted `logJoint`:
 * sqrt(Σ_s w_s² v_s / nPaths).
 *
 * A sequence with no path of positive probability gets paths of −1, log joints
 * −∞, variance 0 and no statistics.
 *
 * Cost O(ΣT · K²) for the filter plus O(nPaths · ΣT · K) for the draws;
 * O(max T · K) scratch. Values are not validated (see `validateChainBatch`).
 *
 * @param batch The sequences and parameters (see {@link ChainBatch}).
 * @param rng The seeded stream the per-sequence streams are children of.
 * @param nPaths Draws per sequence (integer ≥ 1).
 * @param options `sequenceOffset` (default 0), `keepPaths` (default true; false returns `paths: null`
 *   and needs no `[nPaths, ΣT]` buffer), `out` buffers.
 * @returns `paths` `[nPaths, ΣT]` (int32) or null, `logJoints` `[nPaths, S]`, `logJointMeans` and
 *   `logJointVariances` `[S]`, the weighted `logJoint`, `stateFrequencies` `[ΣT, K]`, weighted
 *   `transitionCounts` `[K, K]` and `initialCounts` `[K]`, and the exact `logLikelihoods` `[S]` and
 *   weighted `logLikelihood`.
 * @throws EmError `INVALID_ARGUMENT` for bad shapes, `nPaths`, `rng`, `sequenceOffset` or output buffers.
 * @see Frühwirth-Schnatter, S. (1994). Data augmentation and dynamic linear models. J. Time Ser. Anal. 15, 183–202.
 * @see Chib, S. (1996). Calculating posterior distributions and modal estimates in Markov mixture models. J. Econometrics 75, 79–97.
 * @example
 * ```ts
 * const draws = ffbs(batch, createRng(0).child('iter', 3, 'estep'), 100);
 * draws.stateFrequencies; // ≈ forwardBackward(batch).gamma
 * ```
 * @category Chain
 */
export function ffbs(batch: ChainBatch, rng: Rng, nPaths: number, options: FfbsOptions = {}): FfbsResult {
  const { nStates: k, nSequences, nRows, maxLength } = checkChainShapes(batch);
  if (typeof rng !== 'object' || rng === null || typeof rng.child !== 'function') {
    throw emError('INVALID_ARGUMENT', ['rng'], rng, 'must be an Rng', "pass createRng(seed) or a child stream of it");
  }
  if (typeof nPaths !== 'number' || !Number.isSafeInteger(nPaths) || nPaths < 1) {
    throw emError('INVALID_ARGUMENT', ['nPaths'], nPaths, 'must be an integer >= 1', 'pass the number of draws per sequence, e.g. 1 (stochastic EM) or 100 (Monte Carlo EM)');
  }
  const offset = options.sequenceOffset ?? 0;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw emError('INVALID_ARGUMENT', ['options', 'sequenceOffset'], offset, 'must be an integer >= 0', 'pass the global index of the first sequence of this batch');
  }
  const keepPaths = options.keepPaths ?? true;
  let paths: Int32Array | null = null;
  if (keepPaths) {
    paths = options.out?.paths ?? new Int32Array(nPaths * nRows);
    if (!(paths instanceof Int32Array) || paths.length !== nPaths * nRows) {
      throw emError('INVALID_ARGUMENT', ['options', 'out', 'paths'], paths, `must be an Int32Array of length nPaths * ΣT = ${nPaths * nRows}`, 'pass a buffer of the right length or omit out.paths');
    }
  }
  const freq = options.out?.stateFrequencies ?? new Float64Array(nRows * k);
  if (!(freq instanceof Float64Array) || freq.length !== nRows * k) {
    throw emError('INVALID_ARGUMENT', ['options', 'out', 'stateFrequencies'], freq, `must be a Float64Array of length ${nRows * k}`, 'pass a buffer of the right length or omit out.stateFrequencies');
  }
  freq.fill(0);

  const e = batch.logEmission;
  const logPi = batch.logInitial;
  const logA = batch.logTransition;
  const initial = new Float64Array(k);
  const transitionT = new Float64Array(k * k);
  for (let i = 0; i < k; i++) initial[i] = Math.exp(logPi[i] as number);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const a = Math.exp(logA[i * k + j] as number);
      transitionT[j * k + i] = a;
    }
  }
  const alpha = new Float64Array(maxLength * k);
  const scratch = new Float64Array(k);
  const draw = new Int32Array(maxLength);
  const localTransitions = new Float64Array(k * k);
  const localInitial = new Float64Array(k);
  const logLikelihoods = new Float64Array(nSequences);
  const logJoints = new Float64Array(nPaths * nSequences);
  const logJointMeans = new Float64Array(nSequences);
  const logJointVariances = new Float64Array(nSequences);
  const transitionCounts = new Float64Array(k * k);
  const initialCounts = new Float64Array(k);
  const weights = batch.weights;
  const perPath = 1 / nPaths;
  let logLikelihood = 0;
  let logJoint = 0;
  let r0 = 0;
  for (let s = 0; s < nSequences; s++) {
    const len = batch.lengths[s] as number;
    const base = r0 * k;
    const w = weights === undefined ? 1 : (weights[s] as number);
    const logP = scaledForward(k, e, r0, len, initial, transitionT, alpha, 0, true, null, scratch);
    logLikelihoods[s] = logP;
    if (w !== 0) logLikelihood += w * logP;
    if (logP === -Infinity) {
      if (paths !== null) for (let p = 0; p < nPaths; p++) paths.fill(-1, p * nRows + r0, p * nRows + r0 + len);
      for (let p = 0; p < nPaths; p++) logJoints[p * nSequences + s] = -Infinity;
      logJointMeans[s] = -Infinity;
      logJointVariances[s] = 0;
      if (w !== 0) logJoint = -Infinity;
      r0 += len;
      continue;
    }
    const stream = rng.child('sequence', offset + s);
    localTransitions.fill(0);
    localInitial.fill(0);
    let sum = 0;
    for (let p = 0; p < nPaths; p++) {
      const last = (len - 1) * k;
      for (let j = 0; j < k; j++) scratch[j] = alpha[last + j] as number;
      let z = stream.categorical(scratch);
      draw[len - 1] = z;
      let lj = e[base + last + z] as number;
      for (let t = len - 2; t >= 0; t--) {
        const ar = t * k;
        const col = z * k;
        for (let i = 0; i < k; i++) scratch[i] = (alpha[ar + i] as number) * (transitionT[col + i] as number);
        const from = stream.categorical(scratch);
        lj += (logA[from * k + z] as number) + (e[base + ar + from] as number);
        localTransitions[from * k + z] = (localTransitions[from * k + z] as number) + 1;
        z = from;
        draw[t] = z;
      }
      lj += logPi[z] as number;
      localInitial[z] = (localInitial[z] as number) + 1;
      logJoints[p * nSequences + s] = lj;
      sum += lj;
      for (let t = 0; t < len; t++) {
        const zt = draw[t] as number;
        freq[base + t * k + zt] = (freq[base + t * k + zt] as number) + 1;
      }
      if (paths !== null) for (let t = 0, o = p * nRows + r0; t < len; t++) paths[o + t] = draw[t] as number;
    }
    // Integer counts so far: one rounding per entry.
    for (let i = base; i < base + len * k; i++) freq[i] = (freq[i] as number) * perPath;
    const mean = sum / nPaths;
    let ss = 0;
    for (let p = 0; p < nPaths; p++) {
      const d = (logJoints[p * nSequences + s] as number) - mean;
      ss += d * d;
    }
    logJointMeans[s] = mean;
    logJointVariances[s] = nPaths > 1 ? ss / (nPaths - 1) : Number.NaN;
    if (w !== 0) logJoint += w * mean;
    const f = w * perPath;
    for (let ij = 0; ij < k * k; ij++) transitionCounts[ij] = (transitionCounts[ij] as number) + f * (localTransitions[ij] as number);
    for (let j = 0; j < k; j++) initialCounts[j] = (initialCounts[j] as number) + f * (localInitial[j] as number);
    r0 += len;
  }
  return { paths, logJoints, logJointMeans, logJointVariances, logJoint, stateFrequencies: freq, transitionCounts, initialCounts, logLikelihoods, logLikelihood };
}
