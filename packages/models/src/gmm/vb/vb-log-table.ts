/**
 * The variational E-step table E_q[log π_k] + E_q[log N(x_n | μ_k, Λ_k⁻¹)],
 * every constant included, and its normalization to q(z).
 * @module
 */
import { emError } from '@emlab/core';
import { checkMatrix, checkPosterior } from './vb-check.js';
import { digamma } from './vb-special.js';
import type { VbMatrix, VbPosterior } from './vb-types.js';

const LOG_2 = Math.log(2);
const LOG_2PI = Math.log(2 * Math.PI);

/**
 * E_q[log π_k], `[K]`: ψ(α_k) − ψ(Σ_j α_j) (Dirichlet), or
 * E log v_k + Σ_{j<k} E log(1 − v_j) with E log v = ψ(β1) − ψ(β1 + β2),
 * E log(1 − v) = ψ(β2) − ψ(β1 + β2) (stick-breaking).
 * @see Bishop (2006), eq. 10.66; Blei & Jordan (2006), eq. 22.
 * @category Variational Bayes
 */
export function vbExpectedLogWeights(posterior: VbPosterior): Float64Array {
  const w = posterior.weightConcentration;
  if (w.type === 'dirichlet_distribution') {
    let sum = 0;
    for (const a of w.alpha) sum += a;
    const psiSum = digamma(sum);
    return w.alpha.map((a) => digamma(a) - psiSum);
  }
  const k = w.beta1.length;
  const out = new Float64Array(k);
  let rest = 0; // Σ_{j<k} E log(1 − v_j)
  for (let c = 0; c < k; c++) {
    const a = w.beta1[c] as number;
    const b = w.beta2[c] as number;
    const psiSum = digamma(a + b);
    out[c] = digamma(a) - psiSum + rest;
    rest += digamma(b) - psiSum;
  }
  return out;
}

/**
 * log |Σ_k| from the precision Cholesky factor, `[K]`.
 * @internal
 */
export function logDetCovariances(posterior: VbPosterior): Float64Array {
  const { nComponents: k, nFeatures: d } = posterior.prior;
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += Math.log(posterior.precisionsCholesky[c * d * d + i * d + i] as number);
    out[c] = -2 * s;
  }
  return out;
}

/**
 * E_q[log |Λ_k|] = Σ_{i=0}^{D−1} ψ((ν_k − i)/2) + D log 2 + log |W_k|, `[K]`,
 * with log |W_k| = −log |Σ_k| − D log ν_k.
 * @see Bishop (2006), eq. 10.65 and B.81.
 * @category Variational Bayes
 */
export function vbExpectedLogDetPrecision(posterior: VbPosterior): Float64Array {
  const { nComponents: k, nFeatures: d } = posterior.prior;
  const logDet = logDetCovariances(posterior);
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const nu = posterior.degreesOfFreedom[c] as number;
    let s = d * LOG_2 - (logDet[c] as number) - d * Math.log(nu);
    for (let i = 0; i < d; i++) s += digamma((nu - i) / 2);
    out[c] = s;
  }
  return out;
}

/**
 * (x_n − m_k)ᵀ Σ_k⁻¹ (x_n − m_k) for every row and component, `[N, K]` (= ‖U_kᵀ (x_n − m_k)‖²).
 * @internal
 */
export function mahalanobisTable(x: VbMatrix, posterior: VbPosterior): Float64Array {
  const { nComponents: k, nFeatures: d } = posterior.prior;
  const { values, rows } = x;
  const out = new Float64Array(rows * k);
  const diff = new Float64Array(d);
  const u = posterior.precisionsCholesky;
  for (let c = 0; c < k; c++) {
    const base = c * d * d;
    for (let n = 0; n < rows; n++) {
      for (let i = 0; i < d; i++) diff[i] = (values[n * d + i] as number) - (posterior.means[c * d + i] as number);
      let q = 0;
      for (let j = 0; j < d; j++) {
        let y = 0;
        for (let i = 0; i <= j; i++) y += (u[base + i * d + j] as number) * (diff[i] as number);
        q += y * y;
      }
      out[n * k + c] = q;
    }
  }
  return out;
}

/**
 * The E-step table log ρ_nk = E_q[log π_k] + E_q[log N(x_n | μ_k, Λ_k⁻¹)], `[N, K]` row-major, so that q(z_n = k) ∝ exp(table).
 *
 * E_q[log N(x | μ_k, Λ_k⁻¹)] = ½ E[log |Λ_k|] − (D/2) log 2π − ½ (D/β_k + ν_k (x − m_k)ᵀ W_k (x − m_k)),
 * every constant included. This is exactly scikit-learn's
 * `_estimate_weighted_log_prob` (which keeps all of them: its
 * `_estimate_log_gaussian_prob` includes −(D/2) log 2π, and the
 * −(D/2) log ν_k it subtracts turns the precision ν_k W_k into W_k inside
 * E[log |Λ_k|]).
 *
 * @param x Data `[N, D]`.
 * @param posterior From `vbUpdate`.
 * @throws EmError `INVALID_DATA` for bad data or a column count other than the prior's D;
 *   `INVALID_PARAMS` for a posterior with inconsistent shapes.
 * @see Bishop (2006), eq. 10.46, 10.64–10.66.
 * @category Variational Bayes
 */
export function vbLogTable(x: VbMatrix, posterior: VbPosterior): Float64Array {
  checkPosterior(posterior);
  const { nComponents: k, nFeatures: d } = posterior.prior;
  checkMatrix(x, 'x', d);
  const logW = vbExpectedLogWeights(posterior);
  const logDetL = vbExpectedLogDetPrecision(posterior);
  const offset = new Float64Array(k);
  for (let c = 0; c < k; c++) offset[c] = (logW[c] as number) + 0.5 * ((logDetL[c] as number) - d * LOG_2PI - d / (posterior.meanPrecision[c] as number));
  const table = mahalanobisTable(x, posterior);
  for (let n = 0; n < x.rows; n++) for (let c = 0; c < k; c++) table[n * k + c] = (offset[c] as number) - 0.5 * (table[n * k + c] as number);
  return table;
}

/**
 * q(z) from the E-step table: log r_nk = table_nk − log Σ_j exp(table_nj), `[N, K]`, with the row normalizers `[N]`.
 * @param table `[N, K]` row-major (e.g. from {@link vbLogTable}).
 * @param nComponents K.
 * @throws EmError `INVALID_ARGUMENT` if K is not an integer ≥ 1 or the table's length is not a multiple of K.
 * @category Variational Bayes
 */
export function vbResponsibilities(table: Float64Array, nComponents: number): { resp: Float64Array; logResp: Float64Array; logNorm: Float64Array } {
  const k = nComponents;
  if (!Number.isInteger(k) || k < 1 || !(table instanceof Float64Array) || table.length % k !== 0) {
    throw emError('INVALID_ARGUMENT', ['table'], table, `must be a Float64Array [N, K] with K = nComponents = ${k} >= 1`, 'pass the table from vbLogTable and its K');
  }
  const rows = table.length / k;
  const resp = new Float64Array(table.length);
  const logResp = new Float64Array(table.length);
  const logNorm = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) max = Math.max(max, table[n * k + c] as number);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp((table[n * k + c] as number) - max);
    const norm = max + Math.log(s);
    logNorm[n] = norm;
    for (let c = 0; c < k; c++) {
      const l = (table[n * k + c] as number) - norm;
      logResp[n * k + c] = l;
      resp[n * k + c] = Math.exp(l);
    }
  }
  return { resp, logResp, logNorm };
}
