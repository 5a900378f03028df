/**
 * What a model's `louis` hook returns, and an accumulator that builds it row by row from the
 * exact posterior and per-latent-value complete-data derivatives.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { Parametrization } from '../model.js';

/**
 * Louis' identity at θ, summed over rows (row weights w_n applied), in coordinates φ:
 * I(φ) = −`expectedCompleteHessian` − `scoreCovariance`. For a MAP model (`Model.logPrior`) the
 * hook includes log p(φ) in the complete-data log-likelihood: its Hessian in
 * `expectedCompleteHessian` and its gradient in `score` (it is not random, so it adds nothing to
 * `scoreCovariance`); I(φ) is then the curvature of log p(x | φ) + log p(φ).
 * @category Standard errors
 */
export interface LouisTerms<P> {
  /**
   * The coordinates φ the derivatives are taken in: a smooth bijection between parameters and
   * `[dim]` vectors near θ (need not be unconstrained, e.g. the natural parameters of the complete-data
   * likelihood: weights without the last, means, covariance entries i ≤ j).
   */
  readonly coordinates: Parametrization<P>;
  /** Σ_n w_n E_{q_n}[∇²_φ log p(x_n, z_n | φ)], `[dim × dim]` row-major (q_n the exact posterior). */
  readonly expectedCompleteHessian: Float64Array;
  /** Σ_n w_n Cov_{q_n}[∇_φ log p(x_n, z_n | φ)]: the missing information, `[dim × dim]` row-major. */
  readonly scoreCovariance: Float64Array;
  /** Σ_n w_n E_{q_n}[∇_φ log p(x_n, z_n | φ)] = ∇_φ log p(x | φ) (Fisher's identity; ≈ 0 at the MLE), `[dim]`. */
  readonly score: Float64Array;
}

/** One latent value's complete-data derivatives on a subset of the coordinates (zero elsewhere). @category Standard errors */
export interface LatentDerivatives {
  /** The coordinates touched, `[m]` (distinct indices in [0, dim)). */
  readonly index: ArrayLike<number>;
  /** ∇ log p(x_n, z_n = k | φ) on `index`, `[m]`. */
  readonly score: ArrayLike<number>;
  /** ∇² log p(x_n, z_n = k | φ) on `index × index`, `[m × m]` row-major. */
  readonly hessian: ArrayLike<number>;
}

/**
 * Builds {@link LouisTerms} row by row: for each row, its weight, the exact posterior q over the
 * latent values, and each value's complete-data score and Hessian (sparse: only the coordinates
 * it touches). Per row it adds w Σ_k q_k H_k to the expected Hessian, w (Σ_k q_k s_k s_kᵀ − s̄ s̄ᵀ)
 * (s̄ = Σ_k q_k s_k) to the score covariance, and w s̄ to the score. Float64; the rows' own means are
 * subtracted (the cross terms between independent rows cancel).
 *
 * @example
 * ```ts
 * const acc = new LouisAccumulator(dim);
 * for (const row of rows) acc.addRow(1, posterior(row), (k) => derivatives(row, k));
 * const { expectedCompleteHessian, scoreCovariance, score } = acc.result();
 * ```
 * @see Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm. *JRSS B* 44, 226–233.
 * @category Standard errors
 */
export class LouisAccumulator {
  private readonly hessian: Float64Array;
  private readonly outer: Float64Array;
  private readonly total: Float64Array;
  private readonly mean: Float64Array;
  private readonly touched: Uint8Array;
  private readonly list: number[] = [];

  /** @throws EmError `INVALID_ARGUMENT` unless `dim` is an integer ≥ 1. */
  constructor(readonly dim: number) {
    if (!Number.isSafeInteger(dim) || dim < 1) throw emError('INVALID_ARGUMENT', ['dim'], dim, 'must be an integer >= 1', 'pass the number of coordinates');
    this.hessian = new Float64Array(dim * dim);
    this.outer = new Float64Array(dim * dim);
    this.total = new Float64Array(dim);
    this.mean = new Float64Array(dim);
    this.touched = new Uint8Array(dim);
  }

  /**
   * Adds one row (or one group of identical rows with their summed weight).
   * @param weight - w_n ≥ 0.
   * @param q - the exact posterior over the row's latent values, `[K]` summing to 1.
   * @param derivatives - the complete-data derivatives for latent value k (called only when q_k > 0).
   */
  addRow(weight: number, q: ArrayLike<number>, derivatives: (k: number) => LatentDerivatives): void {
    if (!(weight > 0)) return;
    const p = this.dim;
    const list = this.list;
    for (let k = 0; k < q.length; k++) {
      const qk = q[k] as number;
      if (!(qk > 0)) continue;
      const d = derivatives(k);
      const m = d.index.length;
      const wq = weight * qk;
      for (let a = 0; a < m; a++) {
        const ia = d.index[a] as number;
        const sa = d.score[a] as number;
        if (this.touched[ia] === 0) {
          this.touched[ia] = 1;
          list.push(ia);
        }
        this.mean[ia] = (this.mean[ia] as number) + qk * sa;
        for (let b = 0; b < m; b++) {
          const ib = d.index[b] as number;
          const o = ia * p + ib;
          this.hessian[o] = (this.hessian[o] as number) + wq * (d.hessian[a * m + b] as number);
          this.outer[o] = (this.outer[o] as number) + wq * sa * (d.score[b] as number);
        }
      }
    }
    for (const ia of list) {
      const ma = this.mean[ia] as number;
      this.total[ia] = (this.total[ia] as number) + weight * ma;
      for (const ib of list) this.outer[ia * p + ib] = (this.outer[ia * p + ib] as number) - weight * ma * (this.mean[ib] as number);
    }
    for (const ia of list) {
      this.mean[ia] = 0;
      this.touched[ia] = 0;
    }
    list.length = 0;
  }

  /** The sums so far (copies), symmetrized. */
  result(): { expectedCompleteHessian: Float64Array; scoreCovariance: Float64Array; score: Float64Array } {
    const p = this.dim;
    const sym = (a: Float64Array): Float64Array => {
      const out = new Float64Array(p * p);
      for (let i = 0; i < p; i++) {
        for (let j = 0; j <= i; j++) {
          const v = 0.5 * ((a[i * p + j] as number) + (a[j * p + i] as number));
          out[i * p + j] = v;
          out[j * p + i] = v;
        }
      }
      return out;
    };
    return { expectedCompleteHessian: sym(this.hessian), scoreCovariance: sym(this.outer), score: this.total.slice() };
  }
}
