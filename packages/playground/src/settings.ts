/**
 * The playground's settings and their URL form: every setting (data, model, methods, seed,
 * stopping rule, speed, clicked points) is a query parameter, so a view can be shared and
 * reproduced. Reading is strict: a value that is not valid is reported (and the default used),
 * never silently reinterpreted.
 * @module
 */
import type { CovarianceType } from '@emlab/models';

/** Where the data comes from. */
export type DataSource = 'blobs3' | 'overlap2' | 'blobs5d' | 'mix5' | 'generated' | 'csv';

export const DATA_SOURCES: readonly DataSource[] = ['blobs3', 'overlap2', 'blobs5d', 'mix5', 'generated', 'csv'];
export const COVARIANCES: readonly CovarianceType[] = ['full', 'diag', 'spherical', 'tied'];
/** Initializations of either model (the Gaussian mixture has kmeans++ and random, the HMM kmeans and random). */
export const INITS = ['random', 'kmeans++', 'kmeans'] as const;
/** The models: a Gaussian mixture, or a hidden Markov model with Gaussian emissions on a 1-D series. */
export const MODELS = ['gmm', 'hmm'] as const;
export type ModelName = (typeof MODELS)[number];
/** Each model's initializations (as its `initMethods`). */
export const MODEL_INITS: Readonly<Record<ModelName, readonly (typeof INITS)[number][]>> = { gmm: ['kmeans++', 'random'], hmm: ['kmeans', 'random'] };
export const PRECISION_OPTIONS = ['auto', 'float64', 'float32'] as const;
export const BACKEND_OPTIONS = ['wasm', 'cpu'] as const;

/** The methods shown by default (all of those the registry offers appear as choices). */
export const DEFAULT_METHODS: readonly string[] = ['exact', 'hard', 'stochastic', 'tempered', 'sparse', 'incremental', 'vb'];
/** The HMM's default methods: its chain E-steps (forward–backward, Viterbi, forward-filtering backward-sampling). */
export const DEFAULT_HMM_METHODS: readonly string[] = ['exact', 'hard', 'stochastic'];

/** Generated-mixture options. */
export interface GeneratorSettings {
  /** Rows (the series' length for the HMM). */
  readonly n: number;
  /** True clusters (true states for the HMM). */
  readonly clusters: number;
  /** Minimum distance between means in cluster scales (smaller: more overlap). */
  readonly separation: number;
  /** Shape of the true covariances. */
  readonly shape: CovarianceType;
  /** Fraction of cells hidden completely at random (missing entries). */
  readonly missing: number;
  /** Seed of the data (the fit has its own). */
  readonly seed: number;
  /** HMM only: the true self-transition probability (the rest spread evenly). */
  readonly stay: number;
}

/** Everything that determines a view. */
export interface Settings {
  readonly model: ModelName;
  readonly data: DataSource;
  readonly gen: GeneratorSettings;
  /** Points added by clicking (original units, first two columns; 2-D data only). */
  readonly points: readonly (readonly [number, number])[];
  /** Components K. */
  readonly k: number;
  readonly cov: CovarianceType;
  /** Root seed of every fit (same start for every method). */
  readonly seed: number;
  readonly init: (typeof INITS)[number];
  /** Registered method names, in display order. */
  readonly methods: readonly string[];
  readonly maxIter: number;
  /** The convergence tolerance; null = each method's default. */
  readonly tol: number | null;
  readonly precision: (typeof PRECISION_OPTIONS)[number];
  readonly backend: (typeof BACKEND_OPTIONS)[number];
  /** Iterations per second while running (0: as fast as possible). */
  readonly speed: number;
}

export const DEFAULT_SETTINGS: Settings = {
  model: 'gmm',
  data: 'generated',
  gen: { n: 500, clusters: 4, separation: 2, shape: 'full', missing: 0, seed: 1, stay: 0.9 },
  points: [],
  k: 4,
  cov: 'full',
  seed: 0,
  init: 'random',
  methods: DEFAULT_METHODS,
  maxIter: 200,
  tol: null,
  precision: 'auto',
  backend: 'wasm',
  speed: 10,
};

/** A URL parameter that could not be read, and what was used instead. */
export interface SettingProblem {
  readonly param: string;
  readonly value: string;
  readonly message: string;
}

const MAX_POINTS = 2000;

function num(p: URLSearchParams, key: string, def: number, check: (x: number) => boolean, what: string, problems: SettingProblem[]): number {
  const raw = p.get(key);
  if (raw === null) return def;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !check(x)) {
    problems.push({ param: key, value: raw, message: `must be ${what}; using ${def}` });
    return def;
  }
  return x;
}

function oneOf<T extends string>(p: URLSearchParams, key: string, def: T, allowed: readonly T[], problems: SettingProblem[]): T {
  const raw = p.get(key);
  if (raw === null) return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push({ param: key, value: raw, message: `must be one of ${allowed.join(', ')}; using ${def}` });
    return def;
  }
  return raw as T;
}

const int = (lo: number, hi: number) => (x: number): boolean => Number.isSafeInteger(x) && x >= lo && x <= hi;

/** Reads settings from a query string (`location.search`); unknown methods are kept for the page to report. */
export function readSettings(search: string): { settings: Settings; problems: SettingProblem[] } {
  const p = new URLSearchParams(search);
  const problems: SettingProblem[] = [];
  const d = DEFAULT_SETTINGS;
  const gen: GeneratorSettings = {
    n: num(p, 'n', d.gen.n, int(10, 20000), 'an integer from 10 to 20000', problems),
    clusters: num(p, 'clusters', d.gen.clusters, int(1, 12), 'an integer from 1 to 12', problems),
    separation: num(p, 'sep', d.gen.separation, (x) => x >= 0 && x <= 20, 'a number from 0 to 20', problems),
    shape: oneOf(p, 'shape', d.gen.shape, COVARIANCES, problems),
    missing: num(p, 'missing', d.gen.missing, (x) => x >= 0 && x <= 0.5, 'a fraction from 0 to 0.5', problems),
    seed: num(p, 'dseed', d.gen.seed, int(0, 2 ** 31 - 1), 'an integer from 0 to 2^31 - 1', problems),
    stay: num(p, 'stay', d.gen.stay, (x) => x >= 0 && x < 1, 'a probability from 0 to below 1', problems),
  };
  const model = oneOf(p, 'model', d.model, MODELS, problems);
  const points: [number, number][] = [];
  const rawPts = p.get('pts');
  if (rawPts !== null && rawPts !== '') {
    const parts = rawPts.split(';');
    for (const part of parts.slice(0, MAX_POINTS)) {
      const xy = part.split(',').map(Number);
      if (xy.length !== 2 || !xy.every(Number.isFinite)) {
        problems.push({ param: 'pts', value: part, message: 'a point must be x,y with finite numbers; left out' });
        continue;
      }
      points.push([xy[0] as number, xy[1] as number]);
    }
    if (parts.length > MAX_POINTS) problems.push({ param: 'pts', value: `${parts.length} points`, message: `at most ${MAX_POINTS} points; the rest were left out` });
  }
  const rawMethods = p.get('methods');
  const methods = rawMethods === null ? (model === 'hmm' ? DEFAULT_HMM_METHODS : d.methods) : rawMethods.split(',').map((m) => m.trim()).filter((m) => m !== '');
  const rawTol = p.get('tol');
  let tol: number | null = d.tol;
  if (rawTol !== null && rawTol !== 'default') {
    const x = Number(rawTol);
    if (rawTol.trim() === '' || !Number.isFinite(x) || x < 0) problems.push({ param: 'tol', value: rawTol, message: 'must be a number >= 0 or "default"; using each method\'s default' });
    else tol = x;
  }
  // The initialization must be one the model has (the mixture: kmeans++, random; the HMM: kmeans, random).
  let init = oneOf(p, 'init', d.init, INITS, problems);
  const inits = MODEL_INITS[model];
  if (!inits.includes(init)) {
    problems.push({ param: 'init', value: init, message: `is not an initialization of the ${model} model (${inits.join(', ')}); using ${d.init}` });
    init = d.init;
  }
  const settings: Settings = {
    model,
    data: oneOf(p, 'data', d.data, DATA_SOURCES, problems),
    gen,
    points,
    k: num(p, 'k', d.k, int(1, 12), 'an integer from 1 to 12', problems),
    cov: oneOf(p, 'cov', d.cov, COVARIANCES, problems),
    seed: num(p, 'seed', d.seed, int(0, 2 ** 31 - 1), 'an integer from 0 to 2^31 - 1', problems),
    init,
    methods,
    maxIter: num(p, 'maxIter', d.maxIter, int(1, 10000), 'an integer from 1 to 10000', problems),
    tol,
    precision: oneOf(p, 'precision', d.precision, PRECISION_OPTIONS, problems),
    backend: oneOf(p, 'backend', d.backend, BACKEND_OPTIONS, problems),
    speed: num(p, 'speed', d.speed, (x) => x >= 0 && x <= 1000, 'a number of iterations per second from 0 (as fast as possible) to 1000', problems),
  };
  return { settings, problems };
}

const fmt = (x: number): string => String(Math.round(x * 1e6) / 1e6);

/** The query string of settings (every setting, in a fixed order; `readSettings` inverts it). */
export function writeSettings(s: Settings): string {
  const p = new URLSearchParams();
  p.set('model', s.model);
  p.set('data', s.data);
  if (s.data === 'generated') {
    p.set('n', String(s.gen.n));
    p.set('clusters', String(s.gen.clusters));
    p.set('sep', String(s.gen.separation));
    if (s.model === 'gmm') p.set('shape', s.gen.shape);
    else p.set('stay', String(s.gen.stay));
    p.set('missing', String(s.gen.missing));
    p.set('dseed', String(s.gen.seed));
  }
  p.set('k', String(s.k));
  if (s.model === 'gmm') p.set('cov', s.cov);
  p.set('seed', String(s.seed));
  p.set('init', s.init);
  p.set('methods', s.methods.join(','));
  p.set('maxIter', String(s.maxIter));
  p.set('tol', s.tol === null ? 'default' : String(s.tol));
  p.set('precision', s.precision);
  p.set('backend', s.backend);
  p.set('speed', String(s.speed));
  if (s.points.length > 0) p.set('pts', s.points.map(([x, y]) => `${fmt(x)},${fmt(y)}`).join(';'));
  return `?${p.toString()}`;
}
