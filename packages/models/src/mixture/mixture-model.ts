/**
 * General finite mixtures: mixture weights times a product of component
 * families over disjoint columns, as one `finite` model on core's engine, so
 * every finite E-step (exact, hard, stochastic, and any plug-in) and row
 * weights apply to every family. Everything is float64 host code.
 * @module
 */
import { emError, EmError, parseOptions, type DegenerateComponent, type FiniteChunk, type FiniteStructure, type FloatArray, type ModelEvent, type MStepContext, type MStepResult, type Model, type OptionSchema, type PrepareContext, type Rng, type StatsAlgebra, type StructureContext } from '@emlab/core';
import { COVARIANCE_MODELS, type CovarianceModel } from './covariance-models.js';
import { EMPTY_COMPONENT_WEIGHT, type ComponentFamily, type FamilyBlock, type FamilyMStepContext } from './component-family.js';
import { createFamilies, formatFamilyText, parseFamilyText, type FamilyInput } from './family-spec.js';
import type { HierarchicalModel } from './hierarchical-init.js';
import { columnsView, inspectMixtureData, prepareMixtureData, resolveFamilyColumns, toCallerOrder, type MixtureData, type MixturePrepared } from './mixture-data.js';
import { HC_USE, hcLabels, initialResponsibilities, kmeansPlusPlusLabels, type HcUse } from './mixture-init.js';

/**
 * Parameters of a general mixture (plain JSON, original units).
 * @category General mixtures
 */
export interface MixtureParams {
  /** π_k, `[K]`, non-negative, summing to 1. */
  readonly weights: number[];
  /** Each family's parameters for all K components, in the order of the `family` option. */
  readonly families: unknown[];
}

/**
 * Sufficient statistics: the responsibilities' column sums and each family's statistics.
 * @category General mixtures
 */
export interface MixtureStats {
  /** Σ_n w_nk, `[K]`. */
  readonly counts: Float64Array;
  readonly families: unknown[];
}

/** Canonical component orders for results. @category General mixtures */
export type ComponentOrder = 'none' | 'mean' | 'weight';

/** Options of {@link mixtureModel}. @category General mixtures */
export interface MixtureModelOptions {
  /** K ≥ 1. */
  readonly nComponents: number;
  /** The component families (default `'gaussian'` over every column); see {@link FamilyInput}. */
  readonly family?: FamilyInput;
  /** Covariance parameterization of Gaussian and Student-t families that do not set one (default VVV). */
  readonly covariance?: CovarianceModel;
  /** Ridge of Gaussian and Student-t families that do not set one (default 0: maximum likelihood). */
  readonly regCovar?: number;
  /**
   * Canonical order of the components in the result (`fit` applies it to the kept parameters):
   * `'mean'` by E[first modelled column | z = k] increasing, `'weight'` by π_k decreasing, `'none'` (default) as fitted.
   */
  readonly order?: ComponentOrder;
  /** A given partition `[rows]` in the caller's row order: component 0 … K − 1, or −1 (or NaN) for an unlabelled row. Enables init `'labels'` (the default then). */
  readonly initLabels?: ArrayLike<number>;
  /** Criterion of init `'hc'`: `'VVV'` (mclust's default) or `'EII'` (Ward). */
  readonly hcModel?: HierarchicalModel;
  /** Transformation before init `'hc'` (mclust's `hcUse`): `'svd'` (default), `'vars'`, `'std'`. */
  readonly hcUse?: HcUse;
  /** Rows clustered exactly by init `'hc'` (mclust's `subset`, default 2000); above it a seeded subsample. */
  readonly hcMaxRows?: number;
}

/** Option table of {@link mixtureModel} (validation, CLI flags, docs). @category General mixtures */
export const MIXTURE_OPTIONS = {
  nComponents: { type: 'integer', min: 1, required: true, flag: 'components', description: 'number of components K' },
  family: {
    type: 'custom',
    flag: 'family',
    default: 'gaussian',
    shape: "a family name or 'gaussian(x,y):covariance=VEV+poisson(count)+...', a spec { family, columns, ... }, or a list of specs",
    description: 'component families over disjoint columns (a product for mixed-type data)',
    check: (v, path) => {
      if (typeof v === 'string' || (typeof v === 'object' && v !== null)) return v;
      throw emError('INVALID_ARGUMENT', path, v, 'must be a family name, family text, a spec or a list of specs', "pass e.g. 'gaussian' or [{ family: 'poisson', columns: ['count'] }]");
    },
    parse: (text, path) => parseFamilyText(text, path),
  },
  covariance: { type: 'enum', values: COVARIANCE_MODELS, flag: 'covariance', description: "covariance parameterization of Gaussian and Student-t families (mclust's names; default VVV)" },
  regCovar: { type: 'number', min: 0, flag: 'reg-covar', description: 'ridge of Gaussian and Student-t families (default 0: maximum likelihood)' },
  order: { type: 'enum', values: ['none', 'mean', 'weight'], default: 'none', flag: 'order', description: 'canonical component order of the result: by first mean coordinate, by weight, or as fitted' },
  initLabels: {
    type: 'custom',
    flag: 'init-labels',
    shape: 'an array of component labels 0…K−1 (−1 or NaN: unlabelled), one per row (CLI: a column name)',
    description: 'a given partition to start from (the labels init): on the command line a column of the CSV, taken out of the data',
    check: (v, path) => {
      if (typeof v === 'object' && v !== null && typeof (v as ArrayLike<number>).length === 'number') return v;
      if (typeof v === 'string' && v !== '') return v;
      throw emError('INVALID_ARGUMENT', path, v, 'must be an array of labels, one per row', 'pass e.g. initLabels: [0, 0, 1, 2, ...]');
    },
    parse: (text) => text,
  },
  hcModel: { type: 'enum', values: ['VVV', 'EII'], default: 'VVV', flag: 'hc-model', description: "criterion of the hierarchical init (mclust's hc)" },
  hcUse: { type: 'enum', values: HC_USE, default: 'svd', flag: 'hc-use', description: "data transformation before the hierarchical init (mclust's hcUse)" },
  hcMaxRows: { type: 'integer', min: 2, max: 10_000, default: 2000, flag: 'hc-max-rows', description: 'rows clustered exactly by the hierarchical init (a seeded subsample above)' },
} as const satisfies OptionSchema;

/** Options of {@link mclustMixture}: the mixture's, with one Gaussian family over every column. @category General mixtures */
export type MclustMixtureOptions = Omit<MixtureModelOptions, 'family'>;

/** Option table of {@link mclustMixture} (the `mclust` registration). @category General mixtures */
export const MCLUST_OPTIONS = (({ family: _family, covariance, ...rest }) => ({
  ...rest,
  covariance: { ...covariance, default: 'VVV', description: "covariance parameterization (mclust's names: EII … VVV; E and V for one column)" },
}))(MIXTURE_OPTIONS) satisfies OptionSchema;

/** Rows per block of the finite structure. @category General mixtures */
export const MIXTURE_BLOCK_ROWS = 4096;

/**
 * A general finite mixture: p(x) = Σ_k π_k Π_f p_f(x_f | θ_fk).
 *
 * Each family models its own columns (Gaussian with any of mclust's
 * parameterizations, Student-t, Poisson, exponential, Bernoulli,
 * categorical, linear regression, or a plug-in); missing entries are
 * marginalized or latent as the family allows. Row weights are frequency
 * weights. Initializations: `kmeans++` and `random` (as the Gaussian
 * mixture's), `hc` (mclust's model-based hierarchical clustering of the
 * modelled columns) and `labels` (a given partition). Each is followed by
 * one M-step.
 *
 * @example
 * ```ts
 * const mix = mixtureModel({ nComponents: 3, family: 'gaussian(x,y):covariance=VEV+poisson(visits)' });
 * const result = await fit(mix, table, { seed: 0, init: 'hc' });
 * const labels = mix.predict(result.params, table);
 * ```
 * @see McLachlan & Peel (2000), Finite Mixture Models, Wiley.
 * @see Schreiber (2018), pomegranate: fast and flexible probabilistic modeling in python, JMLR 18.
 * @category General mixtures
 */
export class MixtureModel implements Model<MixtureData, MixtureParams, MixtureStats, MixturePrepared> {
  readonly name: string;
  readonly structureKind = 'finite';
  readonly precisions = ['float64'] as const;
  readonly acceptsWeights = true;
  readonly initMethods: readonly string[];
  readonly stats: StatsAlgebra<MixtureStats>;
  readonly nComponents: number;
  readonly families: readonly ComponentFamily[];
  readonly order: ComponentOrder;
  private readonly initLabels: Float64Array | undefined;
  private readonly hc: { model: HierarchicalModel; use: HcUse; maxRows: number };
  private readonly recorded: Readonly<Record<string, unknown>>;

  /**
   * @param defaultInit - the default initialization (`mclust` registers `'hc'`).
   * @throws EmError `INVALID_ARGUMENT` naming the option.
   */
  constructor(options: MixtureModelOptions, name = 'mixture', defaultInit: 'kmeans++' | 'hc' = 'kmeans++') {
    const o = parseOptions(MIXTURE_OPTIONS, options, { owner: 'mixtureModel', pathOf: (k) => ['options', k] });
    this.name = name;
    this.nComponents = o['nComponents'] as number;
    this.families = createFamilies(o['family'] as FamilyInput, {
      ...(o['covariance'] === undefined ? {} : { covariance: o['covariance'] as string }),
      ...(o['regCovar'] === undefined ? {} : { regCovar: o['regCovar'] as number }),
    });
    this.order = o['order'] as ComponentOrder;
    const labels = o['initLabels'] as ArrayLike<number> | string | undefined;
    if (typeof labels === 'string') {
      throw emError('INVALID_ARGUMENT', ['options', 'initLabels'], labels, 'is a column name: the labels themselves are needed here', 'pass one label per row (the command line takes --init-labels COLUMN out of the CSV for you)');
    }
    if (labels !== undefined) {
      this.initLabels = Float64Array.from(labels, (v, i) => {
        if (typeof v !== 'number' || (!Number.isNaN(v) && (!Number.isInteger(v) || v < -1 || v >= this.nComponents))) {
          throw emError('INVALID_ARGUMENT', ['options', 'initLabels', i], v, `must be a component 0 … ${this.nComponents - 1}, or −1/NaN (unlabelled)`, 'pass one label per row');
        }
        return v;
      });
    } else this.initLabels = undefined;
    this.hc = { model: o['hcModel'] as HierarchicalModel, use: o['hcUse'] as HcUse, maxRows: o['hcMaxRows'] as number };
    const rest = defaultInit === 'hc' ? ['hc', 'kmeans++', 'random'] : ['kmeans++', 'hc', 'random'];
    this.initMethods = this.initLabels === undefined ? rest : ['labels', ...rest];
    const families = this.families;
    this.stats = {
      zero: (like) => ({ counts: new Float64Array(like.counts.length), families: like.families.map((s, f) => (families[f] as ComponentFamily).algebra.zero(s)) }),
      add: (a, b) => ({ counts: a.counts.map((v, k) => v + (b.counts[k] as number)), families: a.families.map((s, f) => (families[f] as ComponentFamily).algebra.add(s, b.families[f])) }),
      scale: (a, c) => ({ counts: a.counts.map((v) => v * c), families: a.families.map((s, f) => (families[f] as ComponentFamily).algebra.scale(s, c)) }),
    };
    this.recorded = {
      nComponents: this.nComponents,
      // The family as command-line text when it has one (also valid `family` input), else the specs;
      // mclust's one Gaussian family is its covariance option.
      ...(name === 'mclust' && this.families.length === 1 && this.families[0]?.spec['family'] === 'gaussian'
        ? { covariance: this.families[0].spec['covariance'] ?? 'VVV', ...(this.families[0].spec['regCovar'] === undefined ? {} : { regCovar: this.families[0].spec['regCovar'] }) }
        : { family: formatFamilyText(this.families.map((f) => f.spec)) ?? this.families.map((f) => f.spec) }),
      order: this.order,
      ...(this.initLabels === undefined ? {} : { initLabels: 'given' }),
      hcModel: this.hc.model,
      hcUse: this.hc.use,
      hcMaxRows: this.hc.maxRows,
    };
  }

  get options(): Readonly<Record<string, unknown>> {
    return this.recorded;
  }

  /** @throws EmError `INVALID_DATA` naming the row and column, `INVALID_ARGUMENT` for family columns. */
  validate(data: MixtureData): void {
    const t = inspectMixtureData(data);
    const columns = resolveFamilyColumns(this.families, t.names, t.cols);
    const used = [...new Set(columns.flat())];
    let rows = 0;
    for (let r = 0; r < t.rows; r++) if (used.some((c) => !Number.isNaN(t.at(r * t.cols + c)))) rows++;
    if (rows < this.nComponents) {
      throw emError('INVALID_DATA', ['data'], rows, `has ${rows} rows with an observed modelled entry, fewer than nComponents = ${this.nComponents}`, 'reduce nComponents or pass more rows');
    }
    this.families.forEach((f, i) => f.validate(columnsView(t, columns[i] as number[]), this.nComponents));
    if (this.initLabels !== undefined && this.initLabels.length !== t.rows) {
      throw emError('INVALID_ARGUMENT', ['options', 'initLabels'], this.initLabels.length, `has ${this.initLabels.length} labels but the data has ${t.rows} rows`, 'pass one label per row');
    }
  }

  /** @throws EmError `INVALID_PARAMS` naming the family, field and component. */
  validateParams(params: unknown, data?: MixtureData): asserts params is MixtureParams {
    const K = this.nComponents;
    if (typeof params !== 'object' || params === null) throw emError('INVALID_PARAMS', ['params'], params, 'must be an object { weights, families }', 'pass parameters from a fit result');
    const p = params as Partial<MixtureParams>;
    const w = p.weights;
    if (!Array.isArray(w) || w.length !== K) throw emError('INVALID_PARAMS', ['params', 'weights'], w, `must be an array of nComponents = ${K} numbers`, `pass ${K} weights`);
    let sum = 0;
    w.forEach((v, k) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw emError('INVALID_PARAMS', ['params', 'weights', k], v, 'must be a finite number >= 0', 'pass non-negative weights');
      sum += v;
    });
    if (Math.abs(sum - 1) > 1e-6) throw emError('INVALID_PARAMS', ['params', 'weights'], sum, 'sum to this, not 1 (within 1e-6)', 'normalize the weights');
    if (!Array.isArray(p.families) || p.families.length !== this.families.length) {
      throw emError('INVALID_PARAMS', ['params', 'families'], p.families, `must be an array with one entry per family (${this.families.length})`, 'pass parameters of a fit with the same families');
    }
    let prepared: MixturePrepared | undefined;
    if (data !== undefined) prepared = this.prepare(data);
    this.families.forEach((f, i) => f.validateParams((p.families as unknown[])[i], K, prepared?.prepared[i], ['params', 'families', i]));
  }

  prepare(data: MixtureData, ctx: PrepareContext = { precisions: ['float64'] }): MixturePrepared {
    const t = inspectMixtureData(data);
    const columns = resolveFamilyColumns(this.families, t.names, t.cols);
    return prepareMixtureData(t, this.families, columns, ctx.weights);
  }

  init(prepared: MixturePrepared, method: string, rng: Rng): MixtureParams {
    const K = this.nComponents;
    let labels: Int32Array | undefined;
    if (method === 'kmeans++') labels = kmeansPlusPlusLabels(prepared, K, rng);
    else if (method === 'hc') labels = hcLabels(prepared, K, this.hc.model, this.hc.use, rng, this.hc.maxRows);
    else if (method === 'labels') {
      const given = this.initLabels;
      if (given === undefined) throw emError('INVALID_ARGUMENT', ['options', 'init'], method, 'needs the initLabels option', 'pass initLabels, or another init');
      labels = Int32Array.from({ length: prepared.nRows }, (_, p) => {
        const v = given[prepared.order === undefined ? p : (prepared.order[p] as number)] as number;
        return Number.isNaN(v) ? -1 : v;
      });
    } else if (method !== 'random') {
      throw emError('INVALID_ARGUMENT', ['options', 'init'], method, `is not an initialization method of ${this.name}`, `use ${this.initMethods.map((m) => `'${m}'`).join(', ')} or given parameters`);
    }
    let stats: MixtureStats | undefined;
    for (let start = 0; start < prepared.nRows; start += MIXTURE_BLOCK_ROWS) {
      const rows = Math.min(MIXTURE_BLOCK_ROWS, prepared.nRows - start);
      const w = initialResponsibilities(prepared, K, start, rows, labels, rng.child('random'));
      const part: MixtureStats = { counts: columnSums(w, rows, K), families: this.families.map((f, i) => f.initialStats(prepared.prepared[i], K, start, rows, w)) };
      stats = stats === undefined ? part : this.stats.add(stats, part);
    }
    if (stats === undefined) throw new EmError('INTERNAL', 'no rows to initialize from');
    return this.mStepOf(stats, undefined, prepared, rng.child('reinit')).params;
  }

  structure(prepared: MixturePrepared, params: MixtureParams, _ctx: StructureContext = { precision: 'float64' }): FiniteStructure<MixtureStats> {
    const K = this.nComponents;
    const logWeights = params.weights.map((w) => Math.log(w));
    const structures = this.families.map((f, i) => f.structure(prepared.prepared[i], params.families[i], K));
    const n = prepared.nRows;
    const weights = prepared.weights;
    const chunkAt = (start: number): FiniteChunk<MixtureStats> => {
      const rows = Math.min(MIXTURE_BLOCK_ROWS, n - start);
      const blocks: FamilyBlock<unknown>[] = structures.map((s) => s.block(start, rows));
      const chunk: FiniteChunk<MixtureStats> = {
        rows,
        start,
        ...(weights === undefined ? {} : { weights: weights.subarray(start, start + rows) }),
        logJoint() {
          const out = (blocks[0] as FamilyBlock<unknown>).logDensity();
          for (let f = 1; f < blocks.length; f++) {
            const t = (blocks[f] as FamilyBlock<unknown>).logDensity();
            for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (t[i] as number);
          }
          for (let r = 0; r < rows; r++) for (let k = 0; k < K; k++) out[r * K + k] = (out[r * K + k] as number) + (logWeights[k] as number);
          return out;
        },
        stats: (w) => ({ counts: columnSums(w, rows, K), families: blocks.map((b) => b.stats(w)) }),
      };
      const entropic = blocks.filter((b) => b.latentEntropy !== undefined);
      const sampling = blocks.some((b) => b.sampleStats !== undefined);
      return {
        ...chunk,
        ...(entropic.length === 0
          ? {}
          : {
              latentEntropy: () => {
                const out = (entropic[0] as FamilyBlock<unknown> & { latentEntropy: () => Float64Array }).latentEntropy();
                for (let f = 1; f < entropic.length; f++) {
                  const t = (entropic[f] as FamilyBlock<unknown> & { latentEntropy: () => Float64Array }).latentEntropy();
                  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (t[i] as number);
                }
                return out;
              },
            }),
        ...(sampling ? { sampleStats: (w: FloatArray, rng: Rng) => ({ counts: columnSums(w, rows, K), families: blocks.map((b, f) => (b.sampleStats === undefined ? b.stats(w) : b.sampleStats(w, rng.child('family', f)))) }) } : {}),
      };
    };
    return {
      kind: 'finite',
      precision: 'float64',
      nRows: n,
      nComponents: K,
      algebra: this.stats,
      *chunks() {
        for (let start = 0; start < n; start += MIXTURE_BLOCK_ROWS) yield chunkAt(start);
      },
    };
  }

  mStep(stats: MixtureStats, prev: MixtureParams, ctx: MStepContext<MixturePrepared>): MStepResult<MixtureParams> {
    return this.mStepOf(stats, prev, ctx.prepared, ctx.rng);
  }

  /** The M-step (prev undefined at initialization): weights from counts, each family's M-step, reinitialized components at weight 1/W. */
  private mStepOf(stats: MixtureStats, prev: MixtureParams | undefined, prepared: MixturePrepared, rng: Rng): MStepResult<MixtureParams> {
    const K = this.nComponents;
    const total = stats.counts.reduce((a, b) => a + b, 0);
    const weights = Array.from(stats.counts, (c) => c / total);
    const empty: number[] = [];
    for (let k = 0; k < K; k++) if (!((stats.counts[k] as number) >= EMPTY_COMPONENT_WEIGHT)) empty.push(k);
    const fctx: FamilyMStepContext = { rng, empty, pickRow: (r) => pickRow(prepared, r) };
    const events: ModelEvent[] = [];
    let boundSlack = 0;
    const families = this.families.map((f, i) => {
      const r = f.mStep(stats.families[i], prev?.families[i], prepared.prepared[i], fctx);
      for (const e of r.events ?? []) events.push({ ...e, detail: `${f.name} family: ${e.detail}` });
      boundSlack += r.boundSlack ?? 0;
      return r.params;
    });
    const fresh = new Set(events.filter((e) => e.type === 'reinitialized' && e.component !== undefined).map((e) => e.component as number));
    for (const k of empty) fresh.add(k);
    if (fresh.size > 0) {
      for (const k of fresh) weights[k] = 1 / prepared.totalWeight;
      const s = weights.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) weights[k] = (weights[k] as number) / s;
      for (const k of empty) if (!events.some((e) => e.type === 'reinitialized' && e.component === k)) events.push({ type: 'reinitialized', component: k, detail: `component ${k} was empty; its weight was reset to 1/W` });
    }
    return { params: { weights, families }, events, boundSlack };
  }

  expectedLogJoint(stats: MixtureStats, params: MixtureParams): number {
    let total = 0;
    for (let k = 0; k < this.nComponents; k++) {
      const c = stats.counts[k] as number;
      if (c !== 0) total += c * Math.log(params.weights[k] as number);
    }
    this.families.forEach((f, i) => (total += f.expectedLogJoint(stats.families[i], params.families[i])));
    return total;
  }

  /** log p(x | θ) = Σ_n w_n log Σ_k π_k Π_f p_f(x_n,f | k), float64. */
  logLikelihood(prepared: MixturePrepared, params: MixtureParams): number {
    const K = this.nComponents;
    let total = 0;
    for (const chunk of this.structure(prepared, params).chunks()) {
      const t = chunk.logJoint();
      for (let r = 0; r < chunk.rows; r++) {
        const w = chunk.weights === undefined ? 1 : (chunk.weights[r] as number);
        if (w === 0) continue;
        total += w * logSumExp(t, r * K, K);
      }
    }
    return total;
  }

  /** (K − 1) weights + every family's parameters. */
  nParameters(params: MixtureParams): number {
    return this.nComponents - 1 + this.families.reduce((n, f, i) => n + f.nParameters(params.families[i]), 0);
  }

  iterationCost(prepared: MixturePrepared): number {
    return prepared.nRows * this.nComponents * Math.max(1, prepared.used.columns.length) ** 2;
  }

  degenerate(stats: MixtureStats, params: MixtureParams): readonly DegenerateComponent[] {
    const out: DegenerateComponent[] = [];
    for (let k = 0; k < this.nComponents; k++) if (!((stats.counts[k] as number) >= 1)) out.push({ component: k, reason: `${(stats.counts[k] as number).toExponential(2)} effective rows (fewer than 1)` });
    this.families.forEach((f, i) => out.push(...(f.degenerate?.(stats.families[i], params.families[i]) ?? [])));
    return out;
  }

  summarizeData(prepared: MixturePrepared): Readonly<Record<string, number>> {
    return { nMissing: prepared.nMissingCells, nRowsAllMissing: prepared.allMissingRows.length, nColumns: prepared.used.columns.length };
  }

  /** Σ of the families' `roundoffScale` (ill-conditioned covariances magnify rounding in the bound). */
  roundoffScale(stats: MixtureStats, params: MixtureParams): number {
    return this.families.reduce((s, f, i) => s + (f.roundoffScale?.(stats.families[i], params.families[i]) ?? 0), 0);
  }

  canonicalParams(params: MixtureParams): MixtureParams {
    return this.order === 'none' ? params : orderComponents(this, params, this.order);
  }

  /** Posterior responsibilities `[rows][K]` in the caller's row order (π for a row with nothing modelled observed). @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  predictProba(params: MixtureParams, data: MixtureData): number[][] {
    const K = this.nComponents;
    return this.perRow(params, data, (t, o) => {
      const lse = logSumExp(t, o, K);
      return Array.from({ length: K }, (_, k) => Math.exp((t[o + k] as number) - lse));
    }, () => [...params.weights]);
  }

  /** Most probable component per row (ties: lowest index). */
  predict(params: MixtureParams, data: MixtureData): number[] {
    const K = this.nComponents;
    const top = params.weights.indexOf(Math.max(...params.weights));
    return this.perRow(params, data, (t, o) => {
      let best = 0;
      for (let k = 1; k < K; k++) if ((t[o + k] as number) > (t[o + best] as number)) best = k;
      return best;
    }, () => top);
  }

  /** log p(x_n | θ) per row (0 for a row with nothing modelled observed), float64. */
  scoreSamples(params: MixtureParams, data: MixtureData): Float64Array {
    const K = this.nComponents;
    return Float64Array.from(this.perRow(params, data, (t, o) => logSumExp(t, o, K), () => 0));
  }

  private perRow<T>(params: MixtureParams, data: MixtureData, fn: (table: Float64Array, offset: number) => T, fill: () => T): T[] {
    this.validate(data);
    const prepared = this.prepare(data);
    this.validateParams(params);
    this.families.forEach((f, i) => f.validateParams(params.families[i], this.nComponents, prepared.prepared[i], ['params', 'families', i]));
    const out: T[] = [];
    for (const chunk of this.structure(prepared, params).chunks()) {
      const t = chunk.logJoint() as Float64Array;
      for (let r = 0; r < chunk.rows; r++) out.push(fn(t, r * this.nComponents));
    }
    return toCallerOrder(prepared, out, fill);
  }
}

/**
 * Creates a {@link MixtureModel}.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @category General mixtures
 */
export function mixtureModel(options: MixtureModelOptions): MixtureModel {
  return new MixtureModel(options);
}

/**
 * A Gaussian mixture with one of mclust's 14 covariance parameterizations
 * (`covariance`, default VVV; E and V for one column) over every column:
 * a {@link MixtureModel} with a single Gaussian family, named `mclust`, whose
 * default initialization is mclust's hierarchical clustering (`hc`, VVV
 * criterion on the SVD-transformed data). scikit-learn's `full`, `diag`,
 * `spherical` and `tied` (the `gmm` model) are VVV, VVI, VII and EEE.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * const result = await fit(mclustMixture({ nComponents: 3, covariance: 'VEV' }), rows, { seed: 0 });
 * ```
 * @see Fraley & Raftery (2002), JASA 97; Scrucca, Fop, Murphy & Raftery (2016), mclust 5, The R Journal 8(1).
 * @category General mixtures
 */
export function mclustMixture(options: MclustMixtureOptions): MixtureModel {
  const { covariance, ...rest } = parseOptions(MCLUST_OPTIONS, options, { owner: 'mclustMixture', pathOf: (k) => ['options', k] });
  return new MixtureModel({ ...(rest as unknown as MixtureModelOptions), family: { family: 'gaussian', covariance } }, 'mclust', 'hc');
}

/**
 * Mixture parameters with the components in a canonical order: `'mean'` by
 * E[first modelled column | z = k] increasing, `'weight'` by π_k decreasing
 * (ties keep the fitted order). Leaves the likelihood unchanged.
 * @example
 * ```ts
 * const sorted = orderComponents(mix, result.params, 'weight');
 * ```
 * @category General mixtures
 */
export function orderComponents(model: MixtureModel, params: MixtureParams, by: ComponentOrder): MixtureParams {
  if (by === 'none') return params;
  const K = params.weights.length;
  const key = (k: number): number => (by === 'weight' ? -(params.weights[k] as number) : (model.families[0] as ComponentFamily).componentMean(params.families[0], k));
  const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => key(a) - key(b) || a - b);
  return { weights: order.map((k) => params.weights[k] as number), families: model.families.map((f, i) => f.permute(params.families[i], order)) };
}

function columnSums(w: FloatArray, rows: number, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[j] = (out[j] as number) + (w[r * k + j] as number);
  return out;
}

function logSumExp(t: ArrayLike<number>, o: number, k: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < k; j++) m = Math.max(m, t[o + j] as number);
  if (m === Number.NEGATIVE_INFINITY) return m;
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp((t[o + j] as number) - m);
  return m + Math.log(s);
}

/** A prepared row with positive weight, uniformly. */
function pickRow(prepared: MixturePrepared, rng: Rng): number {
  const w = prepared.weights;
  if (w === undefined) return rng.int(prepared.nRows);
  for (;;) {
    const r = rng.int(prepared.nRows);
    if ((w[r] as number) > 0) return r;
  }
}
