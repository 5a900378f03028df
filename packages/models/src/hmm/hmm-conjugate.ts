/**
 * The hidden Markov model's conjugate hook (`Model.conjugate`): variational
 * Bayes over θ (MacKay 1997; Beal 2003, ch. 3) with Dirichlet priors on the
 * initial distribution and on every transition row (over the allowed entries:
 * structural zeros stay zero), and a conjugate prior on the emissions:
 * Dirichlet per state and column for categorical emissions, Gamma(a₀, b₀) per
 * state and column for Poisson rates.
 *
 * q(θ) follows from the expected counts of q(z); the E-step on q(z) runs on
 * the chain with the sub-normalized tables exp(E_q log π), exp(E_q log A) and
 * emission log-potentials E_q(θ) log p(x_t | z_t = k) (categorical:
 * Σ_d ψ(β_kdc) − ψ(Σ_c β_kdc); Poisson: Σ_d x (ψ(a) − log b) − a/b − log x!), so
 * forward–backward on it is the exact VB E-step, and its bound is
 * E_q(z) E_q(θ) log p(x, z | θ) + H(q(z)). Parts of θ the model does not
 * update (`params` letters, `initial: 'fixed'`) stay at the start (a point
 * mass: no KL term). `initial: 'stationary'` has no conjugate prior.
 *
 * @see MacKay, D. J. C. (1997). Ensemble learning for hidden Markov models.
 * @see Beal, M. J. (2003). Variational algorithms for approximate Bayesian inference, ch. 3.
 * @module
 */
import { digamma, emError, logGamma, type ConjugateHooks, type OptionSchema, type StatsAlgebra } from '@emlab/core';
import type { CategoricalEmissionParams, CategoricalEmissionStats, CategoricalPrepared } from './emissions/categorical-emission.js';
import type { PoissonEmissionParams, PoissonEmissionStats, PoissonPrepared } from './emissions/poisson-emission.js';
import { hmmStructure, type HmmPrepared } from './hmm-structure.js';
import type { ChainMasks, InitialMode } from './hmm-transitions.js';
import type { EmissionParamsBase, HmmData, HmmEmission, HmmParams, HmmStats } from './hmm-types.js';

/** The prior options of variational Bayes for an HMM. @category Hidden Markov models */
export const HMM_VB_PRIOR_OPTIONS = {
  initialConcentration: { type: 'number', min: 0, exclusiveMin: true, description: "Dirichlet α of every allowed initial probability; default 1 + the model's initialPseudoCount" },
  transitionConcentration: { type: 'number', min: 0, exclusiveMin: true, description: "Dirichlet α of every allowed transition; default 1 + the model's transitionPseudoCount" },
  emissionConcentration: { type: 'number', min: 0, exclusiveMin: true, default: 1, description: 'categorical emissions: Dirichlet β of every category of every state and column' },
  rateShape: { type: 'number', min: 0, exclusiveMin: true, default: 1, description: 'Poisson emissions: Gamma shape a₀ of every rate' },
  rateRate: { type: 'number', min: 0, exclusiveMin: true, description: 'Poisson emissions: Gamma rate b₀ of every rate; default a₀ / (the column mean) (prior mean = the data mean)' },
} as const satisfies OptionSchema;

/** The prior of the HMM's conjugate hook. @category Hidden Markov models */
export interface HmmVbPrior {
  readonly initialConcentration: number;
  readonly transitionConcentration: number;
  /** Categorical: β. */
  readonly emissionConcentration: number;
  /** Poisson: a₀ and `[D]` b₀ per column. */
  readonly rateShape: number;
  readonly rateRate: Float64Array;
  /** Parts kept at the start (point masses), or null when learned. */
  readonly fixedInitial: number[] | null;
  readonly fixedTransition: number[][] | null;
  readonly fixedEmission: EmissionParamsBase | null;
  /** Emission layout: categories per column (categorical) and the width of a state's row (ΣC, or D for Poisson). */
  readonly sizes: readonly number[];
  readonly width: number;
}

/** q(θ): Dirichlet parameters of π (0 on structural zeros) and of each row of A; the emission's parameters. @category Hidden Markov models */
export interface HmmVbPosterior {
  readonly prior: HmmVbPrior;
  /** `[K]` (null when fixed). */
  readonly initial: Float64Array | null;
  /** `[K × K]` (null when fixed). */
  readonly transition: Float64Array | null;
  /** Categorical: `[K × ΣC]` β'; Poisson: `[K·D]` a' and b'. Null when fixed. */
  readonly emission: { readonly beta?: Float64Array; readonly shape?: Float64Array; readonly rate?: Float64Array } | null;
}

/** E log of Dirichlet-distributed probabilities over groups of `size` entries (−∞ where α' = 0: a structural zero). */
function expectedLogDirichlet(alpha: Float64Array, size: number): Float64Array {
  const out = new Float64Array(alpha.length);
  for (let g = 0; g < alpha.length; g += size) {
    let sum = 0;
    for (let j = 0; j < size; j++) sum += alpha[g + j] as number;
    const psi = digamma(sum);
    for (let j = 0; j < size; j++) {
      const a = alpha[g + j] as number;
      out[g + j] = a > 0 ? digamma(a) - psi : Number.NEGATIVE_INFINITY;
    }
  }
  return out;
}

/** KL(Dir(α') ‖ Dir(α₀ on the allowed entries)) over groups of `size` entries; entries with α' = 0 are structural zeros (left out). */
function dirichletKlMasked(alpha: Float64Array, prior: number, size: number): number {
  let total = 0;
  for (let g = 0; g < alpha.length; g += size) {
    let sum = 0;
    let n = 0;
    for (let j = 0; j < size; j++) {
      const a = alpha[g + j] as number;
      if (a > 0) {
        sum += a;
        n++;
      }
    }
    if (n === 0) continue;
    const psi = digamma(sum);
    let kl = logGamma(sum) - logGamma(n * prior) + n * logGamma(prior);
    for (let j = 0; j < size; j++) {
      const a = alpha[g + j] as number;
      if (a > 0) kl += -logGamma(a) + (a - prior) * (digamma(a) - psi);
    }
    total += kl;
  }
  return total;
}

/** KL(Gamma(a, b) ‖ Gamma(a₀, b₀)), shape–rate. */
export function gammaKl(a: number, b: number, a0: number, b0: number): number {
  return (a - a0) * digamma(a) - logGamma(a) + logGamma(a0) + a0 * (Math.log(b) - Math.log(b0)) + (a * (b0 - b)) / b;
}

const countLog = (c: Float64Array, e: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < c.length; i++) if ((c[i] as number) > 0) s += (c[i] as number) * (e[i] as number);
  return s;
};

/**
 * The HMM's conjugate hook for categorical and Poisson emissions (see the module documentation), or
 * undefined for other emission families (the `vb` method then reports that the model has none).
 * @internal
 */
export function hmmConjugate<P extends EmissionParamsBase, S, PE>(opts: {
  readonly nStates: number;
  readonly emission: HmmEmission<P, S, PE>;
  readonly masks: ChainMasks;
  readonly initialMode: InitialMode;
  readonly update: ReadonlySet<string>;
  readonly emissionUpdate: string;
  readonly initialPseudoCount: number;
  readonly transitionPseudoCount: number;
  readonly algebra: StatsAlgebra<HmmStats<S>>;
}): ConjugateHooks<HmmData, HmmParams<P>, HmmStats<S>, HmmPrepared<PE>, HmmVbPrior, HmmVbPosterior> | undefined {
  const type = opts.emission.type;
  if (type !== 'categorical' && type !== 'poisson') return undefined;
  const k = opts.nStates;
  const { masks } = opts;
  const learnInitial = opts.initialMode === 'free' && opts.update.has('s');
  const learnTransition = opts.update.has('t');
  const learnEmission = opts.emissionUpdate.length > 0;

  /** E_q log π, E_q log A (or the logs of fixed values). */
  const logTables = (post: HmmVbPosterior): { logInitial: Float64Array; logTransition: Float64Array } => ({
    logInitial: post.initial === null ? Float64Array.from(post.prior.fixedInitial as number[], Math.log) : expectedLogDirichlet(post.initial, k),
    logTransition: post.transition === null ? Float64Array.from((post.prior.fixedTransition as number[][]).flat(), Math.log) : expectedLogDirichlet(post.transition, k),
  });

  /** Categorical: `[K × ΣC]` E log B, with the column sizes. Poisson: `[K·D]` E log λ and E λ. */
  const emissionMoments = (post: HmmVbPosterior, width: number, sizes: readonly number[]): { elog: Float64Array; mean?: Float64Array } => {
    if (type === 'categorical') {
      if (post.emission === null) {
        const p = post.prior.fixedEmission as CategoricalEmissionParams;
        return { elog: Float64Array.from(p.probabilities.flat(2), Math.log) };
      }
      const beta = post.emission.beta as Float64Array;
      const elog = new Float64Array(beta.length);
      for (let s = 0; s < k; s++) {
        let o = 0;
        for (const c of sizes) {
          elog.set(expectedLogDirichlet(beta.subarray(s * width + o, s * width + o + c), c), s * width + o);
          o += c;
        }
      }
      return { elog };
    }
    if (post.emission === null) {
      const p = post.prior.fixedEmission as PoissonEmissionParams;
      return { elog: Float64Array.from(p.rates.flat(), Math.log), mean: Float64Array.from(p.rates.flat()) };
    }
    const a = post.emission.shape as Float64Array;
    const b = post.emission.rate as Float64Array;
    return { elog: a.map((v, i) => digamma(v) - Math.log(b[i] as number)), mean: a.map((v, i) => v / (b[i] as number)) };
  };

  const layout = (prepared: HmmPrepared<PE>): { width: number; sizes: number[] } => {
    if (type === 'categorical') {
      const cp = prepared.emission as unknown as CategoricalPrepared;
      return { width: cp.offsets[cp.cols] as number, sizes: Array.from(cp.nCategories) };
    }
    return { width: prepared.x.cols, sizes: [] };
  };

  return {
    priorOptions: HMM_VB_PRIOR_OPTIONS,
    prior(prepared, options, start) {
      if (opts.initialMode === 'stationary') {
        throw emError('INVALID_ARGUMENT', ['options', 'initial'], 'stationary', 'has no conjugate prior (π is a function of A)', "use initial 'free' or 'fixed' for variational Bayes, or fit by EM");
      }
      const { width, sizes } = layout(prepared);
      let rateRate = new Float64Array(0);
      const rateShape = options['rateShape'] as number;
      if (type === 'poisson') {
        const means = (prepared.emission as unknown as PoissonPrepared).means;
        const given = options['rateRate'] as number | undefined;
        rateRate = Float64Array.from(means, (m) => given ?? rateShape / Math.max(m, 1e-3));
      }
      return {
        initialConcentration: (options['initialConcentration'] as number | undefined) ?? 1 + opts.initialPseudoCount,
        transitionConcentration: (options['transitionConcentration'] as number | undefined) ?? 1 + opts.transitionPseudoCount,
        emissionConcentration: options['emissionConcentration'] as number,
        rateShape,
        rateRate,
        fixedInitial: learnInitial ? null : [...start.initial],
        fixedTransition: learnTransition ? null : start.transition.map((r) => [...r]),
        fixedEmission: learnEmission ? null : (JSON.parse(JSON.stringify(start.emission)) as EmissionParamsBase),
        sizes,
        width,
      };
    },
    posterior(stats, prior) {
      const initial = learnInitial ? Float64Array.from(stats.initial, (c, j) => (masks.initial[j] ? c + prior.initialConcentration : 0)) : null;
      const transition = learnTransition ? Float64Array.from(stats.transitions, (c, ij) => (masks.transition[ij] ? c + prior.transitionConcentration : 0)) : null;
      let emission: HmmVbPosterior['emission'] = null;
      if (learnEmission && type === 'categorical') {
        emission = { beta: (stats.emission as unknown as CategoricalEmissionStats).counts.map((c) => c + prior.emissionConcentration) };
      } else if (learnEmission) {
        const e = stats.emission as unknown as PoissonEmissionStats;
        const d = prior.rateRate.length;
        emission = { shape: e.s.map((v) => v + prior.rateShape), rate: e.n.map((v, i) => v + (prior.rateRate[i % d] as number)) };
      }
      return { posterior: { prior, initial, transition, emission } };
    },
    structure(prepared, posterior) {
      const { logInitial, logTransition } = logTables(posterior);
      const { width: w, sizes: cs } = layout(prepared);
      const m = emissionMoments(posterior, w, cs);
      // An emission whose block computes E_q(θ) log p(x_t | k) and whose statistics are the family's own
      // (they do not depend on θ: counts, or sums of x and of observed steps).
      const statsParams = (type === 'categorical'
        ? { type, probabilities: Array.from({ length: k }, () => cs.map((c) => new Array<number>(c).fill(1 / c))) }
        : { type, rates: Array.from({ length: k }, () => new Array<number>(w).fill(1)) }) as unknown as P;
      const vbEmission: HmmEmission<P, S, PE> = {
        ...opts.emission,
        block: (prep, _params, r0, rows) => {
          const real = opts.emission.block(prep, statsParams, r0, rows);
          return {
            logDensity() {
              const out = new Float64Array(rows * k);
              if (type === 'categorical') {
                const { cols, codes, offsets } = prep as unknown as CategoricalPrepared;
                for (let t = 0; t < rows; t++) {
                  for (let d = 0; d < cols; d++) {
                    const c = codes[(r0 + t) * cols + d] as number;
                    if (c < 0) continue;
                    const o = (offsets[d] as number) + c;
                    for (let s = 0; s < k; s++) out[t * k + s] = (out[t * k + s] as number) + (m.elog[s * w + o] as number);
                  }
                }
                return out;
              }
              const { x, logFactorial } = prep as unknown as PoissonPrepared;
              const mean = m.mean as Float64Array;
              for (let t = 0; t < rows; t++) {
                const base = (r0 + t) * w;
                for (let s = 0; s < k; s++) {
                  let v = 0;
                  for (let c = 0; c < w; c++) {
                    const xv = x.values[base + c] as number;
                    if (Number.isNaN(xv)) continue;
                    v += (xv > 0 ? xv * (m.elog[s * w + c] as number) : 0) - (mean[s * w + c] as number) - (logFactorial[base + c] as number);
                  }
                  out[t * k + s] = v;
                }
              }
              return out;
            },
            stats: (weights) => real.stats(weights),
          };
        },
      };
      // The structure takes probabilities: exp of the expected logs (sub-normalized; log(exp(·)) returns them).
      const params = { initial: Array.from(logInitial, Math.exp), transition: Array.from({ length: k }, (_, i) => Array.from(logTransition.subarray(i * k, (i + 1) * k), Math.exp)), emission: {} } as unknown as HmmParams<P>;
      const s = hmmStructure(prepared, params, vbEmission, opts.algebra);
      // Keep the exact expected logs (exp/log round trips lose nothing that matters, but be exact).
      return { ...s, chunks: (o?: { readonly maxRows?: number }) => Array.from(s.chunks(o), (c) => ({ ...c, logInitial, logTransition })) };
    },
    expectedLogJoint(stats, posterior) {
      const { logInitial, logTransition } = logTables(posterior);
      let total = countLog(stats.initial, logInitial) + countLog(stats.transitions, logTransition);
      const m = emissionMoments(posterior, posterior.prior.width, posterior.prior.sizes);
      if (type === 'categorical') return total + countLog((stats.emission as unknown as CategoricalEmissionStats).counts, m.elog);
      const e = stats.emission as unknown as PoissonEmissionStats;
      const mean = m.mean as Float64Array;
      for (let i = 0; i < e.n.length; i++) {
        if ((e.s[i] as number) > 0) total += (e.s[i] as number) * (m.elog[i] as number);
        total -= (e.n[i] as number) * (mean[i] as number);
      }
      return total - e.logFactorial;
    },
    klDivergence(posterior, prior) {
      let kl = 0;
      if (posterior.initial !== null) kl += dirichletKlMasked(posterior.initial, prior.initialConcentration, k);
      if (posterior.transition !== null) kl += dirichletKlMasked(posterior.transition, prior.transitionConcentration, k);
      const e = posterior.emission;
      const { width, sizes } = prior;
      if (e !== null && type === 'categorical') {
        const beta = e.beta as Float64Array;
        for (let s = 0; s < k; s++) {
          let o = 0;
          for (const c of sizes) {
            kl += dirichletKlMasked(beta.subarray(s * width + o, s * width + o + c), prior.emissionConcentration, c);
            o += c;
          }
        }
      } else if (e !== null) {
        const a = e.shape as Float64Array;
        const b = e.rate as Float64Array;
        const d = prior.rateRate.length;
        for (let i = 0; i < a.length; i++) kl += gammaKl(a[i] as number, b[i] as number, prior.rateShape, prior.rateRate[i % d] as number);
      }
      return kl;
    },
    pointEstimate(posterior) {
      const norm = (a: Float64Array): number[] => {
        const s = a.reduce((x, y) => x + y, 0);
        return Array.from(a, (v) => v / s);
      };
      const initial = posterior.initial === null ? [...(posterior.prior.fixedInitial as number[])] : norm(posterior.initial);
      const transition = posterior.transition === null ? (posterior.prior.fixedTransition as number[][]).map((r) => [...r]) : Array.from({ length: k }, (_, i) => norm((posterior.transition as Float64Array).subarray(i * k, (i + 1) * k)));
      let emission: EmissionParamsBase;
      const e = posterior.emission;
      const { width, sizes } = posterior.prior;
      if (e === null) emission = JSON.parse(JSON.stringify(posterior.prior.fixedEmission)) as EmissionParamsBase;
      else if (type === 'categorical') {
        const beta = e.beta as Float64Array;
        emission = {
          type,
          probabilities: Array.from({ length: k }, (_, s) => {
            let o = 0;
            return sizes.map((c) => {
              const row = norm(beta.subarray(s * width + o, s * width + o + c));
              o += c;
              return row;
            });
          }),
        } as CategoricalEmissionParams;
      } else {
        const a = e.shape as Float64Array;
        const b = e.rate as Float64Array;
        emission = { type, rates: Array.from({ length: k }, (_, s) => Array.from({ length: width }, (_, c) => (a[s * width + c] as number) / (b[s * width + c] as number))) } as PoissonEmissionParams;
      }
      return { initial, transition, emission: emission as P };
    },
    // Not the likelihood at the posterior mean (a sequence uses each transition row many times, so
    // E_q Π θ ≠ Π E_q θ), and without a closed form: refuse rather than return a wrong density.
    predictiveLogDensity() {
      throw emError('INVALID_ARGUMENT', ['result', 'report', 'posterior'], 'hmm', 'has no closed-form posterior predictive per sequence (a sequence uses each transition row many times, so it is not the likelihood at the posterior mean)', 'use model.scoreSequences(result.params, data) for the plug-in log-likelihood at the posterior mean, or the ELBO of a vb fit on the new data');
    },
    toJson(posterior) {
      const arr = (a: Float64Array | null | undefined): number[] | null => (a === null || a === undefined ? null : Array.from(a));
      const p = posterior.prior;
      return {
        prior: { initialConcentration: p.initialConcentration, transitionConcentration: p.transitionConcentration, ...(type === 'categorical' ? { emissionConcentration: p.emissionConcentration } : { rateShape: p.rateShape, rateRate: Array.from(p.rateRate) }) },
        initial: arr(posterior.initial),
        transition: arr(posterior.transition),
        emission: posterior.emission === null ? null : type === 'categorical' ? { beta: arr(posterior.emission.beta) } : { shape: arr(posterior.emission.shape), rate: arr(posterior.emission.rate) },
      };
    },
  };
}
