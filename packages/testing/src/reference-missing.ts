/**
 * Float64 reference for Gaussian mixtures with missing (NaN) entries, written
 * for clarity, row by row, independently of the model code: the observed-data
 * log-density, and one exact EM step in which each missing block is replaced
 * by its conditional mean and the conditional covariance is added to the
 * second moment.
 * @module
 */
import { refCholesky, refInverse, refLogSumExp, type Matrix, type RefCovarianceType, type RefGmmParams } from './reference-gmm.js';

const LOG_2PI = Math.log(2 * Math.PI);

const sub = (m: Matrix, rows: readonly number[], cols: readonly number[]): number[][] => rows.map((i) => cols.map((j) => (m[i] as readonly number[])[j] as number));

/** Per row and component: log p(x_o, k), the completed row E[x | x_o, k] and the conditional covariance padded to D×D. */
function conditionRow(row: readonly number[], params: RefGmmParams): { logJoint: number[]; completed: number[][]; cov: number[][][] } {
  const d = row.length;
  const obs = row.flatMap((v, j) => (Number.isNaN(v) ? [] : [j]));
  const mis = row.flatMap((v, j) => (Number.isNaN(v) ? [j] : []));
  const logJoint: number[] = [];
  const completed: number[][] = [];
  const cov: number[][][] = [];
  params.weights.forEach((w, c) => {
    const mu = params.means[c] as readonly number[];
    const s = params.covariances[c] as Matrix;
    const u = obs.map((j) => (row[j] as number) - (mu[j] as number));
    let lj = Math.log(w);
    let soInv: number[][] = [];
    if (obs.length > 0) {
      const soo = sub(s, obs, obs);
      const l = refCholesky(soo);
      let logDet = 0;
      for (let i = 0; i < obs.length; i++) logDet += 2 * Math.log((l[i] as number[])[i] as number);
      soInv = refInverse(soo);
      let maha = 0;
      for (let i = 0; i < obs.length; i++) for (let j = 0; j < obs.length; j++) maha += (u[i] as number) * ((soInv[i] as number[])[j] as number) * (u[j] as number);
      lj += -0.5 * (obs.length * LOG_2PI + logDet + maha);
    }
    logJoint.push(lj);
    const smo = sub(s, mis, obs);
    const b = smo.map((r) => obs.map((_, j) => r.reduce((acc, v, t) => acc + v * ((soInv[t] as number[])[j] as number), 0)));
    const x = row.slice();
    mis.forEach((j, a) => (x[j] = (mu[j] as number) + (b[a] as number[]).reduce((acc, v, t) => acc + v * (u[t] as number), 0)));
    completed.push(x);
    const pad = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    mis.forEach((i, a) =>
      mis.forEach((j, bb) => {
        let v = (s[i] as readonly number[])[j] as number;
        obs.forEach((o, t) => (v -= ((b[a] as number[])[t] as number) * ((s[o] as readonly number[])[j] as number)));
        void bb;
        (pad[i] as number[])[j] = v;
      }),
    );
    cov.push(pad);
  });
  return { logJoint, completed, cov };
}

/**
 * log p(x_n,obs | θ) per row (0 for a row with nothing observed).
 * @category Testing
 */
export function refMissingLogDensity(rows: Matrix, params: RefGmmParams): number[] {
  return rows.map((row) => (row.every(Number.isNaN) ? 0 : refLogSumExp(conditionRow(row, params).logJoint)));
}

/**
 * One exact EM step through missing entries (float64), covariance types as in
 * `refEmStep` (no 10·eps in n_k). Rows with nothing observed are skipped.
 * @category Testing
 */
export function refMissingEmStep(rows: Matrix, params: RefGmmParams, covarianceType: RefCovarianceType, regCovar: number): RefGmmParams & { logLikelihood: number } {
  const k = params.weights.length;
  const d = (params.means[0] as readonly number[]).length;
  const nk = new Array<number>(k).fill(0);
  const s1 = Array.from({ length: k }, () => new Array<number>(d).fill(0));
  const parts: { r: number[]; completed: number[][]; cov: number[][][] }[] = [];
  let logLikelihood = 0;
  for (const row of rows) {
    if (row.every(Number.isNaN)) continue;
    const { logJoint, completed, cov } = conditionRow(row, params);
    const lse = refLogSumExp(logJoint);
    logLikelihood += lse;
    const r = logJoint.map((v) => Math.exp(v - lse));
    parts.push({ r, completed, cov });
    r.forEach((w, c) => {
      nk[c] = (nk[c] as number) + w;
      (completed[c] as number[]).forEach((v, i) => ((s1[c] as number[])[i] = ((s1[c] as number[])[i] as number) + w * v));
    });
  }
  const total = nk.reduce((a, b) => a + b, 0);
  const means = s1.map((m, c) => m.map((v) => v / (nk[c] as number)));
  const scatter = Array.from({ length: k }, () => Array.from({ length: d }, () => new Array<number>(d).fill(0)));
  for (const { r, completed, cov } of parts) {
    r.forEach((w, c) => {
      const x = completed[c] as number[];
      const mu = means[c] as number[];
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const v = ((x[i] as number) - (mu[i] as number)) * ((x[j] as number) - (mu[j] as number)) + (((cov[c] as number[][])[i] as number[])[j] as number);
          ((scatter[c] as number[][])[i] as number[])[j] = (((scatter[c] as number[][])[i] as number[])[j] as number) + w * v;
        }
      }
    });
  }
  const reg = (m: number[][]): number[][] => m.map((row, i) => row.map((v, j) => v + (i === j ? regCovar : 0)));
  let covariances: number[][][];
  if (covarianceType === 'tied') {
    const shared = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => scatter.reduce((a, s) => a + ((s[i] as number[])[j] as number), 0) / total));
    covariances = Array.from({ length: k }, () => reg(shared));
  } else {
    covariances = scatter.map((s, c) => {
      const full = s.map((row) => row.map((v) => v / (nk[c] as number)));
      if (covarianceType === 'full') return reg(full);
      const diag = full.map((row, i) => (row[i] as number) + regCovar);
      const sph = diag.reduce((a, b) => a + b, 0) / d;
      return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? (covarianceType === 'diag' ? (diag[i] as number) : sph) : 0)));
    });
  }
  return { weights: nk.map((v) => v / total), means, covariances, logLikelihood };
}
