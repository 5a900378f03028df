/**
 * Gaussian rows with missing entries: the missing entries are latent, like the
 * component label. Rows are grouped by missingness pattern; for each pattern
 * and component the conditioning on the observed part (one Cholesky of Σ_oo,
 * the regression B = Σ_mo Σ_oo⁻¹ and the conditional covariance
 * C = Σ_mm − B Σ_om) is done once, in float64, and every row of the pattern
 * reuses it.
 *
 * Rows with at least one missing entry are served by {@link missingChunks}:
 * patterns with many rows (`TENSOR_PATTERN_ROWS`) as tensor blocks, one
 * matmul each; the others in float64 JS (each row costs O(K·d_o²), less than
 * the dispatch of per-pattern tensor ops when a pattern holds few rows).
 * Complete rows keep the tensor path of `gaussian-mixture.ts`.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { choleskyWithJitter, invertLower, type FiniteChunk, type FloatArray, type Rng } from '@emlab/core';
import { flatCovariance } from './gmm-math.js';
import type { GmmParams, GmmStats } from './gmm-types.js';
import { featureCount, quadraticPairs, type DataBlock } from './gmm-data.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Rows of one missingness pattern (positions `start … start + count − 1` of the prepared order). @category Gaussian mixtures */
export interface PatternSegment {
  /** Observed column indices, increasing. */
  readonly obs: Int32Array;
  /** Missing column indices, increasing (non-empty). */
  readonly mis: Int32Array;
  /** First position of the pattern's rows in the prepared row order. */
  readonly start: number;
  readonly count: number;
  /** Centred observed values, `[count, obs.length]` row-major, float64. */
  readonly xo: Float64Array;
  /** For large patterns: the rows on the device (missing entries 0, packed Φ), in blocks. */
  readonly blocks?: readonly DataBlock[];
}

/** The missing-data part of prepared Gaussian-mixture data. @category Gaussian mixtures */
export interface MissingPrepared {
  /** Prepared position → row index in the caller's data (rows with every entry missing are left out). */
  readonly order: Int32Array;
  /** Rows in the caller's data. */
  readonly nOriginalRows: number;
  /** Rows with every entry missing: they contribute nothing to the fit. */
  readonly allMissingRows: Int32Array;
  /** Rows with at least one observed and one missing entry, by pattern (after the complete rows). */
  readonly patterns: readonly PatternSegment[];
  /** Number of missing cells. */
  readonly nMissingCells: number;
}

/** The conditioning of one pattern on one component, float64 (see {@link conditionOn}). @category Gaussian mixtures */
export interface Conditioning {
  /** Lower inverse of chol(Σ_oo), `[d_o, d_o]`. */
  readonly linv: Float64Array;
  /** log π_k − d_o/2 log 2π − ½ log|Σ_oo|. */
  readonly constant: number;
  /** Σ_mo Σ_oo⁻¹, `[d_m, d_o]`. */
  readonly b: Float64Array;
  /** Σ_mm − B Σ_om, `[d_m, d_m]`. */
  readonly c: Float64Array;
  /** chol(C) (sampling). */
  readonly cChol: Float64Array;
  /** Entropy of N(·, C): ½ (d_m (1 + log 2π) + log|C|). */
  readonly entropy: number;
}

/**
 * Conditions component `k` (covariance `cov`, `[D, D]`) on the observed set of a pattern.
 * @category Gaussian mixtures
 */
export function conditionOn(cov: Float64Array, d: number, obs: Int32Array, mis: Int32Array, logWeight: number): Conditioning {
  const o = obs.length;
  const m = mis.length;
  const soo = new Float64Array(o * o);
  for (let i = 0; i < o; i++) for (let j = 0; j < o; j++) soo[i * o + j] = cov[(obs[i] as number) * d + (obs[j] as number)] as number;
  let linv: Float64Array = new Float64Array(0);
  let logDetOo = 0;
  if (o > 0) {
    const f = choleskyWithJitter(soo, o, { maxJitter: 0 });
    logDetOo = f.logDet;
    linv = invertLower(f.L, o);
  }
  // W = L⁻¹ Σ_om `[o, m]`; then B = Σ_mo Σ_oo⁻¹ = Wᵀ L⁻¹ and C = Σ_mm − Wᵀ W.
  const w = new Float64Array(o * m);
  for (let i = 0; i < o; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let r = 0; r <= i; r++) s += (linv[i * o + r] as number) * (cov[(obs[r] as number) * d + (mis[j] as number)] as number);
      w[i * m + j] = s;
    }
  }
  const b = new Float64Array(m * o);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < o; j++) {
      let s = 0;
      for (let r = j; r < o; r++) s += (w[r * m + i] as number) * (linv[r * o + j] as number);
      b[i * o + j] = s;
    }
  }
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let s = cov[(mis[i] as number) * d + (mis[j] as number)] as number;
      for (let r = 0; r < o; r++) s -= (w[r * m + i] as number) * (w[r * m + j] as number);
      c[i * m + j] = s;
      c[j * m + i] = s;
    }
  }
  // C is a Schur complement of a positive definite matrix; jitter only absorbs roundoff.
  const cf = m > 0 ? choleskyWithJitter(c, m) : { L: new Float64Array(0), logDet: 0 };
  return {
    linv,
    constant: logWeight - 0.5 * o * LOG_2PI - 0.5 * logDetOo,
    b,
    c,
    cChol: cf.L,
    entropy: 0.5 * (m * (1 + LOG_2PI) + cf.logDet),
  };
}

/**
 * log π_k + log N(x_o | μ_o, Σ_oo) of one row from its conditioning: x_o is
 * `xo[base …]`, μ_o is `mo`; leaves u = x_o − μ_o in `u` (for the
 * conditional mean μ_m + B u).
 * @category Gaussian mixtures
 */
export function observedLogJoint(cn: Conditioning, xo: ArrayLike<number>, base: number, mo: ArrayLike<number>, u: Float64Array): number {
  const o = mo.length;
  const linv = cn.linv;
  for (let j = 0; j < o; j++) u[j] = (xo[base + j] as number) - (mo[j] as number);
  let ss = 0;
  for (let a = 0; a < o; a++) {
    let v = 0;
    const row = a * o;
    for (let j = 0; j <= a; j++) v += (linv[row + j] as number) * (u[j] as number);
    ss += v * v;
  }
  return cn.constant - 0.5 * ss;
}

/** Per pattern and component conditionings of `params` (centred means `centredMeans`, `[K·D]`). */
export function conditionPatterns(patterns: readonly PatternSegment[], params: GmmParams): Conditioning[][] {
  const k = params.weights.length;
  const d = (params.means[0] as number[]).length;
  const covs = Array.from({ length: k }, (_, c) => flatCovariance(params, c));
  return patterns.map((p) => covs.map((cov, c) => conditionOn(cov, d, p.obs, p.mis, Math.log(params.weights[c] as number))));
}

/** Rows per chunk of the missing-data path (float64 JS: the size only bounds the tensors handed to E-steps). */
export const MISSING_CHUNK_ROWS = 8192;

interface Piece {
  readonly p: number;
  /** Row range within the pattern. */
  readonly from: number;
  readonly to: number;
}

/**
 * The `finite` chunks of the rows with missing entries at `params` for the float32 kernels: patterns
 * with many rows (uploaded as tensor blocks) on the device, one matmul each, unless a component is
 * too ill-conditioned for it; the rest on the host in float64 ({@link hostChunks}).
 * @param centredMeans - `[K·D]` component means minus the data offset.
 * @param offset - the data offset (statistics' references are in original units).
 * @param weights - row weights in prepared order, or undefined.
 * @category Gaussian mixtures
 */
export function missingChunks(
  missing: MissingPrepared,
  params: GmmParams,
  centredMeans: Float64Array,
  offset: Float64Array,
  weights: Float64Array | undefined,
  tensors: { readonly mode: 'auto' | 'never' | 'always'; readonly maxNorm: number } = { mode: 'auto', maxNorm: 0 },
): FiniteChunk<GmmStats>[] {
  const k = params.weights.length;
  const d = offset.length;
  const cond = conditionPatterns(missing.patterns, params);
  const ref = referencePoints(centredMeans, offset, k, d);
  const observedMean = (c: number, pat: PatternSegment): Float64Array => Float64Array.from(pat.obs, (j) => centredMeans[c * d + j] as number);
  // Large patterns on the device, unless a component is too ill-conditioned for the quadratic-feature
  // path (the same criterion as complete rows: ρ = tr(Σ_oo⁻¹)(R + ‖μ_o‖)² > CENTRED_PATH_CONDITION).
  const onDevice = missing.patterns.map((pat, p) => {
    if (pat.blocks === undefined || tensors.mode === 'never') return false;
    if (tensors.mode === 'always') return true;
    return (cond[p] as Conditioning[]).every((cn, c) => {
      const o = pat.obs.length;
      let trace = 0;
      for (let i = 0; i < o * o; i++) trace += (cn.linv[i] as number) ** 2; // ‖L⁻¹‖_F² = tr(Σ_oo⁻¹)
      const norm = Math.hypot(...observedMean(c, pat));
      return trace * (tensors.maxNorm + norm) ** 2 <= TENSOR_CONDITION_LIMIT;
    });
  });
  const device: FiniteChunk<GmmStats>[] = [];
  missing.patterns.forEach((pat, p) => {
    if (!onDevice[p]) return;
    const table = patternTable(pat, cond[p] as Conditioning[], k, d, observedMean);
    for (const block of pat.blocks as readonly DataBlock[]) device.push(tensorChunk(pat, block, table, cond[p] as Conditioning[], k, d, ref, observedMean, weights));
  });
  const rest = missing.patterns.map((pat, p) => ({ pat, cs: cond[p] as Conditioning[] })).filter((_, p) => !onDevice[p]);
  return [...device, ...hostChunksOf(rest, k, d, ref, observedMean, weights)];
}

/** Reference points of the statistics (the component means, original units), `[K·D]`. */
function referencePoints(centredMeans: Float64Array, offset: Float64Array, k: number, d: number): Float64Array {
  const ref = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let i = 0; i < d; i++) ref[c * d + i] = (centredMeans[c * d + i] as number) + (offset[i] as number);
  return ref;
}

/**
 * The float64 host chunks of any host patterns (complete rows are a pattern with nothing missing):
 * `logJoint` is log π_k + log N(x_o | μ_k,o, Σ_k,oo) by a triangular solve per row, `stats` the expected
 * statistics with x_m replaced by its conditional mean and the conditional covariance added to the
 * second moment (taken about μ_k), `latentEntropy` the entropy of x_m | x_o, z = k, `sampleStats`
 * the statistics with x_m drawn from that conditional, and `latentVariance` the variance m/2 of the
 * drawn x_m's log density (the last three only when something is missing).
 * @param weights - row weights in prepared order, or undefined.
 * @param maxRows - rows per chunk, at most {@link MISSING_CHUNK_ROWS} (the default); smaller for incremental E-steps.
 * @category Gaussian mixtures
 */
export function hostChunks(
  patterns: readonly PatternSegment[],
  params: GmmParams,
  centredMeans: Float64Array,
  offset: Float64Array,
  weights: Float64Array | undefined,
  maxRows = MISSING_CHUNK_ROWS,
): FiniteChunk<GmmStats>[] {
  const k = params.weights.length;
  const d = offset.length;
  const cond = conditionPatterns(patterns, params);
  const observedMean = (c: number, pat: PatternSegment): Float64Array => Float64Array.from(pat.obs, (j) => centredMeans[c * d + j] as number);
  const size = Math.max(1, Math.min(MISSING_CHUNK_ROWS, Math.floor(maxRows)));
  return hostChunksOf(patterns.map((pat, p) => ({ pat, cs: cond[p] as Conditioning[] })), k, d, referencePoints(centredMeans, offset, k, d), observedMean, weights, size);
}

function hostChunksOf(
  items: readonly { readonly pat: PatternSegment; readonly cs: Conditioning[] }[],
  k: number,
  d: number,
  ref: Float64Array,
  observedMean: (c: number, pat: PatternSegment) => Float64Array,
  weights: Float64Array | undefined,
  chunkRows = MISSING_CHUNK_ROWS,
): FiniteChunk<GmmStats>[] {
  // Group the rows into chunks of at most chunkRows contiguous rows
  // (a chunk's rows are positions start … start + rows − 1: predictions are placed by them).
  const groups: Piece[][] = [];
  let current: Piece[] = [];
  let filled = 0;
  let next = -1;
  items.forEach(({ pat }, p) => {
    if (pat.start !== next && current.length > 0) {
      groups.push(current);
      current = [];
      filled = 0;
    }
    next = pat.start + pat.count;
    for (let from = 0; from < pat.count; ) {
      const take = Math.min(pat.count - from, chunkRows - filled);
      current.push({ p, from, to: from + take });
      filled += take;
      from += take;
      if (filled === chunkRows) {
        groups.push(current);
        current = [];
        filled = 0;
      }
    }
  });
  if (current.length > 0) groups.push(current);

  return groups.map((pieces): FiniteChunk<GmmStats> => {
    const rows = pieces.reduce((n, q) => n + q.to - q.from, 0);
    const first = pieces[0] as Piece;
    const start = (items[first.p] as (typeof items)[number]).pat.start + first.from;
    const anyMissing = pieces.some((q) => (items[q.p] as (typeof items)[number]).pat.mis.length > 0);
    const chunk: FiniteChunk<GmmStats> = {
      rows,
      start,
      ...(weights === undefined ? {} : { weights: weights.subarray(start, start + rows) }),
      logJoint: () => {
        const out = new Float64Array(rows * k);
        let r0 = 0;
        for (const q of pieces) {
          const { pat, cs } = items[q.p] as (typeof items)[number];
          const o = pat.obs.length;
          const xo = pat.xo;
          const u = new Float64Array(o);
          for (let c = 0; c < k; c++) {
            const cn = cs[c] as Conditioning;
            const mo = observedMean(c, pat);
            // Component-outer, rows-inner: the triangular factor stays in cache.
            for (let i = q.from, r = r0; i < q.to; i++, r++) out[r * k + c] = observedLogJoint(cn, xo, i * o, mo, u);
          }
          r0 += q.to - q.from;
        }
        return out;
      },
      stats: (w) => {
        const stats = emptyStats(k, d, ref);
        let r = 0;
        for (const q of pieces) {
          const { pat, cs } = items[q.p] as (typeof items)[number];
          for (let c = 0; c < k; c++) {
            // Moments of x_o − μ_o over the piece's rows, then completed with B and C.
            const { n, s1, s2 } = hostMoments(pat, q.from, q.to, w, r, k, c, observedMean(c, pat));
            if (n === 0) continue;
            completeMoments(stats, c, pat, cs[c] as Conditioning, n, s1, s2);
          }
          r += q.to - q.from;
        }
        return stats;
      },
    };
    if (!anyMissing) return chunk;
    return {
      ...chunk,
      latentEntropy: () => {
        const out = new Float64Array(rows * k);
        let r = 0;
        for (const q of pieces) {
          const { cs } = items[q.p] as (typeof items)[number];
          for (let i = q.from; i < q.to; i++, r++) for (let c = 0; c < k; c++) out[r * k + c] = (cs[c] as Conditioning).entropy;
        }
        return out;
      },
      latentVariance: () => {
        // log N(x_m; μ, C) with x_m ~ N(μ, C) is −(m log 2π + log|C| + χ²_m)/2: variance m/2.
        const out = new Float64Array(rows * k);
        let r = 0;
        for (const q of pieces) {
          const { pat } = items[q.p] as (typeof items)[number];
          out.fill(pat.mis.length / 2, r * k, (r + q.to - q.from) * k);
          r += q.to - q.from;
        }
        return out;
      },
      sampleStats: (w, rng: Rng) => {
        const stats = emptyStats(k, d, ref);
        // One stream per chunk (the E-step's), drawn in row order.
        let r = 0;
        for (const q of pieces) {
          const { pat, cs } = items[q.p] as (typeof items)[number];
          sampleInto(stats, pat, q.from, q.to, w, r, cs, observedMean, rng);
          r += q.to - q.from;
        }
        return stats;
      },
    };
  });
}

/** A tensor's values as a host copy; frees the tensor. @internal */
export function downloadTensor(t: tf.Tensor): Float32Array {
  const v = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return v;
}

/** A weight table as float32 (the tensor kernels' upload), without a copy when it already is. @internal */
export function asFloat32(w: FloatArray): Float32Array {
  return w instanceof Float32Array ? w : Float32Array.from(w);
}

/** Above this ρ a component's quadratic-feature table loses too much in float32 (see `CENTRED_PATH_CONDITION`). */
const TENSOR_CONDITION_LIMIT = 2 ** 20;

/**
 * Weighted moments of u = x_o − μ_c,o over rows `from … to − 1` of a pattern
 * (weights `w[(r0 + i − from)·K + c]`), float64: n = Σ w, s1 = Σ w u, s2 = Σ w u uᵀ.
 */
function hostMoments(pat: PatternSegment, from: number, to: number, w: ArrayLike<number>, r0: number, k: number, c: number, mo: Float64Array): { n: number; s1: Float64Array; s2: Float64Array } {
  const o = pat.obs.length;
  const xo = pat.xo;
  const diff = new Float64Array(o);
  let n = 0;
  const s1 = new Float64Array(o);
  const s2 = new Float64Array(o * o);
  for (let i = from, rr = r0; i < to; i++, rr++) {
    const wc = w[rr * k + c] as number;
    if (wc === 0) continue;
    n += wc;
    const base = i * o;
    for (let j = 0; j < o; j++) diff[j] = (xo[base + j] as number) - (mo[j] as number);
    for (let a = 0; a < o; a++) {
      const wa = wc * (diff[a] as number);
      s1[a] = (s1[a] as number) + wa;
      const row = a * o;
      for (let j = a; j < o; j++) s2[row + j] = (s2[row + j] as number) + wa * (diff[j] as number);
    }
  }
  for (let a = 0; a < o; a++) for (let j = 0; j < a; j++) s2[a * o + j] = s2[j * o + a] as number;
  return { n, s1, s2 };
}

/** Bits of float32's 24 the device moments may lose to cancellation before a component is recomputed on the host. */
const MAX_CANCELLED_BITS = 10;

/**
 * Q_p `[F, K]` (packed features) of a pattern on the device: −½ Σ_oo⁻¹ padded
 * with zeros, Σ_oo⁻¹ μ_o, and the constants; once per pattern and iteration,
 * shared by the pattern's blocks.
 */
function patternTable(pat: PatternSegment, cs: readonly Conditioning[], k: number, d: number, observedMean: (c: number, pat: PatternSegment) => Float64Array): Float32Array {
  const o = pat.obs.length;
  const pairs = quadraticPairs(d, 'packed');
  const f = featureCount(d, 'packed');
  const np = pairs.length;
  const values = new Float32Array(f * k);
  const place = new Int32Array(d).fill(-1);
  pat.obs.forEach((col, a) => (place[col] = a));
  cs.forEach((cn, c) => {
    const prec = new Float64Array(o * o); // Σ_oo⁻¹ = L⁻ᵀ L⁻¹
    for (let a = 0; a < o; a++) for (let b = 0; b < o; b++) {
      let v = 0;
      for (let r = Math.max(a, b); r < o; r++) v += (cn.linv[r * o + a] as number) * (cn.linv[r * o + b] as number);
      prec[a * o + b] = v;
    }
    const mo = observedMean(c, pat);
    pairs.forEach(([i, j], r) => {
      const a = place[i] as number;
      const b = place[j] as number;
      if (a >= 0 && b >= 0) values[r * k + c] = -0.5 * (prec[a * o + b] as number) * (i === j ? 1 : 2);
    });
    let quad = 0;
    for (let a = 0; a < o; a++) {
      let pc = 0;
      for (let b = 0; b < o; b++) pc += (prec[a * o + b] as number) * (mo[b] as number);
      values[(np + (pat.obs[a] as number)) * k + c] = pc;
      quad += pc * (mo[a] as number);
    }
    values[(f - 1) * k + c] = cn.constant - 0.5 * quad;
  });
  return values;
}

/**
 * A block of a large pattern on the device: the table is one matmul of the
 * block's packed features Φ (missing entries 0) with Q_p, whose columns hold
 * −½ Σ_oo⁻¹ (padded with zeros), Σ_oo⁻¹ μ_o and the constants; the statistics
 * are one matmul Wᵀ Φ, restricted to the observed columns, moved to μ_o in
 * float64 and completed like the host path's. A component whose scatter lost
 * more than 10 bits to cancellation is recomputed on the host, exactly.
 */
function tensorChunk(
  pat: PatternSegment,
  block: DataBlock,
  table: Float32Array,
  cs: readonly Conditioning[],
  k: number,
  d: number,
  ref: Float64Array,
  observedMean: (c: number, pat: PatternSegment) => Float64Array,
  rowWeights: Float64Array | undefined,
): FiniteChunk<GmmStats> {
  const o = pat.obs.length;
  const pairs = quadraticPairs(d, 'packed');
  const f = featureCount(d, 'packed');
  const np = pairs.length;
  const from = block.start - pat.start;
  const to = from + block.rows;
  const phi = block.phi as tf.Tensor2D;
  return {
    rows: block.rows,
    start: block.start,
    ...(rowWeights === undefined ? {} : { weights: rowWeights.subarray(block.start, block.start + block.rows) }),
    logJoint: () => downloadTensor(tf.tidy(() => tf.matMul(phi, tf.tensor2d(table, [f, k])))),
    latentEntropy: () => {
      const out = new Float64Array(block.rows * k);
      for (let r = 0; r < block.rows; r++) for (let c = 0; c < k; c++) out[r * k + c] = (cs[c] as Conditioning).entropy;
      return out;
    },
    // log N(x_m; μ, C) with x_m ~ N(μ, C) is −(m log 2π + log|C| + χ²_m)/2: variance m/2.
    latentVariance: () => new Float64Array(block.rows * k).fill(pat.mis.length / 2),
    stats: (weights) => {
      const acc = downloadTensor(tf.tidy(() => tf.matMul(tf.transpose(tf.tensor2d(asFloat32(weights), [block.rows, k])), phi)));
      const stats = emptyStats(k, d, ref);
      for (let c = 0; c < k; c++) {
        const row = c * f;
        const n = acc[row + f - 1] as number;
        if (!(n > 0)) continue;
        const mo = observedMean(c, pat);
        // Raw moments about the data centre, observed columns only (Φ holds x_i x_j for i ≤ j).
        const raw1 = Float64Array.from(pat.obs, (col) => acc[row + np + col] as number);
        const raw2 = new Float64Array(o * o);
        pairs.forEach(([i, j], r) => {
          const a = pat.obs.indexOf(i);
          const b = pat.obs.indexOf(j);
          if (a >= 0 && b >= 0) raw2[a * o + b] = raw2[b * o + a] = acc[row + r] as number;
        });
        // About μ_o: s1 = raw1 − n μ, s2 = raw2 − raw1 μᵀ − μ raw1ᵀ + n μ μᵀ.
        const s1 = raw1.map((v, a) => v - n * (mo[a] as number));
        const s2 = raw2.map((v, idx) => {
          const a = Math.floor(idx / o);
          const b = idx % o;
          return v - (raw1[a] as number) * (mo[b] as number) - (mo[a] as number) * (raw1[b] as number) + n * (mo[a] as number) * (mo[b] as number);
        });
        let rawTrace = 0;
        let scatter = 0;
        for (let a = 0; a < o; a++) {
          rawTrace += raw2[a * o + a] as number;
          scatter += (s2[a * o + a] as number) - (s1[a] as number) ** 2 / n;
        }
        if (scatter <= rawTrace * 2 ** -MAX_CANCELLED_BITS) {
          const exact = hostMoments(pat, from, to, weights, 0, k, c, mo);
          if (exact.n > 0) completeMoments(stats, c, pat, cs[c] as Conditioning, exact.n, exact.s1, exact.s2);
          continue;
        }
        completeMoments(stats, c, pat, cs[c] as Conditioning, n, s1, s2);
      }
      return stats;
    },
    sampleStats: (weights, rng) => {
      const stats = emptyStats(k, d, ref);
      sampleInto(stats, pat, from, to, weights, 0, cs, observedMean, rng);
      return stats;
    },
  };
}

/**
 * Adds to `stats` the moments about μ_c of the rows `from … to − 1` of a
 * pattern with x_m drawn from N(μ_m + B u, C) per row and component with
 * positive weight (`w[(r0 + i − from)·K + c]`).
 */
function sampleInto(
  stats: GmmStats,
  pat: PatternSegment,
  from: number,
  to: number,
  w: ArrayLike<number>,
  r0: number,
  cs: readonly Conditioning[],
  observedMean: (c: number, pat: PatternSegment) => Float64Array,
  rng: Rng,
): void {
  const { k, d } = stats;
  const o = pat.obs.length;
  const m = pat.mis.length;
  const full = new Float64Array(d);
  const eps = new Float64Array(m);
  const diff = new Float64Array(o);
  const means = Array.from({ length: k }, (_, c) => observedMean(c, pat));
  for (let i = from, r = r0; i < to; i++, r++) {
    for (let c = 0; c < k; c++) {
      const wc = w[r * k + c] as number;
      if (wc === 0) continue;
      const cn = cs[c] as Conditioning;
      const mo = means[c] as Float64Array;
      for (let j = 0; j < o; j++) full[pat.obs[j] as number] = diff[j] = (pat.xo[i * o + j] as number) - (mo[j] as number);
      for (let j = 0; j < m; j++) eps[j] = rng.normal();
      for (let a = 0; a < m; a++) {
        let v = 0;
        for (let j = 0; j < o; j++) v += (cn.b[a * o + j] as number) * (diff[j] as number);
        for (let j = 0; j <= a; j++) v += (cn.cChol[a * m + j] as number) * (eps[j] as number);
        full[pat.mis[a] as number] = v;
      }
      addOuter(stats, c, wc, full);
    }
  }
}

function emptyStats(k: number, d: number, ref: Float64Array): GmmStats {
  return { k, d, n: new Float64Array(k), s1: new Float64Array(k * d), s2: new Float64Array(k * d * d), ref: ref.slice() };
}

/** stats[c] += w · (v vᵀ, v, 1). */
function addOuter(stats: GmmStats, c: number, w: number, v: Float64Array): void {
  const d = stats.d;
  stats.n[c] = (stats.n[c] as number) + w;
  for (let a = 0; a < d; a++) {
    const wa = w * (v[a] as number);
    stats.s1[c * d + a] = (stats.s1[c * d + a] as number) + wa;
    for (let j = 0; j < d; j++) stats.s2[c * d * d + a * d + j] = (stats.s2[c * d * d + a * d + j] as number) + wa * (v[j] as number);
  }
}

/**
 * Adds to component `c` the completed moments of a pattern's rows about μ_c:
 * with u = x_o − μ_o and x_m − μ_m = B u (conditional mean), Σ w (x − μ) has
 * blocks (S1, B S1) and Σ w (x − μ)(x − μ)ᵀ blocks (S2, S2 Bᵀ; B S2, B S2 Bᵀ + n C).
 */
function completeMoments(stats: GmmStats, c: number, pat: PatternSegment, cn: Conditioning, n: number, s1: Float64Array, s2: Float64Array): void {
  const d = stats.d;
  const o = pat.obs.length;
  const m = pat.mis.length;
  const base2 = c * d * d;
  stats.n[c] = (stats.n[c] as number) + n;
  // B S2 `[m, o]`
  const bs2 = new Float64Array(m * o);
  for (let a = 0; a < m; a++) {
    for (let j = 0; j < o; j++) {
      let s = 0;
      for (let r = 0; r < o; r++) s += (cn.b[a * o + r] as number) * (s2[r * o + j] as number);
      bs2[a * o + j] = s;
    }
  }
  for (let a = 0; a < o; a++) {
    const ia = pat.obs[a] as number;
    stats.s1[c * d + ia] = (stats.s1[c * d + ia] as number) + (s1[a] as number);
    for (let j = 0; j < o; j++) {
      const ij = pat.obs[j] as number;
      stats.s2[base2 + ia * d + ij] = (stats.s2[base2 + ia * d + ij] as number) + (s2[a * o + j] as number);
    }
  }
  for (let a = 0; a < m; a++) {
    const ia = pat.mis[a] as number;
    let v = 0;
    for (let r = 0; r < o; r++) v += (cn.b[a * o + r] as number) * (s1[r] as number);
    stats.s1[c * d + ia] = (stats.s1[c * d + ia] as number) + v;
    for (let j = 0; j < o; j++) {
      const ij = pat.obs[j] as number;
      const x = bs2[a * o + j] as number;
      stats.s2[base2 + ia * d + ij] = (stats.s2[base2 + ia * d + ij] as number) + x;
      stats.s2[base2 + ij * d + ia] = (stats.s2[base2 + ij * d + ia] as number) + x;
    }
    for (let j = 0; j < m; j++) {
      const ij = pat.mis[j] as number;
      let s = n * (cn.c[a * m + j] as number);
      for (let r = 0; r < o; r++) s += (bs2[a * o + r] as number) * (cn.b[j * o + r] as number);
      stats.s2[base2 + ia * d + ij] = (stats.s2[base2 + ia * d + ij] as number) + s;
    }
  }
}
