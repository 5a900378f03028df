/**
 * One EM step of a Gaussian HMM with missing observations against a float64
 * reference written here: emission densities of the observed sub-vectors
 * (testing's reference inverse and log-determinant), the exact posterior by
 * enumerating every state path, and the M-step with the missing cells
 * replaced by their conditional means and the conditional covariances added
 * to the second moments. A fully missing step enters only through the
 * transitions (its density is 1 and it adds no emission statistics).
 * Tolerance 1e-10 relative (both are float64 sums of the same terms).
 */
import { describe, expect, it } from 'vitest';
import { fit } from '@emlab/core';
import '@emlab/exact';
import { hiddenMarkovModel, type GaussianEmissionParams, type HmmParams } from '@emlab/models';
import { refInverse, refLogDet } from '@emlab/testing';

const NaN_ = Number.NaN;
const X: number[][] = [
  [0.2, 1.1, -0.3],
  [NaN_, 0.8, 0.1],
  [2.5, NaN_, NaN_],
  [NaN_, NaN_, NaN_],
  [3.1, 2.2, 1.9],
  [NaN_, 2.9, NaN_],
  [0.1, 0.3, NaN_],
];
const LENGTHS = [4, 3];
const THETA0: HmmParams<GaussianEmissionParams> = {
  initial: [0.6, 0.4],
  transition: [[0.8, 0.2], [0.3, 0.7]],
  emission: {
    type: 'gaussian',
    covarianceType: 'full',
    means: [[0, 1, 0], [3, 2, 2]],
    covariances: [
      [[1, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 0.8]],
      [[0.7, -0.2, 0.1], [-0.2, 1.2, 0.4], [0.1, 0.4, 1.1]],
    ],
  },
};
const REG = 1e-6;

const sub = (m: number[][], rows: number[], cols: number[]): number[][] => rows.map((i) => cols.map((j) => (m[i] as number[])[j] as number));
const matVec = (m: number[][], v: number[]): number[] => m.map((row) => row.reduce((a, x, j) => a + x * (v[j] as number), 0));
const matMul = (a: number[][], b: number[][]): number[][] => a.map((row) => (b[0] as number[]).map((_, j) => row.reduce((s, x, r) => s + x * ((b[r] as number[])[j] as number), 0)));
const transpose = (a: number[][]): number[][] => (a[0] as number[]).map((_, j) => a.map((row) => row[j] as number));

/** log N(x_o | μ_o, Σ_oo) (0 for an empty o). */
function logDensityObserved(x: number[], mu: number[], cov: number[][]): number {
  const o = x.flatMap((v, j) => (Number.isNaN(v) ? [] : [j]));
  if (o.length === 0) return 0;
  const s = sub(cov, o, o);
  const inv = refInverse(s);
  const u = o.map((j) => (x[j] as number) - (mu[j] as number));
  const q = u.reduce((a, ui, i) => a + ui * (matVec(inv, u)[i] as number), 0);
  return -0.5 * (o.length * Math.log(2 * Math.PI) + refLogDet(s) + q);
}

/** E[x | x_o, z] and E[x xᵀ | x_o, z] for one row and one state. */
function conditionalMoments(x: number[], mu: number[], cov: number[][]): { m1: number[]; m2: number[][] } {
  const d = x.length;
  const o = x.flatMap((v, j) => (Number.isNaN(v) ? [] : [j]));
  const m = x.flatMap((v, j) => (Number.isNaN(v) ? [j] : []));
  const m1 = [...x];
  const c = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  if (m.length > 0) {
    const b = matMul(sub(cov, m, o), refInverse(sub(cov, o, o)));
    const u = o.map((j) => (x[j] as number) - (mu[j] as number));
    const shift = matVec(b, u);
    m.forEach((j, a) => (m1[j] = (mu[j] as number) + (shift[a] as number)));
    const cc = sub(cov, m, m).map((row, a) => row.map((v, bb) => v - (matMul(b, transpose(sub(cov, m, o)))[a] as number[])[bb]!));
    m.forEach((i, a) => m.forEach((j, bb) => ((c[i] as number[])[j] = (cc[a] as number[])[bb] as number)));
  }
  const m2 = m1.map((a, i) => m1.map((b, j) => a * b + ((c[i] as number[])[j] as number)));
  return { m1, m2 };
}

function referenceStep(type: 'full' | 'diag', p: HmmParams<GaussianEmissionParams>): { params: HmmParams<GaussianEmissionParams>; logLikelihood: number } {
  const k = 2;
  const d = 3;
  const logE = X.map((row) => [0, 1].map((s) => logDensityObserved(row, p.emission.means[s] as number[], p.emission.covariances[s] as number[][])));
  const gamma = X.map(() => [0, 0]);
  const trans = [[0, 0], [0, 0]];
  const init = [0, 0];
  let logLikelihood = 0;
  let r0 = 0;
  for (const len of LENGTHS) {
    const paths: { z: number[]; lj: number }[] = [];
    for (let c = 0; c < 2 ** len; c++) {
      const z = Array.from({ length: len }, (_, t) => (c >> (len - 1 - t)) & 1);
      let lj = Math.log(p.initial[z[0] as number] as number) + ((logE[r0] as number[])[z[0] as number] as number);
      for (let t = 1; t < len; t++) lj += Math.log((p.transition[z[t - 1] as number] as number[])[z[t] as number] as number) + ((logE[r0 + t] as number[])[z[t] as number] as number);
      paths.push({ z, lj });
    }
    const top = Math.max(...paths.map((q) => q.lj));
    const logP = top + Math.log(paths.reduce((a, q) => a + Math.exp(q.lj - top), 0));
    logLikelihood += logP;
    for (const q of paths) {
      const w = Math.exp(q.lj - logP);
      (init as number[])[q.z[0] as number] = (init[q.z[0] as number] as number) + w;
      q.z.forEach((s, t) => ((gamma[r0 + t] as number[])[s] = ((gamma[r0 + t] as number[])[s] as number) + w));
      for (let t = 1; t < len; t++) (trans[q.z[t - 1] as number] as number[])[q.z[t] as number] = ((trans[q.z[t - 1] as number] as number[])[q.z[t] as number] as number) + w;
    }
    r0 += len;
  }
  const initial = init.map((v) => v / (init[0] as number + (init[1] as number)));
  const transition = trans.map((row) => row.map((v) => v / ((row[0] as number) + (row[1] as number))));
  const means: number[][] = [];
  const covariances: number[][][] = [];
  for (let s = 0; s < k; s++) {
    let n = 0;
    const s1 = new Array<number>(d).fill(0);
    const s2 = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    X.forEach((row, t) => {
      if (row.every(Number.isNaN)) return; // a fully missing step adds no emission statistics
      const g = (gamma[t] as number[])[s] as number;
      const { m1, m2 } = conditionalMoments(row, p.emission.means[s] as number[], p.emission.covariances[s] as number[][]);
      n += g;
      m1.forEach((v, i) => (s1[i] = (s1[i] as number) + g * v));
      m2.forEach((r, i) => r.forEach((v, j) => ((s2[i] as number[])[j] = ((s2[i] as number[])[j] as number) + g * v)));
    });
    const mu = s1.map((v) => v / n);
    const cov = s2.map((r, i) => r.map((v, j) => v / n - (mu[i] as number) * (mu[j] as number) + (i === j ? REG : 0)));
    means.push(mu);
    covariances.push(type === 'full' ? cov : cov.map((r, i) => r.map((v, j) => (i === j ? v : 0))));
  }
  return { params: { initial, transition, emission: { type: 'gaussian', covarianceType: type, means, covariances } }, logLikelihood };
}

const expectClose = (a: unknown, b: unknown): void => {
  if (typeof b === 'number') {
    expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(b)));
    return;
  }
  if (Array.isArray(b)) {
    expect((a as unknown[]).length).toBe(b.length);
    b.forEach((v, i) => expectClose((a as unknown[])[i], v));
    return;
  }
  if (typeof b === 'object' && b !== null) for (const [key, v] of Object.entries(b)) expectClose((a as Record<string, unknown>)[key], v);
  else expect(a).toEqual(b);
};

describe('Gaussian HMM with missing observations: one EM step against a float64 reference', () => {
  it.each(['full', 'diag'] as const)('%s covariances: log-likelihood and every updated parameter (1e-10)', async (type) => {
    const model = hiddenMarkovModel({ nStates: 2, covarianceType: type, regCovar: REG });
    const start = type === 'full' ? THETA0 : { ...THETA0, emission: { ...THETA0.emission, covarianceType: 'diag' as const, covariances: THETA0.emission.covariances.map((c) => c.map((r, i) => r.map((v, j) => (i === j ? v : 0)))) } };
    const ref = referenceStep(type, start);
    const r = await fit(model, { x: X, lengths: LENGTHS }, { init: start, maxIter: 1, tol: 0, onWarning: () => undefined });
    expectClose(r.trace[0]?.logLikelihood, ref.logLikelihood);
    expectClose(r.params, ref.params);
    expect(Math.abs(r.trace[0]?.gap as number)).toBeLessThanOrEqual(1e-10 * Math.abs(ref.logLikelihood));
    expect(r.data).toMatchObject({ nMissing: 9, nStepsAllMissing: 1, nSequences: 2 });
  });
});
