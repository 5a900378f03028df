/**
 * The kit's small `finite` structures for `checkEStep`: a log-joint table
 * with row weights and a continuous latent part per entry (entropy h_nk and
 * a latent value with mean m_nk and spread s_nk), served in blocks; and the
 * brute-force answers an E-step is compared with. Also the data arbitrary of
 * the kit's missing-entry mixture.
 * @module
 */
import fc from 'fast-check';
import type { FiniteChunk, FiniteStructure, Precision, StatsAlgebra } from '@emlab/core';

/** Statistics of a kit table: the weight table w_nk `[N·K]` and Σ w_nk · (latent value) `[N·K]`. */
export interface LatentTableStats {
  readonly q: Float64Array;
  readonly m: Float64Array;
}

/** One generated finite case. */
export interface FiniteCase {
  /** `[N][K]` log p(x_n, z_n = k), float32-representable when `precision` is float32. */
  readonly table: number[][];
  /** `[N][K]` entropy of the continuous part given z = k, or undefined (z is the only latent). */
  readonly h: number[][] | undefined;
  /** `[N][K]` mean and spread of the latent value given z = k. */
  readonly mean: number[][];
  readonly spread: number[][];
  /** Row weights, or undefined. */
  readonly weights: number[] | undefined;
  readonly blockRows: number;
  readonly precision: Precision;
}

/** A case's structure, and counts of how the E-step used it. */
export interface CaseStructure {
  readonly structure: FiniteStructure<LatentTableStats>;
  readonly calls: { stats: number; sampleStats: number; latentEntropy: number };
}

const algebra: StatsAlgebra<LatentTableStats> = {
  zero: (like) => ({ q: new Float64Array(like.q.length), m: new Float64Array(like.m.length) }),
  add: (a, b) => ({ q: a.q.map((v, i) => v + (b.q[i] as number)), m: a.m.map((v, i) => v + (b.m[i] as number)) }),
  scale: (a, c) => ({ q: a.q.map((v) => v * c), m: a.m.map((v) => v * c) }),
};

/** Builds the structure of a case (fresh call counters). */
export function caseStructure(c: FiniteCase): CaseStructure {
  const n = c.table.length;
  const k = (c.table[0] as number[]).length;
  const calls = { stats: 0, sampleStats: 0, latentEntropy: 0 };
  const chunks: FiniteChunk<LatentTableStats>[] = [];
  const flat = (rows: number[][], start: number, count: number, f32: boolean): Float64Array | Float32Array => {
    const out = f32 ? new Float32Array(count * k) : new Float64Array(count * k);
    for (let r = 0; r < count; r++) for (let j = 0; j < k; j++) out[r * k + j] = (rows[start + r] as number[])[j] as number;
    return out;
  };
  for (let start = 0; start < n; start += c.blockRows) {
    const rows = Math.min(c.blockRows, n - start);
    const f32 = c.precision === 'float32';
    const fill = (w: ArrayLike<number>, draw?: () => number): LatentTableStats => {
      const q = new Float64Array(n * k);
      const m = new Float64Array(n * k);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < k; j++) {
          const v = w[r * k + j] as number;
          const o = (start + r) * k + j;
          q[o] = v;
          if (v !== 0) m[o] = v * (((c.mean[start + r] as number[])[j] as number) + (draw === undefined ? 0 : ((c.spread[start + r] as number[])[j] as number) * draw()));
        }
      }
      return { q, m };
    };
    const h = c.h;
    chunks.push({
      rows,
      start,
      ...(c.weights === undefined ? {} : { weights: Float64Array.from(c.weights.slice(start, start + rows)) }),
      logJoint: () => flat(c.table, start, rows, f32),
      stats: (w) => {
        calls.stats++;
        return fill(w);
      },
      ...(h === undefined
        ? {}
        : {
            latentEntropy: () => {
              calls.latentEntropy++;
              return flat(h, start, rows, f32);
            },
            sampleStats: (w, rng) => {
              calls.sampleStats++;
              return fill(w, () => rng.normal());
            },
          }),
    });
  }
  return { structure: { kind: 'finite', precision: c.precision, nRows: n, nComponents: k, algebra, chunks: () => chunks }, calls };
}

/** A finite case: K in [1, 4], N in [1, 10], some −∞ entries (never a whole row), weights 0 or in [0.001, 3], or none. */
export function finiteCaseArb(): fc.Arbitrary<FiniteCase> {
  return fc
    .record({
      k: fc.integer({ min: 1, max: 4 }),
      n: fc.integer({ min: 1, max: 10 }),
      precision: fc.constantFrom<Precision>('float64', 'float32'),
      latent: fc.boolean(),
      weighted: fc.boolean(),
      blockRows: fc.integer({ min: 1, max: 4 }),
    })
    .chain(({ k, n, precision, latent, weighted, blockRows }) => {
      // A row's level in [−40, 5] plus spreads in [−4, 4] (posteriors neither flat nor all one-hot), a far
      // component now and then, and −∞ (a component that cannot produce the row, never all of them).
      const spread = fc.double({ min: -4, max: 4, noNaN: true });
      const row = fc
        .tuple(fc.double({ min: -40, max: 5, noNaN: true }), fc.array(fc.tuple(spread, fc.integer({ min: 0, max: 9 })), { minLength: k, maxLength: k }), fc.integer({ min: 0, max: k - 1 }))
        .map(([level, cells, keep]) =>
          cells.map(([x, kind], j) => {
            const v = j === keep || kind >= 2 ? level + x : kind === 1 ? level + x - 30 : Number.NEGATIVE_INFINITY;
            return precision === 'float32' ? Math.fround(v) : v;
          }),
        );
      const grid = (min: number, max: number): fc.Arbitrary<number[][]> =>
        fc.array(fc.array(fc.double({ min, max, noNaN: true }).map((v) => (precision === 'float32' ? Math.fround(v) : v)), { minLength: k, maxLength: k }), { minLength: n, maxLength: n });
      return fc.record({
        table: fc.array(row, { minLength: n, maxLength: n }),
        h: latent ? grid(-2, 3).map((g): number[][] | undefined => g) : fc.constant(undefined),
        mean: grid(-5, 5),
        spread: grid(0.1, 2),
        weights: weighted
          ? fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.constant(2), fc.double({ min: 1e-3, max: 3, noNaN: true })), { minLength: n, maxLength: n }).map((w): number[] | undefined => w)
          : fc.constant(undefined),
        blockRows: fc.constant(blockRows),
        precision: fc.constant(precision),
      });
    });
}

/** The exact answer for a case, in float64 from the table's values. */
export interface FiniteTruth {
  /** `[N][K]` posterior. */
  readonly posterior: number[][];
  /** Σ_n w_n log p(x_n). */
  readonly logLikelihood: number;
  /** Σ_n w_n Σ_k p_nk (−log p_nk + h_nk): the entropy of the exact q, continuous part included. */
  readonly entropy: number;
  readonly totalWeight: number;
}

const rowWeight = (c: FiniteCase, r: number): number => (c.weights === undefined ? 1 : (c.weights[r] as number));

/** Brute force: posterior, log-likelihood and entropy of a case. */
export function finiteTruth(c: FiniteCase): FiniteTruth {
  let logLikelihood = 0;
  let entropy = 0;
  let totalWeight = 0;
  const posterior = c.table.map((row, r) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / s);
    const w = rowWeight(c, r);
    totalWeight += w;
    if (w > 0) {
      logLikelihood += w * (m + Math.log(s));
      p.forEach((pk, k) => {
        if (pk > 0) entropy += w * pk * (-Math.log(pk) + (c.h === undefined ? 0 : ((c.h[r] as number[])[k] as number)));
      });
    }
    return p;
  });
  return { posterior, logLikelihood, entropy, totalWeight };
}

/**
 * What an E-step's statistics say about its q: per row with positive weight, q_n = w_nk / w_n, and
 * L(q) = Σ_n w_n (Σ_k q_nk log p(x_n, k) + H_z(q_n)) and H(q) (continuous part included), recomputed in float64.
 */
export function impliedQ(c: FiniteCase, stats: LatentTableStats): { q: (number[] | null)[]; bound: number; entropy: number } {
  const k = (c.table[0] as number[]).length;
  let bound = 0;
  let entropy = 0;
  const q = c.table.map((row, r) => {
    const w = rowWeight(c, r);
    if (!(w > 0)) return null;
    const qr = row.map((_, j) => (stats.q[r * k + j] as number) / w);
    qr.forEach((qk, j) => {
      if (qk > 0) {
        bound += w * qk * ((row[j] as number) - Math.log(qk));
        entropy += w * qk * (-Math.log(qk) + (c.h === undefined ? 0 : ((c.h[r] as number[])[j] as number)));
      }
    });
    return qr;
  });
  return { q, bound, entropy };
}

/**
 * Rows `[N][D]` for the kit's missing-entry mixture: two separated groups, D = 2, ~15% missing (never
 * a whole row, never the first 4 rows). Row r is offset by 0.05·r so that no two rows coincide, even shrunk.
 */
export function kitMixtureDataArb(): fc.Arbitrary<number[][]> {
  const value = fc.double({ min: -1, max: 1, noNaN: true });
  return fc
    .array(fc.tuple(fc.boolean(), value, value, fc.integer({ min: 0, max: 19 })), { minLength: 8, maxLength: 18 })
    .map((rows) =>
      rows.map(([group, a, b, miss], r) => {
        const x = [(group ? 4 : 0) + a + 0.05 * r, (group ? -3 : 1) + b - 0.05 * r];
        if (r >= 4 && miss < 3) x[miss % 2] = Number.NaN;
        return x;
      }),
    );
}
