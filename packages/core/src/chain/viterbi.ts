/**
 * Viterbi decoding for a batch of HMM sequences: the hard E-step of `chain`.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { ChainBatch, ViterbiOptions, ViterbiResult } from './types.js';
import { checkChainShapes } from './validate.js';

/**
 * The most probable state path of every sequence (max-product in log space),
 * its log joint, and the hard statistics along it.
 *
 * Ties go to the lowest state index at every comparison (the last state, then
 * each back-pointer), so among equally probable paths the one returned is the
 * smallest in reverse-lexicographic order (compare z_T first, then z_{T−1}, ...).
 * The recursion δ_t(j) = l_t(j) + max_i (δ_{t−1}(i) + log A_ij) adds terms in
 * time order, so a path's value is the float64 sum of its log-terms in that order.
 *
 * A sequence with no path of positive probability gets path −1 at every step,
 * log joint −∞, zero one-hot rows and no statistics.
 *
 * Cost O(ΣT · K²) time, O(max T · K) scratch (int32 back-pointers).
 * Values are not validated (see `validateChainBatch`); the transition rows need
 * not be normalized.
 *
 * @param batch The sequences and parameters (see {@link ChainBatch}).
 * @param options `out` buffers for `path` `[ΣT]` and `gamma` `[ΣT, K]`.
 * @returns `path` `[ΣT]` (int32), `logJoints` `[S]`, the weighted `logJoint`, one-hot
 *   `gamma` `[ΣT, K]`, weighted `transitionCounts` `[K, K]` and `initialCounts` `[K]`.
 * @throws EmError `INVALID_ARGUMENT` for bad shapes or output buffers of the wrong length.
 * @see Viterbi, A. J. (1967). Error bounds for convolutional codes and an asymptotically optimum decoding algorithm. IEEE Trans. Inf. Theory 13, 260–269.
 * @see Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech recognition. Proc. IEEE 77, 257–286.
 * @example
 * ```ts
 * const { path, logJoint, transitionCounts } = viterbi(batch);
 * ```
 * @category Chain
 */
export function viterbi(batch: ChainBatch, options: ViterbiOptions = {}): ViterbiResult {
  const { nStates: k, nSequences, nRows, maxLength } = checkChainShapes(batch);
  const path = options.out?.path ?? new Int32Array(nRows);
  if (!(path instanceof Int32Array) || path.length !== nRows) {
    throw emError('INVALID_ARGUMENT', ['options', 'out', 'path'], path, `must be an Int32Array of length ${nRows}`, 'pass a buffer of the right length or omit out.path');
  }
  const gamma = options.out?.gamma ?? new Float64Array(nRows * k);
  if (!(gamma instanceof Float64Array) || gamma.length !== nRows * k) {
    throw emError('INVALID_ARGUMENT', ['options', 'out', 'gamma'], gamma, `must be a Float64Array of length ${nRows * k}`, 'pass a buffer of the right length or omit out.gamma');
  }
  gamma.fill(0);
  const e = batch.logEmission;
  const logPi = batch.logInitial;
  const logAT = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) logAT[j * k + i] = batch.logTransition[i * k + j] as number;
  const back = new Int32Array(maxLength * k);
  const delta = new Float64Array(2 * k);
  const logJoints = new Float64Array(nSequences);
  const transitionCounts = new Float64Array(k * k);
  const initialCounts = new Float64Array(k);
  const weights = batch.weights;
  let logJoint = 0;
  let r0 = 0;
  for (let s = 0; s < nSequences; s++) {
    const len = batch.lengths[s] as number;
    const base = r0 * k;
    for (let j = 0; j < k; j++) delta[j] = (logPi[j] as number) + (e[base + j] as number);
    let prev = 0;
    for (let t = 1; t < len; t++) {
      const cur = (t & 1) * k;
      const row = base + t * k;
      const bt = t * k;
      for (let j = 0; j < k; j++) {
        const l = e[row + j] as number;
        let best = -Infinity;
        let arg = 0;
        if (l !== -Infinity) {
          const col = j * k;
          for (let i = 0; i < k; i++) {
            const v = (delta[prev + i] as number) + (logAT[col + i] as number);
            if (v > best) {
              best = v;
              arg = i;
            }
          }
        }
        delta[cur + j] = l + best;
        back[bt + j] = arg;
      }
      prev = cur;
    }
    let best = -Infinity;
    let z = 0;
    for (let j = 0; j < k; j++) {
      const v = delta[prev + j] as number;
      if (v > best) {
        best = v;
        z = j;
      }
    }
    logJoints[s] = best;
    const w = weights === undefined ? 1 : (weights[s] as number);
    if (w !== 0) logJoint += w * best;
    if (best === -Infinity) {
      path.fill(-1, r0, r0 + len);
    } else {
      for (let t = len - 1; t >= 0; t--) {
        path[r0 + t] = z;
        gamma[base + t * k + z] = 1;
        if (t > 0) {
          const from = back[t * k + z] as number;
          transitionCounts[from * k + z] = (transitionCounts[from * k + z] as number) + w;
          z = from;
        }
      }
      initialCounts[z] = (initialCounts[z] as number) + w;
    }
    r0 += len;
  }
  return { path, logJoints, logJoint, gamma, transitionCounts, initialCounts };
}
