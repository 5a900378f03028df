/**
 * Exact posterior draws for the `finite` kind: z_nj ~ p(z_n | x_n, θ) by
 * inverse CDF (components in index order, so common random numbers give draws
 * that move smoothly with θ), in independent units of draws.
 * @module
 */
import type { FiniteChunk, FiniteStructure, FloatArray, Rng } from '@emlab/core';
import { checkAbort, type DrawBatch, type DrawUnit, type LatentSampler, type SampleRequest } from './sampler.js';

/** At most this many units per call (batch means with up to 15 degrees of freedom). @category Samplers */
export const FINITE_MAX_UNITS = 16;

/** Rows per random stream: draws depend on a row's index, never on how the model blocks its rows. @category Samplers */
export const FINITE_STREAM_ROWS = 1024;

/** Splits m draws into at most {@link FINITE_MAX_UNITS} contiguous units: `[U + 1]` first draw of each. */
function unitBounds(m: number): number[] {
  const U = Math.min(m, FINITE_MAX_UNITS);
  return Array.from({ length: U + 1 }, (_, u) => Math.round((u * m) / U));
}

/** Row-normalized posterior `[rows × K]` and log p(x_n) `[rows]` of a table (−∞ rows get a zero posterior). */
function posteriorOf(table: FloatArray, rows: number, k: number): { post: Float64Array; logNorm: Float64Array } {
  const post = new Float64Array(rows * k);
  const logNorm = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, table[r * k + j]!);
    if (m === -Infinity) {
      logNorm[r] = -Infinity;
      continue;
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(table[r * k + j]! - m);
      post[r * k + j] = e;
      s += e;
    }
    logNorm[r] = m + Math.log(s);
    for (let j = 0; j < k; j++) post[r * k + j] = post[r * k + j]! / s;
  }
  return { post, logNorm };
}

/**
 * The exact sampler for `finite` structures: independent draws, no chains. Statistics integrate the
 * continuous part of a row's latent (missing Gaussian entries) exactly given the drawn z
 * (`chunk.stats`, Rao–Blackwellized); the estimate of log p(x | θ) is
 * Σ_n w_n [(1/m) Σ_j log p(x_n, z_nj | θ) + H(p(z_n | x_n, θ))] with its exact standard error given θ,
 * sqrt(Σ_n w_n² Var(log p(x_n, z_n | θ)) / m); the exact log-likelihood comes with it.
 *
 * Streams: the draws of unit u (draws j0 … j1 − 1) of rows 1024·k … 1024·k + 1023 use
 * `rng/draws/j0/rows/k` (each row takes j1 − j0 uniforms in row order), so the draws do not depend on
 * the model's block size.
 * @category Samplers
 */
export const finiteSampler: LatentSampler<FiniteStructure, null> = {
  kind: 'finite',
  independent: true,
  start: () => null,
  clone: () => null,
  async sample(structure: FiniteStructure, _chains: null, request: SampleRequest): Promise<DrawBatch> {
    const m = request.nDraws;
    const k = structure.nComponents;
    const bounds = unitBounds(m);
    const U = bounds.length - 1;
    const algebra = structure.algebra;
    const unitStats: unknown[] = new Array(U);
    const unitLogJoint = new Float64Array(U);
    let mean = 0;
    let variance = 0;
    let logLikelihood = 0;
    let entropy = 0;
    for (const chunk of structure.chunks() as Iterable<FiniteChunk<unknown>>) {
      checkAbort(request.signal);
      const rows = chunk.rows;
      const table = chunk.logJoint();
      const { post, logNorm } = posteriorOf(table, rows, k);
      const w = chunk.weights;
      for (let r = 0; r < rows; r++) {
        const wr = w === undefined ? 1 : w[r]!;
        if (wr === 0 || logNorm[r] === -Infinity) continue;
        let e = 0;
        let h = 0;
        for (let j = 0; j < k; j++) {
          const p = post[r * k + j]!;
          if (p > 0) {
            e += p * table[r * k + j]!;
            h -= p * (table[r * k + j]! - logNorm[r]!);
          }
        }
        let v = 0;
        for (let j = 0; j < k; j++) if (post[r * k + j]! > 0) v += post[r * k + j]! * (table[r * k + j]! - e) ** 2;
        variance += wr * wr * v;
        entropy += wr * h;
        logLikelihood += wr * logNorm[r]!;
      }
      for (let u = 0; u < U; u++) {
        const j0 = bounds[u]!;
        const size = bounds[u + 1]! - j0;
        let streamIndex = Math.floor(chunk.start / FINITE_STREAM_ROWS);
        let rng: Rng = request.rng.child('draws', j0, 'rows', streamIndex);
        // A block starting inside a stream's rows skips the uniforms of the rows before it.
        for (let i = (chunk.start - streamIndex * FINITE_STREAM_ROWS) * size; i > 0; i--) rng.uniform();
        const weights = new Float64Array(rows * k);
        let lj = 0;
        for (let r = 0; r < rows; r++) {
          const row = chunk.start + r;
          if (Math.floor(row / FINITE_STREAM_ROWS) !== streamIndex) {
            streamIndex = Math.floor(row / FINITE_STREAM_ROWS);
            rng = request.rng.child('draws', j0, 'rows', streamIndex);
          }
          const wr = w === undefined ? 1 : w[r]!;
          for (let s = 0; s < size; s++) {
            // Inverse CDF over components in index order (positive mass only); the uniform is drawn for
            // every row, so a row's draws never depend on another row's posterior.
            const x = rng.uniform();
            if (logNorm[r] === -Infinity) continue;
            let acc = 0;
            let z = -1;
            for (let j = 0; j < k; j++) {
              const p = post[r * k + j]!;
              if (p <= 0) continue;
              z = j;
              acc += p;
              if (x < acc) break;
            }
            weights[r * k + z] = weights[r * k + z]! + wr / size;
            lj += (wr * table[r * k + z]!) / size;
          }
        }
        const st = chunk.stats(weights);
        unitStats[u] = unitStats[u] === undefined ? st : algebra.add(unitStats[u], st);
        unitLogJoint[u] = unitLogJoint[u]! + lj;
      }
    }
    const units: DrawUnit[] = [];
    let total: unknown;
    for (let u = 0; u < U; u++) {
      const size = bounds[u + 1]! - bounds[u]!;
      const st = unitStats[u];
      units.push({ chain: 0, size, stats: () => st, logJoint: unitLogJoint[u]! });
      mean += (size / m) * unitLogJoint[u]!;
      const scaled = algebra.scale(unitStats[u], size / m);
      total = total === undefined ? scaled : algebra.add(total, scaled);
    }
    return {
      units,
      nDraws: m,
      stats: total,
      ...(request.estimate ? { estimate: { value: mean + entropy, stdErr: Math.sqrt(variance / m) }, logLikelihood } : {}),
      diagnostics: { nDraws: m, ess: m },
    };
  },
};
