/**
 * fast-check arbitraries for Gaussian-mixture property tests.
 *
 * Every random number comes from `createRng(seed)` streams of `@emlab/core`
 * (never `Math.random`), so a shrunk counterexample is reproduced by its
 * `{ k, d, covarianceType, seed }` alone.
 * @module
 */
import fc from 'fast-check';
import { createRng, type Rng } from '@emlab/core';
import { COVARIANCE_TYPES, type CovarianceType, type GmmParams } from '@emlab/models';

/** One generated mixture problem. @category Testing */
export interface MixtureCase {
  readonly k: number;
  readonly d: number;
  readonly covarianceType: CovarianceType;
  readonly seed: number;
  /** `[N][D]` rows, shuffled, at least `perComponent·(D+1)` per component. */
  readonly rows: number[][];
  /** The component each row was drawn from. */
  readonly labels: number[];
  /** The parameters the rows were drawn from (weights are the realised fractions). */
  readonly truth: GmmParams;
  /**
   * Random valid parameters of `covarianceType` near the data (means at
   * perturbed data rows, covariances of the data's scale): a generic θ for
   * properties that must hold at ANY parameters, not only at a fit.
   */
  readonly params: GmmParams;
  /** The cluster scale (standard deviation) and the separation (in scales) used. */
  readonly scale: number;
  readonly separation: number;
}

/** Options of {@link mixtureCaseArb}. @category Testing */
export interface MixtureCaseOptions {
  readonly minK?: number;
  /** Default 4. */
  readonly maxK?: number;
  readonly minD?: number;
  /** Default 4. */
  readonly maxD?: number;
  /** Default all four. */
  readonly covarianceTypes?: readonly CovarianceType[];
  /** Rows per component are drawn in [perComponent·(D+1), 1.2·perComponent·(D+1)]. Default 10. */
  readonly perComponent?: number;
  /** Largest distance between generated means in cluster scales (default 6; drawn uniformly in [0, max]). */
  readonly maxSeparation?: number;
  /** Cluster scales are log-uniform in [1/scaleRange, scaleRange] (default 5). */
  readonly scaleRange?: number;
  /** Largest absolute value of the common offset added to every row (default 50). */
  readonly maxOffset?: number;
}

/** A random symmetric positive definite matrix with mean variance (trace/d) ≈ 1. */
function randomSpd(rng: Rng, d: number): number[][] {
  const a = Array.from({ length: d * d }, () => rng.normal());
  const s: number[][] = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  let trace = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let p = 0; p < d; p++) dot += (a[i * d + p] as number) * (a[j * d + p] as number);
      const v = dot / d + (i === j ? 0.2 : 0);
      (s[i] as number[])[j] = v;
      (s[j] as number[])[i] = v;
    }
    trace += (s[i] as number[])[i] as number;
  }
  return s.map((row) => row.map((v) => (v * d) / trace));
}

/** A random covariance of a type with mean variance ≈ `variance`. */
function randomCovariance(rng: Rng, d: number, type: CovarianceType, variance: number): number[][] {
  const out: number[][] = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  if (type === 'spherical') {
    const v = variance * (0.5 + rng.uniform());
    for (let i = 0; i < d; i++) (out[i] as number[])[i] = v;
  } else if (type === 'diag') {
    for (let i = 0; i < d; i++) (out[i] as number[])[i] = variance * (0.3 + 1.4 * rng.uniform());
  } else {
    const s = randomSpd(rng, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) (out[i] as number[])[j] = variance * ((s[i] as number[])[j] as number);
  }
  return out;
}

function covariancesOfType(rng: Rng, k: number, d: number, type: CovarianceType, variance: number): number[][][] {
  if (type === 'tied') {
    const shared = randomCovariance(rng, d, 'full', variance);
    return Array.from({ length: k }, () => shared.map((row) => row.slice()));
  }
  return Array.from({ length: k }, () => randomCovariance(rng, d, type, variance));
}

/** Lower Cholesky factor (float64) of an SPD matrix generated above. */
function cholesky(a: number[][]): number[][] {
  const d = a.length;
  const l: number[][] = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = (a[i] as number[])[j] as number;
      for (let p = 0; p < j; p++) s -= ((l[i] as number[])[p] as number) * ((l[j] as number[])[p] as number);
      (l[i] as number[])[j] = i === j ? Math.sqrt(s) : s / ((l[j] as number[])[j] as number);
    }
  }
  return l;
}

/** A random permutation of 0..n−1 (Fisher–Yates on `rng`). @category Testing */
export function randomPermutation(rng: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/**
 * Builds the {@link MixtureCase} for `(k, d, covarianceType, seed)`; deterministic.
 * @category Testing
 */
export function makeMixtureCase(k: number, d: number, covarianceType: CovarianceType, seed: number, options: MixtureCaseOptions = {}): MixtureCase {
  const root = createRng(seed).child('mixture-case', k, d, covarianceType);
  const perComponent = options.perComponent ?? 10;
  const maxSeparation = options.maxSeparation ?? 6;
  const scaleRange = options.scaleRange ?? 5;
  const maxOffset = options.maxOffset ?? 50;

  const shape = root.child('shape');
  const scale = Math.exp(Math.log(scaleRange) * (2 * shape.uniform() - 1));
  const separation = maxSeparation * shape.uniform();
  const offset = Array.from({ length: d }, () => maxOffset * (2 * shape.uniform() - 1));

  const covs = covariancesOfType(root.child('covariances'), k, d, covarianceType, scale * scale);
  const mr = root.child('means');
  const means = Array.from({ length: k }, () => offset.map((o) => o + scale * separation * (mr.uniform() - 0.5)));
  const counts = Array.from({ length: k }, () => perComponent * (d + 1) + Math.floor(0.2 * perComponent * (d + 1) * shape.uniform()));
  const n = counts.reduce((a, b) => a + b, 0);

  const sr = root.child('samples');
  const drawn: { row: number[]; label: number }[] = [];
  for (let c = 0; c < k; c++) {
    const l = cholesky(covs[c] as number[][]);
    const mu = means[c] as number[];
    for (let r = 0; r < (counts[c] as number); r++) {
      const z = Array.from({ length: d }, () => sr.normal());
      const row = mu.map((m, i) => {
        let v = m;
        for (let p = 0; p <= i; p++) v += ((l[i] as number[])[p] as number) * (z[p] as number);
        return v;
      });
      drawn.push({ row, label: c });
    }
  }
  const order = randomPermutation(root.child('shuffle'), n);
  const rows = order.map((i) => (drawn[i] as { row: number[] }).row);
  const labels = order.map((i) => (drawn[i] as { label: number }).label);
  const truth: GmmParams = { covarianceType, weights: counts.map((c) => c / n), means, covariances: covs };

  // Generic parameters: distinct data rows (perturbed) as means, random covariances of the data's scale.
  const pr = root.child('params');
  const raw = Array.from({ length: k }, () => 0.2 / k + pr.uniform());
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);
  const picks = randomPermutation(pr.child('rows'), n).slice(0, k);
  const pMeans = picks.map((i) => (rows[i] as number[]).map((v) => v + 0.1 * scale * pr.normal()));
  const pCovs = covariancesOfType(pr.child('covariances'), k, d, covarianceType, scale * scale * Math.exp(Math.log(3) * (2 * pr.uniform() - 1)));
  const params: GmmParams = { covarianceType, weights, means: pMeans, covariances: pCovs };
  return { k, d, covarianceType, seed, rows, labels, truth, params, scale, separation };
}

/**
 * Random mixture problems: K ∈ [minK, maxK], D ∈ [minD, maxD], a covariance
 * type, and rows drawn from a random mixture of that type with at least
 * `perComponent·(D+1)` rows per component (default 10, so N ≥ 10·K·(D+1)).
 * Cluster scale, offset and separation (0 = fully overlapping) vary per case.
 * @category Testing
 */
export function mixtureCaseArb(options: MixtureCaseOptions = {}): fc.Arbitrary<MixtureCase> {
  const types = options.covarianceTypes ?? COVARIANCE_TYPES;
  return fc
    .record({
      k: fc.integer({ min: options.minK ?? 1, max: options.maxK ?? 4 }),
      d: fc.integer({ min: options.minD ?? 1, max: options.maxD ?? 4 }),
      covarianceType: fc.constantFrom(...types),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    .map(({ k, d, covarianceType, seed }) => makeMixtureCase(k, d, covarianceType, seed, options));
}

/** How {@link randomResponsibilities} draws rows. @category Testing */
export type ResponsibilityStyle = 'dense' | 'sparse' | 'one-hot';

/**
 * Random responsibilities `[n][k]` (non-negative rows summing to 1) from a seeded stream:
 * `dense` positive entries, `sparse` with random exact zeros (at least one positive per row), `one-hot` a single 1.
 * @category Testing
 */
export function randomResponsibilities(rng: Rng, n: number, k: number, style: ResponsibilityStyle = 'dense'): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(k).fill(0);
    if (style === 'one-hot') {
      row[rng.int(k)] = 1;
    } else {
      const keep = rng.int(k);
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const v = style === 'sparse' && j !== keep && rng.uniform() < 0.5 ? 0 : -Math.log(1 - rng.uniform());
        row[j] = v;
        sum += v;
      }
      if (!(sum > 0)) {
        row.fill(0);
        row[keep] = 1;
        sum = 1;
      }
      for (let j = 0; j < k; j++) row[j] = (row[j] as number) / sum;
    }
    out.push(row);
  }
  return out;
}

/** All permutations of 0..k−1 (k ≤ 7). @category Testing */
export function allPermutations(k: number): number[][] {
  if (k <= 1) return [Array.from({ length: k }, (_, i) => i)];
  const out: number[][] = [];
  for (const p of allPermutations(k - 1)) {
    for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), k - 1, ...p.slice(i)]);
  }
  return out;
}

/** Parameters with components relabelled: component j of the result is component `perm[j]` of `params`. @category Testing */
export function permuteComponents(params: GmmParams, perm: readonly number[]): GmmParams {
  const pick = <T>(xs: readonly T[]): T[] => perm.map((i) => xs[i] as T);
  return { covarianceType: params.covarianceType, weights: pick(params.weights), means: pick(params.means), covariances: pick(params.covariances) };
}

/**
 * The relabelling of `est` that best matches `ref` by squared distance of the
 * means (all K! permutations): est component perm[j] ↔ ref component j.
 * @category Testing
 */
export function matchComponents(ref: readonly (readonly number[])[], est: readonly (readonly number[])[]): number[] {
  let best: number[] = [];
  let bestCost = Number.POSITIVE_INFINITY;
  for (const perm of allPermutations(ref.length)) {
    let cost = 0;
    perm.forEach((e, j) => (ref[j] as readonly number[]).forEach((v, i) => (cost += (v - ((est[e] as readonly number[])[i] as number)) ** 2)));
    if (cost < bestCost) {
      bestCost = cost;
      best = perm;
    }
  }
  return best;
}
