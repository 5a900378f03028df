/**
 * The Gaussian-mixture maths as small pure float64 functions (tests call them
 * directly): statistics algebra, covariance estimates per covariance type,
 * the M-step with its degenerate-component policy, and E_q[log p(x, z | θ)].
 * @module
 */
import { choleskyWithJitter, emError, EmError, inverseFromCholesky, solveLower, type ModelEvent, type Rng, type StatsAlgebra } from '@emlab/core';
import type { CovarianceType, GmmParams, GmmStats } from './gmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** A component whose weight Σ_n w_nk is below this is empty and reinitialized. */
export const EMPTY_COMPONENT_WEIGHT = 1e-8;

/**
 * The same statistics about other reference points (float64): with
 * δ = ref − ref', s1' = s1 + n δ and s2' = s2 + s1 δᵀ + δ s1ᵀ + n δ δᵀ.
 * Returns `stats` itself when the references are already equal.
 * @category Gaussian mixtures
 */
export function rereference(stats: GmmStats, ref: Float64Array): GmmStats {
  const { k, d } = stats;
  let same = true;
  for (let i = 0; i < ref.length && same; i++) same = stats.ref[i] === ref[i];
  if (same) return stats;
  const s1 = stats.s1.slice();
  const s2 = stats.s2.slice();
  for (let c = 0; c < k; c++) {
    const w = stats.n[c] as number;
    const delta = new Float64Array(d);
    for (let i = 0; i < d; i++) delta[i] = (stats.ref[c * d + i] as number) - (ref[c * d + i] as number);
    for (let i = 0; i < d; i++) {
      const a1 = stats.s1[c * d + i] as number;
      for (let j = 0; j < d; j++) {
        const b1 = stats.s1[c * d + j] as number;
        s2[c * d * d + i * d + j] = (s2[c * d * d + i * d + j] as number) + a1 * (delta[j] as number) + (delta[i] as number) * b1 + w * (delta[i] as number) * (delta[j] as number);
      }
    }
    for (let i = 0; i < d; i++) s1[c * d + i] = (s1[c * d + i] as number) + w * (delta[i] as number);
  }
  return { k, d, n: stats.n.slice(), s1, s2, ref: ref.slice() };
}

const frameOf = (s: GmmStats): { frame?: Float64Array } => (s.frame === undefined ? {} : { frame: s.frame });

function sameFrame(a: Float64Array | undefined, b: Float64Array | undefined): boolean {
  if (a === b) return true;
  const x = a ?? b;
  const y = a === undefined ? undefined : b;
  if (y === undefined) return (x as Float64Array).every((v) => v === 1);
  return (a as Float64Array).length === y.length && (a as Float64Array).every((v, i) => v === y[i]);
}

/**
 * Zero, add and scale for {@link GmmStats}. `add` re-references the second
 * operand to the first one's reference points when they differ, so statistics
 * of separately prepared data sets add up exactly (in float64).
 * @category Gaussian mixtures
 */
export const gmmStatsAlgebra: StatsAlgebra<GmmStats> = {
  zero(like) {
    return { k: like.k, d: like.d, n: new Float64Array(like.k), s1: new Float64Array(like.s1.length), s2: new Float64Array(like.s2.length), ref: like.ref.slice(), ...frameOf(like) };
  },
  add(a, b) {
    if (a.k !== b.k || a.d !== b.d) throw emError('INVALID_ARGUMENT', ['stats'], `${b.k}x${b.d}`, `have shape ${b.k}x${b.d}, expected ${a.k}x${a.d}`, 'add statistics of the same model only');
    if (!sameFrame(a.frame, b.frame)) {
      throw emError('INVALID_ARGUMENT', ['stats', 'frame'], b.frame, 'were measured in another column scaling than the statistics they are added to', 'add statistics of data sets prepared with the same column scales');
    }
    const c = rereference(b, a.ref);
    const sum = (x: Float64Array, y: Float64Array): Float64Array => x.map((v, i) => v + (y[i] as number));
    return { k: a.k, d: a.d, n: sum(a.n, c.n), s1: sum(a.s1, c.s1), s2: sum(a.s2, c.s2), ref: a.ref.slice(), ...frameOf(a) };
  },
  scale(a, c) {
    return { k: a.k, d: a.d, n: a.n.map((v) => v * c), s1: a.s1.map((v) => v * c), s2: a.s2.map((v) => v * c), ref: a.ref.slice(), ...frameOf(a) };
  },
};

/**
 * Per-component weight, mean and scatter about the new mean from statistics:
 * μ_k = ref_k + s1_k / n_k and M_k = s2_k − n_k (μ_k − ref_k)(μ_k − ref_k)ᵀ.
 * Components with n_k below {@link EMPTY_COMPONENT_WEIGHT} are flagged `empty`.
 * @category Gaussian mixtures
 */
export function gaussianMoments(stats: GmmStats): { nk: Float64Array; means: Float64Array; scatter: Float64Array; empty: boolean[] } {
  const { k, d } = stats;
  const nk = stats.n.slice();
  const means = new Float64Array(k * d);
  const scatter = new Float64Array(k * d * d);
  const empty: boolean[] = [];
  for (let c = 0; c < k; c++) {
    const w = nk[c] as number;
    empty.push(!(w >= EMPTY_COMPONENT_WEIGHT));
    const shift = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      shift[i] = w > 0 ? (stats.s1[c * d + i] as number) / w : 0;
      means[c * d + i] = (stats.ref[c * d + i] as number) + (shift[i] as number);
    }
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        // upper triangle, mirrored: the result is exactly symmetric
        const s = 0.5 * ((stats.s2[c * d * d + i * d + j] as number) + (stats.s2[c * d * d + j * d + i] as number));
        const v = s - w * (shift[i] as number) * (shift[j] as number);
        scatter[c * d * d + i * d + j] = v;
        scatter[c * d * d + j * d + i] = v;
      }
    }
  }
  return { nk, means, scatter, empty };
}

/**
 * Covariances (float64, `[K·D·D]`, full matrices) for a covariance type from
 * the per-component scatter matrices, with `regCovar` added to the diagonal:
 * full Σ_k = M_k / n_k; diag the diagonal of it; spherical tr(M_k)/(D n_k) I;
 * tied Σ = Σ_k M_k / Σ_k n_k for every k. Like scikit-learn's
 * `_estimate_gaussian_covariances_*`. A negative diagonal of a scatter matrix
 * (float32 residue of a zero variance) is taken as 0, so every variance is at
 * least `regCovar`.
 * @category Gaussian mixtures
 */
export function gaussianCovariances(type: CovarianceType, nk: Float64Array, scatterIn: Float64Array, d: number, regCovar: number): Float64Array {
  const k = nk.length;
  const out = new Float64Array(k * d * d);
  const dd = d * d;
  const scatter = scatterIn.slice();
  for (let c = 0; c < k; c++) for (let i = 0; i < d; i++) scatter[c * dd + i * d + i] = Math.max(0, scatter[c * dd + i * d + i] as number);
  if (type === 'tied') {
    const total = nk.reduce((a, b) => a + b, 0);
    const shared = new Float64Array(dd);
    for (let c = 0; c < k; c++) for (let i = 0; i < dd; i++) shared[i] = (shared[i] as number) + (scatter[c * dd + i] as number);
    for (let i = 0; i < dd; i++) shared[i] = (shared[i] as number) / total;
    for (let i = 0; i < d; i++) shared[i * d + i] = (shared[i * d + i] as number) + regCovar;
    for (let c = 0; c < k; c++) out.set(shared, c * dd);
    return out;
  }
  for (let c = 0; c < k; c++) {
    const w = Math.max(nk[c] as number, 10 * Number.EPSILON);
    const base = c * dd;
    if (type === 'full') {
      for (let i = 0; i < dd; i++) out[base + i] = (scatter[base + i] as number) / w;
    } else if (type === 'diag') {
      for (let i = 0; i < d; i++) out[base + i * d + i] = (scatter[base + i * d + i] as number) / w;
    } else {
      let tr = 0;
      for (let i = 0; i < d; i++) tr += scatter[base + i * d + i] as number;
      for (let i = 0; i < d; i++) out[base + i * d + i] = tr / (d * w);
    }
    for (let i = 0; i < d; i++) out[base + i * d + i] = (out[base + i * d + i] as number) + regCovar;
  }
  return out;
}

/** Converts flat float64 arrays to {@link GmmParams}. @category Gaussian mixtures */
export function packParams(type: CovarianceType, weights: Float64Array, means: Float64Array, covariances: Float64Array, d: number): GmmParams {
  const k = weights.length;
  const m: number[][] = [];
  const s: number[][][] = [];
  for (let c = 0; c < k; c++) {
    m.push(Array.from(means.subarray(c * d, (c + 1) * d)));
    const mat: number[][] = [];
    for (let i = 0; i < d; i++) mat.push(Array.from(covariances.subarray(c * d * d + i * d, c * d * d + (i + 1) * d)));
    s.push(mat);
  }
  return { covarianceType: type, weights: Array.from(weights), means: m, covariances: s };
}

/** Flattens `covariances[k]` to a Float64Array. @category Gaussian mixtures */
export function flatCovariance(params: GmmParams, c: number): Float64Array {
  const cov = params.covariances[c] as number[][];
  const d = cov.length;
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = (cov[i] as number[])[j] as number;
  return out;
}

/** Data needed to reinitialize an empty component. @category Gaussian mixtures */
export interface ReinitSource {
  /** A data row, original units, chosen by the caller's rng. */
  row(index: number): Float64Array;
  readonly nRows: number;
  /** Σ row weights (the fresh component's weight is 1/W). Default nRows. */
  readonly totalWeight?: number;
  /** Picks a row (one with positive weight). Default a uniform index. */
  pick?(rng: Rng): number;
  /** Per-feature variance of the data (floor for a fresh covariance). */
  readonly variance: Float64Array;
}

/**
 * The M-step with the degenerate-component policy: maximum likelihood from
 * statistics; a covariance that is not positive definite gets jitter
 * escalation (`regularized` event); an empty component, or one whose
 * covariance stays singular, is reinitialized at a random data row with the
 * data's per-feature variance and weight 1/N (`reinitialized` event). Never
 * returns NaN.
 * @category Gaussian mixtures
 */
export function gmmMStep(stats: GmmStats, type: CovarianceType, regCovar: number, rng: Rng, source: ReinitSource, prev?: GmmParams): { params: GmmParams; events: ModelEvent[]; boundSlack: number } {
  const { k, d } = stats;
  const { nk, means, scatter, empty } = gaussianMoments(stats);
  const covs = gaussianCovariances(type, nk, scatter, d, regCovar);
  const events: ModelEvent[] = [];
  const weights = new Float64Array(k);
  const total = nk.reduce((a, b) => a + b, 0);
  for (let c = 0; c < k; c++) weights[c] = (nk[c] as number) / total;
  const reinit = (c: number, why: string): void => {
    const row = source.pick === undefined ? rng.int(source.nRows) : source.pick(rng);
    means.set(source.row(row), c * d);
    const dd = d * d;
    // The fresh covariance keeps the covariance type: tied components keep the shared matrix,
    // spherical ones get one variance (the mean over features), full and diag the per-feature variances.
    if (type !== 'tied') {
      const meanVariance = source.variance.reduce((a, b) => a + b, 0) / d;
      covs.fill(0, c * dd, (c + 1) * dd);
      for (let i = 0; i < d; i++) covs[c * dd + i * d + i] = Math.max(type === 'spherical' ? meanVariance : (source.variance[i] as number), regCovar, 1e-12) + regCovar;
    }
    weights[c] = 1 / (source.totalWeight ?? source.nRows);
    events.push({ type: 'reinitialized', component: c, detail: `${why}; reinitialized at data row ${row}`, value: row });
  };
  const added = new Float64Array(k).fill(regCovar); // what the diagonal received on top of M/n
  for (let c = 0; c < k; c++) {
    if (empty[c]) {
      reinit(c, `component ${c} is empty (weight ${(nk[c] as number).toExponential(2)})`);
      continue;
    }
    const mat = covs.subarray(c * d * d, (c + 1) * d * d);
    try {
      const { jitter } = choleskyWithJitter(mat, d, { component: c });
      added[c] = regCovar + jitter;
      if (jitter > 0) {
        for (let i = 0; i < d; i++) mat[i * d + i] = (mat[i * d + i] as number) + jitter;
        events.push({ type: 'regularized', component: c, detail: `covariance of component ${c} needed ${jitter.toExponential(2)} extra on its diagonal`, value: jitter });
      }
    } catch (e) {
      if (!(e instanceof EmError)) throw e;
      if (type === 'tied') {
        // One shared matrix: reset it (for every component) to the data's per-feature variances.
        for (let j = 0; j < k; j++) {
          covs.fill(0, j * d * d, (j + 1) * d * d);
          for (let i = 0; i < d; i++) covs[j * d * d + i * d + i] = Math.max(source.variance[i] as number, regCovar, 1e-12) + regCovar;
        }
      }
      reinit(c, `covariance of component ${c} is singular`);
    }
  }
  if (events.some((e) => e.type === 'reinitialized')) {
    const sum = weights.reduce((a, b) => a + b, 0);
    for (let c = 0; c < k; c++) weights[c] = (weights[c] as number) / sum;
  }
  const params = packParams(type, weights, means, covs, d);
  return { params, events, boundSlack: prev === undefined ? 0 : regularizationSlack(stats.n, added, prev, params, events) };
}

/**
 * The most a regularized M-step may lower L(q, θ): with a_k added to the
 * diagonal of Σ_k = M_k/n_k (regCovar plus any jitter), Σ_new exactly maximizes
 * E_q log p(x, z | θ) − Σ_k (a_k n_k / 2) tr(Σ_k⁻¹), so
 * L(q, θ_new) ≥ L(q, θ_old) − Σ_k (a_k n_k / 2) (tr Σ_old,k⁻¹ − tr Σ_new,k⁻¹).
 * Reinitialized components are left out (their half-step is not checked).
 * @category Gaussian mixtures
 */
export function regularizationSlack(nk: Float64Array, added: Float64Array, prev: GmmParams, next: GmmParams, events: readonly ModelEvent[]): number {
  if (added.every((a) => a === 0)) return 0;
  const d = (next.means[0] as number[]).length;
  const old = factorCovariances(prev);
  const fresh = factorCovariances(next);
  let slack = 0;
  for (let c = 0; c < nk.length; c++) {
    if (events.some((e) => e.type === 'reinitialized' && e.component === c)) continue;
    slack += 0.5 * (added[c] as number) * (nk[c] as number) * (traceOfInverse(old.chol[c] as Float64Array, d) - traceOfInverse(fresh.chol[c] as Float64Array, d));
  }
  return Math.max(0, slack);
}

function traceOfInverse(L: Float64Array, d: number): number {
  const inv = inverseFromCholesky(L, d);
  let t = 0;
  for (let i = 0; i < d; i++) t += inv[i * d + i] as number;
  return t;
}

/** tr(Σ_c⁻¹) of a component (float64). @category Gaussian mixtures */
export function inverseTrace(params: GmmParams, c: number): number {
  const cov = flatCovariance(params, c);
  const d = (params.means[0] as number[]).length;
  return traceOfInverse(choleskyWithJitter(cov, d, { component: c, maxJitter: 0 }).L, d);
}

/** Cholesky factors, inverses and log-determinants of every covariance. @category Gaussian mixtures */
export interface CovarianceFactors {
  /** Lower Cholesky factors, `[K][D·D]`. */
  readonly chol: Float64Array[];
  readonly logDet: Float64Array;
}

/**
 * Factors every covariance of `params` (strictly: no jitter is added, so a
 * factor is of exactly the covariance that is reported).
 * @throws EmError `NOT_POSITIVE_DEFINITE` naming the component.
 * @category Gaussian mixtures
 */
export function factorCovariances(params: GmmParams): CovarianceFactors {
  const k = params.weights.length;
  const chol: Float64Array[] = [];
  const logDet = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const a = flatCovariance(params, c);
    const f = choleskyWithJitter(a, a.length === 1 ? 1 : Math.round(Math.sqrt(a.length)), { component: c, maxJitter: 0 });
    chol.push(f.L);
    logDet[c] = f.logDet;
  }
  return { chol, logDet };
}

/**
 * E_q[log p(x, z | θ)] from statistics, float64, every constant included:
 * Σ_k [n_k (log π_k − D/2 log 2π − ½ log|Σ_k|) − ½ tr(Σ_k⁻¹ M_k)], with M_k
 * the weighted scatter about μ_k. Empty components contribute 0.
 * @category Gaussian mixtures
 */
export function gmmExpectedLogJoint(stats: GmmStats, params: GmmParams, factors: CovarianceFactors = factorCovariances(params)): number {
  const { k, d } = stats;
  let total = 0;
  for (let c = 0; c < k; c++) {
    const w = stats.n[c] as number;
    if (w === 0) continue;
    const mu = params.means[c] as number[];
    const shift = new Float64Array(d);
    for (let i = 0; i < d; i++) shift[i] = (mu[i] as number) - (stats.ref[c * d + i] as number);
    const prec = inverseFromCholesky(factors.chol[c] as Float64Array, d);
    let tr = 0;
    for (let i = 0; i < d; i++) {
      const si = stats.s1[c * d + i] as number;
      for (let j = 0; j < d; j++) {
        const m = (stats.s2[c * d * d + i * d + j] as number) - si * (shift[j] as number) - (shift[i] as number) * (stats.s1[c * d + j] as number) + w * (shift[i] as number) * (shift[j] as number);
        tr += (prec[i * d + j] as number) * m;
      }
    }
    total += w * (Math.log(params.weights[c] as number) - 0.5 * d * LOG_2PI - 0.5 * (factors.logDet[c] as number)) - 0.5 * tr;
  }
  return total;
}

/**
 * Degenerate components of a fit (spurious maxima): a component holding fewer effective points
 * n_k than its free parameters (weight, mean, own covariance entries), or whose own variance along
 * some axis (scatter / n_k, spherical: the mean variance) is at most `regCovar`, i.e. at the
 * regularization floor: its likelihood is then made by the floor, not by data.
 * @category Gaussian mixtures
 */
export function gmmDegenerate(stats: GmmStats, _params: GmmParams, type: CovarianceType, regCovar: number): { component: number; reason: string }[] {
  const { k, d } = stats;
  const { nk, scatter } = gaussianMoments(stats);
  const own = type === 'full' ? (d * (d + 1)) / 2 : type === 'diag' ? d : type === 'spherical' ? 1 : 0;
  const free = 1 + d + own;
  const out: { component: number; reason: string }[] = [];
  for (let c = 0; c < k; c++) {
    const n = nk[c] as number;
    if (n < free) {
      out.push({ component: c, reason: `${n.toPrecision(3)} effective points for ${free} free parameters` });
      continue;
    }
    if (type === 'tied') continue;
    const variance = (i: number): number => Math.max(0, scatter[c * d * d + i * d + i] as number) / n;
    if (type === 'spherical') {
      let tr = 0;
      for (let i = 0; i < d; i++) tr += variance(i);
      if (tr / d <= regCovar) out.push({ component: c, reason: `variance ${(tr / d).toExponential(2)} at the regularization floor (regCovar ${regCovar})` });
      continue;
    }
    for (let i = 0; i < d; i++) {
      if (variance(i) <= regCovar) {
        out.push({ component: c, reason: `variance of column ${i} ${variance(i).toExponential(2)} at the regularization floor (regCovar ${regCovar})` });
        break;
      }
    }
  }
  return out;
}

/** Number of free parameters (for BIC/AIC). @category Gaussian mixtures */
export function gmmParameterCount(type: CovarianceType, k: number, d: number): number {
  const cov = type === 'full' ? (k * d * (d + 1)) / 2 : type === 'diag' ? k * d : type === 'spherical' ? k : (d * (d + 1)) / 2;
  return k - 1 + k * d + cov;
}

/**
 * The magnitude roundoff in L(q, θ) is relative to (see core's `monotonicityTolerance`):
 * S = Σ_k n_k [tr(Σ_k) tr(Σ_k⁻¹) / D + δ_kᵀ Σ_k⁻¹ δ_k], δ_k = μ_k − the statistics' reference
 * point for component k. The first term is about N·D for well-conditioned covariances and grows
 * with a component's condition number, because errors in the statistics along its near-zero
 * directions are multiplied by Σ_k⁻¹. The second is the cancellation in re-centring the
 * statistics at μ_k (`s2 − s1 δᵀ − δ s1ᵀ + n δδᵀ`): its terms are n δᵀΣ⁻¹δ in size, large when θ
 * moved far, in units of a tight component, since the E-step that gathered the statistics.
 * @category Gaussian mixtures
 */
export function gmmRoundoffScale(stats: GmmStats, params: GmmParams): number {
  const d = stats.d;
  const factors = factorCovariances(params);
  let scale = 0;
  for (let c = 0; c < stats.k; c++) {
    const n = stats.n[c] as number;
    if (n === 0) continue;
    const cov = params.covariances[c] as number[][];
    const L = factors.chol[c] as Float64Array;
    let tr = 0;
    for (let i = 0; i < d; i++) tr += (cov[i] as number[])[i] as number;
    const mu = params.means[c] as number[];
    const shift = new Float64Array(d);
    for (let i = 0; i < d; i++) shift[i] = (mu[i] as number) - (stats.ref[c * d + i] as number);
    let maha = 0;
    for (const v of solveLower(L, d, shift)) maha += v * v;
    scale += n * ((tr * traceOfInverse(L, d)) / d + maha);
  }
  return scale;
}
