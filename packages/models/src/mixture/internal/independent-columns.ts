/**
 * A family of independent one-parameter distributions per column and
 * component (Poisson, exponential, Bernoulli): p(x | z = k) = Π_c f(x_c; θ_kc)
 * over the observed cells, so a missing cell is marginalized exactly (it
 * contributes nothing). Statistics per component and column: the weight of
 * rows with the cell observed n_kc, Σ w x and Σ w e(x) for a parameter-free
 * term e (Poisson's log x!), so E_q[log p] includes every constant.
 * @module
 */
import { emError, type FloatArray, type StatsAlgebra } from '@emlab/core';
import type { ComponentFamily, FamilyBlock, FamilyColumnsView, FamilyData, FamilyMStepContext, FamilyMStepResult } from '../component-family.js';
import { badParams, checkNumbers, permuted } from './arrays.js';

/** Statistics of an independent-columns family, `[K·C]` each. */
export interface ColumnStats {
  readonly k: number;
  readonly c: number;
  /** Σ_n w_nk [x_nc observed]. */
  readonly n: Float64Array;
  /** Σ_n w_nk x_nc. */
  readonly sx: Float64Array;
  /** Σ_n w_nk e(x_nc). */
  readonly se: Float64Array;
}

/** What differs between the one-parameter families. */
export interface ColumnDistribution {
  readonly name: string;
  /** Key of the `[K][C]` parameter array in the JSON parameters (`rates`, `probs`). */
  readonly key: string;
  /** The problem with a cell's value (outside the support), or undefined. */
  cellProblem(x: number): string | undefined;
  /** What values the support holds, for remedies. */
  readonly support: string;
  /** log f(x; θ), every constant; must return 0·log 0 = 0 where the limit is finite. */
  logDensity(x: number, theta: number): number;
  /** The parameter-free term e(x) of log f (0 when none). */
  extra(x: number): number;
  /** Σ_n w [log f(x_n; θ)] from n, Σ w x, Σ w e(x). */
  expected(n: number, sx: number, se: number, theta: number): number;
  /** The constrained maximum-likelihood θ from n > 0 and Σ w x (`bounds` from the data). */
  mle(n: number, sx: number, bounds: ColumnBounds): number;
  /** The problem with a parameter value, or undefined. */
  paramProblem(theta: number): string | undefined;
  /** θ whose mean is `mean` (reinitialization, empty-column fallback). */
  fromMean(mean: number, bounds: ColumnBounds): number;
  /** E[x; θ]. */
  mean(theta: number): number;
  /** Largest parameter the M-step may return, given the column mean (+∞ when none). */
  cap(mean: number): number;
}

/** Data-dependent limits of a column's parameter (exponential rates stay below a cap). */
export interface ColumnBounds {
  /** Weighted mean of the observed cells. */
  readonly mean: number;
  /** Largest parameter the M-step may return (+∞ when none). */
  readonly max: number;
}

/** Prepared data of an independent-columns family. */
export interface ColumnPrepared {
  readonly data: FamilyData;
  readonly bounds: readonly ColumnBounds[];
}

const statsAlgebra: StatsAlgebra<ColumnStats> = {
  zero: (like) => ({ k: like.k, c: like.c, n: new Float64Array(like.n.length), sx: new Float64Array(like.n.length), se: new Float64Array(like.n.length) }),
  add: (a, b) => ({ k: a.k, c: a.c, n: a.n.map((v, i) => v + (b.n[i] as number)), sx: a.sx.map((v, i) => v + (b.sx[i] as number)), se: a.se.map((v, i) => v + (b.se[i] as number)) }),
  scale: (a, s) => ({ k: a.k, c: a.c, n: a.n.map((v) => v * s), sx: a.sx.map((v) => v * s), se: a.se.map((v) => v * s) }),
};

function accumulate(dist: ColumnDistribution, data: FamilyData, k: number, start: number, rows: number, weights: FloatArray): ColumnStats {
  const c = data.columns.length;
  const n = new Float64Array(k * c);
  const sx = new Float64Array(k * c);
  const se = new Float64Array(k * c);
  for (let i = 0; i < rows; i++) {
    const base = (start + i) * c;
    for (let j = 0; j < c; j++) {
      const x = data.values[base + j] as number;
      if (Number.isNaN(x)) continue;
      const e = dist.extra(x);
      for (let m = 0; m < k; m++) {
        const w = weights[i * k + m] as number;
        if (w === 0) continue;
        n[m * c + j] = (n[m * c + j] as number) + w;
        sx[m * c + j] = (sx[m * c + j] as number) + w * x;
        se[m * c + j] = (se[m * c + j] as number) + w * e;
      }
    }
  }
  return { k, c, n, sx, se };
}

/**
 * A {@link ComponentFamily} of independent columns with one parameter each,
 * stored as `params[dist.key]`, `[K][C]`.
 */
export function independentColumnsFamily(dist: ColumnDistribution, columns: readonly (string | number)[] | undefined, spec: Readonly<Record<string, unknown>>): ComponentFamily<Record<string, number[][]>, ColumnStats, ColumnPrepared> {
  const key = dist.key;
  const thetaOf = (params: Record<string, number[][]>): number[][] => params[key] as number[][];
  return {
    name: dist.name,
    columns,
    missing: 'marginalized',
    spec,
    arity: { min: 1, max: Number.POSITIVE_INFINITY },
    algebra: statsAlgebra,
    validate(view: FamilyColumnsView) {
      const seen = new Float64Array(view.columns.length);
      for (let r = 0; r < view.rows; r++) {
        for (let j = 0; j < view.columns.length; j++) {
          const x = view.at(r, j);
          if (Number.isNaN(x)) continue;
          const problem = dist.cellProblem(x);
          if (problem !== undefined) throw emError('INVALID_DATA', ['data', r, view.columns[j] as number], x, `${problem} (column ${view.names[j]}, ${dist.name} family)`, `${dist.name} columns hold ${dist.support}; model this column with another family`);
          seen[j] = (seen[j] as number) + 1;
        }
      }
      seen.forEach((s, j) => {
        if (s === 0) throw emError('INVALID_DATA', ['data', 'column', view.columns[j] as number], 0, `column ${view.names[j]} has no observed value`, 'drop the column: nothing can be learned about it');
      });
    },
    prepare(data) {
      const c = data.columns.length;
      const bounds: ColumnBounds[] = [];
      for (let j = 0; j < c; j++) {
        let s = 0;
        let w = 0;
        for (let r = 0; r < data.nRows; r++) {
          const x = data.values[r * c + j] as number;
          const rw = data.weights === undefined ? 1 : (data.weights[r] as number);
          if (Number.isNaN(x) || rw === 0) continue;
          s += rw * x;
          w += rw;
        }
        const mean = w > 0 ? s / w : 0;
        bounds.push({ mean, max: dist.cap(mean) });
      }
      return { data, bounds };
    },
    initialStats(prep, k, start, rows, weights) {
      return accumulate(dist, prep.data, k, start, rows, weights);
    },
    structure(prep, params, k) {
      const c = prep.data.columns.length;
      const theta = thetaOf(params);
      return {
        block(start, rows): FamilyBlock<ColumnStats> {
          return {
            logDensity() {
              const out = new Float64Array(rows * k);
              for (let i = 0; i < rows; i++) {
                const base = (start + i) * c;
                for (let j = 0; j < c; j++) {
                  const x = prep.data.values[base + j] as number;
                  if (Number.isNaN(x)) continue;
                  for (let m = 0; m < k; m++) out[i * k + m] = (out[i * k + m] as number) + dist.logDensity(x, (theta[m] as number[])[j] as number);
                }
              }
              return out;
            },
            stats: (w) => accumulate(dist, prep.data, k, start, rows, w),
          };
        },
      };
    },
    mStep(stats, prev, prep, ctx: FamilyMStepContext): FamilyMStepResult<Record<string, number[][]>> {
      const { k, c } = stats;
      const theta: number[][] = [];
      for (let m = 0; m < k; m++) {
        const row: number[] = [];
        for (let j = 0; j < c; j++) {
          const n = stats.n[m * c + j] as number;
          const b = prep.bounds[j] as ColumnBounds;
          // No observed cell of this column in this component: keep the previous value (nothing to learn), else the pooled one.
          row.push(n > 0 ? dist.mle(n, stats.sx[m * c + j] as number, b) : (((prev === undefined ? undefined : (thetaOf(prev)[m] as number[])[j]) ?? dist.fromMean(b.mean, b))));
        }
        theta.push(row);
      }
      const events = ctx.empty.map((m) => {
        const r = ctx.pickRow(ctx.rng);
        for (let j = 0; j < c; j++) {
          const x = prep.data.values[r * c + j] as number;
          const b = prep.bounds[j] as ColumnBounds;
          (theta[m] as number[])[j] = dist.fromMean(Number.isNaN(x) ? b.mean : 0.5 * (b.mean + x), b);
        }
        return { type: 'reinitialized', component: m, detail: `component ${m} was empty; reinitialized halfway between the column means and data row ${r}`, value: r };
      });
      return { params: { [key]: theta }, events };
    },
    expectedLogJoint(stats, params) {
      const { k, c } = stats;
      const theta = thetaOf(params);
      let total = 0;
      for (let m = 0; m < k; m++) {
        for (let j = 0; j < c; j++) {
          const n = stats.n[m * c + j] as number;
          if (n === 0) continue;
          total += dist.expected(n, stats.sx[m * c + j] as number, stats.se[m * c + j] as number, (theta[m] as number[])[j] as number);
        }
      }
      return total;
    },
    nParameters(params) {
      const theta = thetaOf(params);
      return theta.length * (theta[0] as number[]).length;
    },
    validateParams(params, k, prep, path): asserts params is Record<string, number[][]> {
      if (typeof params !== 'object' || params === null) badParams(path, params, `must be an object { ${key} }`, 'pass parameters from a fit result');
      const theta = (params as Record<string, unknown>)[key];
      const first = Array.isArray(theta) ? (theta as unknown[])[0] : undefined;
      const c = prep?.data.columns.length ?? (Array.isArray(first) ? first.length : 0);
      if (c < 1) badParams([...path, key], theta, `must be K arrays of C numbers`, `pass one ${key} array per component`);
      checkNumbers(theta, [k, c], [...path, key], `the ${dist.name} ${key}`, (v) => dist.paramProblem(v));
    },
    permute(params, order) {
      return { [key]: permuted(thetaOf(params), order) };
    },
    componentMean(params, k) {
      return dist.mean((thetaOf(params)[k] as number[])[0] as number);
    },
  };
}
