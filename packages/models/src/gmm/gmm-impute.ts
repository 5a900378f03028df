/**
 * Imputation from a fitted Gaussian mixture: conditional means, conditional
 * variances and multiple-imputation draws of missing entries, all from the
 * exact conditional p(x_m | x_o, θ) (a mixture over components).
 * @module
 */
import { createRng, emError, integerOption, rejectUnknownOptions, type FitResult, type Seed } from '@emlab/core';
import { groupRowsByPattern, readMatrix } from './gmm-data.js';
import { conditionOn, observedLogJoint, type Conditioning } from './gmm-missing.js';
import { flatCovariance } from './gmm-math.js';
import type { GmmData, GmmParams } from './gmm-types.js';
import { validateGmmParams } from './gmm-validate.js';
import { paramsToFrame } from './gmm-frame.js';

/** Options of {@link impute}. @category Gaussian mixtures */
export interface ImputeOptions {
  /** Number m of multiple-imputation draws. Default 0. */
  readonly draws?: number;
  /** Seed of the draws. Default 0. */
  readonly seed?: Seed;
}

/** What {@link impute} returns; every table is row-major `[rows, cols]` in the data's units. @category Gaussian mixtures */
export interface Imputation {
  readonly rows: number;
  readonly cols: number;
  /** The data with each missing entry replaced by its conditional mean E[x_m | x_o, θ]; observed entries unchanged. */
  readonly values: Float64Array;
  /** Conditional variance of each missing entry; 0 for observed entries. */
  readonly variance: Float64Array;
  /** 1 where the entry was missing. */
  readonly missing: Uint8Array;
  /** Number of missing entries. */
  readonly nMissing: number;
  /** `draws` completed tables, each with missing entries drawn from p(x_m | x_o, θ) (component first, then the Gaussian). */
  readonly draws: Float64Array[];
}


/**
 * Imputes the missing (NaN) entries of `data` under a fitted Gaussian mixture.
 *
 * For a row with observed part x_o, component k has responsibility
 * r_k ∝ π_k N(x_o | μ_k,o, Σ_k,oo) and conditional x_m | x_o, k ~ N(m_k, C_k)
 * with m_k = μ_k,m + Σ_k,mo Σ_k,oo⁻¹ (x_o − μ_k,o), C_k = Σ_k,mm − Σ_k,mo Σ_k,oo⁻¹ Σ_k,om.
 * The imputed value is Σ_k r_k m_k and its variance Σ_k r_k (C_k + m_k m_kᵀ)
 * − (Σ_k r_k m_k)² per entry; a draw picks k ~ r then x_m ~ N(m_k, C_k).
 * Rows with nothing observed get the mixture's marginal. Computed in float64,
 * one conditioning per (pattern, component).
 *
 * @example
 * ```ts
 * const result = await fit(gaussianMixture({ nComponents: 3 }), rows);
 * const { values, variance, draws } = impute(result, rows, { draws: 5, seed: 1 });
 * ```
 * @throws EmError `INVALID_PARAMS`, `INVALID_DATA` (shape, ±Infinity, columns not matching the parameters), `INVALID_ARGUMENT` (options).
 * @category Gaussian mixtures
 */
export function impute(result: FitResult<GmmParams> | GmmParams, data: GmmData, options: ImputeOptions = {}): Imputation {
  rejectUnknownOptions(options as Record<string, unknown>, ['draws', 'seed'], 'impute');
  const nDraws = integerOption(options.draws ?? 0, ['impute', 'draws'], 0, 10_000);
  if (typeof result !== 'object' || result === null) {
    throw emError('INVALID_ARGUMENT', ['result'], result, 'must be a FitResult of a Gaussian mixture or its params', 'pass what fit returned (or loadResult read), or result.params');
  }
  const given = 'params' in result ? (result as FitResult<GmmParams>).params : (result as GmmParams);
  validateGmmParams(given, (given as GmmParams)?.weights?.length ?? 0, undefined);
  const k = given.weights.length;
  const d = (given.means[0] as number[]).length;
  const { values: raw, rows, cols } = readMatrix(data);
  if (cols !== d) throw emError('INVALID_DATA', ['data'], cols, `has ${cols} columns but the parameters have ${d} features`, 'pass data with the columns the model was fitted on');
  // Extreme columns are imputed in the parameters' frame (their declared scale) and scaled back.
  const frame = given.scale === undefined ? undefined : Float64Array.from(given.scale);
  const params = paramsToFrame(given, frame);
  const x = frame === undefined ? raw : raw.map((v, i) => v / (frame[i % cols] as number));
  const rng = createRng(options.seed ?? 0).child('impute');
  const streams = Array.from({ length: nDraws }, (_, t) => rng.child('draw', t));
  const covs = Array.from({ length: k }, (_, c) => flatCovariance(params, c));
  const { patterns, patternOf } = groupRowsByPattern(x, rows, cols);
  const allObserved = new Int32Array(0);
  const allColumns = Int32Array.from({ length: cols }, (_, j) => j);
  const conditionings = new Map<number, { obs: Int32Array; mis: Int32Array; conds: Conditioning[]; means: Float64Array[] }>();
  /** One conditioning per pattern and component (pattern −2: nothing observed, the marginal). */
  const conditioningOf = (p: number) => {
    let entry = conditionings.get(p);
    if (entry === undefined) {
      const { obs, mis } = p === -2 ? { obs: allObserved, mis: allColumns } : (patterns[p] as { obs: Int32Array; mis: Int32Array });
      const conds = covs.map((cov, c) => conditionOn(cov, d, obs, mis, Math.log(params.weights[c] as number)));
      const means = params.means.map((mu) => Float64Array.from(obs, (j) => mu[j] as number));
      conditionings.set(p, (entry = { obs, mis, conds, means }));
    }
    return entry;
  };
  const values = x.slice();
  const variance = new Float64Array(rows * cols);
  const missing = new Uint8Array(rows * cols);
  const draws = streams.map(() => x.slice());
  let nMissing = 0;
  const logR = new Float64Array(k);
  const r = new Float64Array(k);
  const xo = new Float64Array(cols);
  const u = new Float64Array(cols);
  for (let row = 0; row < rows; row++) {
    const p = patternOf[row] as number;
    if (p === -1) continue;
    const base = row * cols;
    const { obs, mis, conds, means: observedMeans } = conditioningOf(p);
    const o = obs.length;
    const m = mis.length;
    nMissing += m;
    for (let j = 0; j < o; j++) xo[j] = x[base + (obs[j] as number)] as number;
    // Responsibilities from the marginal density of the observed part.
    const means: Float64Array[] = [];
    let top = -Infinity;
    for (let c = 0; c < k; c++) {
      const cn = conds[c] as Conditioning;
      const mu = params.means[c] as number[];
      const lj = observedLogJoint(cn, xo, 0, observedMeans[c] as Float64Array, u);
      logR[c] = (params.weights[c] as number) > 0 ? lj : -Infinity;
      top = Math.max(top, logR[c] as number);
      const mc = new Float64Array(m);
      for (let a = 0; a < m; a++) {
        let v = mu[mis[a] as number] as number;
        for (let j = 0; j < o; j++) v += (cn.b[a * o + j] as number) * (u[j] as number);
        mc[a] = v;
      }
      means.push(mc);
    }
    let total = 0;
    for (let c = 0; c < k; c++) total += r[c] = Math.exp((logR[c] as number) - top);
    for (let c = 0; c < k; c++) r[c] = (r[c] as number) / total;
    for (let a = 0; a < m; a++) {
      const j = mis[a] as number;
      let mean = 0;
      let second = 0;
      for (let c = 0; c < k; c++) {
        const v = (means[c] as Float64Array)[a] as number;
        const cn = conds[c] as Conditioning;
        mean += (r[c] as number) * v;
        second += (r[c] as number) * ((cn.c[a * m + a] as number) + v * v);
      }
      values[base + j] = mean;
      variance[base + j] = Math.max(0, second - mean * mean);
      missing[base + j] = 1;
    }
    streams.forEach((s, t) => {
      const c = s.categorical(r);
      const cn = conds[c] as Conditioning;
      const eps = Array.from({ length: m }, () => s.normal());
      const out = draws[t] as Float64Array;
      for (let a = 0; a < m; a++) {
        let v = (means[c] as Float64Array)[a] as number;
        for (let j = 0; j <= a; j++) v += (cn.cChol[a * m + j] as number) * (eps[j] as number);
        out[base + (mis[a] as number)] = v;
      }
    });
  }
  if (frame !== undefined) {
    for (let i = 0; i < values.length; i++) {
      const s = frame[i % cols] as number;
      values[i] = (values[i] as number) * s;
      variance[i] = (variance[i] as number) * s * s;
      if (!Number.isFinite(variance[i] as number)) {
        throw emError('INVALID_DATA', ['data', 'column', i % cols], s, `column ${i % cols}: its conditional variances (in units of ${s}²) do not fit in a float64 in original units`, 'divide the column by a power of ten before imputing, then scale the results back');
      }
    }
    for (const t of draws) for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) * (frame[i % cols] as number);
  }
  return { rows, cols, values, variance, missing, nMissing, draws };
}

/** Missingness of a data set (what `emlab fit --json` reports). @category Gaussian mixtures */
export interface MissingSummary {
  readonly nRows: number;
  readonly nCols: number;
  /** Missing cells. */
  readonly nMissing: number;
  /** Rows with every entry missing (they contribute nothing to a fit). */
  readonly nRowsAllMissing: number;
  /** One entry per distinct pattern, most frequent first: the missing column indices and the row count. */
  readonly patterns: readonly { readonly missing: readonly number[]; readonly count: number }[];
}

/**
 * Counts missing cells and missingness patterns (NaN entries) of `data`.
 * @throws EmError `INVALID_DATA` (shape, ±Infinity).
 * @category Gaussian mixtures
 */
export function missingSummary(data: GmmData): MissingSummary {
  const { values, rows, cols } = readMatrix(data);
  const { complete, allMissing, patterns } = groupRowsByPattern(values, rows, cols);
  const all = [
    { missing: [] as number[], count: complete.length },
    ...patterns.map((p) => ({ missing: Array.from(p.mis), count: p.rows.length })),
    { missing: Array.from({ length: cols }, (_, c) => c), count: allMissing.length },
  ].filter((p) => p.count > 0);
  const nMissing = all.reduce((n, p) => n + p.missing.length * p.count, 0);
  all.sort((a, b) => b.count - a.count || a.missing.length - b.missing.length || a.missing.join(',').localeCompare(b.missing.join(',')));
  return { nRows: rows, nCols: cols, nMissing, nRowsAllMissing: allMissing.length, patterns: all };
}
