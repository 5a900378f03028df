/**
 * The Gaussian covariance parameterizations of Celeux & Govaert (1995), named
 * and counted as R's mclust names and counts them, with their M-steps as pure
 * float64 functions.
 *
 * Each component covariance is decomposed Σ_k = λ_k D_k A_k D_kᵀ: the volume
 * λ_k = |Σ_k|^{1/D}, the shape A_k (diagonal, det A_k = 1) and the orientation
 * D_k (orthogonal). A model name gives, in this order, whether the volume, the
 * shape and the orientation are Equal across components, Variable, or the
 * Identity (I): `EII` is λ I, `VVV` is unconstrained. `E` and `V` are the
 * univariate equal- and variable-variance models.
 *
 * The M-step maximizes, over the model's family,
 *
 *   Q(Σ_1..K) = Σ_k [ −(n_k/2) log|Σ_k| − ½ tr(Σ_k⁻¹ W_k) ]
 *
 * given weighted counts n_k and scatter matrices W_k (see
 * `weightedScatterStats`); the means' M-step is the weighted mean and is
 * not repeated here. Closed forms are used where they exist (EII, VII, EEI,
 * VVI, EVI, EEE, EEV, EVV, VVV, E, V); VEI, VEV and VEE are solved by block
 * coordinate ascent (Celeux & Govaert 1995), EVE and VVE by alternating the
 * two majorization–minimization updates of the common orientation of Browne &
 * McNicholas (2014) with the closed-form volumes and shapes given it.
 *
 * Agreement with mclust 6.0.0's `mstep` (tested on its output): closed forms
 * to rounding; VEI, VEV, VEE and EVE to mclust's iteration tolerance. VVE
 * deliberately differs: mclust's VVE orientation update weights the
 * components by A_k⁻¹ instead of (λ_k A_k)⁻¹, so its fixed point is not the
 * maximum of the VVE objective whenever the volumes differ (its objective is
 * lower, by 3e-4 to 3e-2 on the test data); here the update uses the volumes,
 * and the result agrees with an independent numerical maximization.
 *
 * @module
 */
import { cholesky, EmError, emError, integerOption, inverseFromCholesky, logDetFromCholesky, numberOption, rejectUnknownOptions } from '@emlab/core';
import { procrustesRotation, symmetricEigen } from '@emlab/core';
import type { CovarianceStats } from './scatter-stats.js';

/**
 * The 14 multivariate parameterizations in mclust's order, then the univariate `E` and `V`.
 * @category Mixture covariance models
 */
export const COVARIANCE_MODELS = ['EII', 'VII', 'EEI', 'VEI', 'EVI', 'VVI', 'EEE', 'VEE', 'EVE', 'VVE', 'EEV', 'VEV', 'EVV', 'VVV', 'E', 'V'] as const;

/** A covariance parameterization name. @category Mixture covariance models */
export type CovarianceModel = (typeof COVARIANCE_MODELS)[number];

/**
 * What a parameterization constrains: each of volume, shape and orientation
 * is equal across components, variable, or (shape and orientation only) the
 * identity.
 * @category Mixture covariance models
 */
export interface CovarianceModelDescriptor {
  readonly name: CovarianceModel;
  /** `true` for `E` and `V` (data dimension 1 only). */
  readonly univariate: boolean;
  readonly volume: 'equal' | 'variable';
  readonly shape: 'equal' | 'variable' | 'identity';
  readonly orientation: 'equal' | 'variable' | 'identity';
  /** mclust's family: spherical (shape and orientation identity), diagonal (orientation identity) or ellipsoidal. */
  readonly family: 'spherical' | 'diagonal' | 'ellipsoidal';
  /** Whether the M-step iterates (no closed form). */
  readonly iterative: boolean;
}

const LETTER = { E: 'equal', V: 'variable', I: 'identity' } as const;
const ITERATIVE: readonly CovarianceModel[] = ['VEI', 'VEE', 'EVE', 'VVE', 'VEV'];

function describe(name: CovarianceModel): CovarianceModelDescriptor {
  if (name === 'E' || name === 'V') {
    return { name, univariate: true, volume: LETTER[name], shape: 'identity', orientation: 'identity', family: 'spherical', iterative: false };
  }
  const [v, s, o] = name.split('') as ['E' | 'V', 'E' | 'V' | 'I', 'E' | 'V' | 'I'];
  const shape = LETTER[s];
  const orientation = LETTER[o];
  const family = shape === 'identity' ? 'spherical' : orientation === 'identity' ? 'diagonal' : 'ellipsoidal';
  return { name, univariate: false, volume: LETTER[v] as 'equal' | 'variable', shape, orientation, family, iterative: ITERATIVE.includes(name) };
}

/**
 * One {@link CovarianceModelDescriptor} per model name.
 * @category Mixture covariance models
 */
export const COVARIANCE_MODEL_DESCRIPTORS: Readonly<Record<CovarianceModel, CovarianceModelDescriptor>> = Object.freeze(
  Object.fromEntries(COVARIANCE_MODELS.map((m) => [m, Object.freeze(describe(m))])) as Record<CovarianceModel, CovarianceModelDescriptor>,
);

/** Whether `x` is one of {@link COVARIANCE_MODELS}. @category Mixture covariance models */
export function isCovarianceModel(x: unknown): x is CovarianceModel {
  return typeof x === 'string' && (COVARIANCE_MODELS as readonly string[]).includes(x);
}

function checkModel(model: unknown, path: readonly (string | number)[] = ['model']): CovarianceModel {
  if (!isCovarianceModel(model)) {
    throw emError('INVALID_ARGUMENT', path, model, 'is not a covariance model name', `use one of: ${COVARIANCE_MODELS.join(', ')}`);
  }
  return model;
}

/**
 * Number of free covariance parameters of a K-component model in D dimensions, as mclust's `nVarParams` counts them.
 *
 * EII 1, VII K, EEI D, VEI K + D − 1, EVI 1 + K(D − 1), VVI KD, EEE D(D + 1)/2,
 * VEE K + (D − 1) + D(D − 1)/2, EVE 1 + K(D − 1) + D(D − 1)/2,
 * VVE K + K(D − 1) + D(D − 1)/2, EEV 1 + (D − 1) + K D(D − 1)/2,
 * VEV K + (D − 1) + K D(D − 1)/2, EVV 1 − K + K D(D + 1)/2, VVV K D(D + 1)/2;
 * E 1 and V K (D = 1 only).
 *
 * @throws `INVALID_ARGUMENT` for an unknown model, K < 1, D < 1, or `E`/`V` with D ≠ 1.
 * @see Fraley, Raftery, Murphy & Scrucca (2012), mclust Version 4 for R, Technical Report 597, Table 3.
 * @category Mixture covariance models
 */
export function covarianceParameterCount(model: CovarianceModel, nComponents: number, dim: number): number {
  checkModel(model);
  const G = integerOption(nComponents, ['nComponents'], 1);
  const d = integerOption(dim, ['dim'], 1);
  if ((model === 'E' || model === 'V') && d !== 1) {
    throw emError('INVALID_ARGUMENT', ['dim'], d, `must be 1 for the univariate model ${model}`, 'use EII or VII for multivariate data');
  }
  const rot = (d * (d - 1)) / 2;
  switch (model) {
    case 'E':
    case 'EII':
      return 1;
    case 'V':
    case 'VII':
      return G;
    case 'EEI':
      return d;
    case 'VEI':
      return G + (d - 1);
    case 'EVI':
      return 1 + G * (d - 1);
    case 'VVI':
      return G * d;
    case 'EEE':
      return (d * (d + 1)) / 2;
    case 'VEE':
      return G + (d - 1) + rot;
    case 'EVE':
      return 1 + G * (d - 1) + rot;
    case 'VVE':
      return G + G * (d - 1) + rot;
    case 'EEV':
      return 1 + (d - 1) + G * rot;
    case 'VEV':
      return G + (d - 1) + G * rot;
    case 'EVV':
      return 1 - G + (G * d * (d + 1)) / 2;
    case 'VVV':
      return (G * d * (d + 1)) / 2;
  }
}

/**
 * Free parameters of the whole mixture: (K − 1) weights + K·D means + the covariance parameters (mclust's `nMclustParams`).
 * @throws `INVALID_ARGUMENT` as {@link covarianceParameterCount}.
 * @category Mixture covariance models
 */
export function mixtureParameterCount(model: CovarianceModel, nComponents: number, dim: number): number {
  return covarianceParameterCount(model, nComponents, dim) + nComponents * dim + (nComponents - 1);
}

/**
 * Thrown when a component cannot be estimated: `empty` (n_k ≈ 0) or `singular`
 * (its covariance is not numerically positive definite). Its code is
 * `NOT_POSITIVE_DEFINITE`; `component` says which one (−1 when an estimate
 * pooled over all components is singular, e.g. a constant column), so the
 * caller can reinitialize it, raise `regCovar`, or drop it.
 * @category Mixture covariance models
 */
export class DegenerateComponentError extends EmError {
  /** The component, or −1 for a pooled estimate. */
  readonly component: number;
  readonly reason: 'empty' | 'singular';
  constructor(component: number, reason: 'empty' | 'singular', value: unknown, problem: string) {
    const remedy =
      reason === 'empty'
        ? 'reinitialize or drop this component, or reduce the number of components'
        : component < 0
          ? 'pass regCovar > 0 (e.g. 1e-6), or drop constant or collinear columns'
          : 'pass regCovar > 0 (e.g. 1e-6), reinitialize this component, reduce the number of components, or use a model with pooled (equal) shape or volume';
    const path = component < 0 ? ['stats', 'scatters'] : ['stats', reason === 'empty' ? 'counts' : 'scatters', component];
    const base = emError('NOT_POSITIVE_DEFINITE', path, value, problem, remedy);
    super('NOT_POSITIVE_DEFINITE', base.message, { path: base.path, value, remedy });
    this.component = component;
    this.reason = reason;
  }
}

/**
 * Options of {@link covarianceMStep}.
 * @category Mixture covariance models
 */
export interface CovarianceMStepOptions {
  /**
   * Ridge ≥ 0 (default 0). The M-step maximizes Q with W_k replaced by
   * W_k + regCovar·n_k·I, i.e. as if each component's data had variance
   * regCovar more in every direction; for VVV, VVI, VII and EEE this is exactly
   * scikit-learn's `reg_covar` (regCovar added to the diagonal of every Σ_k),
   * and for every model the result stays in the model's family.
   */
  readonly regCovar?: number;
  /**
   * Relative tolerance of the iterative models (default 1e-10): iteration stops
   * when max_k max_ij |Σ_k⁽ᵗ⁾ − Σ_k⁽ᵗ⁻¹⁾| ≤ tol · max_k max_ij |Σ_k⁽ᵗ⁾|.
   */
  readonly tol?: number;
  /** Most iterations of the iterative models (default 10 000; 0 returns the start). */
  readonly maxIter?: number;
  /**
   * Previous covariances `[K, D, D]` (positive definite) to start the
   * iterative models from. They are first projected onto the family (exactly
   * themselves when they belong to it). Without it the iteration starts as
   * mclust's does.
   */
  readonly prev?: Float64Array;
  /** A component with n_k ≤ minCount is empty (default 10·ε·Σ_k n_k). */
  readonly minCount?: number;
}

/**
 * Result of {@link covarianceMStep}: Σ_k and Σ_k = λ_k D_k diag(A_k) D_kᵀ.
 *
 * Shapes are ordered as mclust orders them: in coordinate order for the
 * spherical and diagonal models (D_k = I); decreasing for EEE, VVV, VEE,
 * EEV, VEV and EVV (eigen-decomposition, D_k's columns the matching
 * eigenvectors); for EVE and VVE in the order of the common axes the
 * iteration found (started from the coordinate axes, as mclust starts).
 * Every column of D_k has its largest-magnitude entry positive.
 * @category Mixture covariance models
 */
export interface CovarianceMStepResult {
  readonly model: CovarianceModel;
  readonly nComponents: number;
  readonly dim: number;
  /** Σ_k, `[K, D, D]` row-major, exactly symmetric. */
  readonly covariances: Float64Array;
  /** λ_k = |Σ_k|^{1/D}, `[K]` (all equal for E** models). */
  readonly volumes: Float64Array;
  /** Diagonal of A_k, `[K, D]`, product 1 per component. */
  readonly shapes: Float64Array;
  /** D_k, `[K, D, D]` row-major, orthogonal, axes as columns. */
  readonly orientations: Float64Array;
  /** Q at the result (with the regularized scatter), see {@link covarianceObjective}. */
  readonly objective: number;
  /** Q at the start: the projection of `prev` when given, else the iteration's first point (closed forms: the result). */
  readonly objectiveStart: number;
  /** Iterations done (0 for closed forms). */
  readonly iterations: number;
  /** Whether the tolerance was met (always `true` for closed forms). */
  readonly converged: boolean;
  /** `true` when the iteration ended below its start and the start was returned instead. */
  readonly keptStart: boolean;
}

/**
 * The M-step objective Q = Σ_k [−(n_k/2) log|Σ_k| − ½ tr(Σ_k⁻¹ (W_k + regCovar·n_k·I))], computed through Cholesky factors.
 *
 * No 2π constant is included. Returns −∞ if some Σ_k with n_k > 0 is not
 * positive definite.
 *
 * @param covariances `[K, D, D]` row-major.
 * @throws `INVALID_ARGUMENT` on a size mismatch.
 * @category Mixture covariance models
 */
export function covarianceObjective(stats: CovarianceStats, covariances: Float64Array, regCovar = 0): number {
  const { nComponents: K, dim: D } = stats;
  if (!(covariances instanceof Float64Array) || covariances.length !== K * D * D) {
    throw emError('INVALID_ARGUMENT', ['covariances'], covariances, `must be a Float64Array of length K * D * D = ${K * D * D}`, 'pass one row-major D×D matrix per component');
  }
  let q = 0;
  for (let k = 0; k < K; k++) {
    const nk = stats.counts[k]!;
    const S = covariances.subarray(k * D * D, (k + 1) * D * D).slice();
    const L = cholesky(S, D);
    if (L === null) return nk > 0 ? -Infinity : q;
    const inv = inverseFromCholesky(L, D);
    let tr = 0;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) tr += inv[i * D + j]! * stats.scatters[k * D * D + j * D + i]!;
      tr += inv[i * D + i]! * regCovar * nk;
    }
    q += -0.5 * nk * logDetFromCholesky(L, D) - 0.5 * tr;
  }
  return q;
}

// ---------------------------------------------------------------------------
// Internal representation: volumes λ_k, shapes a_kj, orientations D_k.

interface Decomposition {
  volumes: Float64Array; // [K]
  shapes: Float64Array; // [K, D]
  orientations: Float64Array; // [K, D, D]
}

interface Problem {
  readonly model: CovarianceModel;
  readonly K: number;
  readonly D: number;
  readonly n: Float64Array; // counts
  readonly total: number;
  readonly W: Float64Array[]; // regularized, symmetric scatters
}

const EPS = Number.EPSILON;

function identityMatrix(D: number): Float64Array {
  const m = new Float64Array(D * D);
  for (let i = 0; i < D; i++) m[i * D + i] = 1;
  return m;
}

function logGeoMean(x: ArrayLike<number>, from: number, len: number): number {
  let s = 0;
  for (let j = 0; j < len; j++) s += Math.log(x[from + j]!);
  return s / len;
}

/** diag(Dᵀ W D). */
function rotatedDiagonal(W: Float64Array, O: Float64Array, D: number): Float64Array {
  const out = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    let s = 0;
    for (let r = 0; r < D; r++) {
      const orj = O[r * D + j]!;
      if (orj === 0) continue;
      let t = 0;
      for (let c = 0; c < D; c++) t += W[r * D + c]! * O[c * D + j]!;
      s += orj * t;
    }
    out[j] = s;
  }
  return out;
}

/** λ O diag(a) Oᵀ, exactly symmetric. */
function compose(lambda: number, a: ArrayLike<number>, aOff: number, O: ArrayLike<number>, oOff: number, D: number, out: Float64Array, outOff: number): void {
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let m = 0; m < D; m++) s += O[oOff + i * D + m]! * a[aOff + m]! * O[oOff + j * D + m]!;
      s *= lambda;
      out[outOff + i * D + j] = s;
      out[outOff + j * D + i] = s;
    }
  }
}

function composeAll(dec: Decomposition, K: number, D: number): Float64Array {
  const out = new Float64Array(K * D * D);
  for (let k = 0; k < K; k++) compose(dec.volumes[k]!, dec.shapes, k * D, dec.orientations, k * D * D, D, out, k * D * D);
  return out;
}

/** Q from a decomposition (cheap; used inside iterations). */
function decompositionObjective(p: Problem, dec: Decomposition): number {
  const { K, D } = p;
  let q = 0;
  for (let k = 0; k < K; k++) {
    const lam = dec.volumes[k]!;
    const t = rotatedDiagonal(p.W[k]!, dec.orientations.subarray(k * D * D, (k + 1) * D * D), D);
    let logdet = 0;
    let tr = 0;
    for (let j = 0; j < D; j++) {
      const e = lam * dec.shapes[k * D + j]!;
      logdet += Math.log(e);
      tr += t[j]! / e;
    }
    q += -0.5 * p.n[k]! * logdet - 0.5 * tr;
  }
  return q;
}

function relativeChange(a: Float64Array, b: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}

/** Eigen-decomposition with eigenvalues clamped at 0 (a PSD input's rounding noise). */
function eigPsd(W: Float64Array, D: number): { values: Float64Array; vectors: Float64Array } {
  const e = symmetricEigen(W, D);
  const values = e.values.map((v) => Math.max(v, 0));
  return { values, vectors: e.vectors };
}

/**
 * Throws `singular` unless every eigenvalue λ_k a_kj of component k is finite
 * and above 10·D·ε times the largest; the error names component −1 when the
 * culprit is pooled over components (an equal shape, or an equal volume).
 */
function checkComponent(dec: Decomposition, k: number, D: number, desc: CovarianceModelDescriptor): void {
  const lam = dec.volumes[k]!;
  if (!Number.isFinite(lam) || !(lam > 0)) {
    const c = desc.volume === 'equal' ? -1 : k;
    throw new DegenerateComponentError(c, 'singular', lam, `${c < 0 ? 'the common' : `component ${k}'s`} volume is ${lam}`);
  }
  let min = Infinity;
  let max = 0;
  for (let j = 0; j < D; j++) {
    const a = dec.shapes[k * D + j]!;
    if (!Number.isFinite(a) || !(a > 0)) {
      min = 0;
      max = 1;
      break;
    }
    min = Math.min(min, a);
    max = Math.max(max, a);
  }
  if (min <= 10 * D * EPS * max) {
    const c = desc.shape === 'equal' ? -1 : k;
    throw new DegenerateComponentError(c, 'singular', min / max, `${c < 0 ? 'the common shape' : `component ${k}'s covariance`} is numerically singular (smallest/largest eigenvalue ${min / max})`);
  }
}

/** Finite positive values or a `singular` error for component k (k = −1: a pooled estimate). */
function requirePositive(x: ArrayLike<number>, from: number, len: number, k: number, what: string): void {
  for (let j = 0; j < len; j++) {
    const v = x[from + j]!;
    if (!(v > 0) || !Number.isFinite(v)) {
      const subject = k < 0 ? `the ${what} (pooled over all components)` : `component ${k}'s ${what}`;
      throw new DegenerateComponentError(k, 'singular', v, `${subject} is ${v}: the scatter is singular in this model`);
    }
  }
}

/** Flips axes (in place) so that each column's largest-magnitude entry (the first on ties) is positive. */
function canonicalSigns(orientations: Float64Array, K: number, D: number): void {
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < D; j++) {
      let big = 0;
      for (let i = 0; i < D; i++) {
        const v = orientations[k * D * D + i * D + j]!;
        if (Math.abs(v) > Math.abs(big)) big = v;
      }
      if (big < 0) for (let i = 0; i < D; i++) orientations[k * D * D + i * D + j] = -orientations[k * D * D + i * D + j]!;
    }
  }
}

// ---------------------------------------------------------------------------
// Closed forms.

function closedForm(p: Problem): Decomposition & { covariances?: Float64Array } {
  const { model, K, D, n, total, W } = p;
  const volumes = new Float64Array(K);
  const shapes = new Float64Array(K * D);
  const orientations = new Float64Array(K * D * D);
  const eye = identityMatrix(D);
  for (let k = 0; k < K; k++) orientations.set(eye, k * D * D);
  const trace = (k: number): number => {
    let s = 0;
    for (let i = 0; i < D; i++) s += W[k]![i * D + i]!;
    return s;
  };
  switch (model) {
    case 'E':
    case 'EII': {
      let s = 0;
      for (let k = 0; k < K; k++) s += trace(k);
      volumes.fill(s / (total * D));
      shapes.fill(1);
      requirePositive(volumes, 0, 1, -1, 'variance');
      return { volumes, shapes, orientations };
    }
    case 'V':
    case 'VII': {
      for (let k = 0; k < K; k++) {
        volumes[k] = trace(k) / (n[k]! * D);
        requirePositive(volumes, k, 1, k, 'variance');
      }
      shapes.fill(1);
      return { volumes, shapes, orientations };
    }
    case 'EEI': {
      const s = new Float64Array(D);
      for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) s[j] = s[j]! + W[k]![j * D + j]! / total;
      requirePositive(s, 0, D, -1, 'variance');
      const lg = logGeoMean(s, 0, D);
      const lam = Math.exp(lg);
      for (let k = 0; k < K; k++) {
        volumes[k] = lam;
        for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(s[j]!) - lg);
      }
      return { volumes, shapes, orientations };
    }
    case 'VVI': {
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < D; j++) shapes[k * D + j] = W[k]![j * D + j]! / n[k]!;
        requirePositive(shapes, k * D, D, k, 'variance');
        const lg = logGeoMean(shapes, k * D, D);
        volumes[k] = Math.exp(lg);
        for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(shapes[k * D + j]!) - lg);
      }
      return { volumes, shapes, orientations };
    }
    case 'EVI': {
      // A_k ∝ diag(W_k), λ = Σ_k |diag W_k|^{1/D} / n.
      let lam = 0;
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < D; j++) shapes[k * D + j] = W[k]![j * D + j]!;
        requirePositive(shapes, k * D, D, k, 'variance');
        const lg = logGeoMean(shapes, k * D, D);
        lam += Math.exp(lg);
        for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(shapes[k * D + j]!) - lg);
      }
      volumes.fill(lam / total);
      return { volumes, shapes, orientations };
    }
    case 'EEE': {
      const S = new Float64Array(D * D);
      for (let k = 0; k < K; k++) for (let i = 0; i < D * D; i++) S[i] = S[i]! + W[k]![i]! / total;
      const e = eigPsd(S, D);
      requirePositive(e.values, 0, D, -1, 'covariance eigenvalue');
      const lg = logGeoMean(e.values, 0, D);
      const covariances = new Float64Array(K * D * D);
      for (let k = 0; k < K; k++) {
        volumes[k] = Math.exp(lg);
        for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(e.values[j]!) - lg);
        orientations.set(e.vectors, k * D * D);
        covariances.set(S, k * D * D);
      }
      return { volumes, shapes, orientations, covariances };
    }
    case 'VVV': {
      const covariances = new Float64Array(K * D * D);
      for (let k = 0; k < K; k++) {
        const S = W[k]!.map((v) => v / n[k]!);
        const e = eigPsd(S, D);
        requirePositive(e.values, 0, D, k, 'covariance eigenvalue');
        const lg = logGeoMean(e.values, 0, D);
        volumes[k] = Math.exp(lg);
        for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(e.values[j]!) - lg);
        orientations.set(e.vectors, k * D * D);
        covariances.set(S, k * D * D);
      }
      return { volumes, shapes, orientations, covariances };
    }
    case 'EEV': {
      // D_k = eigenvectors of W_k; A ∝ Σ_k ω_k (sorted); λ = |Σ_k ω_k|^{1/D} / n.
      const s = new Float64Array(D);
      for (let k = 0; k < K; k++) {
        const e = eigPsd(W[k]!, D);
        orientations.set(e.vectors, k * D * D);
        for (let j = 0; j < D; j++) s[j] = s[j]! + e.values[j]!;
      }
      requirePositive(s, 0, D, -1, 'sum of eigenvalues');
      const lg = logGeoMean(s, 0, D);
      for (let k = 0; k < K; k++) {
        volumes[k] = Math.exp(lg) / total;
        for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(s[j]!) - lg);
      }
      return { volumes, shapes, orientations };
    }
    case 'EVV': {
      // Σ_k = λ W_k / |W_k|^{1/D}, λ = Σ_k |W_k|^{1/D} / n.
      let lam = 0;
      const g = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        const e = eigPsd(W[k]!, D);
        requirePositive(e.values, 0, D, k, 'scatter eigenvalue');
        const lg = logGeoMean(e.values, 0, D);
        g[k] = Math.exp(lg);
        lam += g[k]!;
        for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(e.values[j]!) - lg);
        orientations.set(e.vectors, k * D * D);
      }
      lam /= total;
      volumes.fill(lam);
      const covariances = new Float64Array(K * D * D);
      for (let k = 0; k < K; k++) for (let i = 0; i < D * D; i++) covariances[k * D * D + i] = (lam * W[k]![i]!) / g[k]!;
      return { volumes, shapes, orientations, covariances };
    }
    default:
      throw emError('INTERNAL', ['model'], model, 'has no closed form', 'report this bug');
  }
}

// ---------------------------------------------------------------------------
// Projection of given covariances onto a family (exact for members).

function projectToFamily(p: Problem, prev: Float64Array): Decomposition {
  const { model, K, D } = p;
  const desc = COVARIANCE_MODEL_DESCRIPTORS[model];
  const volumes = new Float64Array(K);
  const shapes = new Float64Array(K * D);
  const orientations = new Float64Array(K * D * D);
  const S = (k: number): Float64Array => prev.subarray(k * D * D, (k + 1) * D * D);
  // Orientation.
  if (desc.orientation === 'identity') {
    const eye = identityMatrix(D);
    for (let k = 0; k < K; k++) orientations.set(eye, k * D * D);
  } else if (desc.orientation === 'variable') {
    for (let k = 0; k < K; k++) orientations.set(symmetricEigen(S(k), D).vectors, k * D * D);
  } else {
    // Common axes: eigenvectors of a generic combination of the volume-normalized matrices.
    const M = new Float64Array(D * D);
    for (let k = 0; k < K; k++) {
      const lg = logGeoMean(symmetricEigen(S(k), D).values, 0, D);
      const c = (1 + (0.5 * k) / K) / Math.exp(lg);
      for (let i = 0; i < D * D; i++) M[i] = M[i]! + c * S(k)[i]!;
    }
    const O = symmetricEigen(M, D).vectors;
    for (let k = 0; k < K; k++) orientations.set(O, k * D * D);
  }
  // Per-component eigenvalues along the chosen axes, then volumes and shapes.
  const logVol = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const t = rotatedDiagonal(S(k), orientations.subarray(k * D * D, (k + 1) * D * D), D);
    const lg = logGeoMean(t, 0, D);
    logVol[k] = lg;
    for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(t[j]!) - lg);
  }
  if (desc.shape === 'identity') shapes.fill(1);
  else if (desc.shape === 'equal') {
    const a = new Float64Array(D);
    for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) a[j] = a[j]! + Math.log(shapes[k * D + j]!) / K;
    const lg = logGeoMean(a.map(Math.exp), 0, D);
    for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(a[j]! - lg);
  }
  if (desc.volume === 'equal') {
    let s = 0;
    for (let k = 0; k < K; k++) s += logVol[k]! / K;
    volumes.fill(Math.exp(s));
  } else for (let k = 0; k < K; k++) volumes[k] = Math.exp(logVol[k]!);
  return { volumes, shapes, orientations };
}

// ---------------------------------------------------------------------------
// Iterative models: one step maps a decomposition to a better one.

interface Iteration {
  start: Decomposition;
  step(dec: Decomposition): Decomposition;
}

/**
 * VEI and VEV: Σ_k = λ_k D_k A D_kᵀ with D_k fixed by W_k (the identity, or
 * W_k's eigenvectors) and t_kj = (D_kᵀ W_k D_k)_jj (the diagonal of W_k, or its
 * sorted eigenvalues). The start may have other orientations (`startOrientations`).
 */
function commonShapeVariableVolume(
  p: Problem,
  t: Float64Array,
  orientations: Float64Array,
  startShape: Float64Array | null,
  startVolumes: Float64Array | null,
  startOrientations: Float64Array = orientations,
): Iteration {
  const { K, D, n } = p;
  const volumesGiven = (a: Float64Array): Float64Array => {
    const lam = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += t[k * D + j]! / a[j]!;
      lam[k] = s / (D * n[k]!);
      requirePositive(lam, k, 1, k, 'volume');
    }
    return lam;
  };
  const shapeGiven = (lam: Float64Array): Float64Array => {
    const a = new Float64Array(D);
    for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) a[j] = a[j]! + t[k * D + j]! / lam[k]!;
    requirePositive(a, 0, D, -1, 'shape');
    const lg = logGeoMean(a, 0, D);
    for (let j = 0; j < D; j++) a[j] = Math.exp(Math.log(a[j]!) - lg);
    return a;
  };
  const pack = (lam: Float64Array, a: Float64Array, o: Float64Array = orientations): Decomposition => {
    const shapes = new Float64Array(K * D);
    for (let k = 0; k < K; k++) shapes.set(a, k * D);
    return { volumes: lam, shapes, orientations: o };
  };
  const a0 = startShape ?? new Float64Array(D).fill(1);
  const start = pack(startVolumes ?? volumesGiven(a0), a0, startOrientations);
  return {
    start,
    step(dec) {
      const lam = volumesGiven(dec.shapes.subarray(0, D));
      return pack(lam, shapeGiven(lam));
    },
  };
}

/** VEE: Σ_k = λ_k C with |C| = 1. */
function veeIteration(p: Problem, startC: Float64Array | null, startVolumes: Float64Array | null): Iteration {
  const { K, D, n, W } = p;
  const toDec = (lam: Float64Array, C: Float64Array): Decomposition => {
    const e = eigPsd(C, D);
    requirePositive(e.values, 0, D, -1, 'shape eigenvalue');
    const lg = logGeoMean(e.values, 0, D);
    const shapes = new Float64Array(K * D);
    const orientations = new Float64Array(K * D * D);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(e.values[j]!) - lg);
      orientations.set(e.vectors, k * D * D);
    }
    return { volumes: lam, shapes, orientations };
  };
  const volumesGiven = (C: Float64Array): Float64Array => {
    const L = cholesky(C, D);
    if (L === null) throw new DegenerateComponentError(-1, 'singular', C, 'the common shape matrix is not positive definite: the pooled scatter is singular');
    const inv = inverseFromCholesky(L, D);
    const lam = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let tr = 0;
      for (let i = 0; i < D * D; i++) tr += inv[i]! * W[k]![i]!;
      lam[k] = tr / (D * n[k]!);
      requirePositive(lam, k, 1, k, 'volume');
    }
    return lam;
  };
  const shapeGiven = (lam: Float64Array): Float64Array => {
    const C = new Float64Array(D * D);
    for (let k = 0; k < K; k++) for (let i = 0; i < D * D; i++) C[i] = C[i]! + W[k]![i]! / lam[k]!;
    const e = eigPsd(C, D);
    requirePositive(e.values, 0, D, -1, 'shape eigenvalue');
    const g = Math.exp(logGeoMean(e.values, 0, D));
    return C.map((v) => v / g);
  };
  const C0 = startC ?? shapeGiven(new Float64Array(K).fill(1));
  const start = toDec(startVolumes ?? volumesGiven(C0), C0);
  return {
    start,
    step(dec) {
      const C = shapeGiven(dec.volumes);
      return toDec(volumesGiven(C), C);
    },
  };
}

/** EVE and VVE: common orientation D, per-component shapes, equal or variable volumes. */
function commonOrientationIteration(p: Problem, start: Decomposition | null): Iteration {
  const { model, K, D, n, W, total } = p;
  const equalVolume = model === 'EVE';
  // Largest eigenvalue of each W_k (MM bound of the first update).
  const omega = W.map((Wk) => eigPsd(Wk, D).values[0]!);
  const givenOrientation = (O: Float64Array): Decomposition => {
    const volumes = new Float64Array(K);
    const shapes = new Float64Array(K * D);
    const orientations = new Float64Array(K * D * D);
    let lamE = 0;
    for (let k = 0; k < K; k++) {
      orientations.set(O, k * D * D);
      const t = rotatedDiagonal(W[k]!, O, D);
      requirePositive(t, 0, D, k, 'scatter along a common axis');
      const lg = logGeoMean(t, 0, D);
      for (let j = 0; j < D; j++) shapes[k * D + j] = Math.exp(Math.log(t[j]!) - lg);
      if (equalVolume) lamE += Math.exp(lg);
      else volumes[k] = Math.exp(lg) / n[k]!;
    }
    if (equalVolume) volumes.fill(lamE / total);
    return { volumes, shapes, orientations };
  };
  const mm = (dec: Decomposition): Float64Array => {
    let O: Float64Array = dec.orientations.slice(0, D * D);
    // B_k = (λ_k A_k)⁻¹; tr(W_k O B_k Oᵀ) is majorized first with W_k ≤ ω_k I, then with B_k ≤ max(B_k) I.
    const B = (k: number, j: number): number => 1 / (dec.volumes[k]! * dec.shapes[k * D + j]!);
    for (const variant of [1, 2]) {
      const F = new Float64Array(D * D);
      for (let k = 0; k < K; k++) {
        let bmax = 0;
        for (let j = 0; j < D; j++) bmax = Math.max(bmax, B(k, j));
        const Wk = W[k]!;
        for (let r = 0; r < D; r++) {
          for (let j = 0; j < D; j++) {
            let wo = 0; // (W_k O)_rj
            for (let c = 0; c < D; c++) wo += Wk[r * D + c]! * O[c * D + j]!;
            const f = variant === 1 ? (omega[k]! * O[r * D + j]! - wo) * B(k, j) : wo * (bmax - B(k, j));
            F[r * D + j] = F[r * D + j]! + f;
          }
        }
      }
      O = procrustesRotation(F, D);
    }
    return O;
  };
  return {
    start: start ?? givenOrientation(identityMatrix(D)),
    step(dec) {
      return givenOrientation(mm(dec));
    },
  };
}

// ---------------------------------------------------------------------------

const OPTION_KEYS = ['regCovar', 'tol', 'maxIter', 'prev', 'minCount'];

/**
 * The covariance M-step of a Gaussian mixture for one of mclust's parameterizations.
 *
 * Maximizes Q = Σ_k [−(n_k/2) log|Σ_k| − ½ tr(Σ_k⁻¹ W_k)] over the model's
 * family (W_k + regCovar·n_k·I in place of W_k when `regCovar > 0`), by the
 * closed form where one exists, else iteratively from `options.prev` (or
 * mclust's start) until the relative change of Σ is at most `tol`. Every
 * iteration is checked: one that lowers Q beyond rounding ends the iteration
 * at the previous point, and if the end point is below the start, the start is
 * returned (`keptStart`), so Q never decreases from the start.
 *
 * @param model One of {@link COVARIANCE_MODELS}; `E` and `V` need `dim === 1`.
 * @param stats Counts `[K]` and scatters `[K, D, D]` (means are not read).
 * @throws `INVALID_ARGUMENT` for a bad model name, option or size.
 * @throws {@link DegenerateComponentError} (`NOT_POSITIVE_DEFINITE`) when a component is empty or its covariance singular.
 * @example
 * ```ts
 * const stats = weightedScatterStats(x, nRows, 2, resp, 3);
 * const { covariances, volumes, shapes, orientations } = covarianceMStep('VEV', stats, { regCovar: 1e-6 });
 * ```
 * @see Celeux & Govaert (1995), "Gaussian parsimonious clustering models", Pattern Recognition 28(5).
 * @see Browne & McNicholas (2014), "Estimating common principal components in high dimensions", Adv. Data Anal. Classif. 8(2).
 * @see Fraley & Raftery (2002), "Model-based clustering, discriminant analysis, and density estimation", JASA 97.
 * @category Mixture covariance models
 */
export function covarianceMStep(model: CovarianceModel, stats: CovarianceStats, options: CovarianceMStepOptions = {}): CovarianceMStepResult {
  checkModel(model);
  rejectUnknownOptions(options as Record<string, unknown>, OPTION_KEYS, 'options');
  if (typeof stats !== 'object' || stats === null) throw emError('INVALID_ARGUMENT', ['stats'], stats, 'must be an object { nComponents, dim, counts, scatters }', 'build it with weightedScatterStats');
  const K = integerOption(stats.nComponents, ['stats', 'nComponents'], 1);
  const D = integerOption(stats.dim, ['stats', 'dim'], 1);
  if ((model === 'E' || model === 'V') && D !== 1) {
    throw emError('INVALID_ARGUMENT', ['stats', 'dim'], D, `must be 1 for the univariate model ${model}`, 'use EII or VII for multivariate data');
  }
  const regCovar = options.regCovar === undefined ? 0 : numberOption(options.regCovar, ['options', 'regCovar'], 0);
  const tol = options.tol === undefined ? 1e-10 : numberOption(options.tol, ['options', 'tol'], 0);
  const maxIter = options.maxIter === undefined ? 10_000 : integerOption(options.maxIter, ['options', 'maxIter'], 0);
  const { counts, scatters } = stats;
  if (!(counts instanceof Float64Array) || counts.length !== K) {
    throw emError('INVALID_ARGUMENT', ['stats', 'counts'], counts, `must be a Float64Array of length K = ${K}`, 'pass n_k per component');
  }
  if (!(scatters instanceof Float64Array) || scatters.length !== K * D * D) {
    throw emError('INVALID_ARGUMENT', ['stats', 'scatters'], scatters, `must be a Float64Array of length K * D * D = ${K * D * D}`, 'pass one row-major D×D scatter matrix per component');
  }
  let total = 0;
  for (let k = 0; k < K; k++) {
    const c = counts[k]!;
    if (!Number.isFinite(c) || c < 0) throw emError('INVALID_ARGUMENT', ['stats', 'counts', k], c, 'must be a finite number >= 0', 'pass weighted counts Σ_n w_nk');
    total += c;
  }
  for (let i = 0; i < scatters.length; i++) {
    const v = scatters[i]!;
    const k = Math.floor(i / (D * D));
    const r = Math.floor((i % (D * D)) / D);
    const c = i % D;
    if (!Number.isFinite(v) || (r === c && v < 0)) {
      throw emError('INVALID_ARGUMENT', ['stats', 'scatters', k, r, c], v, r === c ? 'must be a finite number >= 0 (a diagonal entry of a scatter matrix)' : 'must be finite', 'pass positive semi-definite scatter matrices');
    }
  }
  const minCount = options.minCount === undefined ? 10 * EPS * total : numberOption(options.minCount, ['options', 'minCount'], 0);
  let prev: Float64Array<ArrayBufferLike> | null = null;
  if (options.prev !== undefined) {
    const pv = options.prev;
    if (!(pv instanceof Float64Array) || pv.length !== K * D * D) {
      throw emError('INVALID_ARGUMENT', ['options', 'prev'], pv, `must be a Float64Array of length K * D * D = ${K * D * D}`, 'pass the previous covariances [K, D, D] or omit prev');
    }
    for (let k = 0; k < K; k++) {
      const S = pv.slice(k * D * D, (k + 1) * D * D);
      if (S.some((v) => !Number.isFinite(v)) || cholesky(S, D) === null) {
        throw emError('INVALID_PARAMS', ['options', 'prev', k], S, 'must be a finite symmetric positive definite matrix', 'pass positive definite previous covariances or omit prev');
      }
    }
    prev = pv;
  }
  for (let k = 0; k < K; k++) {
    if (!(counts[k]! > minCount)) {
      throw new DegenerateComponentError(k, 'empty', counts[k], `component ${k} is empty (n_k = ${counts[k]} <= minCount = ${minCount})`);
    }
  }

  const W: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const Wk = new Float64Array(D * D);
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) Wk[i * D + j] = 0.5 * (scatters[k * D * D + i * D + j]! + scatters[k * D * D + j * D + i]!);
      Wk[i * D + i] = Wk[i * D + i]! + regCovar * counts[k]!;
    }
    W.push(Wk);
  }
  const problem: Problem = { model, K, D, n: counts, total, W };
  const regStats: CovarianceStats = { nComponents: K, dim: D, counts, scatters: new Float64Array(W.flatMap((w) => Array.from(w))) };

  const startDec = prev === null ? null : projectToFamily(problem, prev);
  const startCov = startDec === null ? null : composeAll(startDec, K, D);
  const startObjective = startCov === null ? null : covarianceObjective(regStats, startCov);

  const finish = (dec: Decomposition, covariances: Float64Array, iterations: number, converged: boolean, firstObjective: number | null): CovarianceMStepResult => {
    canonicalSigns(dec.orientations, K, D);
    const objective = covarianceObjective(regStats, covariances);
    const objectiveStart = startObjective ?? firstObjective ?? objective;
    if (startDec !== null && startCov !== null && startObjective !== null && !(objective >= startObjective)) {
      canonicalSigns(startDec.orientations, K, D);
      return { model, nComponents: K, dim: D, covariances: startCov, ...startDec, objective: startObjective, objectiveStart: startObjective, iterations, converged, keptStart: true };
    }
    for (let k = 0; k < K; k++) checkComponent(dec, k, D, COVARIANCE_MODEL_DESCRIPTORS[model]);
    return { model, nComponents: K, dim: D, covariances, ...dec, objective, objectiveStart, iterations, converged, keptStart: false };
  };

  if (!COVARIANCE_MODEL_DESCRIPTORS[model].iterative) {
    const dec = closedForm(problem);
    const covariances = dec.covariances ?? composeAll(dec, K, D);
    return finish({ volumes: dec.volumes, shapes: dec.shapes, orientations: dec.orientations }, covariances, 0, true, null);
  }

  let iteration: Iteration;
  switch (model) {
    case 'VEI': {
      const t = new Float64Array(K * D);
      for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) t[k * D + j] = W[k]![j * D + j]!;
      const orientations = new Float64Array(K * D * D);
      for (let k = 0; k < K; k++) orientations.set(identityMatrix(D), k * D * D);
      iteration = commonShapeVariableVolume(problem, t, orientations, startDec?.shapes.slice(0, D) ?? null, startDec?.volumes.slice() ?? null);
      break;
    }
    case 'VEV': {
      const t = new Float64Array(K * D);
      const orientations = new Float64Array(K * D * D);
      const pooled = new Float64Array(D);
      for (let k = 0; k < K; k++) {
        const e = eigPsd(W[k]!, D);
        t.set(e.values, k * D);
        orientations.set(e.vectors, k * D * D);
        for (let j = 0; j < D; j++) pooled[j] = pooled[j]! + e.values[j]!;
      }
      let a0: Float64Array;
      if (startDec !== null) a0 = startDec.shapes.slice(0, D).sort((x, y) => y - x);
      else {
        // mclust starts from the EEV shape.
        requirePositive(pooled, 0, D, -1, 'sum of eigenvalues');
        const lg = logGeoMean(pooled, 0, D);
        a0 = pooled.map((v) => Math.exp(Math.log(v) - lg));
      }
      iteration = commonShapeVariableVolume(problem, t, orientations, a0, startDec?.volumes.slice() ?? null, startDec?.orientations ?? orientations);
      break;
    }
    case 'VEE': {
      let C0: Float64Array | null = null;
      if (startDec !== null) {
        C0 = new Float64Array(D * D);
        compose(1, startDec.shapes, 0, startDec.orientations, 0, D, C0, 0);
      }
      iteration = veeIteration(problem, C0, startDec?.volumes.slice() ?? null);
      break;
    }
    default:
      iteration = commonOrientationIteration(problem, startDec);
  }

  let dec = iteration.start;
  let cov = composeAll(dec, K, D);
  let q = decompositionObjective(problem, dec);
  const firstObjective = startDec === null ? covarianceObjective(regStats, cov) : null;
  let iterations = 0;
  let converged = false;
  for (let it = 1; it <= maxIter; it++) {
    const next = iteration.step(dec);
    const qNext = decompositionObjective(problem, next);
    // Q cannot decrease in exact arithmetic; a drop beyond rounding means numerical trouble: stop at the previous point.
    if (!(qNext >= q - 1e-12 * (1 + Math.abs(q)))) break;
    const covNext = composeAll(next, K, D);
    const change = relativeChange(cov, covNext);
    dec = next;
    cov = covNext;
    q = qNext;
    iterations = it;
    if (change <= tol) {
      converged = true;
      break;
    }
  }
  return finish(dec, cov, iterations, converged, firstObjective);
}
