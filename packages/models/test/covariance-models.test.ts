/**
 * mclust's covariance parameterizations: every model's M-step against a
 * brute-force Nelder–Mead maximization of the objective over the model's own
 * unconstrained parametrization, the family constraints of every result,
 * mclust 6.0.0's `mstep` and `nVarParams` (fixtures from
 * fixtures/mclust/generate.R), monotonicity of the iterative models from
 * random starts, the ridge, and the typed errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, EmError, type Rng } from '@emlab/core';
import {
  COVARIANCE_MODEL_DESCRIPTORS,
  COVARIANCE_MODELS,
  covarianceMStep,
  covarianceObjective,
  covarianceParameterCount,
  DegenerateComponentError,
  isCovarianceModel,
  mixtureParameterCount,
  type CovarianceModel,
  type CovarianceMStepResult,
} from '../src/mixture/covariance-models.js';
import { weightedScatterStats, type CovarianceStats } from '../src/mixture/scatter-stats.js';

const MULTIVARIATE = COVARIANCE_MODELS.filter((m) => m.length === 3);
const ITERATIVE = COVARIANCE_MODELS.filter((m) => COVARIANCE_MODEL_DESCRIPTORS[m].iterative);

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/mclust/${name}`, import.meta.url), 'utf8')) as T;
}

/** Catches the EmError thrown by `f`. */
function catchEm(f: () => unknown): EmError {
  try {
    f();
  } catch (e) {
    if (e instanceof EmError) return e;
    throw e;
  }
  throw new Error('expected an EmError');
}

// ---------------------------------------------------------------------------
// Random statistics: W_k = A_k A_kᵀ with A_k a random D×(D + 2) matrix with
// per-component, per-direction scales, and counts n_k in [4, 20].

function randomStats(rng: Rng, D: number, K: number): CovarianceStats {
  const counts = new Float64Array(K);
  const scatters = new Float64Array(K * D * D);
  for (let k = 0; k < K; k++) {
    counts[k] = 4 + 16 * rng.uniform();
    const cols = D + 2;
    const A = new Float64Array(D * cols);
    const scale = Array.from({ length: D }, () => Math.exp(1.5 * rng.normal()));
    for (let i = 0; i < D; i++) for (let c = 0; c < cols; c++) A[i * cols + c] = scale[i]! * rng.normal();
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += A[i * cols + c]! * A[j * cols + c]!;
        scatters[k * D * D + i * D + j] = s * counts[k]!;
      }
    }
  }
  return { nComponents: K, dim: D, counts, scatters };
}

// ---------------------------------------------------------------------------
// The brute force: each family's unconstrained parametrization (log volumes,
// log shapes with the last one fixed by det A = 1, Givens angles), the
// objective from it, and Nelder–Mead with restarts.

/** Product of Givens rotations, one angle per pair (i < j): covers all rotations. */
function givens(angles: ArrayLike<number>, offset: number, D: number): Float64Array {
  const O = new Float64Array(D * D);
  for (let i = 0; i < D; i++) O[i * D + i] = 1;
  let t = offset;
  for (let i = 0; i < D - 1; i++) {
    for (let j = i + 1; j < D; j++) {
      const c = Math.cos(angles[t]!);
      const s = Math.sin(angles[t]!);
      t++;
      for (let r = 0; r < D; r++) {
        const oi = O[r * D + i]!;
        const oj = O[r * D + j]!;
        O[r * D + i] = c * oi + s * oj;
        O[r * D + j] = -s * oi + c * oj;
      }
    }
  }
  return O;
}

interface Family {
  /** Number of free parameters. */
  size: number;
  /** λ_k, a_k, O_k from θ. */
  unpack(theta: ArrayLike<number>): { lambda: number[]; shapes: number[][]; orient: Float64Array[] };
}

function family(model: CovarianceModel, D: number, K: number): Family {
  const d = COVARIANCE_MODEL_DESCRIPTORS[model];
  const nVol = d.volume === 'equal' ? 1 : K;
  const nShape = d.shape === 'identity' ? 0 : (d.shape === 'equal' ? 1 : K) * (D - 1);
  const nRot = d.orientation === 'identity' ? 0 : (d.orientation === 'equal' ? 1 : K) * ((D * (D - 1)) / 2);
  return {
    size: nVol + nShape + nRot,
    unpack(theta) {
      const lambda = Array.from({ length: K }, (_, k) => Math.exp(theta[d.volume === 'equal' ? 0 : k]!));
      const shapes = Array.from({ length: K }, (_, k) => {
        if (d.shape === 'identity') return new Array<number>(D).fill(1);
        const off = nVol + (d.shape === 'equal' ? 0 : k * (D - 1));
        const logs = Array.from({ length: D - 1 }, (_, j) => theta[off + j]!);
        logs.push(-logs.reduce((a, b) => a + b, 0));
        return logs.map(Math.exp);
      });
      const orient = Array.from({ length: K }, (_, k) => {
        if (d.orientation === 'identity') return givens(new Float64Array((D * (D - 1)) / 2), 0, D);
        return givens(theta, nVol + nShape + (d.orientation === 'equal' ? 0 : (k * D * (D - 1)) / 2), D);
      });
      return { lambda, shapes, orient };
    },
  };
}

/** Q from a decomposition: Σ_k [−(n_k/2) Σ_j log(λ_k a_kj) − ½ Σ_j (O_kᵀ W_k O_k)_jj / (λ_k a_kj)]. */
function decompositionQ(stats: CovarianceStats, lambda: ArrayLike<number>, shapes: ArrayLike<number>[], orient: Float64Array[]): number {
  const { nComponents: K, dim: D } = stats;
  let q = 0;
  for (let k = 0; k < K; k++) {
    const O = orient[k]!;
    for (let j = 0; j < D; j++) {
      let t = 0;
      for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) t += O[r * D + j]! * stats.scatters[k * D * D + r * D + c]! * O[c * D + j]!;
      const e = lambda[k]! * shapes[k]![j]!;
      q += -0.5 * stats.counts[k]! * Math.log(e) - (0.5 * t) / e;
    }
  }
  return q;
}

/** Nelder–Mead minimization with the adaptive coefficients of Gao & Han (2012). */
function nelderMead(f: (x: Float64Array) => number, x0: Float64Array, step: number, maxEvals: number): { x: Float64Array; fx: number } {
  const n = x0.length;
  const alpha = 1;
  const beta = 1 + 2 / n;
  const gamma = 0.75 - 1 / (2 * n);
  const delta = 1 - 1 / n;
  let simplex: Float64Array[] = [x0.slice()];
  for (let i = 0; i < n; i++) {
    const x = x0.slice();
    x[i] = x[i]! + step;
    simplex.push(x);
  }
  let values = simplex.map(f);
  let evals = n + 1;
  while (evals < maxEvals) {
    const order = values.map((_v, i) => i).sort((a, b) => values[a]! - values[b]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    const best = values[0]!;
    const worst = values[n]!;
    if (worst - best <= 1e-14 * (1 + Math.abs(best))) {
      let size = 0;
      for (let i = 1; i <= n; i++) for (let j = 0; j < n; j++) size = Math.max(size, Math.abs(simplex[i]![j]! - simplex[0]![j]!));
      if (size < 1e-7) break;
    }
    const centroid = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] = centroid[j]! + simplex[i]![j]! / n;
    const along = (t: number): Float64Array => centroid.map((c, j) => c + t * (simplex[n]![j]! - c));
    const xr = along(-alpha);
    const fr = f(xr);
    evals++;
    if (fr < values[0]!) {
      const xe = along(-alpha * beta);
      const fe = f(xe);
      evals++;
      if (fe < fr) {
        simplex[n] = xe;
        values[n] = fe;
      } else {
        simplex[n] = xr;
        values[n] = fr;
      }
    } else if (fr < values[n - 1]!) {
      simplex[n] = xr;
      values[n] = fr;
    } else {
      const outside = fr < values[n]!;
      const xc = along(outside ? -alpha * gamma : gamma);
      const fc = f(xc);
      evals++;
      if (fc < (outside ? fr : values[n]!)) {
        simplex[n] = xc;
        values[n] = fc;
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + delta * (v - simplex[0]![j]!));
          values[i] = f(simplex[i]!);
          evals++;
        }
      }
    }
  }
  let bi = 0;
  for (let i = 1; i <= n; i++) if (values[i]! < values[bi]!) bi = i;
  return { x: simplex[bi]!, fx: values[bi]! };
}

/** The best Q found by Nelder–Mead from several starts, each restarted until it stops improving. */
function bruteForceMax(model: CovarianceModel, stats: CovarianceStats, rng: Rng): { q: number; size: number } {
  const { nComponents: K, dim: D } = stats;
  const fam = family(model, D, K);
  const q = (theta: ArrayLike<number>): number => {
    const { lambda, shapes, orient } = fam.unpack(theta);
    return decompositionQ(stats, lambda, shapes, orient);
  };
  let total = 0;
  let tr = 0;
  for (let k = 0; k < K; k++) {
    total += stats.counts[k]!;
    for (let i = 0; i < D; i++) tr += stats.scatters[k * D * D + i * D + i]!;
  }
  const logVol = Math.log(tr / (total * D));
  const desc = COVARIANCE_MODEL_DESCRIPTORS[model];
  const nVol = desc.volume === 'equal' ? 1 : K;
  // Per-component orientations have no local optima but equivalent ones (axis order and sign); a common one may have local optima.
  const starts = desc.orientation === 'identity' ? 1 : desc.orientation === 'variable' ? 2 : 6;
  let bestQ = -Infinity;
  for (let s = 0; s < starts; s++) {
    let x: Float64Array = new Float64Array(fam.size);
    for (let i = 0; i < nVol; i++) x[i] = logVol;
    if (s > 0) for (let i = nVol; i < fam.size; i++) x[i] = (2 * rng.uniform() - 1) * Math.PI;
    let fx = -q(x);
    for (let restart = 0; restart < 30; restart++) {
      const r = nelderMead((t) => -q(t), x, restart === 0 ? 0.5 : 0.05, 400 * (fam.size + 1) ** 2);
      const improved = fx - r.fx;
      x = r.x;
      fx = r.fx;
      if (restart > 0 && improved <= 1e-12 * (1 + Math.abs(fx))) break;
    }
    bestQ = Math.max(bestQ, -fx);
  }
  return { q: bestQ, size: fam.size };
}

/** Checks the decomposition and the family constraints of a result. */
function checkFamily(r: CovarianceMStepResult): void {
  const { model, nComponents: K, dim: D } = r;
  const d = COVARIANCE_MODEL_DESCRIPTORS[model];
  for (let k = 0; k < K; k++) {
    const S = r.covariances.subarray(k * D * D, (k + 1) * D * D);
    const O = r.orientations.subarray(k * D * D, (k + 1) * D * D);
    const a = r.shapes.subarray(k * D, (k + 1) * D);
    const lam = r.volumes[k]!;
    let scale = 0;
    for (let i = 0; i < D * D; i++) scale = Math.max(scale, Math.abs(S[i]!));
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) {
        expect(S[i * D + j]).toBe(S[j * D + i]); // exactly symmetric
        let rec = 0;
        let oto = 0;
        for (let m = 0; m < D; m++) {
          rec += lam * O[i * D + m]! * a[m]! * O[j * D + m]!;
          oto += O[m * D + i]! * O[m * D + j]!;
        }
        expect(Math.abs(rec - S[i * D + j]!)).toBeLessThanOrEqual(1e-12 * scale);
        expect(Math.abs(oto - (i === j ? 1 : 0))).toBeLessThanOrEqual(1e-12);
      }
    }
    expect(Math.abs(Array.from(a).reduce((s, v) => s + Math.log(v), 0))).toBeLessThanOrEqual(1e-12 * D);
    if (d.volume === 'equal') expect(Math.abs(lam - r.volumes[0]!)).toBeLessThanOrEqual(1e-13 * lam);
    if (d.shape === 'identity') for (const v of a) expect(v).toBe(1);
    if (d.shape === 'equal') a.forEach((v, j) => expect(Math.abs(v - r.shapes[j]!)).toBeLessThanOrEqual(1e-13 * v));
    if (d.orientation === 'identity') O.forEach((v, i) => expect(v).toBe(Math.floor(i / D) === i % D ? 1 : 0));
    if (d.orientation === 'equal') O.forEach((v, i) => expect(v).toBe(r.orientations[i]));
    if (d.orientation !== 'identity' && !['EVE', 'VVE'].includes(model)) {
      for (let j = 1; j < D; j++) expect(a[j]!).toBeLessThanOrEqual(a[j - 1]! * (1 + 1e-14)); // sorted as mclust sorts
    }
    // Every axis's largest-magnitude entry is positive.
    for (let j = 0; j < D; j++) {
      let big = 0;
      for (let i = 0; i < D; i++) if (Math.abs(O[i * D + j]!) > Math.abs(big)) big = O[i * D + j]!;
      expect(big).toBeGreaterThan(0);
    }
  }
}

describe('descriptors and parameter counts', () => {
  it('lists the 14 mclust parameterizations and E, V, with letters read as volume, shape, orientation', () => {
    expect(COVARIANCE_MODELS).toHaveLength(16);
    expect(MULTIVARIATE).toHaveLength(14);
    const word = { E: 'equal', V: 'variable', I: 'identity' } as const;
    for (const m of MULTIVARIATE) {
      const d = COVARIANCE_MODEL_DESCRIPTORS[m];
      expect([d.volume, d.shape, d.orientation]).toEqual(m.split('').map((c) => word[c as 'E' | 'V' | 'I']));
      expect(d.univariate).toBe(false);
      expect(d.family).toBe(m.endsWith('II') ? 'spherical' : m.endsWith('I') ? 'diagonal' : 'ellipsoidal');
    }
    expect(COVARIANCE_MODEL_DESCRIPTORS.E).toMatchObject({ univariate: true, volume: 'equal' });
    expect(COVARIANCE_MODEL_DESCRIPTORS.V).toMatchObject({ univariate: true, volume: 'variable' });
    expect(ITERATIVE.slice().sort()).toEqual(['EVE', 'VEE', 'VEI', 'VEV', 'VVE']);
    expect(isCovarianceModel('VVV')).toBe(true);
    expect(isCovarianceModel('full')).toBe(false);
  });

  it("equals mclust's nVarParams and nMclustParams for every model, D = 1..5 and K = 1..6", () => {
    const fx = readFixture<{ counts: { model: CovarianceModel; d: number; G: number; nVarParams: number; nMclustParams: number }[] }>('parameter-counts.json');
    expect(fx.counts.length).toBe(14 * 5 * 6 + 2 * 6);
    for (const c of fx.counts) {
      expect(covarianceParameterCount(c.model, c.G, c.d)).toBe(c.nVarParams);
      expect(mixtureParameterCount(c.model, c.G, c.d)).toBe(c.nMclustParams);
    }
  });

  it('rejects unknown models, K < 1, D < 1, and E or V with D > 1', () => {
    expect(catchEm(() => covarianceParameterCount('XYZ' as CovarianceModel, 2, 2)).code).toBe('INVALID_ARGUMENT');
    expect(catchEm(() => covarianceParameterCount('VVV', 0, 2)).code).toBe('INVALID_ARGUMENT');
    expect(catchEm(() => covarianceParameterCount('VVV', 2, 0)).code).toBe('INVALID_ARGUMENT');
    expect(catchEm(() => covarianceParameterCount('E', 2, 2)).path).toEqual(['dim']);
  });
});

describe('M-step against brute-force maximization', () => {
  const cases: [number, number][] = [
    [2, 2],
    [2, 3],
    [3, 2],
    [3, 3],
  ];
  for (const model of COVARIANCE_MODELS) {
    const univariate = COVARIANCE_MODEL_DESCRIPTORS[model].univariate;
    it(`${model}: objective ≥ the brute-force optimum − 1e-8, in the family, parametrization size = nVarParams`, () => {
      for (const [D, K] of univariate ? ([[1, 2], [1, 3]] as [number, number][]) : cases) {
        const rng = createRng(`brute-${model}-${D}-${K}`);
        const stats = randomStats(rng.child('stats'), D, K);
        const r = covarianceMStep(model, stats);
        checkFamily(r);
        expect(r.converged).toBe(true);
        const { q: brute, size } = bruteForceMax(model, stats, rng.child('starts'));
        expect(size).toBe(covarianceParameterCount(model, K, D));
        expect(r.objective).toBeGreaterThanOrEqual(brute - 1e-8);
        // The brute force must have found the optimum too, or the comparison says little.
        expect(brute).toBeGreaterThan(r.objective - 1e-6);
        // The result's objective, through Cholesky, equals Q of its decomposition.
        const orient = Array.from({ length: K }, (_, k) => r.orientations.slice(k * D * D, (k + 1) * D * D));
        const shapes = Array.from({ length: K }, (_, k) => r.shapes.slice(k * D, (k + 1) * D));
        expect(Math.abs(decompositionQ(stats, r.volumes, shapes, orient) - r.objective)).toBeLessThanOrEqual(1e-10 * Math.abs(r.objective));
      }
    });
  }
});

interface MstepModelFixture {
  sigma: number[];
  iterations: number;
  error: number;
  volumes: number[] | null;
  shapes: number[] | null;
  orientations: number[] | null;
}
interface MstepFixture {
  tol: number;
  multivariate: { n: number; d: number; G: number; x: number[]; z: number[]; models: Record<string, MstepModelFixture>; vveOptim: { sigma: number[]; objective: number } }[];
  univariate: { n: number; d: number; G: number; x: number[]; z: number[]; models: Record<'E' | 'V', { sigmasq: number[] }> }[];
}

function maxRelativeError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}

describe("M-step against mclust 6.0.0's mstep", () => {
  const fx = readFixture<MstepFixture>('mstep.json');
  // Closed forms agree to rounding. mclust stops VEI and VEV when the largest
  // change of scale and shape (relative to 1 + value) is below its tolerance,
  // 1e-15 here, and VEE and EVE when the relative change of its target
  // function is below 1e-15, which leaves parameters within about
  // sqrt(1e-15) ≈ 3e-8 (times the problem's conditioning) of the fixed point.
  const tolerance = (m: CovarianceModel): number => (['VEE', 'EVE'].includes(m) ? 1e-6 : m === 'VEI' || m === 'VEV' ? 1e-9 : 1e-10);

  it('uses the fixtures it was generated for', () => {
    expect(fx.tol).toBe(1e-15);
    expect(fx.multivariate.map((s) => [s.d, s.G])).toEqual([
      [2, 2],
      [2, 3],
      [3, 2],
      [3, 3],
      [4, 3],
    ]);
  });

  for (const model of MULTIVARIATE.filter((m) => m !== 'VVE')) {
    it(`${model}: sigma, volumes, shapes and orientations (up to axis sign) equal mclust's`, () => {
      for (const set of fx.multivariate) {
        const { d: D, G: K } = set;
        const stats = weightedScatterStats(Float64Array.from(set.x), set.n, D, Float64Array.from(set.z), K);
        const r = covarianceMStep(model, stats);
        const ref = set.models[model]!;
        const tol = tolerance(model);
        expect(maxRelativeError(r.covariances, ref.sigma)).toBeLessThanOrEqual(tol);
        if (ref.volumes !== null) expect(maxRelativeError(r.volumes, ref.volumes)).toBeLessThanOrEqual(tol);
        if (ref.shapes !== null) expect(maxRelativeError(r.shapes, ref.shapes)).toBeLessThanOrEqual(tol);
        if (ref.orientations !== null) {
          // mclust's axes have arbitrary signs: compare |entries| and, per axis, the sign-aligned column.
          for (let k = 0; k < K; k++) {
            for (let j = 0; j < D; j++) {
              let dot = 0;
              for (let i = 0; i < D; i++) dot += r.orientations[k * D * D + i * D + j]! * ref.orientations[k * D * D + i * D + j]!;
              const sign = dot < 0 ? -1 : 1;
              for (let i = 0; i < D; i++) {
                expect(Math.abs(r.orientations[k * D * D + i * D + j]! - sign * ref.orientations[k * D * D + i * D + j]!)).toBeLessThanOrEqual(Math.sqrt(tol) * 1e-2 + tol);
              }
            }
          }
        }
        if (!COVARIANCE_MODEL_DESCRIPTORS[model].iterative) expect(ref.iterations).toBe(0);
        else expect(ref.iterations).toBeGreaterThan(0); // mclust converged (a negative count means it hit itmax)
      }
    });
  }

  it("VVE: maximizes the VVE objective, which mclust's VVE M-step does not (its orientation update ignores the volumes)", () => {
    for (const set of fx.multivariate) {
      const { d: D, G: K } = set;
      const stats = weightedScatterStats(Float64Array.from(set.x), set.n, D, Float64Array.from(set.z), K);
      const r = covarianceMStep('VVE', stats);
      checkFamily(r);
      const mclustQ = covarianceObjective(stats, Float64Array.from(set.models.VVE!.sigma));
      // mclust's point is in the VVE family but is not its maximum ...
      expect(r.objective).toBeGreaterThan(mclustQ + 1e-4);
      // ... which an independent R optimization of the VVE profile likelihood (generate.R) agrees with.
      expect(r.objective).toBeGreaterThanOrEqual(set.vveOptim.objective - 1e-9);
      expect(maxRelativeError(r.covariances, set.vveOptim.sigma)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('E and V (univariate) equal mclust', () => {
    for (const set of fx.univariate) {
      const stats = weightedScatterStats(Float64Array.from(set.x), set.n, 1, Float64Array.from(set.z), set.G);
      for (const model of ['E', 'V'] as const) {
        const r = covarianceMStep(model, stats);
        expect(maxRelativeError(r.covariances, set.models[model].sigmasq)).toBeLessThanOrEqual(1e-12);
        expect(maxRelativeError(r.volumes, set.models[model].sigmasq)).toBeLessThanOrEqual(1e-12);
        // E equals EII and V equals VII in one dimension.
        expect(maxRelativeError(r.covariances, covarianceMStep(model === 'E' ? 'EII' : 'VII', stats).covariances)).toBeLessThanOrEqual(1e-15);
      }
    }
  });
});

describe('iterative models', () => {
  /** A random member of the model's family, `[K, D, D]`. */
  function randomMember(model: CovarianceModel, D: number, K: number, rng: Rng): Float64Array {
    const fam = family(model, D, K);
    const theta = Float64Array.from({ length: fam.size }, () => 2 * rng.normal());
    const { lambda, shapes, orient } = fam.unpack(theta);
    const out = new Float64Array(K * D * D);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < D; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let m = 0; m < D; m++) s += orient[k]![i * D + m]! * shapes[k]![m]! * orient[k]![j * D + m]!;
          out[k * D * D + i * D + j] = lambda[k]! * s;
          out[k * D * D + j * D + i] = lambda[k]! * s;
        }
      }
    }
    return out;
  }

  it('never decrease the objective from a random start in the family (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ITERATIVE), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e9 }), (model, D, K, seed) => {
        const rng = createRng(seed);
        const stats = randomStats(rng.child('stats'), D, K);
        const prev = randomMember(model, D, K, rng.child('prev'));
        const qPrev = covarianceObjective(stats, prev);
        // maxIter = 0 returns the start: prev itself, as it is in the family.
        const r0 = covarianceMStep(model, stats, { prev, maxIter: 0 });
        expect(maxRelativeError(r0.covariances, prev)).toBeLessThanOrEqual(1e-10);
        expect(Math.abs(r0.objectiveStart - qPrev)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(qPrev)));
        let last = r0.objective;
        for (let t = 1; t <= 6; t++) {
          const r = covarianceMStep(model, stats, { prev, maxIter: t });
          expect(r.objective).toBeGreaterThanOrEqual(last - 1e-10 * (1 + Math.abs(last)));
          expect(r.objective).toBeGreaterThanOrEqual(r.objectiveStart);
          last = r.objective;
        }
        const full = covarianceMStep(model, stats, { prev });
        expect(full.objective).toBeGreaterThanOrEqual(last - 1e-10 * (1 + Math.abs(last)));
        expect(full.converged).toBe(true);
        checkFamily(full);
        // From its own optimum it stays there.
        const again = covarianceMStep(model, stats, { prev: full.covariances });
        expect(again.objective).toBeGreaterThanOrEqual(again.objectiveStart);
        expect(maxRelativeError(again.covariances, full.covariances)).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 60, seed: 20240611 },
    );
  });

  it('report iterations and non-convergence at maxIter', () => {
    const stats = randomStats(createRng('maxIter'), 3, 3);
    const one = covarianceMStep('EVE', stats, { maxIter: 1 });
    expect(one.iterations).toBe(1);
    expect(one.converged).toBe(false);
    const full = covarianceMStep('EVE', stats, { tol: 1e-12 });
    expect(full.converged).toBe(true);
    expect(full.iterations).toBeGreaterThan(1);
    expect(full.objective).toBeGreaterThanOrEqual(one.objective);
  });
});

describe('regularization and degenerate components', () => {
  it('regCovar adds regCovar to the diagonal of the VVV, VVI, VII and EEE estimates (scikit-learn reg_covar)', () => {
    const stats = randomStats(createRng('reg'), 3, 2);
    for (const model of ['VVV', 'VVI', 'VII', 'EEE'] as const) {
      const plain = covarianceMStep(model, stats).covariances;
      const reg = covarianceMStep(model, stats, { regCovar: 0.25 }).covariances;
      const shifted = plain.map((v, i) => (Math.floor((i % 9) / 3) === i % 3 ? v + 0.25 : v));
      expect(maxRelativeError(reg, shifted)).toBeLessThanOrEqual(1e-14);
    }
  });

  it('regCovar is the M-step of W_k + regCovar·n_k·I for every model and keeps the family', () => {
    const stats = randomStats(createRng('reg-all'), 3, 3);
    const r = 0.1;
    const bumped: CovarianceStats = { ...stats, scatters: stats.scatters.map((v, i) => (Math.floor((i % 9) / 3) === i % 3 ? v + r * stats.counts[Math.floor(i / 9)]! : v)) };
    for (const model of MULTIVARIATE) {
      const a = covarianceMStep(model, stats, { regCovar: r });
      const b = covarianceMStep(model, bumped);
      checkFamily(a);
      expect(maxRelativeError(a.covariances, b.covariances)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(a.objective - b.objective)).toBeLessThanOrEqual(1e-9 * Math.abs(b.objective));
    }
  });

  it('an empty component is a typed error naming it', () => {
    const stats = randomStats(createRng('empty'), 2, 3);
    const counts = stats.counts.slice();
    counts[1] = 0;
    for (const model of MULTIVARIATE) {
      const e = catchEm(() => covarianceMStep(model, { ...stats, counts }));
      expect(e).toBeInstanceOf(DegenerateComponentError);
      expect(e.code).toBe('NOT_POSITIVE_DEFINITE');
      expect((e as DegenerateComponentError).component).toBe(1);
      expect((e as DegenerateComponentError).reason).toBe('empty');
      expect(e.path).toEqual(['stats', 'counts', 1]);
    }
  });

  it('a singular component is a typed error for models that estimate it alone, fine for pooled ones, and fixed by regCovar', () => {
    // Component 1 has 2 rows in 3 dimensions: its scatter has rank 1.
    const rng = createRng('singular');
    const x: number[] = [];
    const z: number[] = [];
    for (let n = 0; n < 12; n++) {
      x.push(rng.normal(), rng.normal(), rng.normal());
      z.push(n < 10 ? 1 : 0, n < 10 ? 0 : 1);
    }
    const stats = weightedScatterStats(Float64Array.from(x), 12, 3, Float64Array.from(z), 2);
    // (EVE and VVE are unbounded here: their iteration turns a common axis towards the null space of W_1.)
    for (const model of ['VVV', 'EVV', 'EVE', 'VVE'] as const) {
      const e = catchEm(() => covarianceMStep(model, stats));
      expect(e).toBeInstanceOf(DegenerateComponentError);
      expect((e as DegenerateComponentError).reason).toBe('singular');
      expect((e as DegenerateComponentError).component).toBe(1);
      expect(e.message).toMatch(/Remedy: pass regCovar > 0/);
      checkFamily(covarianceMStep(model, stats, { regCovar: 1e-6 }));
    }
    // VVI only needs a positive diagonal; the others pool shape or volume across components.
    for (const model of ['EII', 'VII', 'EEI', 'VEI', 'EVI', 'VVI', 'EEE', 'VEE', 'EEV', 'VEV'] as const) checkFamily(covarianceMStep(model, stats));
  });

  it('a singular pooled estimate (a constant column) is a typed error for component −1', () => {
    const rng = createRng('constant');
    const x = Float64Array.from({ length: 30 * 2 }, (_, i) => (i % 2 === 1 ? 3 : rng.normal()));
    const z = Float64Array.from({ length: 30 * 2 }, () => rng.uniform());
    const stats = weightedScatterStats(x, 30, 2, z, 2);
    for (const model of ['EEI', 'EEE', 'VEI', 'EEV', 'VEV', 'VEE'] as const) {
      const e = catchEm(() => covarianceMStep(model, stats));
      expect(e).toBeInstanceOf(DegenerateComponentError);
      expect((e as DegenerateComponentError).component).toBe(-1);
      expect(e.path).toEqual(['stats', 'scatters']);
      expect(e.message).toMatch(/Remedy: pass regCovar > 0 \(e\.g\. 1e-6\), or drop constant or collinear columns/);
    }
    checkFamily(covarianceMStep('EII', stats));
    checkFamily(covarianceMStep('EEE', stats, { regCovar: 1e-6 }));
  });

  it('rejects bad arguments before any work', () => {
    const stats = randomStats(createRng('args'), 2, 2);
    expect(catchEm(() => covarianceMStep('full' as CovarianceModel, stats)).path).toEqual(['model']);
    expect(catchEm(() => covarianceMStep('E', stats)).path).toEqual(['stats', 'dim']);
    expect(catchEm(() => covarianceMStep('VVV', stats, { regCovar: -1 })).path).toEqual(['options', 'regCovar']);
    expect(catchEm(() => covarianceMStep('VVV', stats, { tol: Number.NaN })).path).toEqual(['options', 'tol']);
    expect(catchEm(() => covarianceMStep('VEE', stats, { maxIter: 1.5 })).path).toEqual(['options', 'maxIter']);
    expect(catchEm(() => covarianceMStep('VVV', stats, { regcovar: 1 } as never)).path).toEqual(['options', 'regcovar']);
    expect(catchEm(() => covarianceMStep('VVV', { ...stats, counts: new Float64Array(3) })).path).toEqual(['stats', 'counts']);
    expect(catchEm(() => covarianceMStep('VVV', { ...stats, scatters: new Float64Array(7) })).path).toEqual(['stats', 'scatters']);
    const negative = stats.scatters.slice();
    negative[3] = -1;
    expect(catchEm(() => covarianceMStep('VVV', { ...stats, scatters: negative })).path).toEqual(['stats', 'scatters', 0, 1, 1]);
    expect(catchEm(() => covarianceMStep('VEE', stats, { prev: new Float64Array(3) })).path).toEqual(['options', 'prev']);
    const notPd = new Float64Array([1, 2, 2, 1, 1, 0, 0, 1]);
    const e = catchEm(() => covarianceMStep('VEE', stats, { prev: notPd }));
    expect(e.code).toBe('INVALID_PARAMS');
    expect(e.path).toEqual(['options', 'prev', 0]);
  });
});

describe('weightedScatterStats', () => {
  it('equals the textbook formulas Σ w, Σ w x / Σ w and Σ w x xᵀ − n mean meanᵀ', () => {
    const rng = createRng('stats');
    const N = 40;
    const D = 3;
    const K = 2;
    const x = Float64Array.from({ length: N * D }, () => rng.normal() + 2);
    const z = Float64Array.from({ length: N * K }, () => rng.uniform());
    const s = weightedScatterStats(x, N, D, z, K);
    for (let k = 0; k < K; k++) {
      let n = 0;
      const m = [0, 0, 0];
      const xx = new Array<number>(D * D).fill(0);
      for (let r = 0; r < N; r++) {
        const w = z[r * K + k]!;
        n += w;
        for (let i = 0; i < D; i++) {
          m[i]! += w * x[r * D + i]!;
          for (let j = 0; j < D; j++) xx[i * D + j]! += w * x[r * D + i]! * x[r * D + j]!;
        }
      }
      expect(Math.abs(s.counts[k]! - n)).toBeLessThanOrEqual(1e-12 * n);
      for (let i = 0; i < D; i++) {
        expect(Math.abs(s.means[k * D + i]! - m[i]! / n)).toBeLessThanOrEqual(1e-12);
        for (let j = 0; j < D; j++) {
          const ref = xx[i * D + j]! - (m[i]! * m[j]!) / n;
          expect(Math.abs(s.scatters[k * D * D + i * D + j]! - ref)).toBeLessThanOrEqual(1e-10 * Math.abs(xx[i * D + j]!));
        }
      }
    }
  });

  it('rejects bad sizes, non-finite data and negative weights', () => {
    expect(catchEm(() => weightedScatterStats(new Float64Array(5), 2, 3, new Float64Array(4), 2)).path).toEqual(['data']);
    expect(catchEm(() => weightedScatterStats(new Float64Array(6), 2, 3, new Float64Array(3), 2)).path).toEqual(['resp']);
    expect(catchEm(() => weightedScatterStats(new Float64Array([0, Number.NaN]), 2, 1, new Float64Array(2), 1)).code).toBe('INVALID_DATA');
    expect(catchEm(() => weightedScatterStats(new Float64Array(2), 2, 1, new Float64Array([1, -1]), 1)).path).toEqual(['resp', 1, 0]);
  });
});
