/**
 * The scaled forward filter of one sequence, shared by `forwardBackward` and `ffbs`.
 *
 * @module
 * @internal
 */

/** A step's total predictive mass below this is recomputed in log space (see {@link scaledForward}). */
const RESCUE_THRESHOLD = 1e-280;

/**
 * Runs the scaled forward recursion (Rabiner 1989) on rows
 * `[rowStart, rowStart + length)` of `emission` and returns log p(x) (−∞ when
 * no path has positive probability).
 *
 * Step t writes the filtered distribution α̂_t(k) = p(z_t = k | x_{1:t}) and,
 * on request the emission ratios
 * ρ_t(k) = p(x_t | z_t = k) / p(x_t | x_{1:t−1}) (0 where α̂_t(k) = 0) that the
 * backward pass needs. The predictive p_t(j) = Σ_i α̂_{t−1}(i) A_ij (π at
 * t = 1) is multiplied by exp(l_t(j) − m_t) with m_t the largest l_t(j) over
 * predictable states (p_t(j) > 0), so a state the chain cannot reach never
 * sets the scale; when the scaled mass still falls below 1e-280 (a predictable
 * state far more likely than the reachable mass), the step is redone with
 * m_t = max_j l_t(j) + log p_t(j). Either way the largest unnormalized term is
 * of order one and C_t = p(x_t | x_{1:t−1}) never underflows while the evidence is possible.
 *
 * @param k K.
 * @param emission `[ΣT, K]` log-emissions.
 * @param initial `[K]` π (probabilities).
 * @param transitionT `[K, K]` Aᵀ (probabilities; row j holds A_{·j}).
 * @param alpha Output: row t goes to `alphaBase + t·K` when `store`, else to `(t mod 2)·K` (a two-row ring).
 * @param ratio `[≥ length·K]` output ρ_t (row t at t·K), or null.
 * @param pred `[K]` scratch.
 * @internal
 */
export function scaledForward(
  k: number,
  emission: Float64Array,
  rowStart: number,
  length: number,
  initial: Float64Array,
  transitionT: Float64Array,
  alpha: Float64Array,
  alphaBase: number,
  store: boolean,
  ratio: Float64Array | null,
  pred: Float64Array,
): number {
  let logP = 0;
  let prev = 0;
  for (let t = 0; t < length; t++) {
    const er = (rowStart + t) * k;
    const ar = store ? alphaBase + t * k : (t & 1) * k;
    const rr = ratio === null ? 0 : t * k;
    let m = -Infinity;
    for (let j = 0; j < k; j++) {
      let p = 0;
      if (t === 0) {
        p = initial[j] as number;
      } else {
        const col = j * k;
        for (let i = 0; i < k; i++) p += (alpha[prev + i] as number) * (transitionT[col + i] as number);
      }
      pred[j] = p;
      if (p > 0) {
        const l = emission[er + j] as number;
        if (l > m) m = l;
      }
    }
    if (m === -Infinity) return -Infinity;
    let c = 0;
    for (let j = 0; j < k; j++) {
      const p = pred[j] as number;
      let a = 0;
      let b = 0;
      if (p > 0) {
        b = Math.exp((emission[er + j] as number) - m);
        a = p * b;
      }
      if (ratio !== null) ratio[rr + j] = b;
      alpha[ar + j] = a;
      c += a;
    }
    let logC: number;
    if (c >= RESCUE_THRESHOLD) {
      const inv = 1 / c;
      for (let j = 0; j < k; j++) {
        const a = (alpha[ar + j] as number) * inv;
        alpha[ar + j] = a;
        if (ratio !== null) ratio[rr + j] = a > 0 ? (ratio[rr + j] as number) * inv : 0;
      }
      logC = m + Math.log(c);
    } else {
      m = -Infinity;
      for (let j = 0; j < k; j++) {
        const p = pred[j] as number;
        if (p > 0) {
          const v = (emission[er + j] as number) + Math.log(p);
          if (v > m) m = v;
        }
      }
      c = 0;
      for (let j = 0; j < k; j++) {
        const p = pred[j] as number;
        const a = p > 0 ? Math.exp((emission[er + j] as number) + Math.log(p) - m) : 0;
        alpha[ar + j] = a;
        c += a;
      }
      const inv = 1 / c;
      logC = m + Math.log(c);
      for (let j = 0; j < k; j++) {
        const a = (alpha[ar + j] as number) * inv;
        alpha[ar + j] = a;
        if (ratio !== null) ratio[rr + j] = a > 0 ? Math.exp((emission[er + j] as number) - logC) : 0;
      }
    }
    logP += logC;
    prev = ar;
  }
  return logP;
}
