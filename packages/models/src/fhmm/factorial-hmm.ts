/**
 * The factorial hidden Markov model (Ghahramani & Jordan 1997): M independent
 * Markov chains per sequence, chain m with K_m states, and one Gaussian
 * output whose mean is the sum of one vector per chain,
 *
 *   s_1^m ~ π_m,  s_{t+1}^m | s_t^m ~ A_m[s_t^m, ·],  x_t | s_t ~ N(Σ_m b_{m, s_t^m}, C),
 *
 * C a full covariance shared by all joint states. Its latent structure is the
 * `factorial-chain` kind: exact inference on the product chain (Π_m K_m joint
 * states) for small models, structured mean field (one forward–backward per
 * chain, Ghahramani & Jordan §3.5) for any size.
 * @module
 */
import {
  cholesky,
  createRng,
  emError,
  logDetFromCholesky,
  mahalanobisSq,
  parseOptions,
  symmetricEigen,
  inverseFromCholesky,
  type FactorialChainCounts,
  type FactorialChainStructure,
  type MStepContext,
  type MStepResult,
  type Model,
  type OptionSchema,
  type PrepareContext,
  type PreparedData,
  type Rng,
  type Seed,
  type StatsAlgebra,
} from '@emlab/core';
import { readSequences } from '../hmm/hmm-data.js';
import type { HmmData } from '../hmm/hmm-types.js';

/** Parameters of a factorial HMM (plain JSON, probabilities). @category Factorial HMMs */
export interface FactorialHmmParams {
  /** Per chain `[K_m]` p(s_1^m = k). */
  readonly initial: number[][];
  /** Per chain `[K_m][K_m]` p(s_{t+1}^m = j | s_t^m = i) (row = from-state). */
  readonly transition: number[][][];
  /** Per chain `[K_m][D]` b_{m,k}: chain m's contribution to the output mean in state k. */
  readonly means: number[][][];
  /** `[D][D]` the output covariance C (shared). */
  readonly covariance: number[][];
}

/** Sufficient statistics (float64, additive over sequences). @category Factorial HMMs */
export interface FactorialHmmStats {
  /** Per chain `[K_m]` Σ_s w_s q(s_1^m = k). */
  readonly initial: Float64Array[];
  /** Per chain `[K_m × K_m]` expected transition counts. */
  readonly transitions: Float64Array[];
  /** `[ΣK × ΣK]` Σ w E[e_t e_tᵀ] of the stacked state indicators. */
  readonly pairs: Float64Array;
  /** `[ΣK × D]` Σ w E[e_t] x_tᵀ. */
  readonly sx: Float64Array;
  /** `[D × D]` Σ w x_t x_tᵀ. */
  readonly xx: Float64Array;
  /** Σ_s w_s T_s. */
  readonly n: number;
}

/** Prepared data. @category Factorial HMMs */
export interface FactorialHmmPrepared extends PreparedData {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
  readonly lengths: Int32Array;
  readonly weights: Float64Array | undefined;
  /** `[ΣT]` each row's sequence weight. */
  readonly rowWeights: Float64Array;
  readonly xx: Float64Array;
  readonly n: number;
}

/** Options of {@link factorialHmm}. @category Factorial HMMs */
export interface FactorialHmmOptions {
  /** M ≥ 1, the number of chains. */
  readonly nChains: number;
  /** States per chain: one number for all chains or one per chain (each ≥ 1). Default 2. */
  readonly nStates?: number | readonly number[];
  /** Added to the diagonal of C at every M-step (its effect on L is accounted as the M-step's slack). Default 1e-6. */
  readonly regCovar?: number;
}

/** The option table of {@link factorialHmm}. @category Factorial HMMs */
export const FACTORIAL_HMM_OPTIONS = {
  nChains: { type: 'integer', min: 1, required: true, flag: 'chains', description: 'number of independent chains M' },
  nStates: {
    type: 'custom',
    flag: 'states',
    shape: 'an integer ≥ 1 or a list of them (one per chain)',
    default: 2,
    description: 'states per chain K_m',
    check: (v, path) => {
      const ok = (k: unknown): boolean => typeof k === 'number' && Number.isInteger(k) && k >= 1;
      if (ok(v) || (Array.isArray(v) && v.length > 0 && v.every(ok))) return Array.isArray(v) ? [...v] : v;
      throw emError('INVALID_ARGUMENT', path, v, 'must be an integer ≥ 1 or a list of integers ≥ 1', 'pass e.g. nStates: 2 or nStates: [2, 3]');
    },
    parse: (text) => (text.includes(',') ? text.split(',').map(Number) : Number(text)),
  },
  regCovar: { type: 'number', min: 0, default: 1e-6, flag: 'reg-covar', description: 'added to the diagonal of the output covariance at each M-step' },
} as const satisfies OptionSchema;

const LOG_2PI = Math.log(2 * Math.PI);

const plus = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + (b[i] as number));

/** Σ_i c_i log p_i with 0 · log 0 = 0. */
function countLog(c: Float64Array, p: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) if ((c[i] as number) > 0) s += (c[i] as number) * Math.log(p[i] as number);
  return s;
}

/**
 * A factorial HMM (Ghahramani & Jordan 1997) with a full-covariance Gaussian output. Data as for
 * `hiddenMarkovModel` (`{ x, lengths }`, a dense matrix with `lengths`, or rows of one sequence);
 * `fit` weights are per sequence. Missing cells are not supported (`INVALID_DATA`).
 *
 * E-steps (structure kind `factorial-chain`): `exact` (`@emlab/exact`, forward–backward on the
 * product chain of Π K_m joint states; the default) and `mean-field` (`@emlab/variational`, the
 * structured variational approximation, one chain at a time).
 *
 * @example
 * ```ts
 * const model = factorialHmm({ nChains: 3, nStates: 2 });
 * const r = await fit(model, { x, lengths }, { eStep: 'mean-field', seed: 1 });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for bad options, naming the option.
 * @see Ghahramani, Z. & Jordan, M. I. (1997). Factorial hidden Markov models. Machine Learning 29, 245–273.
 * @category Factorial HMMs
 */
export function factorialHmm(options: FactorialHmmOptions): FactorialHmm {
  return new FactorialHmm(options);
}

/** See {@link factorialHmm}. @category Factorial HMMs */
export class FactorialHmm implements Model<HmmData, FactorialHmmParams, FactorialHmmStats, FactorialHmmPrepared> {
  readonly name = 'factorial-hmm';
  readonly structureKind = 'factorial-chain';
  readonly initMethods = ['random'] as const;
  readonly precisions = ['float64'] as const;
  readonly acceptsWeights = true;
  readonly options: Readonly<Record<string, unknown>>;
  /** K_m per chain. */
  readonly nStates: readonly number[];
  readonly nChains: number;
  private readonly regCovar: number;
  /** Offsets of the chains in the stacked indicator vector, and ΣK. */
  private readonly offsets: number[];
  private readonly total: number;
  readonly stats: StatsAlgebra<FactorialHmmStats> = {
    zero: (l) => ({ initial: l.initial.map((a) => new Float64Array(a.length)), transitions: l.transitions.map((a) => new Float64Array(a.length)), pairs: new Float64Array(l.pairs.length), sx: new Float64Array(l.sx.length), xx: new Float64Array(l.xx.length), n: 0 }),
    add: (a, b) => ({ initial: a.initial.map((v, m) => plus(v, b.initial[m] as Float64Array)), transitions: a.transitions.map((v, m) => plus(v, b.transitions[m] as Float64Array)), pairs: plus(a.pairs, b.pairs), sx: plus(a.sx, b.sx), xx: plus(a.xx, b.xx), n: a.n + b.n }),
    scale: (a, c) => ({ initial: a.initial.map((v) => v.map((x) => x * c)), transitions: a.transitions.map((v) => v.map((x) => x * c)), pairs: a.pairs.map((x) => x * c), sx: a.sx.map((x) => x * c), xx: a.xx.map((x) => x * c), n: a.n * c }),
  };

  constructor(options: FactorialHmmOptions) {
    const o = parseOptions(FACTORIAL_HMM_OPTIONS, options, 'factorialHmm');
    this.nChains = o['nChains'] as number;
    const ks = o['nStates'] as number | number[];
    if (Array.isArray(ks) && ks.length !== this.nChains) {
      throw emError('INVALID_ARGUMENT', ['factorialHmm', 'nStates'], ks, `has ${ks.length} entries but nChains = ${this.nChains}`, 'give one number of states per chain, or one number for all');
    }
    this.nStates = Array.isArray(ks) ? ks : Array.from({ length: this.nChains }, () => ks);
    this.regCovar = o['regCovar'] as number;
    this.offsets = [];
    let off = 0;
    for (const k of this.nStates) {
      this.offsets.push(off);
      off += k;
    }
    this.total = off;
    this.options = { nChains: this.nChains, nStates: [...this.nStates], regCovar: this.regCovar };
  }

  private read(data: HmmData): ReturnType<typeof readSequences> {
    const seq = readSequences(data);
    for (let i = 0; i < seq.values.length; i++) {
      if (Number.isNaN(seq.values[i] as number)) {
        throw emError('INVALID_DATA', ['data', 'x', Math.floor(i / seq.cols), i % seq.cols], Number.NaN, 'is missing; the factorial HMM does not model missing cells', 'drop or impute the rows with missing cells, or use hiddenMarkovModel (missing cells are latent there)');
      }
    }
    return seq;
  }

  /** @throws EmError `INVALID_DATA`: shapes, lengths, missing or non-finite cells. */
  validate(data: HmmData): void {
    this.read(data);
  }

  /** @throws EmError `INVALID_PARAMS` naming the field. */
  validateParams(params: unknown, data?: HmmData): asserts params is FactorialHmmParams {
    const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
      throw emError('INVALID_PARAMS', ['params', ...path], value, problem, remedy);
    };
    if (typeof params !== 'object' || params === null) bad([], params, 'must be an object { initial, transition, means, covariance }', 'pass parameters from a FitResult');
    const p = params as Partial<FactorialHmmParams>;
    const dist = (row: unknown, path: (string | number)[], k: number): void => {
      if (!Array.isArray(row) || row.length !== k) bad(path, row, `must have ${k} entries`, `pass ${k} probabilities`);
      let s = 0;
      (row as unknown[]).forEach((v, j) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) bad([...path, j], v, 'must be a probability', 'pass numbers in [0, 1]');
        s += v as number;
      });
      if (!(Math.abs(s - 1) <= 1e-6)) bad(path, s, `sums to ${s}, not 1`, 'normalize the row');
    };
    const m = this.nChains;
    for (const key of ['initial', 'transition', 'means'] as const) {
      if (!Array.isArray(p[key]) || (p[key] as unknown[]).length !== m) bad([key], p[key], `must have one entry per chain (${m})`, `pass ${m} entries`);
    }
    const d = Array.isArray(p.covariance) ? p.covariance.length : 0;
    if (d === 0) bad(['covariance'], p.covariance, 'must be a non-empty square matrix', 'pass the D × D output covariance');
    this.nStates.forEach((k, c) => {
      dist((p.initial as unknown[])[c], ['initial', c], k);
      const a = (p.transition as unknown[])[c];
      if (!Array.isArray(a) || a.length !== k) bad(['transition', c], a, `must have ${k} rows`, `pass a ${k} × ${k} matrix`);
      (a as unknown[]).forEach((row, i) => dist(row, ['transition', c, i], k));
      const b = (p.means as unknown[])[c];
      if (!Array.isArray(b) || b.length !== k) bad(['means', c], b, `must have ${k} rows (one per state)`, `pass ${k} vectors of length ${d}`);
      (b as unknown[]).forEach((row, i) => {
        if (!Array.isArray(row) || row.length !== d || row.some((v) => typeof v !== 'number' || !Number.isFinite(v))) bad(['means', c, i], row, `must be ${d} finite numbers`, 'pass finite numbers, one per output dimension');
      });
    });
    (p.covariance as unknown[]).forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== d || row.some((v) => typeof v !== 'number' || !Number.isFinite(v))) bad(['covariance', i], row, `must be ${d} finite numbers`, 'pass a square matrix of finite numbers');
    });
    const cov = Float64Array.from((p.covariance as number[][]).flat());
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) if (Math.abs((cov[i * d + j] as number) - (cov[j * d + i] as number)) > 1e-9 * Math.max(1, Math.abs(cov[i * d + j] as number))) bad(['covariance', i, j], cov[i * d + j], 'breaks symmetry', 'pass a symmetric covariance');
    if (cholesky(cov, d) === null) bad(['covariance'], p.covariance, 'is not positive definite', 'pass a positive-definite covariance');
    if (data !== undefined) {
      const cols = this.read(data).cols;
      if (cols !== d) bad(['covariance'], d, `is ${d} × ${d} but the data has ${cols} columns`, 'pass parameters fitted to data with the same columns');
    }
  }

  /** @throws EmError `INVALID_ARGUMENT` for weights of the wrong length. */
  prepare(data: HmmData, ctx: PrepareContext = { precisions: ['float64'] }): FactorialHmmPrepared {
    const seq = this.read(data);
    const s = seq.lengths.length;
    const w = ctx.weights;
    if (w !== undefined && w.length !== s) {
      throw emError('INVALID_ARGUMENT', ['options', 'weights'], w, `has ${w.length} entries but the data has ${s} sequence(s)`, 'pass one weight per sequence');
    }
    const d = seq.cols;
    const rowWeights = new Float64Array(seq.rows);
    const xx = new Float64Array(d * d);
    let n = 0;
    let r = 0;
    for (let i = 0; i < s; i++) {
      const ws = w === undefined ? 1 : (w[i] as number);
      for (let t = 0; t < (seq.lengths[i] as number); t++, r++) {
        rowWeights[r] = ws;
        if (ws === 0) continue;
        n += ws;
        for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) xx[a * d + b] = (xx[a * d + b] as number) + ws * (seq.values[r * d + a] as number) * (seq.values[r * d + b] as number);
      }
    }
    return { nRows: seq.rows, totalWeight: n, values: seq.values, rows: seq.rows, cols: d, lengths: seq.lengths, weights: w === undefined ? undefined : Float64Array.from(w), rowWeights, xx, n, dispose() {} };
  }

  /** `random`: b_{m,k} = x̄/M + N(0, diag(var)/M) per coordinate, C = diag(var), π uniform, A_m sticky random rows. */
  init(prepared: FactorialHmmPrepared, method: string, rng: Rng): FactorialHmmParams {
    if (method !== 'random') throw emError('INVALID_ARGUMENT', ['options', 'init'], method, 'is not an init method of the factorial HMM', "use 'random' (or pass parameters)");
    const { values, rows, cols: d } = prepared;
    const mean = new Float64Array(d);
    const variance = new Float64Array(d);
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (values[r * d + j] as number) / rows;
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) variance[j] = (variance[j] as number) + ((values[r * d + j] as number) - (mean[j] as number)) ** 2 / rows;
    for (let j = 0; j < d; j++) if (!((variance[j] as number) > 0)) variance[j] = 1;
    const m = this.nChains;
    const means = this.nStates.map((k) => Array.from({ length: k }, () => Array.from({ length: d }, (_, j) => (mean[j] as number) / m + Math.sqrt((variance[j] as number) / m) * rng.normal())));
    const covariance = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? (variance[i] as number) : 0)));
    const transition = this.nStates.map((k) =>
      Array.from({ length: k }, (_, i) => {
        if (k === 1) return [1];
        const stay = 0.6 + 0.3 * rng.uniform();
        const rest = Array.from({ length: k - 1 }, () => 0.1 + rng.uniform());
        const total = rest.reduce((a, b) => a + b, 0);
        let c = 0;
        return Array.from({ length: k }, (_, j) => (j === i ? stay : ((1 - stay) * (rest[c++] as number)) / total));
      }),
    );
    return { initial: this.nStates.map((k) => Array.from({ length: k }, () => 1 / k)), transition, means, covariance };
  }

  /** The `factorial-chain` structure at `params`. */
  structure(prepared: FactorialHmmPrepared, params: FactorialHmmParams): FactorialChainStructure<FactorialHmmStats> {
    const { values, rows, cols: d } = prepared;
    const ks = this.nStates;
    const mChains = this.nChains;
    const cov = Float64Array.from(params.covariance.flat());
    const L = cholesky(cov, d);
    if (L === null) throw emError('INVALID_PARAMS', ['params', 'covariance'], params.covariance, 'is not positive definite', 'pass a positive-definite covariance');
    const logNorm = -0.5 * (d * LOG_2PI + logDetFromCholesky(L, d));
    const prec = inverseFromCholesky(L, d);
    const b = params.means.map((chain) => chain.map((v) => Float64Array.from(v)));
    // b_{m,k}ᵀ C⁻¹ b_{m,k}, and C⁻¹ b_{m,k}.
    const pb = b.map((chain) => chain.map((v) => {
      const out = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (prec[i * d + j] as number) * (v[j] as number);
        out[i] = s;
      }
      return out;
    }));
    const dot = (a: Float64Array, c: Float64Array): number => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += (a[i] as number) * (c[i] as number);
      return s;
    };
    const quad = b.map((chain, m) => chain.map((v, k) => dot(v, (pb[m] as Float64Array[])[k] as Float64Array)));
    const offsets = this.offsets;
    const total = this.total;
    const y = (r: number): Float64Array => values.subarray(r * d, (r + 1) * d);
    return {
      kind: 'factorial-chain',
      precision: 'float64',
      nStates: ks,
      nSequences: prepared.lengths.length,
      nRows: rows,
      lengths: prepared.lengths,
      ...(prepared.weights === undefined ? {} : { weights: prepared.weights }),
      algebra: this.stats,
      logInitial: params.initial.map((p) => Float64Array.from(p, Math.log)),
      logTransition: params.transition.map((a) => Float64Array.from(a.flat(), Math.log)),
      jointLogEmission() {
        let n = 1;
        for (const k of ks) n *= k;
        const out = new Float64Array(rows * n);
        const mu = new Float64Array(d);
        const digit = new Int32Array(mChains);
        for (let c = 0; c < n; c++) {
          let rest = c;
          for (let l = mChains - 1; l >= 0; l--) {
            digit[l] = rest % (ks[l] as number);
            rest = Math.floor(rest / (ks[l] as number));
          }
          mu.fill(0);
          for (let l = 0; l < mChains; l++) {
            const v = (b[l] as Float64Array[])[digit[l] as number] as Float64Array;
            for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) + (v[j] as number);
          }
          for (let r = 0; r < rows; r++) out[r * n + c] = logNorm - 0.5 * mahalanobisSq(L, d, y(r), mu);
        }
        return out;
      },
      meanFieldLogEmission(m, marginals) {
        const k = ks[m] as number;
        const out = new Float64Array(rows * k);
        const mu = new Float64Array(d);
        const resid = new Float64Array(d);
        for (let r = 0; r < rows; r++) {
          // The other chains' mean contribution and the variance term Σ_l (E[bᵀC⁻¹b] − μ_lᵀC⁻¹μ_l).
          mu.fill(0);
          let spread = 0;
          for (let l = 0; l < mChains; l++) {
            if (l === m) continue;
            const kl = ks[l] as number;
            const q = marginals[l] as Float64Array;
            const ml = new Float64Array(d);
            let e2 = 0;
            for (let j = 0; j < kl; j++) {
              const qj = q[r * kl + j] as number;
              if (qj === 0) continue;
              e2 += qj * ((quad[l] as number[])[j] as number);
              const v = (b[l] as Float64Array[])[j] as Float64Array;
              for (let i = 0; i < d; i++) ml[i] = (ml[i] as number) + qj * (v[i] as number);
            }
            let mPm = 0;
            for (let i = 0; i < d; i++) {
              let s = 0;
              for (let j = 0; j < d; j++) s += (prec[i * d + j] as number) * (ml[j] as number);
              mPm += (ml[i] as number) * s;
              mu[i] = (mu[i] as number) + (ml[i] as number);
            }
            spread += e2 - mPm;
          }
          const yr = y(r);
          for (let j = 0; j < k; j++) {
            const v = (b[m] as Float64Array[])[j] as Float64Array;
            for (let i = 0; i < d; i++) resid[i] = (mu[i] as number) + (v[i] as number);
            out[r * k + j] = logNorm - 0.5 * (mahalanobisSq(L, d, yr, resid) + spread);
          }
        }
        return out;
      },
      stats(counts: FactorialChainCounts): FactorialHmmStats {
        const sx = new Float64Array(total * d);
        counts.marginals.forEach((g, m) => {
          const k = ks[m] as number;
          const off = offsets[m] as number;
          for (let r = 0; r < rows; r++) {
            const yr = y(r);
            for (let j = 0; j < k; j++) {
              const w = g[r * k + j] as number;
              if (w === 0) continue;
              const row = (off + j) * d;
              for (let i = 0; i < d; i++) sx[row + i] = (sx[row + i] as number) + w * (yr[i] as number);
            }
          }
        });
        return {
          initial: counts.initialCounts.map((c) => Float64Array.from(c)),
          transitions: counts.transitionCounts.map((c) => Float64Array.from(c)),
          pairs: Float64Array.from(counts.pairs),
          sx,
          xx: Float64Array.from(prepared.xx),
          n: prepared.n,
        };
      },
    };
  }

  /**
   * π_m and A_m from the counts (a row without counts keeps its old value); the stacked means
   * B = P⁺ S_x (P = Σ E[e eᵀ], singular for M ≥ 2 because each chain's indicators sum to 1; S_x lies
   * in its range, so the pseudo-inverse solves the normal equations exactly); C = (1/n) Σ E[(x − Bᵀe)(x − Bᵀe)ᵀ]
   * + regCovar · I. The regularized C is the exact maximizer of E_q log p − (n·r/2) tr(C⁻¹), so the
   * M-step's slack is (n·r/2) tr(C_old⁻¹).
   */
  mStep(stats: FactorialHmmStats, prev: FactorialHmmParams, _ctx: MStepContext<FactorialHmmPrepared>): MStepResult<FactorialHmmParams> {
    const ks = this.nStates;
    const d = prev.covariance.length;
    const tot = this.total;
    // A positive expected count keeps a positive probability: a denormal count divided by a row total
    // can round to 0, and c · log 0 = −∞ would make the bound −∞ (seen with mean-field posteriors).
    const normalize = (c: Float64Array, old: number[]): number[] => {
      let s = 0;
      for (const v of c) s += v;
      return s > 0 ? Array.from(c, (v) => (v > 0 ? Math.max(v / s, Number.MIN_VALUE) : 0)) : [...old];
    };
    const initial = ks.map((_, m) => normalize(stats.initial[m] as Float64Array, prev.initial[m] as number[]));
    const transition = ks.map((k, m) => Array.from({ length: k }, (_, i) => normalize((stats.transitions[m] as Float64Array).subarray(i * k, (i + 1) * k), (prev.transition[m] as number[][])[i] as number[])));
    // Pseudo-inverse of P by its eigendecomposition (eigenvalues below tot · ε · λ_max are null directions).
    const eig = symmetricEigen(stats.pairs, tot);
    const top = Math.max(0, eig.values[0] as number);
    const floor = top * tot * 1e-12;
    const B = new Float64Array(tot * d);
    for (let e = 0; e < tot; e++) {
      const lambda = eig.values[e] as number;
      if (!(lambda > floor)) continue;
      // v vᵀ S_x / λ
      const proj = new Float64Array(d);
      for (let i = 0; i < tot; i++) {
        const v = eig.vectors[i * tot + e] as number;
        if (v === 0) continue;
        for (let j = 0; j < d; j++) proj[j] = (proj[j] as number) + v * (stats.sx[i * d + j] as number);
      }
      for (let i = 0; i < tot; i++) {
        const v = (eig.vectors[i * tot + e] as number) / lambda;
        for (let j = 0; j < d; j++) B[i * d + j] = (B[i * d + j] as number) + v * (proj[j] as number);
      }
    }
    const means = ks.map((k, m) => Array.from({ length: k }, (_, j) => {
      const row = (this.offsets[m] as number) + j;
      // A state no sequence visits (no mass) keeps its old contribution.
      return (stats.pairs[row * tot + row] as number) > 0 ? Array.from(B.subarray(row * d, (row + 1) * d)) : [...((prev.means[m] as number[][])[j] as number[])];
    }));
    const q = this.residual(stats, means);
    const n = stats.n;
    const covariance = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => 0.5 * ((q[i * d + j] as number) + (q[j * d + i] as number)) / n + (i === j ? this.regCovar : 0)));
    const oldL = cholesky(Float64Array.from(prev.covariance.flat()), d);
    let slack = 0;
    if (this.regCovar > 0 && oldL !== null) {
      const inv = inverseFromCholesky(oldL, d);
      for (let i = 0; i < d; i++) slack += inv[i * d + i] as number;
      slack *= 0.5 * n * this.regCovar;
    }
    return { params: { initial, transition, means, covariance }, boundSlack: slack };
  }

  /** Σ w E[(x − Bᵀe)(x − Bᵀe)ᵀ] = S_xx − Bᵀ S_x − S_xᵀ B + Bᵀ P B, `[D × D]`, for stacked means B. */
  private residual(stats: FactorialHmmStats, means: readonly (readonly (readonly number[])[])[]): Float64Array {
    const tot = this.total;
    const d = stats.xx.length === 0 ? 0 : Math.round(Math.sqrt(stats.xx.length));
    const B = new Float64Array(tot * d);
    means.forEach((chain, m) => chain.forEach((v, j) => B.set(v, ((this.offsets[m] as number) + j) * d)));
    const out = Float64Array.from(stats.xx);
    const PB = new Float64Array(tot * d);
    for (let i = 0; i < tot; i++) {
      for (let j = 0; j < tot; j++) {
        const p = stats.pairs[i * tot + j] as number;
        if (p === 0) continue;
        for (let c = 0; c < d; c++) PB[i * d + c] = (PB[i * d + c] as number) + p * (B[j * d + c] as number);
      }
    }
    for (let a = 0; a < d; a++) {
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let i = 0; i < tot; i++) s += -(B[i * d + a] as number) * (stats.sx[i * d + c] as number) - (stats.sx[i * d + a] as number) * (B[i * d + c] as number) + (B[i * d + a] as number) * (PB[i * d + c] as number);
        out[a * d + c] = (out[a * d + c] as number) + s;
      }
    }
    return out;
  }

  /** E_q log p(x, s | θ) from statistics, every constant included. */
  expectedLogJoint(stats: FactorialHmmStats, params: FactorialHmmParams): number {
    const d = params.covariance.length;
    let v = 0;
    this.nStates.forEach((_k, m) => {
      v += countLog(stats.initial[m] as Float64Array, params.initial[m] as number[]);
      v += countLog(stats.transitions[m] as Float64Array, (params.transition[m] as number[][]).flat());
    });
    const L = cholesky(Float64Array.from(params.covariance.flat()), d);
    if (L === null) return Number.NEGATIVE_INFINITY;
    const prec = inverseFromCholesky(L, d);
    const q = this.residual(stats, params.means);
    let tr = 0;
    for (let i = 0; i < d * d; i++) tr += (prec[i] as number) * (q[i] as number);
    return v - 0.5 * stats.n * (d * LOG_2PI + logDetFromCholesky(L, d)) - 0.5 * tr;
  }

  /**
   * The magnitude the float64 roundoff of `expectedLogJoint` is relative to: its quadratic term is
   * ½ tr(C⁻¹ (S_xx − Bᵀ S_x − S_xᵀ B + Bᵀ P B)), a difference of terms of size ½ tr(C⁻¹ S_xx) and
   * ½ tr(C⁻¹ Bᵀ P B), which can exceed |L| by far when the output mean is far from 0.
   */
  roundoffScale(stats: FactorialHmmStats, params: FactorialHmmParams): number {
    const d = params.covariance.length;
    const L = cholesky(Float64Array.from(params.covariance.flat()), d);
    if (L === null) return 0;
    const prec = inverseFromCholesky(L, d);
    const tot = this.total;
    const B = new Float64Array(tot * d);
    params.means.forEach((chain, m) => chain.forEach((v, j) => B.set(v, ((this.offsets[m] as number) + j) * d)));
    let s = 0;
    for (let a = 0; a < d; a++) {
      for (let c = 0; c < d; c++) {
        let bpb = 0;
        for (let i = 0; i < tot; i++) for (let j = 0; j < tot; j++) bpb += (B[i * d + a] as number) * (stats.pairs[i * tot + j] as number) * (B[j * d + c] as number);
        s += Math.abs((prec[a * d + c] as number) * ((stats.xx[a * d + c] as number) + bpb));
      }
    }
    return 0.5 * s;
  }

  /** Free parameters: Σ_m (K_m − 1) K_m + (K_m − 1) + (ΣK − M + 1) D (the means are identified up to shifts between chains) + D(D + 1)/2. */
  nParameters(params: FactorialHmmParams): number {
    const d = params.covariance.length;
    const chains = this.nStates.reduce((a, k) => a + (k - 1) * (k + 1), 0);
    return chains + (this.total - this.nChains + 1) * d + (d * (d + 1)) / 2;
  }

  /**
   * Sequences drawn from the model: `{ x, states, lengths }` with `states[t]` the M chain states of step t.
   * @throws EmError `INVALID_PARAMS` for bad parameters, `INVALID_ARGUMENT` for bad lengths.
   */
  sample(params: FactorialHmmParams, lengths: number | readonly number[], seed: Seed = 0): { x: number[][]; states: number[][]; lengths: number[] } {
    this.validateParams(params);
    const ls = typeof lengths === 'number' ? [lengths] : [...lengths];
    ls.forEach((len, i) => {
      if (!Number.isInteger(len) || len < 1) throw emError('INVALID_ARGUMENT', ['lengths', i], len, 'must be an integer ≥ 1', 'pass positive sequence lengths');
    });
    const rng = createRng(seed).child('factorial-hmm-sample');
    const d = params.covariance.length;
    const L = cholesky(Float64Array.from(params.covariance.flat()), d) as Float64Array;
    const draw = (p: readonly number[]): number => {
      let u = rng.uniform();
      for (let j = 0; j < p.length; j++) {
        u -= p[j] as number;
        if (u < 0) return j;
      }
      return p.length - 1;
    };
    const x: number[][] = [];
    const states: number[][] = [];
    for (const len of ls) {
      let s = params.initial.map((p) => draw(p));
      for (let t = 0; t < len; t++) {
        if (t > 0) s = s.map((k, m) => draw(((params.transition[m] as number[][])[k] as number[])));
        const z = Array.from({ length: d }, () => rng.normal());
        x.push(Array.from({ length: d }, (_, i) => {
          let v = 0;
          s.forEach((k, m) => (v += ((params.means[m] as number[][])[k] as number[])[i] as number));
          for (let j = 0; j <= i; j++) v += (L[i * d + j] as number) * (z[j] as number);
          return v;
        }));
        states.push([...s]);
      }
    }
    return { x, states, lengths: ls };
  }
}
