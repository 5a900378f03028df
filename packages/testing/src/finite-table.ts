/**
 * A `finite` latent structure from a given log-joint table, for unit tests of
 * finite E-steps without any model: its statistics are the weights
 * themselves, so a test sees exactly what the E-step chose.
 * @module
 */
import type { FiniteChunk, FiniteStructure, StatsAlgebra } from '@emlab/core';

/** Statistics of {@link tableStructure}: the full weight matrix `[nRows·K]`, row-major (zeros for rows not yet seen). @category Testing */
export interface TableStats {
  readonly nRows: number;
  readonly k: number;
  readonly weights: Float64Array;
}

/** zero / add / scale of {@link TableStats}. @category Testing */
export const tableStatsAlgebra: StatsAlgebra<TableStats> = {
  zero: (like) => ({ nRows: like.nRows, k: like.k, weights: new Float64Array(like.weights.length) }),
  add: (a, b) => ({ nRows: a.nRows, k: a.k, weights: a.weights.map((v, i) => v + (b.weights[i] as number)) }),
  scale: (a, c) => ({ nRows: a.nRows, k: a.k, weights: a.weights.map((v) => v * c) }),
};

/**
 * A {@link FiniteStructure} serving `logJoint` (`[N][K]`, log p(x_n, z_n = k))
 * in blocks of `blockRows` rows (float64, or float32 with `precision`); `stats(weights)` records the
 * weights. No tensors.
 * @category Testing
 */
export function tableStructure(logJoint: readonly (readonly number[])[], blockRows = 3, options: { readonly precision?: 'float32' | 'float64'; readonly weights?: readonly number[] } = {}): FiniteStructure<TableStats> {
  const precision = options.precision ?? 'float64';
  const nRows = logJoint.length;
  const k = (logJoint[0] as readonly number[]).length;
  const chunks: FiniteChunk<TableStats>[] = [];
  for (let start = 0; start < nRows; start += blockRows) {
    const rows = Math.min(blockRows, nRows - start);
    const flat = precision === 'float32' ? new Float32Array(rows * k) : new Float64Array(rows * k);
    for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++) flat[r * k + c] = (logJoint[start + r] as readonly number[])[c] as number;
    chunks.push({
      rows,
      start,
      ...(options.weights === undefined ? {} : { weights: Float64Array.from(options.weights.slice(start, start + rows)) }),
      logJoint: () => flat.slice(),
      stats: (v) => {
        const weights = new Float64Array(nRows * k);
        for (let i = 0; i < rows * k; i++) weights[start * k + i] = v[i] as number;
        return { nRows, k, weights };
      },
    });
  }
  return { kind: 'finite', precision, nRows, nComponents: k, algebra: tableStatsAlgebra, chunks: () => chunks };
}
