/**
 * Gaussian-mixture emissions: M Gaussian components per state, on the
 * Gaussian mixture's float64 host kernels with K·M components.
 * @module
 */
import { choleskyWithJitter, emError, type FloatArray, type ModelEvent } from '@emlab/core';
import { reinitSource } from '../../gmm/gmm-init.js';
import { gmmExpectedLogJoint, gmmMStep, gmmStatsAlgebra } from '../../gmm/gmm-math.js';
import { COVARIANCE_TYPES, type CovarianceType, type GmmParams, type GmmStats } from '../../gmm/gmm-types.js';
import { validateGmmParams } from '../../gmm/gmm-validate.js';
import type { EmissionBlock, EmissionInit, HmmEmission, ObservationMatrix } from '../hmm-types.js';
import { gaussianBlock, labelStats, prepareGaussian, type GaussianPrepared } from '../internal/gaussian-blocks.js';
import { rebaseErrors } from '../internal/rebase-error.js';
import { covarianceParameterCountOf, gaussianComponentsStep, gaussianDraw, spreadCovariance, kmeansTimeLabels, validateGaussianObservations } from './gaussian-emission.js';

/** Parameters of Gaussian-mixture emissions. @category Hidden Markov models */
export interface GmmEmissionParams {
  readonly type: 'gmm';
  readonly covarianceType: CovarianceType;
  /** `[K][M]` mixing weights of each state's components (each row sums to 1). */
  readonly weights: number[][];
  /** `[K][M][D]`. */
  readonly means: number[][][];
  /** `[K][M][D][D]` (`tied`: one matrix shared by every component of every state). */
  readonly covariances: number[][][][];
}

/** Options of {@link gmmEmission}. @category Hidden Markov models */
export interface GmmEmissionOptions {
  /** M ≥ 1, components per state. Default 2. */
  readonly nMix?: number;
  /** Default `'full'`. */
  readonly covarianceType?: CovarianceType;
  /** Default 1e-6. */
  readonly regCovar?: number;
}

/** Statistics of Gaussian-mixture emissions: the mixture's, with K·M components (state-major). @category Hidden Markov models */
export type GmmEmissionStats = GmmStats;

/**
 * Gaussian-mixture emissions: p(x_t | z_t = k) = Σ_m w_km N(μ_km, Σ_km). The component m_t is a
 * further latent of each step: its conditional r_tkm = p(m | x_t, z_t = k) weights the statistics,
 * and its entropy (with that of missing cells) is the step's latent entropy, so every chain E-step
 * accounts for it through core's block loop. Parameter letters: `w` mixing weights, `m` means,
 * `c` covariances. `tied` shares one covariance across every component of every state.
 * Initialization: `kmeans` (k-means on K clusters, each state's components spread around its
 * cluster mean by half a standard deviation) or `random` (K·M random rows as means).
 *
 * @example
 * ```ts
 * const model = hiddenMarkovModel({ nStates: 2, emission: 'gmm', nMix: 3, covarianceType: 'diag' });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option.
 * @category Hidden Markov models
 */
export function gmmEmission(options: GmmEmissionOptions = {}): HmmEmission<GmmEmissionParams, GmmEmissionStats, GaussianPrepared> {
  const type = options.covarianceType ?? 'full';
  const regCovar = options.regCovar ?? 1e-6;
  const nMix = options.nMix ?? 2;
  if (!COVARIANCE_TYPES.includes(type)) throw emError('INVALID_ARGUMENT', ['options', 'covarianceType'], type, 'is not a covariance type', `use one of ${COVARIANCE_TYPES.join(', ')}`);
  if (!(Number.isFinite(regCovar) && regCovar >= 0)) throw emError('INVALID_ARGUMENT', ['options', 'regCovar'], regCovar, 'must be a finite number >= 0', 'pass e.g. regCovar: 1e-6');
  if (!(Number.isSafeInteger(nMix) && nMix >= 1)) throw emError('INVALID_ARGUMENT', ['options', 'nMix'], nMix, 'must be an integer >= 1', 'pass the number of components per state, e.g. nMix: 2');
  const m = nMix;
  const flat = (p: GmmEmissionParams): GmmParams => ({ covarianceType: p.covarianceType, weights: p.weights.flat(), means: p.means.flat(), covariances: p.covariances.flat() });
  const nested = <T>(a: readonly T[], k: number): T[][] => Array.from({ length: k }, (_, s) => a.slice(s * m, (s + 1) * m));
  return {
    type: 'gmm',
    options: { nMix, covarianceType: type, regCovar },
    letters: 'wmc',
    initMethods: ['kmeans', 'random'],
    stats: gmmStatsAlgebra,
    validate: (x) => validateGaussianObservations(x, 'Gaussian-mixture'),
    prepare: (x) => prepareGaussian(x),
    init(prep, k, method, rng, layout): EmissionInit<GmmEmissionParams> {
      const d = prep.cols;
      const weights = Array.from({ length: k }, () => new Array<number>(m).fill(1 / m));
      const row = (p: number): number[] => Array.from({ length: d }, (_, i) => (prep.gmm.centred[p * d + i] as number) + (prep.gmm.offset[i] as number));
      if (method === 'random') {
        const cov = spreadCovariance(type, prep.gmm.variance, regCovar);
        const means = Array.from({ length: k }, () => Array.from({ length: m }, () => row(rng.int(prep.gmm.nRows))));
        return { params: { type: 'gmm', covarianceType: type, weights, means, covariances: means.map((ms) => ms.map(() => cov.map((r) => [...r]))) } };
      }
      const labels = kmeansTimeLabels(prep, k, rng.child('kmeans'), layout);
      const states = gmmMStep(labelStats(prep, labels, k), type === 'tied' ? 'tied' : 'full', regCovar, rng.child('reinit'), reinitSource(prep.gmm)).params;
      const spread = rng.child('spread');
      const means = states.means.map((mu, s) => {
        const cov = states.covariances[s] as number[][];
        return Array.from({ length: m }, () => mu.map((v, i) => v + 0.5 * Math.sqrt((cov[i] as number[])[i] as number) * spread.normal()));
      });
      const covariances = states.covariances.map((cov) => {
        const structured = type === 'diag' || type === 'spherical' ? spreadCovariance(type, Float64Array.from(cov, (r, i) => (r[i] as number) - regCovar), regCovar) : cov;
        return Array.from({ length: m }, () => structured.map((r) => [...r]));
      });
      return { params: { type: 'gmm', covarianceType: type, weights, means, covariances }, labels };
    },
    block(prep, params, r0, rows): EmissionBlock<GmmStats> {
      const k = params.weights.length;
      const km = k * m;
      const gb = gaussianBlock(prep, flat(params), r0, rows);
      const present = gb.present;
      let resp: Float64Array | undefined;
      let density: Float64Array | undefined;
      /** log p(x_t | k) = LSE_m table, and r_tkm = exp(table − log p). */
      const compute = (): void => {
        const table = gb.table();
        density = new Float64Array(rows * k);
        resp = new Float64Array(rows * km);
        for (let r = 0; r < rows; r++) {
          if (present !== undefined && present[r] === 0) continue; // fully missing: density 0, no component latent
          for (let s = 0; s < k; s++) {
            const o = r * km + s * m;
            let top = Number.NEGATIVE_INFINITY;
            for (let j = 0; j < m; j++) top = Math.max(top, table[o + j] as number);
            if (top === Number.NEGATIVE_INFINITY) {
              density[r * k + s] = top;
              continue;
            }
            let sum = 0;
            for (let j = 0; j < m; j++) sum += resp[o + j] = Math.exp((table[o + j] as number) - top);
            density[r * k + s] = top + Math.log(sum);
            for (let j = 0; j < m; j++) resp[o + j] = (resp[o + j] as number) / sum;
          }
        }
      };
      const respOf = (): Float64Array => {
        if (resp === undefined) compute();
        return resp as Float64Array;
      };
      /** [rows × K·M] w_tk · r_tkm. */
      const spreadWeights = (w: FloatArray): Float64Array => {
        const r = respOf();
        const out = new Float64Array(rows * km);
        for (let t = 0; t < rows; t++) {
          for (let s = 0; s < k; s++) {
            const wt = w[t * k + s] as number;
            if (wt === 0) continue;
            for (let j = 0; j < m; j++) out[t * km + s * m + j] = wt * (r[t * km + s * m + j] as number);
          }
        }
        return out;
      };
      const release = (): void => {
        resp = undefined;
        density = undefined;
      };
      return {
        logDensity: () => {
          if (density === undefined) compute();
          return density as Float64Array;
        },
        stats: (w) => {
          const s = gb.stats(spreadWeights(w));
          release();
          return s;
        },
        latentEntropy: () => {
          const r = respOf();
          const h = gb.anyMissing ? gb.latentEntropy() : undefined;
          const out = new Float64Array(rows * k);
          for (let t = 0; t < rows; t++) {
            if (present !== undefined && present[t] === 0) continue;
            for (let s = 0; s < k; s++) {
              let e = 0;
              for (let j = 0; j < m; j++) {
                const q = r[t * km + s * m + j] as number;
                if (q > 0) e += q * (-Math.log(q) + (h === undefined ? 0 : (h[t * km + s * m + j] as number)));
              }
              out[t * k + s] = e;
            }
          }
          return out;
        },
        sampleStats: (w, rng) => {
          // One component per step and state with weight, drawn from r_tk·; missing cells drawn given it.
          const r = respOf();
          const draws = new Float64Array(rows * km);
          const stream = rng.child('component');
          for (let t = 0; t < rows; t++) {
            if (present !== undefined && present[t] === 0) continue;
            for (let s = 0; s < k; s++) {
              const wt = w[t * k + s] as number;
              if (wt === 0) continue;
              const j = stream.categorical(r.subarray(t * km + s * m, t * km + (s + 1) * m));
              draws[t * km + s * m + j] = wt;
            }
          }
          const st = gb.anyMissing ? gb.sampleStats(draws, rng.child('cells')) : gb.stats(draws);
          release();
          return st;
        },
      };
    },
    mStep(stats, prev, ctx) {
      const k = prev.weights.length;
      const r = gaussianComponentsStep(stats, flat(prev), type, regCovar, ctx.rng, ctx.prepared, ctx.update);
      const events: ModelEvent[] = r.events.map((e) => (e.component === undefined ? e : { ...e, detail: `state ${Math.floor(e.component / m)}, mixture component ${e.component % m}: ${e.detail}` }));
      let weights = prev.weights.map((w) => [...w]);
      if (ctx.update.includes('w')) {
        weights = Array.from({ length: k }, (_, s) => {
          const n = Array.from({ length: m }, (_, j) => stats.n[s * m + j] as number);
          // A reinitialized component restarts with a small share (1/W of the data), as in the mixture.
          for (let j = 0; j < m; j++) if (events.some((e) => e.type === 'reinitialized' && e.component === s * m + j)) n[j] = Math.max(n[j] as number, 1);
          const total = n.reduce((a, b) => a + b, 0);
          return total > 0 ? n.map((v) => v / total) : [...(prev.weights[s] as number[])];
        });
      }
      return {
        params: { type: 'gmm', covarianceType: type, weights, means: nested(r.params.means, k), covariances: nested(r.params.covariances, k) },
        events,
        boundSlack: r.boundSlack,
      };
    },
    expectedLogLikelihood: (stats, params) => gmmExpectedLogJoint(stats, flat(params)),
    nParameters: (params, update) => {
      const k = params.weights.length;
      const d = ((params.means[0] as number[][])[0] as number[]).length;
      return (update.includes('w') ? k * (m - 1) : 0) + (update.includes('m') ? k * m * d : 0) + (update.includes('c') ? covarianceParameterCountOf(type, k * m, d) : 0);
    },
    validateParams(params: unknown, k: number, x?: ObservationMatrix): asserts params is GmmEmissionParams {
      const p = params as Partial<GmmEmissionParams> | null;
      const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
        throw emError('INVALID_PARAMS', ['params', 'emission', ...path], value, problem, remedy);
      };
      if (typeof p !== 'object' || p === null || p.type !== 'gmm') bad(['type'], p?.type, "must be 'gmm' for Gaussian-mixture emissions", 'pass parameters of a Gaussian-mixture-emission HMM');
      const q = p as Partial<GmmEmissionParams>;
      if (q.covarianceType !== type) bad(['covarianceType'], q.covarianceType, `must be '${type}' (the model's covariance type)`, 'pass parameters of a model with the same covariance type');
      for (const field of ['weights', 'means', 'covariances'] as const) {
        const v = q[field];
        if (!Array.isArray(v) || v.length !== k) bad([field], v, `must have one entry per state (K = ${k})`, `pass ${k} entries`);
        (v as unknown[]).forEach((e, s) => {
          if (!Array.isArray(e) || e.length !== m) bad([field, s], e, `must have one entry per mixture component (nMix = ${m})`, `pass ${m} entries`);
        });
      }
      (q.weights as number[][]).forEach((w, s) => {
        let sum = 0;
        w.forEach((v, j) => {
          if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(['weights', s, j], v, 'must be a finite number >= 0', 'pass mixing weights in [0, 1]');
          sum += v;
        });
        if (Math.abs(sum - 1) > 1e-9) bad(['weights', s], sum, 'sum to this, not 1 (within 1e-9)', "normalize each state's mixing weights");
      });
      rebaseErrors('params', ['params', 'emission'], () => validateGmmParams({ covarianceType: type, weights: Array.from({ length: k * m }, () => 1 / (k * m)), means: (q.means as number[][][]).flat(), covariances: (q.covariances as number[][][][]).flat() }, k * m, x?.cols, type));
    },
    sample(params, state, rng) {
      const j = rng.categorical(params.weights[state] as number[]);
      const cov = (params.covariances[state] as number[][][])[j] as number[][];
      return gaussianDraw((params.means[state] as number[][])[j] as number[], choleskyWithJitter(Float64Array.from(cov.flat()), cov.length, { maxJitter: 0 }).L, rng);
    },
  };
}
