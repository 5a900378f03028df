/**
 * Model selection over covariance parameterizations × numbers of components
 * (mclust's `mclustBIC` / `Mclust`): one fit per cell from a shared
 * initialization (mclust's hierarchical clustering, computed once), the BIC
 * or ICL of each, and the best fit.
 *
 * Sign convention (mclust's): BIC = 2 log L − p log n and
 * ICL = BIC + 2 Σ_n log max_k z_nk, higher is better. scikit-learn's
 * `bic()` (and the `gmm` model's) is −BIC, lower is better.
 * @module
 */
import { CONVERGENCE_POLICIES, createRng, EmError, emError, findEStep, fit, integerOption, numberOption, parseOptions, type ConvergencePolicyName, type FitResult, type OptionSchema, type Seed } from '@emlab/core';
import { COVARIANCE_MODELS, COVARIANCE_MODEL_DESCRIPTORS, isCovarianceModel, type CovarianceModel } from './covariance-models.js';
import type { HierarchicalModel } from './hierarchical-init.js';
import type { FamilySpec } from './family-spec.js';
import { inspectMixtureData, toCallerOrder, type MixtureData } from './mixture-data.js';
import { HC_USE, hcTree, type HcUse } from './mixture-init.js';
import { MixtureModel, type ComponentOrder, type MixtureParams } from './mixture-model.js';

/** The selection criteria. @category Model selection */
export type SelectionCriterion = 'bic' | 'icl';

/** Options of {@link selectModel}. @category Model selection */
export interface SelectModelOptions {
  /** Parameterizations to compare (default: the 14 multivariate ones, or E and V for one column). */
  readonly models?: readonly CovarianceModel[];
  /** Numbers of components (default 1 … 9). */
  readonly components?: readonly number[];
  /** `'bic'` (default) or `'icl'`. */
  readonly criterion?: SelectionCriterion;
  /** Component family: `'gaussian'` (default, mclust) or `'t'` (Student-t with the same parameterizations of its scale matrices). */
  readonly family?: 'gaussian' | 't';
  /** Initialization: `'hc'` (default: mclust's, computed once and cut at each K), `'kmeans++'` or `'random'` (then `nInit` restarts). */
  readonly init?: 'hc' | 'kmeans++' | 'random';
  /** Criterion of the hierarchical clustering (default `'VVV'`, mclust's). */
  readonly hcModel?: HierarchicalModel;
  /** Transformation before it (default `'svd'`, mclust's `hcUse`). */
  readonly hcUse?: HcUse;
  /** Rows it clusters exactly (default 2000, mclust's `subset`). */
  readonly hcMaxRows?: number;
  /** Ridge of the covariance M-steps (default 0: maximum likelihood, as mclust without a prior). */
  readonly regCovar?: number;
  /** Registered finite E-step (default `'exact'`). */
  readonly eStep?: string;
  /** Passes per fit (default 1000). */
  readonly maxIter?: number;
  /** Tolerance of the convergence policy (default 1e-8). */
  readonly tol?: number;
  /** Convergence policy of every fit (default `'aitken'`; `'relative'` with tol 1e-5 is mclust's rule |ΔL| / |L| ≤ tol). */
  readonly convergence?: ConvergencePolicyName;
  /** Restarts per cell for `kmeans++` and `random` (default 1). */
  readonly nInit?: number;
  /** Root seed (default 0). */
  readonly seed?: Seed;
  /** Row weights (frequency weights): n in the BIC is their sum. */
  readonly weights?: ArrayLike<number>;
  /** Canonical component order of the fits (default `'none'`). */
  readonly order?: ComponentOrder;
  /** Called after each fit (progress). */
  readonly onFit?: (row: SelectionRow, done: number, total: number) => void;
  /** Stops between fits (an `ABORTED` error). */
  readonly signal?: AbortSignal;
}

/** The option table of {@link selectModel} (validation, CLI flags). @category Model selection */
export const SELECT_MODEL_OPTIONS = {
  models: {
    type: 'custom',
    flag: 'models',
    shape: 'a list of covariance models (EII, VII, ..., VVV; E, V)',
    description: 'parameterizations to compare (default all 14, or E,V for one column)',
    check: (v, path) => {
      if (!Array.isArray(v) || v.length === 0) throw emError('INVALID_ARGUMENT', path, v, 'must be a non-empty list of covariance models', `pass e.g. ['EII', 'VVV'] (known: ${COVARIANCE_MODELS.join(', ')})`);
      v.forEach((m, i) => {
        if (!isCovarianceModel(m)) throw emError('INVALID_ARGUMENT', [...path, i], m, 'is not a covariance model', `use one of: ${COVARIANCE_MODELS.join(', ')}`);
      });
      if (new Set(v).size !== v.length) throw emError('INVALID_ARGUMENT', path, v, 'names a model twice', 'list every model once');
      return [...(v as CovarianceModel[])];
    },
    parse: (text) => text.split(',').map((s) => s.trim()),
  },
  components: {
    type: 'custom',
    flag: 'components',
    shape: 'a list of numbers of components (CLI: 1:9 or 2,3,5)',
    description: 'numbers of components (default 1:9)',
    check: (v, path) => {
      if (!Array.isArray(v) || v.length === 0) throw emError('INVALID_ARGUMENT', path, v, 'must be a non-empty list of integers >= 1', 'pass e.g. [1, 2, 3]');
      v.forEach((k, i) => integerOption(k, [...path, i], 1));
      return [...new Set(v as number[])].sort((a, b) => a - b);
    },
    parse: (text, path) => parseComponents(text, path),
  },
  criterion: { type: 'enum', values: ['bic', 'icl'], default: 'bic', flag: 'criterion', description: "selection criterion (mclust's sign: higher is better)" },
  family: { type: 'enum', values: ['gaussian', 't'], default: 'gaussian', flag: 'family', description: 'component family' },
  init: { type: 'enum', values: ['hc', 'kmeans++', 'random'], default: 'hc', flag: 'init', description: 'initialization (hc: computed once, cut at each K)' },
  hcModel: { type: 'enum', values: ['VVV', 'EII'], default: 'VVV', flag: 'hc-model', description: 'criterion of the hierarchical clustering' },
  hcUse: { type: 'enum', values: HC_USE, default: 'svd', flag: 'hc-use', description: "transformation before the hierarchical clustering (mclust's hcUse)" },
  hcMaxRows: { type: 'integer', min: 2, max: 10_000, default: 2000, flag: 'hc-max-rows', description: 'rows clustered exactly by the hierarchical clustering' },
  regCovar: { type: 'number', min: 0, default: 0, flag: 'reg-covar', description: 'ridge of the covariance M-steps (0: maximum likelihood)' },
  eStep: { type: 'string', default: 'exact', flag: 'estep', description: 'registered finite E-step' },
  maxIter: { type: 'integer', min: 1, default: 1000, flag: 'max-iter', description: 'passes per fit' },
  tol: { type: 'number', min: 0, default: 1e-8, flag: 'tol', description: 'tolerance of the convergence policy' },
  convergence: { type: 'enum', values: CONVERGENCE_POLICIES, default: 'aitken', flag: 'convergence', description: "convergence policy of every fit ('relative' with tol 1e-5 is mclust's rule)" },
  nInit: { type: 'integer', min: 1, default: 1, flag: 'n-init', description: 'restarts per cell (kmeans++ and random)' },
  seed: { type: 'custom', flag: 'seed', shape: 'a safe integer or a non-empty string', default: 0, description: 'root seed', check: (v) => v, parse: (t) => (Number.isSafeInteger(Number(t)) && t.trim() !== '' ? Number(t) : t) },
  weights: { type: 'custom', shape: 'an array of row weights', description: 'row weights', check: (v) => v },
  order: { type: 'enum', values: ['none', 'mean', 'weight'], default: 'none', flag: 'order', description: 'canonical component order of the fits' },
  onFit: { type: 'custom', shape: 'a function (row, done, total) => void', description: 'progress callback', check: (v, path) => {
    if (typeof v !== 'function') throw emError('INVALID_ARGUMENT', path, v, 'must be a function', 'pass a callback or leave it out');
    return v;
  } },
  signal: { type: 'custom', shape: 'an AbortSignal', description: 'stops between fits', check: (v) => v },
} as const satisfies OptionSchema;

/** `1:9`, `2,3,5`, `4` → sorted distinct integers ≥ 1. @throws EmError `INVALID_ARGUMENT` at `path`. @category Model selection */
export function parseComponents(text: string, path: readonly (string | number)[] = ['--components']): number[] {
  const bad = (): never => {
    throw emError('INVALID_ARGUMENT', path, text, 'is not a range a:b or a comma list of integers >= 1', 'pass e.g. 1:9 or 2,3,5');
  };
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?::\s*(\d+)\s*)?$/.exec(part);
    if (m === null) bad();
    const a = Number((m as RegExpExecArray)[1]);
    const b = (m as RegExpExecArray)[2] === undefined ? a : Number((m as RegExpExecArray)[2]);
    if (a < 1 || b < a || b - a > 1000) bad();
    for (let k = a; k <= b; k++) out.push(k);
  }
  return [...new Set(out)].sort((x, y) => x - y);
}

/**
 * One cell of the selection table.
 * @category Model selection
 */
export interface SelectionRow {
  readonly model: CovarianceModel;
  readonly nComponents: number;
  /** The criterion (mclust's sign: higher is better), or null when the fit failed or ended degenerate. */
  readonly value: number | null;
  readonly bic: number | null;
  readonly icl: number | null;
  readonly logLikelihood: number | null;
  /** Free parameters as mclust counts them (`nMclustParams`). */
  readonly nParameters: number;
  readonly converged: boolean;
  readonly nIter: number;
  /** Why the value is null, or what happened on the way (reinitialized components). */
  readonly note?: string;
}

/**
 * What {@link selectModel} returns.
 * @category Model selection
 */
export interface ModelSelection {
  readonly criterion: SelectionCriterion;
  /** The sign convention, in words. */
  readonly convention: string;
  readonly family: 'gaussian' | 't';
  readonly models: readonly CovarianceModel[];
  readonly components: readonly number[];
  /** Every cell, models within components. */
  readonly rows: readonly SelectionRow[];
  /** The criterion as a `[components × models]` table (null where it failed), like mclust's BIC matrix. */
  readonly table: readonly (readonly (number | null)[])[];
  /** The three best cells, best first. */
  readonly top: readonly SelectionRow[];
  /** The best cell's fit and model object (`predict`, `predictProba`, ...). */
  readonly best: { readonly model: CovarianceModel; readonly nComponents: number; readonly value: number; readonly result: FitResult<MixtureParams>; readonly mixture: MixtureModel };
  /** n in the criterion: the number of rows (the sum of row weights when weighted). */
  readonly n: number;
}

/** What the sign convention says. @category Model selection */
export const SELECTION_CONVENTION = "mclust's convention: BIC = 2 log L − p log n, ICL = BIC + 2 Σ_n log max_k z_nk; higher is better (scikit-learn's bic() is −BIC)";

/**
 * Fits every covariance parameterization × number of components and picks the
 * best by BIC or ICL, as mclust's `Mclust` does.
 *
 * By default the fits start from mclust's initialization: model-based
 * hierarchical clustering (VVV criterion on the SVD-transformed data, on at
 * most 2000 rows), computed once and cut at each K, then EM to the
 * tolerance (aitken, 1e-8 relative). A fit that fails (too few rows, a
 * typed error) or ends degenerate gets a null value with a note, as mclust
 * reports NA. Each fit is `fit` on the `mclust` model, so every registered
 * finite E-step and row weights apply.
 *
 * @param data Rows, or a table with column names; missing entries (NaN) are latent.
 * @returns the criterion table, the three best cells and the best fit.
 * @throws EmError `INVALID_ARGUMENT` naming the option, `INVALID_DATA` for the data, `ABORTED`.
 * @example
 * ```ts
 * const sel = await selectModel(rows, { models: ['EII', 'EEE', 'VVV'], components: [1, 2, 3, 4] });
 * console.log(sel.best.model, sel.best.nComponents, sel.best.value);
 * console.log(formatSelection(sel));
 * ```
 * @see Fraley & Raftery (2002), Model-based clustering, discriminant analysis, and density estimation, JASA 97.
 * @see Biernacki, Celeux & Govaert (2000), ICL, IEEE TPAMI 22(7).
 * @category Model selection
 */
export async function selectModel(data: MixtureData, options: SelectModelOptions = {}): Promise<ModelSelection> {
  const o = parseOptions(SELECT_MODEL_OPTIONS, options, { owner: 'selectModel', pathOf: (k) => ['options', k] });
  const table = inspectMixtureData(data);
  const univariate = table.cols === 1;
  const models = (o['models'] as CovarianceModel[] | undefined) ?? (univariate ? ['E', 'V'] : COVARIANCE_MODELS.filter((m) => !COVARIANCE_MODEL_DESCRIPTORS[m].univariate));
  models.forEach((m, i) => {
    if (COVARIANCE_MODEL_DESCRIPTORS[m].univariate && !univariate) throw emError('INVALID_ARGUMENT', ['options', 'models', i], m, `is univariate but the data has ${table.cols} columns`, 'use the multivariate models (EII … VVV)');
  });
  const components = (o['components'] as number[] | undefined) ?? [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const criterion = o['criterion'] as SelectionCriterion;
  const family = o['family'] as 'gaussian' | 't';
  const init = o['init'] as 'hc' | 'kmeans++' | 'random';
  const seed = o['seed'] as Seed;
  const regCovar = o['regCovar'] as number;
  const order = o['order'] as ComponentOrder;
  const hc = { hcModel: o['hcModel'] as HierarchicalModel, hcUse: o['hcUse'] as HcUse, hcMaxRows: integerOption(o['hcMaxRows'], ['options', 'hcMaxRows'], 2) };
  const weights = o['weights'] as ArrayLike<number> | undefined;
  const signal = o['signal'] as AbortSignal | undefined;
  const onFit = o['onFit'] as SelectModelOptions['onFit'];
  numberOption(o['tol'], ['options', 'tol'], 0);
  // An unknown method fails every cell alike: say so before any work.
  findEStep('finite', o['eStep'] as string, ['options', 'eStep']);
  const familyOf = (model: CovarianceModel): FamilySpec => ({ family, covariance: model, regCovar });

  // One mixture validates the data (and the weights, through fit) before any work.
  const probe = new MixtureModel({ nComponents: 1, family: familyOf(models[0] as CovarianceModel) });
  probe.validate(data);
  const rowWeights = weights === undefined ? undefined : Float64Array.from(weights);
  if (rowWeights !== undefined && rowWeights.length !== table.rows) {
    throw emError('INVALID_ARGUMENT', ['options', 'weights'], rowWeights.length, `has ${rowWeights.length} entries but the data has ${table.rows} rows`, 'pass one weight per row');
  }
  const prepared = probe.prepare(data, { precisions: ['float64'], ...(rowWeights === undefined ? {} : { weights: rowWeights }) });
  const n = prepared.totalWeight;

  // The shared initialization: the hierarchical tree is built once (the largest K's cut holds every smaller one).
  const labelsOf = new Map<number, number[]>();
  if (init === 'hc') {
    const tree = hcTree(prepared, hc.hcModel, hc.hcUse, createRng(seed).child('select', 'hc'), hc.hcMaxRows);
    for (const k of components) if (k <= tree.nClustered) labelsOf.set(k, toCallerOrder(prepared, Array.from(tree.labelsAt(k)), () => -1));
  }

  const rows: SelectionRow[] = [];
  const results = new Map<string, { result: FitResult<MixtureParams>; mixture: MixtureModel }>();
  const total = models.length * components.length;
  for (const k of components) {
    for (const model of models) {
      if (signal?.aborted) throw new EmError('ABORTED', 'model selection was aborted', { path: ['options', 'signal'] });
      const row = await fitCell(model, k);
      rows.push(row);
      onFit?.(row, rows.length, total);
    }
  }

  async function fitCell(model: CovarianceModel, k: number): Promise<SelectionRow> {
    const labels = labelsOf.get(k);
    const base = { model, nComponents: k, converged: false, nIter: 0, logLikelihood: null, bic: null, icl: null, value: null };
    let mixture: MixtureModel;
    let nParameters = 0;
    try {
      mixture = new MixtureModel({ nComponents: k, family: familyOf(model), order, ...hc, ...(labels === undefined ? {} : { initLabels: labels }) }, 'mclust', 'hc');
    } catch (e) {
      if (e instanceof EmError) return { ...base, nParameters, note: e.message };
      throw e;
    }
    let result: FitResult<MixtureParams>;
    try {
      result = await fit(mixture, data, {
        eStep: o['eStep'] as string,
        init: labels === undefined ? (init === 'hc' ? 'kmeans++' : init) : 'labels',
        maxIter: o['maxIter'] as number,
        tol: o['tol'] as number,
        convergence: o['convergence'] as ConvergencePolicyName,
        nInit: labels === undefined ? (o['nInit'] as number) : 1,
        seed,
        ...(rowWeights === undefined ? {} : { weights: rowWeights }),
        ...(signal === undefined ? {} : { signal }),
        onWarning: () => undefined,
      });
    } catch (e) {
      if (e instanceof EmError && e.code !== 'ABORTED' && e.code !== 'INTERNAL') return { ...base, nParameters, note: `${e.code}: ${e.message}` };
      throw e;
    }
    nParameters = mixture.nParameters(result.params);
    const ll = result.logLikelihood;
    const reinit = result.trace.reduce((c, r) => c + r.events.filter((e) => e.type === 'reinitialized').length, 0);
    const common = { ...base, nParameters, converged: result.converged, nIter: result.nIter, logLikelihood: ll };
    if (ll === null || !Number.isFinite(ll) || result.degenerate.length > 0) {
      return { ...common, note: result.degenerate.length > 0 ? `degenerate: ${result.degenerate.map((d) => `component ${d.component}: ${d.reason}`).join('; ')}` : 'no finite log-likelihood' };
    }
    const bic = 2 * ll - nParameters * Math.log(n);
    // ICL: BIC + 2 Σ_n w_n log max_k z_nk (the hard classification's entropy penalty), on the shared prepared rows.
    let s = 0;
    for (const chunk of mixture.structure(prepared, result.params).chunks()) {
      const t = chunk.logJoint();
      for (let r = 0; r < chunk.rows; r++) {
        const w = chunk.weights === undefined ? 1 : (chunk.weights[r] as number);
        if (w === 0) continue;
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < k; j++) m = Math.max(m, t[r * k + j] as number);
        if (m === Number.NEGATIVE_INFINITY) continue;
        let sum = 0;
        for (let j = 0; j < k; j++) sum += Math.exp((t[r * k + j] as number) - m);
        s -= w * Math.log(sum); // log max_k z = max_k t − log Σ_k e^t = −log Σ_k e^{t − max}
      }
    }
    const icl = bic + 2 * s;
    results.set(`${model}/${k}`, { result, mixture });
    const value = criterion === 'bic' ? bic : icl;
    return { ...common, bic, icl, value, ...(reinit > 0 ? { note: `${reinit} component reinitialization(s) during EM` } : {}) };
  }

  const ranked = rows.filter((r) => r.value !== null).sort((a, b) => (b.value as number) - (a.value as number));
  const winner = ranked[0];
  if (winner === undefined) {
    throw emError('INVALID_DATA', ['data'], rows.map((r) => r.note).find((x) => x !== undefined), 'could not be fitted by any of the models and numbers of components', 'try fewer components, regCovar > 0, or other models');
  }
  const kept = results.get(`${winner.model}/${winner.nComponents}`) as { result: FitResult<MixtureParams>; mixture: MixtureModel };
  return {
    criterion,
    convention: SELECTION_CONVENTION,
    family,
    models,
    components,
    rows,
    table: components.map((k) => models.map((m) => rows.find((r) => r.model === m && r.nComponents === k)?.value ?? null)),
    top: ranked.slice(0, 3),
    best: { model: winner.model, nComponents: winner.nComponents, value: winner.value as number, result: kept.result, mixture: kept.mixture },
    n,
  };
}

/**
 * The selection as text: the criterion table (rows K, columns models, like
 * mclust's `summary(mclustBIC(...))`), the top three and the best model.
 * @example
 * ```ts
 * console.log(formatSelection(await selectModel(rows)));
 * ```
 * @category Model selection
 */
export function formatSelection(sel: ModelSelection, digits = 2): string {
  const name = sel.criterion.toUpperCase();
  const cells = sel.table.map((r) => r.map((v) => (v === null ? 'NA' : v.toFixed(digits))));
  const width = Math.max(8, ...cells.flat().map((c) => c.length));
  const lines = [`${name}: ${sel.convention}`, `${'K'.padStart(3)} ${sel.models.map((m) => m.padStart(width)).join(' ')}`];
  cells.forEach((r, i) => lines.push(`${String(sel.components[i]).padStart(3)} ${r.map((c) => c.padStart(width)).join(' ')}`));
  lines.push('', `Top ${name}:`);
  sel.top.forEach((r, i) => lines.push(`  ${i + 1}. ${r.model},${r.nComponents}  ${(r.value as number).toFixed(digits)}${i === 0 ? '' : `  (Δ = ${((r.value as number) - (sel.top[0]?.value as number)).toFixed(digits)})`}`));
  const b = sel.best;
  lines.push('', `Best: ${b.model} with ${b.nComponents} component(s): ${name} ${b.value.toFixed(digits)}, log-likelihood ${(b.result.logLikelihood as number).toFixed(digits)}, n = ${sel.n}, ${sel.rows.find((r) => r.model === b.model && r.nComponents === b.nComponents)?.nParameters} parameters`);
  return `${lines.join('\n')}\n`;
}
