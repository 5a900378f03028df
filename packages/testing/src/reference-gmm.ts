/**
 * An independent float64 reference for Gaussian mixtures, in plain
 * TypeScript: its own Cholesky, inverse and log-determinant (nothing from
 * emlab's linear algebra or models), and one exact EM step with
 * scikit-learn's formulas (`sklearn.mixture.GaussianMixture`,
 * `_estimate_gaussian_parameters`). Slow and simple on purpose.
 * @module
 */

/** Covariance types (duplicated here so the reference imports nothing from emlab). @category Testing */
export type RefCovarianceType = 'full' | 'diag' | 'spherical' | 'tied';

/** Parameters in emlab's layout: covariances always full D×D matrices. @category Testing */
export interface RefGmmParams {
  readonly weights: readonly number[];
  readonly means: readonly (readonly number[])[];
  readonly covariances: readonly (readonly (readonly number[])[])[];
}

/** A dense matrix as rows (the reference works on plain arrays). @category Testing */
export type Matrix = readonly (readonly number[])[];

const at = (m: Matrix, i: number, j: number): number => (m[i] as readonly number[])[j] as number;
const zeros = (r: number, c: number): number[][] => Array.from({ length: r }, () => new Array<number>(c).fill(0));

/**
 * Lower Cholesky factor L (L Lᵀ = a) of a symmetric positive definite matrix.
 * @throws Error when a pivot is not positive.
 * @category Testing
 */
export function refCholesky(a: Matrix): number[][] {
  const d = a.length;
  const l = zeros(d, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = at(a, i, j);
      for (let p = 0; p < j; p++) s -= at(l, i, p) * at(l, j, p);
      if (i === j) {
        if (!(s > 0)) throw new Error(`refCholesky: matrix is not positive definite (pivot ${i} = ${s})`);
        (l[i] as number[])[i] = Math.sqrt(s);
      } else {
        (l[i] as number[])[j] = s / at(l, j, j);
      }
    }
  }
  return l;
}

/** log det a = 2 Σ log L_ii. @category Testing */
export function refLogDet(a: Matrix): number {
  const l = refCholesky(a);
  let s = 0;
  for (let i = 0; i < l.length; i++) s += Math.log(at(l, i, i));
  return 2 * s;
}

/** Solves L z = b (forward substitution). */
function forward(l: Matrix, b: readonly number[]): number[] {
  const d = l.length;
  const z = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    let s = b[i] as number;
    for (let p = 0; p < i; p++) s -= at(l, i, p) * (z[p] as number);
    z[i] = s / at(l, i, i);
  }
  return z;
}

/** Solves Lᵀ x = z (back substitution). */
function backward(l: Matrix, z: readonly number[]): number[] {
  const d = l.length;
  const x = new Array<number>(d).fill(0);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i] as number;
    for (let p = i + 1; p < d; p++) s -= at(l, p, i) * (x[p] as number);
    x[i] = s / at(l, i, i);
  }
  return x;
}

/** a⁻¹ of a symmetric positive definite matrix, column by column through its Cholesky factor. @category Testing */
export function refInverse(a: Matrix): number[][] {
  const d = a.length;
  const l = refCholesky(a);
  const inv = zeros(d, d);
  for (let c = 0; c < d; c++) {
    const e = new Array<number>(d).fill(0);
    e[c] = 1;
    const x = backward(l, forward(l, e));
    for (let r = 0; r < d; r++) (inv[r] as number[])[c] = x[r] as number;
  }
  return inv;
}

/** log Σ exp(v), stable. @category Testing */
export function refLogSumExp(v: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of v) if (x > m) m = x;
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

/**
 * Per row, log p(x_n, z_n = k) = log π_k + log N(x_n | μ_k, Σ_k) and log p(x_n) (float64).
 * The Mahalanobis term is |L⁻¹(x − μ)|² with Σ = L Lᵀ.
 * @category Testing
 */
export function refLogDensity(
  x: Matrix,
  weights: readonly number[],
  means: Matrix,
  covs: readonly Matrix[],
): { logProb: number[]; logJoint: number[][] } {
  const k = weights.length;
  const d = (means[0] as readonly number[]).length;
  const log2pi = Math.log(2 * Math.PI);
  const comps = Array.from({ length: k }, (_, c) => {
    const l = refCholesky(covs[c] as Matrix);
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += 2 * Math.log(at(l, i, i));
    return { l, constant: Math.log(weights[c] as number) - 0.5 * (d * log2pi + logDet) };
  });
  const logJoint: number[][] = [];
  const logProb: number[] = [];
  for (const row of x) {
    const lj = comps.map(({ l, constant }, c) => {
      const diff = row.map((v, i) => v - at(means, c, i));
      const z = forward(l, diff);
      let maha = 0;
      for (const v of z) maha += v * v;
      return constant - 0.5 * maha;
    });
    logJoint.push(lj);
    logProb.push(refLogSumExp(lj));
  }
  return { logProb, logJoint };
}

/** What {@link refEmStep} returns. @category Testing */
export interface RefEmStepResult extends RefGmmParams {
  readonly weights: number[];
  readonly means: number[][];
  /** Full D×D matrices for every type (tied: the shared one K times). */
  readonly covariances: number[][][];
  /** Posterior responsibilities at the input parameters `[N][K]`. */
  readonly resp: number[][];
  /** Σ_n resp_nk + 10·eps (scikit-learn's `nk`). */
  readonly nk: number[];
  /** log p(x | θ_input). */
  readonly logLikelihood: number;
}

/**
 * One exact EM step from `params` in float64, with scikit-learn's formulas:
 * resp = exp(log p(x, k) − log p(x)); nk = Σ_n resp + 10·eps; weights = nk / N;
 * μ_k = Σ_n resp x_n / nk; and covariances
 * - full: Σ_n resp (x − μ_k)(x − μ_k)ᵀ / nk + reg·I,
 * - diag: the diagonal of that (scikit-learn's avg_X2 − 2 avg_X_means + avg_means2, written centred),
 * - spherical: the mean of the diag variances (reg included),
 * - tied: Σ_k Σ_n resp (x − μ_k)(x − μ_k)ᵀ / Σ_k nk + reg·I (scikit-learn's (XᵀX − Σ nk μ μᵀ)/Σ nk, written centred).
 * @category Testing
 */
export function refEmStep(rows: Matrix, params: RefGmmParams, covarianceType: RefCovarianceType, regCovar: number): RefEmStepResult {
  const n = rows.length;
  const k = params.weights.length;
  const d = (rows[0] as readonly number[]).length;
  const { logProb, logJoint } = refLogDensity(rows, params.weights, params.means, params.covariances);
  const resp = logJoint.map((lj, r) => lj.map((v) => Math.exp(v - (logProb[r] as number))));
  const eps10 = 10 * Number.EPSILON;
  const nk = Array.from({ length: k }, (_, c) => resp.reduce((s, row) => s + (row[c] as number), 0) + eps10);
  const means = Array.from({ length: k }, (_, c) => {
    const m = new Array<number>(d).fill(0);
    rows.forEach((x, r) => {
      const w = at(resp, r, c);
      for (let i = 0; i < d; i++) m[i] = (m[i] as number) + w * (x[i] as number);
    });
    return m.map((v) => v / (nk[c] as number));
  });
  const scatter = Array.from({ length: k }, (_, c) => {
    const s = zeros(d, d);
    const mu = means[c] as number[];
    rows.forEach((x, r) => {
      const w = at(resp, r, c);
      for (let i = 0; i < d; i++) {
        const di = (x[i] as number) - (mu[i] as number);
        for (let j = 0; j < d; j++) (s[i] as number[])[j] = at(s, i, j) + w * di * ((x[j] as number) - (mu[j] as number));
      }
    });
    return s;
  });
  let covariances: number[][][];
  if (covarianceType === 'tied') {
    const total = nk.reduce((a, b) => a + b, 0);
    const shared = zeros(d, d);
    for (const s of scatter) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) (shared[i] as number[])[j] = at(shared, i, j) + at(s, i, j);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) (shared[i] as number[])[j] = at(shared, i, j) / total + (i === j ? regCovar : 0);
    covariances = Array.from({ length: k }, () => shared.map((row) => row.slice()));
  } else {
    covariances = scatter.map((s, c) => {
      const w = nk[c] as number;
      const out = zeros(d, d);
      if (covarianceType === 'full') {
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) (out[i] as number[])[j] = at(s, i, j) / w + (i === j ? regCovar : 0);
      } else {
        const diag = Array.from({ length: d }, (_, i) => at(s, i, i) / w + regCovar);
        const sph = diag.reduce((a, b) => a + b, 0) / d;
        for (let i = 0; i < d; i++) (out[i] as number[])[i] = covarianceType === 'diag' ? (diag[i] as number) : sph;
      }
      return out;
    });
  }
  const weights = nk.map((v) => v / n);
  return { weights, means, covariances, resp, nk, logLikelihood: logProb.reduce((a, b) => a + b, 0) };
}
