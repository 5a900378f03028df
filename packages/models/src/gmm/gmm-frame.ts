/**
 * Column scaling for data at any scale: a *frame* of per-column powers of two.
 *
 * A column whose spread is far from 1 (standard deviation outside
 * [2⁻⁴⁰, 2⁴⁰]) is divided by s_c = 2^round(log2 sd_c) before anything else,
 * so that squares and products stay inside float64 (and float32) for values
 * from 1e-300 to 1e300. Powers of two make the scaling exact. Columns of
 * ordinary data get s_c = 1 and nothing changes for them. Inside the frame a
 * Gaussian mixture is an ordinary one; log N(x | μ, Σ) = log N(x̃ | μ̃, Σ̃) −
 * Σ_c log s_c with x̃ = x/s, μ̃ = μ/s, Σ̃_ij = Σ_ij/(s_i s_j).
 *
 * Parameters are reported in the original units: means always; covariances
 * too when every entry Σ̃_ij s_i s_j is a representable float64 (between 1e-300
 * and 1e300 in magnitude, or 0), otherwise in frame units with
 * `params.scale = s` declaring them (Σ = diag(s) · covariances · diag(s)).
 * `regCovar` is added in frame units for the scaled columns (for ordinary
 * columns, frame units are the original units).
 * @module
 */
import type { GmmParams } from './gmm-types.js';

/** Columns whose spread lies in [2^−FRAME_LIMIT, 2^FRAME_LIMIT] are not scaled. @category Gaussian mixtures */
export const FRAME_LIMIT = 40;

/** Largest magnitude a covariance entry may have to be reported in original units. */
const REPRESENTABLE = 1e300;

/**
 * The frame of a data set: per column 2^round(log2 spread) where the spread (standard deviation of
 * the observed entries, or their largest deviation from the mean when that is 0) is outside
 * [2⁻⁴⁰, 2⁴⁰], else 1; `undefined` when every column has scale 1.
 * @param spread - per column standard deviation; `maxDeviation` per column largest |x − mean|.
 * @category Gaussian mixtures
 */
export function frameFor(spread: ArrayLike<number>, maxDeviation: ArrayLike<number>): Float64Array | undefined {
  const out = new Float64Array(spread.length).fill(1);
  let any = false;
  for (let c = 0; c < spread.length; c++) {
    let s = spread[c] as number;
    if (!(s > 0) || !Number.isFinite(s)) s = maxDeviation[c] as number;
    if (!(s > 0) || !Number.isFinite(s)) continue;
    const e = Math.round(Math.log2(s));
    if (Math.abs(e) <= FRAME_LIMIT) continue;
    out[c] = 2 ** e;
    any = true;
  }
  return any ? out : undefined;
}

/** Σ_c log s_c: what every log-density loses when measured in the frame. @category Gaussian mixtures */
export function frameLogJacobian(frame: Float64Array | undefined): number {
  if (frame === undefined) return 0;
  let j = 0;
  for (const s of frame) j += Math.log(s);
  return j;
}

/** The units `params.covariances` are in, per column (1 when `scale` is absent). */
function unitsOf(params: GmmParams, d: number): ArrayLike<number> {
  return params.scale ?? new Float64Array(d).fill(1);
}

/**
 * Parameters in frame units (x̃ = x / s). Exact: every factor is a ratio of powers of two.
 * @category Gaussian mixtures
 */
export function paramsToFrame(params: GmmParams, frame: Float64Array | undefined): GmmParams {
  if (frame === undefined && params.scale === undefined) return params;
  const d = (params.means[0] as number[]).length;
  const s = frame ?? new Float64Array(d).fill(1);
  const u = unitsOf(params, d);
  const { scale: _ignored, ...rest } = params;
  return {
    ...rest,
    means: params.means.map((mu) => mu.map((v, i) => v / (s[i] as number))),
    covariances: params.covariances.map((m) => m.map((row, i) => row.map((v, j) => v * ((u[i] as number) / (s[i] as number)) * ((u[j] as number) / (s[j] as number))))),
  };
}

/**
 * Parameters from frame units back to the original units: means always, covariances too when every
 * entry is representable, else kept in frame units with `scale` set.
 * @category Gaussian mixtures
 */
export function paramsFromFrame(params: GmmParams, frame: Float64Array | undefined): GmmParams {
  if (frame === undefined) return params;
  const means = params.means.map((mu) => mu.map((v, i) => v * (frame[i] as number)));
  const original = params.covariances.map((m) => m.map((row, i) => row.map((v, j) => v * (frame[i] as number) * (frame[j] as number))));
  // Representable: every nonzero entry lands in [1e-300, 1e300] (no overflow, no underflow to 0 or a subnormal).
  const representable = params.covariances.every((m, c) => m.every((row, i) => row.every((v, j) => {
    if (v === 0) return true;
    const o = Math.abs(((original[c] as number[][])[i] as number[])[j] as number);
    return o <= REPRESENTABLE && o >= 1 / REPRESENTABLE;
  })));
  if (representable) return { ...params, means, covariances: original };
  return { ...params, means, covariances: params.covariances, scale: Array.from(frame) };
}
