/**
 * Forward–backward for a batch of HMM sequences: the exact E-step of `chain`.
 *
 * @module
 */
import { emError } from '../errors.js';
import { scaledForward } from './scaled-forward.js';
import type { ChainBatch, ChainLikelihood, ForwardBackwardOptions, ForwardBackwardResult, ForwardBackwardVariant } from './types.js';
import { checkChainShapes, type ChainLayout } from './validate.js';

const VARIANTS: readonly ForwardBackwardVariant[] = ['scaled', 'log', 'unscaled'];

/** Per-call scratch, allocated once (no allocation inside the loops). */
interface Workspace {
  readonly k: number;
  /** π and A as probabilities (scaled, unscaled). */
  readonly initial: Float64Array;
  readonly transition: Float64Array;
  /** [K, K] Aᵀ (scaled: column j of A is contiguous). */
  readonly transitionT: Float64Array;
  /** [K, K] log A transposed (log variant: column j of log A is contiguous). */
  readonly logTransitionT: Float64Array;
  /** [maxLength] log C_t of the log forward pass. */
  readonly logNorm: Float64Array;
  /** [maxLength, K] emission ratios ρ_t of the scaled forward pass. */
  readonly ratio: Float64Array;
  readonly v1: Float64Array;
  readonly v2: Float64Array;
  readonly v3: Float64Array;
  /** [K, K] ξ summed over one sequence. */
  readonly xi: Float64Array;
  /** [2K] forward ring when nothing is stored. */
  readonly ring: Float64Array;
}

function makeWorkspace(batch: ChainBatch, layout: ChainLayout, variant: ForwardBackwardVariant): Workspace {
  const k = layout.nStates;
  const initial = new Float64Array(k);
  const transition = new Float64Array(k * k);
  const transitionT = new Float64Array(k * k);
  const logTransitionT = new Float64Array(variant === 'log' ? k * k : 0);
  for (let i = 0; i < k; i++) initial[i] = Math.exp(batch.logInitial[i] as number);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const l = batch.logTransition[i * k + j] as number;
      transition[i * k + j] = Math.exp(l);
      transitionT[j * k + i] = Math.exp(l);
      if (variant === 'log') logTransitionT[j * k + i] = l;
    }
  }
  return {
    k,
    initial,
    transition,
    transitionT,
    logTransitionT,
    logNorm: new Float64Array(variant === 'log' ? layout.maxLength : 0),
    ratio: new Float64Array(variant === 'scaled' ? layout.maxLength * k : 0),
    v1: new Float64Array(k),
    v2: new Float64Array(k),
    v3: new Float64Array(k),
    xi: new Float64Array(k * k),
    ring: new Float64Array(2 * k),
  };
}

/**
 * Scaled forward–backward of one sequence. The forward pass leaves α̂_t in the
 * gamma rows; the backward pass turns them into γ_t = α̂_t β̂_t in place, with
 * β̂_{t−1}(i) = Σ_j A_ij u_t(j), u_t(j) = ρ_t(j) β̂_t(j), and
 * ξ_{t−1}(i, j) = α̂_{t−1}(i) A_ij u_t(j): the outer products α̂_{t−1} u_tᵀ are
 * summed over t and multiplied by A once per sequence (so a structural zero
 * stays an exact zero). Only states with α̂_t(k) > 0 are carried backwards
 * (β̂ of a state the filter excludes never matters), so no 0 · ∞ can arise.
 * @returns log p(x); `ws.v3[0]` receives Σ_t Σ_k γ_t(k) l_t(k).
 */
function scaledSequence(ws: Workspace, e: Float64Array, r0: number, len: number, gamma: Float64Array): number {
  const { k, transition: a, ratio, xi } = ws;
  const beta = ws.v1;
  const u = ws.v2;
  const base = r0 * k;
  const logP = scaledForward(k, e, r0, len, ws.initial, ws.transitionT, gamma, base, true, ratio, ws.v3);
  if (logP === -Infinity) return logP;
  beta.fill(1);
  let emissionTerm = 0;
  for (let t = len - 1; t >= 0; t--) {
    const row = base + t * k;
    if (t > 0) {
      const rr = t * k;
      for (let j = 0; j < k; j++) u[j] = (ratio[rr + j] as number) * (beta[j] as number);
    }
    for (let j = 0; j < k; j++) {
      const al = gamma[row + j] as number;
      if (al > 0) {
        const g = al * (beta[j] as number);
        gamma[row + j] = g;
        if (g > 0) emissionTerm += g * (e[row + j] as number);
      }
    }
    if (t > 0) {
      const prow = row - k;
      for (let i = 0; i < k; i++) {
        const ai = gamma[prow + i] as number;
        if (ai === 0) {
          beta[i] = 0;
          continue;
        }
        const tr = i * k;
        let s = 0;
        for (let j = 0; j < k; j++) {
          const uj = u[j] as number;
          s += (a[tr + j] as number) * uj;
          xi[tr + j] = (xi[tr + j] as number) + ai * uj;
        }
        beta[i] = s;
      }
    }
  }
  for (let ij = 0; ij < k * k; ij++) xi[ij] = (a[ij] as number) * (xi[ij] as number);
  ws.v3[0] = emissionTerm;
  return logP;
}

/**
 * Log-space forward–backward of one sequence (same contract as {@link scaledSequence}).
 *
 * The recursions are log-sum-exps, normalized at every step like the scaled
 * ones: log α̂_t = log α_t − log C_t with log C_t = LSE_j log α_t(j) kept in
 * `ws.logNorm`, and log β̂_{t−1}(i) = LSE_j(log A_ij + l_t(j) + log β̂_t(j)) − log C_t.
 * Unnormalized log α_t would grow like t · |log C| and carry an absolute
 * rounding error of that order into every exp(log α + log β − log p); the
 * normalized ones stay of the size of a log-probability.
 */
function logSequence(ws: Workspace, e: Float64Array, r0: number, len: number, gamma: Float64Array | null, logPi: Float64Array): number {
  const { k, logTransitionT: lat, logNorm, xi } = ws;
  const store = gamma !== null;
  const la = gamma ?? ws.ring;
  const base = r0 * k;
  let prev = 0;
  let logP = 0;
  for (let t = 0; t < len; t++) {
    const row = store ? base + t * k : (t & 1) * k;
    const er = (r0 + t) * k;
    let mt = -Infinity;
    for (let j = 0; j < k; j++) {
      const l = e[er + j] as number;
      let v = -Infinity;
      if (t === 0) {
        v = (logPi[j] as number) + l;
      } else if (l !== -Infinity) {
        const col = j * k;
        let m = -Infinity;
        for (let i = 0; i < k; i++) {
          const x = (la[prev + i] as number) + (lat[col + i] as number);
          if (x > m) m = x;
        }
        if (m !== -Infinity) {
          let s = 0;
          for (let i = 0; i < k; i++) s += Math.exp((la[prev + i] as number) + (lat[col + i] as number) - m);
          v = l + (m + Math.log(s));
        }
      }
      la[row + j] = v;
      if (v > mt) mt = v;
    }
    if (mt === -Infinity) return -Infinity;
    let st = 0;
    for (let j = 0; j < k; j++) st += Math.exp((la[row + j] as number) - mt);
    const n = mt + Math.log(st);
    for (let j = 0; j < k; j++) la[row + j] = (la[row + j] as number) - n;
    logNorm[t] = n;
    logP += n;
    prev = row;
  }
  if (!store) return logP;

  const lb = ws.v1;
  const v = ws.v2;
  const terms = ws.v3;
  lb.fill(0);
  let emissionTerm = 0;
  for (let t = len - 1; t >= 0; t--) {
    const row = base + t * k;
    if (t > 0) for (let j = 0; j < k; j++) v[j] = (e[row + j] as number) + (lb[j] as number);
    for (let j = 0; j < k; j++) {
      const l = la[row + j] as number;
      const g = l === -Infinity ? 0 : Math.exp(l + (lb[j] as number));
      la[row + j] = g;
      if (g > 0) emissionTerm += g * (e[row + j] as number);
    }
    if (t > 0) {
      const prow = row - k;
      const n = logNorm[t] as number;
      for (let i = 0; i < k; i++) {
        const ai = la[prow + i] as number;
        if (ai === -Infinity) {
          lb[i] = -Infinity;
          continue;
        }
        let mi = -Infinity;
        for (let j = 0; j < k; j++) {
          const z = (lat[j * k + i] as number) + (v[j] as number);
          terms[j] = z;
          if (z > mi) mi = z;
        }
        if (mi === -Infinity) {
          lb[i] = -Infinity;
          continue;
        }
        let si = 0;
        for (let j = 0; j < k; j++) {
          const x = Math.exp((terms[j] as number) - mi);
          terms[j] = x;
          si += x;
        }
        lb[i] = mi + Math.log(si) - n;
        const f = Math.exp(ai + mi - n);
        if (f > 0) {
          const tr = i * k;
          for (let j = 0; j < k; j++) xi[tr + j] = (xi[tr + j] as number) + f * (terms[j] as number);
        }
      }
    }
  }
  ws.v3[0] = emissionTerm;
  return logP;
}

/** Textbook forward–backward with plain products (underflows on long sequences; for tests). */
function unscaledSequence(ws: Workspace, e: Float64Array, r0: number, len: number, gamma: Float64Array | null): number {
  const { k, initial, transition: a, xi } = ws;
  const store = gamma !== null;
  const al = gamma ?? ws.ring;
  const base = r0 * k;
  let prev = 0;
  for (let t = 0; t < len; t++) {
    const row = store ? base + t * k : (t & 1) * k;
    const er = (r0 + t) * k;
    for (let j = 0; j < k; j++) {
      let p = 0;
      if (t === 0) p = initial[j] as number;
      else for (let i = 0; i < k; i++) p += (al[prev + i] as number) * (a[i * k + j] as number);
      al[row + j] = p * Math.exp(e[er + j] as number);
    }
    prev = row;
  }
  let p = 0;
  for (let j = 0; j < k; j++) p += al[prev + j] as number;
  if (!(p > 0)) return -Infinity;
  const logP = Math.log(p);
  if (!store) return logP;

  const beta = ws.v1;
  const u = ws.v2;
  beta.fill(1);
  let emissionTerm = 0;
  for (let t = len - 1; t >= 0; t--) {
    const row = base + t * k;
    if (t > 0) for (let j = 0; j < k; j++) u[j] = Math.exp(e[row + j] as number) * (beta[j] as number);
    for (let j = 0; j < k; j++) {
      const g = ((al[row + j] as number) * (beta[j] as number)) / p;
      al[row + j] = g;
      if (g > 0) emissionTerm += g * (e[row + j] as number);
    }
    if (t > 0) {
      const prow = row - k;
      for (let i = 0; i < k; i++) {
        const ai = al[prow + i] as number;
        let s = 0;
        for (let j = 0; j < k; j++) {
          const x = (a[i * k + j] as number) * (u[j] as number);
          s += x;
          xi[i * k + j] = (xi[i * k + j] as number) + (ai * x) / p;
        }
        beta[i] = s;
      }
    }
  }
  ws.v3[0] = emissionTerm;
  return logP;
}

/**
 * Forward–backward over a batch of HMM sequences: log-likelihoods, posterior
 * marginals γ, expected transition and initial counts, E_q[log p(x, z)] and
 * H(q) under the exact posterior q = p(z | x).
 *
 * Cost O(ΣT · K²) time; memory is the `[ΣT, K]` output plus O(max T · K + K²)
 * scratch (the forward pass is kept in the gamma buffer). Per sequence,
 * E_q[log p(x, z)] = Σ_k γ_1(k) log π_k + Σ_{ij} ξ(i, j) log A_ij +
 * Σ_t Σ_k γ_t(k) l_t(k) with 0 · (−∞) = 0 (a −∞ entry has exactly zero
 * posterior mass), and H(q) = log p(x) − E_q[log p(x, z)].
 *
 * Impossible evidence (no path of positive probability, e.g. an all-−∞
 * emission row): log p(x_s) = −∞, zero gamma rows, no statistics, and the
 * weighted `logLikelihood` and `expectedLogJoint` are −∞ when w_s > 0; the
 * entropy sums over possible sequences only.
 *
 * Values are not validated here (see `validateChainBatch`); shapes are.
 *
 * @param batch The sequences and parameters (see {@link ChainBatch}).
 * @param options `variant` (default `'scaled'`), `likelihoodOnly` (forward pass only), `out` buffers.
 * @returns With `likelihoodOnly: true`, `{ logLikelihoods [S], logLikelihood }`; else also
 *   `gamma` `[ΣT, K]`, `transitionCounts` `[K, K]`, `initialCounts` `[K]`, `expectedLogJoint`, `entropy`.
 * @throws EmError `INVALID_ARGUMENT` for bad shapes, an unknown variant or output buffers of the wrong length.
 * @see Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech recognition. Proc. IEEE 77, 257–286.
 * @see Baum, L. E., Petrie, T., Soules, G. & Weiss, N. (1970). A maximization technique occurring in the statistical analysis of probabilistic functions of Markov chains. Ann. Math. Statist. 41, 164–171.
 * @example
 * ```ts
 * const { logLikelihood, gamma, transitionCounts } = forwardBackward(batch);
 * const { logLikelihoods } = forwardBackward(batch, { likelihoodOnly: true, variant: 'log' });
 * ```
 * @category Chain
 */
export function forwardBackward(batch: ChainBatch, options: ForwardBackwardOptions & { readonly likelihoodOnly: true }): ChainLikelihood;
export function forwardBackward(batch: ChainBatch, options?: ForwardBackwardOptions & { readonly likelihoodOnly?: false }): ForwardBackwardResult;
export function forwardBackward(batch: ChainBatch, options: ForwardBackwardOptions = {}): ChainLikelihood | ForwardBackwardResult {
  const layout = checkChainShapes(batch);
  const variant = options.variant ?? 'scaled';
  if (!VARIANTS.includes(variant)) {
    throw emError('INVALID_ARGUMENT', ['options', 'variant'], variant, `must be one of ${VARIANTS.join(', ')}`, "use 'scaled' (default) or 'log'");
  }
  const likelihoodOnly = options.likelihoodOnly === true;
  const { nStates: k, nSequences, nRows } = layout;
  const logLikelihoods = outBuffer(options.out?.logLikelihoods, nSequences, 'logLikelihoods');
  const gamma = likelihoodOnly ? null : outBuffer(options.out?.gamma, nRows * k, 'gamma');
  const ws = makeWorkspace(batch, layout, variant);
  const e = batch.logEmission;
  const weights = batch.weights;
  const transitionCounts = new Float64Array(k * k);
  const initialCounts = new Float64Array(k);
  let logLikelihood = 0;
  let expectedLogJoint = 0;
  let entropy = 0;
  let r0 = 0;
  for (let s = 0; s < nSequences; s++) {
    const len = batch.lengths[s] as number;
    ws.xi.fill(0);
    let logP: number;
    if (variant === 'scaled') {
      logP = gamma === null
        ? scaledForward(k, e, r0, len, ws.initial, ws.transitionT, ws.ring, 0, false, null, ws.v3)
        : scaledSequence(ws, e, r0, len, gamma);
    } else if (variant === 'log') {
      logP = logSequence(ws, e, r0, len, gamma, batch.logInitial);
    } else {
      logP = unscaledSequence(ws, e, r0, len, gamma);
    }
    logLikelihoods[s] = logP;
    const w = weights === undefined ? 1 : (weights[s] as number);
    if (w !== 0) logLikelihood += w * logP;
    if (gamma !== null) {
      const base = r0 * k;
      if (logP === -Infinity) {
        gamma.fill(0, base, base + len * k);
        if (w !== 0) expectedLogJoint = -Infinity;
      } else {
        let elj = ws.v3[0] as number;
        for (let j = 0; j < k; j++) {
          const g = gamma[base + j] as number;
          if (g > 0) {
            elj += g * (batch.logInitial[j] as number);
            initialCounts[j] = (initialCounts[j] as number) + w * g;
          }
        }
        for (let ij = 0; ij < k * k; ij++) {
          const x = ws.xi[ij] as number;
          if (x > 0) {
            elj += x * (batch.logTransition[ij] as number);
            transitionCounts[ij] = (transitionCounts[ij] as number) + w * x;
          }
        }
        if (w !== 0) {
          expectedLogJoint += w * elj;
          entropy += w * (logP - elj);
        }
      }
    }
    r0 += len;
  }
  if (gamma === null) return { logLikelihoods, logLikelihood };
  return { logLikelihoods, logLikelihood, gamma, transitionCounts, initialCounts, expectedLogJoint, entropy };
}

function outBuffer(given: Float64Array | undefined, length: number, name: string): Float64Array {
  if (given === undefined) return new Float64Array(length);
  if (!(given instanceof Float64Array) || given.length !== length) {
    throw emError('INVALID_ARGUMENT', ['options', 'out', name], given, `must be a Float64Array of length ${length}`, `pass a buffer of the right length or omit out.${name}`);
  }
  return given;
}
