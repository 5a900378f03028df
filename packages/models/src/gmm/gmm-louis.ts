/**
 * Louis' identity for Gaussian mixtures (with missing entries), in the natural coordinates
 * φ = (π_1 … π_{K−1}, μ_1 … μ_K, covariance entries): the model's `louis` hook.
 *
 * The complete data of row n are (x_{n,obs}, z_n): the missing entries are integrated out exactly
 * (the observed part of a Gaussian component is Gaussian, N(μ_o, Σ_oo)), so the only latent Louis'
 * identity has to account for is the component label, and
 *
 *   I(φ) = −Σ_n Σ_k q_nk ∇² log p(x_{n,o}, k) − Σ_n Cov_{q_n}[∇ log p(x_{n,o}, z)]
 *
 * with q_nk = p(z_n = k | x_{n,o}) exact. Every covariance coordinate a is a symmetric basis matrix
 * B_a (Σ = Σ_a φ_a B_a: `full` and `tied` one per entry i ≤ j, `diag` one per variance,
 * `spherical` B = I). With P = Σ_oo⁻¹, e = x_o − μ_o, v = P e and B_a restricted to the observed
 * entries:
 *
 *   ∂/∂μ_o = v,  ∂/∂φ_a = −½ tr(P B_a) + ½ vᵀ B_a v,
 *   ∂²/∂μ_o² = −P,  ∂²/∂μ_o ∂φ_a = −P B_a v,  ∂²/∂φ_a ∂φ_b = ½ tr(P B_a P B_b) − vᵀ B_a P B_b v,
 *   ∂/∂π_j log π_k = 1[k = j]/π_j − 1[k = K]/π_K,  ∂²/∂π_j ∂π_j' = −1[k = j = j']/π_j² − 1[k = K]/π_K².
 *
 * @see Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm.
 * @see Little, R. J. A. & Rubin, D. B. (2002). Statistical Analysis with Missing Data, §8–9.
 * @module
 */
import { choleskyWithJitter, emError, inverseFromCholesky, LouisAccumulator, type LouisTerms, type Parametrization } from '@emlab/core';
import type { GmmPrepared } from './gmm-data.js';
import { paramsToFrame } from './gmm-frame.js';
import type { CovarianceType, GmmParams } from './gmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A covariance coordinate: its basis entries (i, j), both orders for i ≠ j. */
type Basis = readonly (readonly [number, number])[];

/** The covariance coordinates of one component (shared by every component for `tied`). */
function covarianceBases(type: CovarianceType, d: number): Basis[] {
  const out: Basis[] = [];
  if (type === 'full' || type === 'tied') {
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) out.push(i === j ? [[i, i]] : [[i, j], [j, i]]);
  } else if (type === 'diag') {
    for (let i = 0; i < d; i++) out.push([[i, i]]);
  } else {
    out.push(Array.from({ length: d }, (_, i) => [i, i] as const));
  }
  return out;
}

/**
 * The natural coordinates φ of a Gaussian mixture: K−1 weights (the last is 1 − Σ), K·D means
 * (original units), then the covariance entries as stored in the parameters: per component i ≤ j
 * (`full`), the variances (`diag`), one variance (`spherical`), or one shared set i ≤ j (`tied`).
 * With `scale` (covariances declared in per-column units, `GmmParams.scale`), `fromVector` keeps it.
 * @category Gaussian mixtures
 */
export function gmmNaturalCoordinates(k: number, d: number, type: CovarianceType, scale?: readonly number[]): Parametrization<GmmParams> {
  const bases = covarianceBases(type, d);
  const perComponent = bases.length;
  const nCov = type === 'tied' ? perComponent : k * perComponent;
  const dim = k - 1 + k * d + nCov;
  const covAt = k - 1 + k * d;
  return {
    description: `gmm/${type} natural: K−1 weights (last = 1 − Σ), K·D means, ${type === 'tied' ? 'shared covariance entries i ≤ j' : type === 'full' ? 'per component covariance entries i ≤ j' : type === 'diag' ? 'per component variances' : 'per component one variance'}`,
    dim,
    toVector(params) {
      const v = new Float64Array(dim);
      for (let c = 0; c < k - 1; c++) v[c] = params.weights[c] as number;
      for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) v[k - 1 + c * d + j] = (params.means[c] as number[])[j] as number;
      const comps = type === 'tied' ? 1 : k;
      for (let c = 0; c < comps; c++) {
        const cov = params.covariances[c] as number[][];
        bases.forEach((b, a) => {
          const [i, j] = b[0] as readonly [number, number];
          v[covAt + c * perComponent + a] = (cov[i] as number[])[j] as number;
        });
      }
      return v;
    },
    fromVector(v) {
      if (v.length !== dim) throw emError('INVALID_ARGUMENT', ['phi'], v, `must have length ${dim}`, 'pass a vector from toVector');
      let last = 1;
      const weights: number[] = [];
      for (let c = 0; c < k - 1; c++) {
        weights.push(v[c] as number);
        last -= v[c] as number;
      }
      weights.push(last);
      const means = Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => v[k - 1 + c * d + j] as number));
      const covariances: number[][][] = [];
      for (let c = 0; c < k; c++) {
        const at = covAt + (type === 'tied' ? 0 : c) * perComponent;
        const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
        bases.forEach((b, a) => {
          for (const [i, j] of b) (cov[i] as number[])[j] = v[at + a] as number;
        });
        covariances.push(cov);
      }
      return { covarianceType: type, weights, means, covariances, ...(scale === undefined ? {} : { scale: [...scale] }) };
    },
  };
}

/**
 * Louis' identity terms of a Gaussian mixture at `params` on prepared data (float64; see the module
 * documentation). Rows with every entry missing were left out by `prepare` (they carry no information).
 * @throws EmError `NOT_POSITIVE_DEFINITE` naming the component when a covariance is not positive definite.
 * @category Gaussian mixtures
 */
export function gmmLouisTerms(prepared: GmmPrepared, given: GmmParams, type: CovarianceType): LouisTerms<GmmParams> {
  const k = given.weights.length;
  const d = prepared.nFeatures;
  const coordinates = gmmNaturalCoordinates(k, d, type, given.scale);
  // The derivatives are taken in the data's frame units (prepared data are divided by the frame's
  // column scales, `gmm-frame.ts`) and mapped to the stored coordinates at the end.
  const params = paramsToFrame(given, prepared.frame);
  const bases = covarianceBases(type, d);
  const perComponent = bases.length;
  const covAt = k - 1 + k * d;
  const acc = new LouisAccumulator(coordinates.dim);
  const pi = params.weights;
  const logPi = pi.map((w) => Math.log(w));
  const offset = prepared.offset;
  // Centred means and full covariances.
  const mu = params.means.map((m) => Float64Array.from(m, (x, j) => x - (offset[j] as number)));
  const cov = params.covariances.map((c) => Float64Array.from(c.flat()));
  for (const seg of prepared.hostPatterns) {
    const obs = seg.obs;
    const o = obs.length;
    if (o === 0 || seg.count === 0) continue;
    const pos = new Int32Array(d).fill(-1);
    obs.forEach((c, i) => (pos[c] = i));
    // Active covariance coordinates: basis entries with both indices observed, in observed positions.
    const active: { a: number; entries: [number, number][] }[] = [];
    bases.forEach((b, a) => {
      const entries: [number, number][] = [];
      for (const [i, j] of b) if ((pos[i] as number) >= 0 && (pos[j] as number) >= 0) entries.push([pos[i] as number, pos[j] as number]);
      if (entries.length > 0) active.push({ a, entries });
    });
    // Per component: P = Σ_oo⁻¹, the log-density constant.
    const comps = Array.from({ length: k }, (_, c) => {
      const soo = new Float64Array(o * o);
      const full = cov[c] as Float64Array;
      for (let i = 0; i < o; i++) for (let j = 0; j < o; j++) soo[i * o + j] = full[(obs[i] as number) * d + (obs[j] as number)] as number;
      const f = choleskyWithJitter(soo, o, { maxJitter: 0, component: c });
      const P = inverseFromCholesky(f.L, o);
      const mo = Float64Array.from(obs, (col) => (mu[c] as Float64Array)[col] as number);
      const covBase = covAt + (type === 'tied' ? 0 : c) * perComponent;
      // The touched coordinates of component c: weights, observed means, active covariance coordinates.
      const index: number[] = [];
      for (let j = 0; j < k - 1; j++) index.push(j);
      const meanAt = index.length;
      for (const col of obs) index.push(k - 1 + c * d + col);
      const covPos = index.length;
      for (const { a } of active) index.push(covBase + a);
      // The μ–μ block and the tr(P B_a P B_b) terms do not depend on the row.
      const m = index.length;
      const fixed = new Float64Array(m * m);
      for (let i = 0; i < o; i++) for (let j = 0; j < o; j++) fixed[(meanAt + i) * m + meanAt + j] = -(P[i * o + j] as number);
      active.forEach((ea, x) => {
        active.forEach((eb, y) => {
          let tr = 0;
          for (const [i, j] of ea.entries) for (const [kk, l] of eb.entries) tr += (P[l * o + i] as number) * (P[j * o + kk] as number);
          fixed[(covPos + x) * m + covPos + y] = 0.5 * tr;
        });
      });
      return { P, mo, constant: (logPi[c] as number) - 0.5 * o * LOG_2PI - 0.5 * f.logDet, index: Int32Array.from(index), meanAt, covPos, fixed };
    });
    const e = new Float64Array(o);
    const vs = Array.from({ length: k }, () => new Float64Array(o));
    const logJ = new Float64Array(k);
    const q = new Float64Array(k);
    for (let r = 0; r < seg.count; r++) {
      const w = prepared.weights === undefined ? 1 : (prepared.weights[seg.start + r] as number);
      if (!(w > 0)) continue;
      let top = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const cc = comps[c] as (typeof comps)[number];
        const v = vs[c] as Float64Array;
        for (let j = 0; j < o; j++) e[j] = (seg.xo[r * o + j] as number) - (cc.mo[j] as number);
        let quad = 0;
        for (let i = 0; i < o; i++) {
          let s = 0;
          for (let j = 0; j < o; j++) s += (cc.P[i * o + j] as number) * (e[j] as number);
          v[i] = s;
          quad += (e[i] as number) * s;
        }
        logJ[c] = cc.constant - 0.5 * quad;
        if ((logJ[c] as number) > top) top = logJ[c] as number;
      }
      let z = 0;
      for (let c = 0; c < k; c++) z += (q[c] = Math.exp((logJ[c] as number) - top));
      for (let c = 0; c < k; c++) q[c] = (q[c] as number) / z;
      acc.addRow(w, q, (c) => {
        const cc = comps[c] as (typeof comps)[number];
        const v = vs[c] as Float64Array;
        const m = cc.index.length;
        const score = new Float64Array(m);
        const hessian = cc.fixed.slice();
        for (let j = 0; j < k - 1; j++) {
          score[j] = (c === j ? 1 / (pi[j] as number) : 0) - (c === k - 1 ? 1 / (pi[k - 1] as number) : 0);
          for (let jj = 0; jj < k - 1; jj++) {
            hessian[j * m + jj] = (c === j && j === jj ? -1 / (pi[j] as number) ** 2 : 0) - (c === k - 1 ? 1 / (pi[k - 1] as number) ** 2 : 0);
          }
        }
        for (let i = 0; i < o; i++) score[cc.meanAt + i] = v[i] as number;
        // P v per observed position (for −P B_a v and vᵀ B_a P B_b v).
        active.forEach((ea, x) => {
          let s = 0;
          for (const [i, j] of ea.entries) s += -0.5 * (cc.P[j * o + i] as number) + 0.5 * (v[i] as number) * (v[j] as number);
          score[cc.covPos + x] = s;
          // ∂²/∂μ_o ∂φ_a = −P B_a v: component t of B_a v is Σ_{(i, j) ∈ a, i = t} v_j.
          for (let t = 0; t < o; t++) {
            let h = 0;
            for (const [i, j] of ea.entries) h -= (cc.P[t * o + i] as number) * (v[j] as number);
            hessian[(cc.meanAt + t) * m + cc.covPos + x] = h;
            hessian[(cc.covPos + x) * m + cc.meanAt + t] = h;
          }
          active.forEach((eb, y) => {
            let h = 0;
            for (const [i, j] of ea.entries) for (const [kk, l] of eb.entries) h += (v[i] as number) * (cc.P[j * o + kk] as number) * (v[l] as number);
            hessian[(cc.covPos + x) * m + cc.covPos + y] = (hessian[(cc.covPos + x) * m + cc.covPos + y] as number) - h;
          });
        });
        return { index: cc.index, score, hessian };
      });
    }
  }
  const terms = acc.result();
  const f = prepared.frame;
  const u = given.scale;
  if (f === undefined && u === undefined) return { coordinates, ...terms };
  // φ_frame = a ⊙ φ_stored: means / f_j, covariance entries (i, j) · u_i u_j / (f_i f_j).
  const fj = (j: number): number => (f === undefined ? 1 : (f[j] as number));
  const uj = (j: number): number => (u === undefined ? 1 : (u[j] as number));
  const a = new Float64Array(coordinates.dim).fill(1);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) a[k - 1 + c * d + j] = 1 / fj(j);
  const comps = type === 'tied' ? 1 : k;
  for (let c = 0; c < comps; c++) bases.forEach((b, x) => {
    const [i, j] = b[0] as readonly [number, number];
    a[covAt + c * perComponent + x] = (uj(i) * uj(j)) / (fj(i) * fj(j));
  });
  const p = coordinates.dim;
  const both = (m: Float64Array): Float64Array => m.map((v, o) => v * (a[Math.floor(o / p)] as number) * (a[o % p] as number));
  return { coordinates, expectedCompleteHessian: both(terms.expectedCompleteHessian), scoreCovariance: both(terms.scoreCovariance), score: terms.score.map((v, i) => v * (a[i] as number)) };
}
