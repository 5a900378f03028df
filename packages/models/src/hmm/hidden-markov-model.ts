/**
 * The hidden Markov model: a thin binding of the chain maths
 * (`hmm-transitions.ts`), an emission family (`emissions/`), the `chain`
 * structure (`hmm-structure.ts`) and the prediction API to core's `Model`.
 * @module
 */
import {
  CHAIN_ROW_SUM_TOLERANCE,
  createRng,
  emError,
  forwardBackward,
  parseOptions,
  viterbi,
  type ChainBatch,
  type ConjugateHooks,
  type DegenerateComponent,
  type MStepContext,
  type MStepResult,
  type Model,
  type ModelShardHooks,
  type ModelEvent,
  type OptionSchema,
  type PrepareContext,
  type Rng,
  type Seed,
  type StatsAlgebra,
} from '@emlab/core';
import { COVARIANCE_TYPES, type CovarianceType } from '../gmm/gmm-types.js';
import { categoricalEmission } from './emissions/categorical-emission.js';
import { gaussianEmission } from './emissions/gaussian-emission.js';
import { gmmEmission } from './emissions/gmm-emission.js';
import { poissonEmission } from './emissions/poisson-emission.js';
import { HMM_BLOCK_ROWS, readSequences, sequenceBlocks, type SequenceData } from './hmm-data.js';
import { hmmShardHooks } from './hmm-shard.js';
import { hmmConjugate, type HmmVbPosterior, type HmmVbPrior } from './hmm-conjugate.js';
import { hmmStatsAlgebra, hmmStructure, type HmmPrepared } from './hmm-structure.js';
import {
  chainMasks,
  dirichletLogDensity,
  dirichletMode,
  freeProbabilities,
  stationaryDistribution,
  stationaryTransitionStep,
  transitionMode,
  uniformSimplexDraw,
  weightedLogSum,
  type ChainMasks,
  type InitialMode,
  type Topology,
} from './hmm-transitions.js';
import type { EmissionParamsBase, HmmData, HmmEmission, HmmParams, HmmStats, ObservationMatrix } from './hmm-types.js';

/** The built-in emission families. @category Hidden Markov models */
export const HMM_EMISSIONS = ['gaussian', 'gmm', 'poisson', 'categorical'] as const;

/** A built-in emission family's name. @category Hidden Markov models */
export type HmmEmissionName = (typeof HMM_EMISSIONS)[number];

/** Options of {@link hiddenMarkovModel}. @category Hidden Markov models */
export interface HiddenMarkovModelOptions {
  /** K ≥ 1, the number of hidden states. */
  readonly nStates: number;
  /** A built-in family or a user emission object (see `HmmEmission`). Default `'gaussian'`. */
  readonly emission?: HmmEmissionName | HmmEmission<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Gaussian and Gaussian-mixture emissions. Default `'full'`. */
  readonly covarianceType?: CovarianceType;
  /** Gaussian and Gaussian-mixture emissions: added to covariance diagonals. Default 1e-6. */
  readonly regCovar?: number;
  /** Gaussian-mixture emissions: components per state. Default 2. */
  readonly nMix?: number;
  /** Categorical emissions: categories per column (one for all, or one per column). Default: inferred from the data. */
  readonly nCategories?: readonly number[];
  /** Categorical emissions: category labels per column (kept in the parameters). */
  readonly categories?: readonly (readonly string[])[];
  /** `'free'` (estimated, default), `'fixed'` (kept at `initialProbs`, uniform by default) or `'stationary'` (the stationary distribution of the transition matrix). */
  readonly initial?: InitialMode;
  /** `'ergodic'` (default) or `'left-right'` (state i moves to i or i + 1; sequences start in state 0). */
  readonly topology?: Topology;
  /** `[K]` starting (or, with `initial: 'fixed'`, fixed) initial probabilities; zeros are structural and stay 0. */
  readonly initialProbs?: readonly number[];
  /** `[K][K]` starting transition matrix; zeros are structural and stay 0. */
  readonly transitionMatrix?: readonly (readonly number[])[];
  /** Dirichlet pseudo-count added to every allowed initial probability's expected count (MAP). Default 0. */
  readonly initialPseudoCount?: number;
  /** Dirichlet pseudo-count added to every allowed transition's expected count (MAP). Default 0. */
  readonly transitionPseudoCount?: number;
  /**
   * k-means initialization clusters observations averaged over a centred window of this many steps
   * (within each sequence), so that labels follow runs of a state when single observations say little
   * about it (a loaded die among fair rolls). Default 1 (single observations).
   */
  readonly initWindow?: number;
  /** Parameters the M-step updates (hmmlearn's `params`): `s` initial, `t` transitions, the emission's letters (`m` means, `c` covariances, `w` mixing weights, `l` Poisson rates), `e` every emission parameter. Default `'ste'`. */
  readonly params?: string;
  /** Parameters the init method sets (hmmlearn's `init_params`); the others come from `initialProbs`, `transitionMatrix` (uniform without them) and `emissionParams`. Default `'ste'`. */
  readonly initParams?: string;
  /** Emission parameters to start from when `initParams` leaves the emission out. */
  readonly emissionParams?: EmissionParamsBase;
  /**
   * Time steps per E-step block of whole sequences (a longer sequence is a block of its own): bounds the
   * E-step's memory, and is the unit a sharded fit (`fit`'s `workers`) spreads over workers. Results
   * depend on it only through the order of float64 additions. Default {@link HMM_BLOCK_ROWS}.
   */
  readonly blockRows?: number;
}

const numberMatrix = (v: unknown, path: readonly (string | number)[]): number[][] => {
  if (!Array.isArray(v) || v.length === 0 || v.some((row) => !Array.isArray(row) || row.some((x) => typeof x !== 'number' || !Number.isFinite(x)))) {
    throw emError('INVALID_ARGUMENT', path, v, 'must be a matrix of finite numbers', 'pass rows of numbers, e.g. [[0.9, 0.1], [0.2, 0.8]] (CLI: 0.9,0.1;0.2,0.8)');
  }
  return (v as number[][]).map((row) => [...row]);
};

const isEmissionObject = (v: unknown): v is HmmEmission => typeof v === 'object' && v !== null && ['block', 'mStep', 'init', 'prepare', 'validate', 'expectedLogLikelihood', 'nParameters', 'validateParams', 'sample'].every((f) => typeof (v as Record<string, unknown>)[f] === 'function');

/** The option table of {@link hiddenMarkovModel} (validation, CLI flags, docs). @category Hidden Markov models */
export const HIDDEN_MARKOV_MODEL_OPTIONS = {
  nStates: { type: 'integer', min: 1, required: true, flag: 'states', description: 'number of hidden states K' },
  emission: {
    type: 'custom',
    flag: 'emission',
    default: 'gaussian',
    shape: `one of ${HMM_EMISSIONS.join(', ')}, or an emission object`,
    description: 'emission family: gaussian, gmm (Gaussian mixture per state), poisson, categorical',
    check: (v, path) => {
      if ((typeof v === 'string' && (HMM_EMISSIONS as readonly string[]).includes(v)) || isEmissionObject(v)) return v;
      throw emError('INVALID_ARGUMENT', path, v, `must be one of ${HMM_EMISSIONS.join(', ')} or an HmmEmission object`, 'pass e.g. emission: "gaussian" (CLI --emission gaussian)');
    },
    parse: (text, path) => {
      if ((HMM_EMISSIONS as readonly string[]).includes(text)) return text;
      throw emError('INVALID_ARGUMENT', path, text, `is not an emission family (${HMM_EMISSIONS.join(', ')})`, `pass one of ${HMM_EMISSIONS.join(', ')}`);
    },
  },
  covarianceType: { type: 'enum', values: COVARIANCE_TYPES, default: 'full', flag: 'covariance', description: 'covariance structure of Gaussian and Gaussian-mixture emissions' },
  regCovar: { type: 'number', min: 0, default: 1e-6, flag: 'reg-covar', description: 'added to covariance diagonals (original units²)' },
  nMix: { type: 'integer', min: 1, default: 2, flag: 'mix', description: 'Gaussian components per state (emission gmm)' },
  nCategories: {
    type: 'custom',
    flag: 'n-categories',
    shape: 'a list of integers >= 1',
    description: 'categories per column (emission categorical; default: inferred from the data)',
    check: (v, path) => {
      if (Array.isArray(v) && v.length > 0 && v.every((c) => Number.isSafeInteger(c) && (c as number) >= 1)) return [...(v as number[])];
      throw emError('INVALID_ARGUMENT', path, v, 'must be a non-empty list of integers >= 1', 'pass e.g. [6] (CLI --n-categories 6)');
    },
    parse: (text) => text.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s))),
  },
  categories: {
    type: 'custom',
    shape: 'a list of label lists',
    description: 'category labels per column (emission categorical; the CSV reader sets them)',
    check: (v, path) => {
      if (Array.isArray(v) && v.every((c) => Array.isArray(c) && c.length > 0 && c.every((l) => typeof l === 'string'))) return (v as string[][]).map((c) => [...c]);
      throw emError('INVALID_ARGUMENT', path, v, 'must be a list of non-empty label lists', 'pass e.g. [["1", "2", "3", "4", "5", "6"]]');
    },
  },
  initial: { type: 'enum', values: ['free', 'fixed', 'stationary'], default: 'free', flag: 'initial', description: 'initial distribution: free (estimated), fixed, or stationary (of the transition matrix)' },
  topology: { type: 'enum', values: ['ergodic', 'left-right'], default: 'ergodic', flag: 'topology', description: 'transition structure: ergodic, or left-right (i → i or i + 1, start in state 0)' },
  initialProbs: { type: 'number-list', min: 0, flag: 'initial-probs', description: 'starting (or fixed) initial probabilities; zeros stay 0' },
  transitionMatrix: {
    type: 'custom',
    flag: 'transition-matrix',
    shape: 'a K×K matrix of probabilities',
    description: 'starting transition matrix; zeros stay 0 (CLI: rows separated by ;)',
    check: (v, path) => numberMatrix(v, path),
    parse: (text, path) => numberMatrix(text.split(';').map((row) => row.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)))), path),
  },
  initialPseudoCount: { type: 'number', min: 0, default: 0, flag: 'initial-pseudo-count', description: 'Dirichlet pseudo-count on the initial probabilities (MAP); 0 is maximum likelihood' },
  transitionPseudoCount: { type: 'number', min: 0, default: 0, flag: 'transition-pseudo-count', description: 'Dirichlet pseudo-count on every allowed transition (MAP); 0 is maximum likelihood' },
  initWindow: { type: 'integer', min: 1, default: 1, flag: 'init-window', description: 'k-means init on observations averaged over a centred window of this many steps (1: single observations)' },
  params: { type: 'string', default: 'ste', flag: 'params', description: 'parameters to update: s initial, t transitions, e emission (or its letters: m means, c covariances, w mixing weights, l rates)' },
  initParams: { type: 'string', default: 'ste', flag: 'init-sets', description: 'parameters the init method sets; the others start from initialProbs, transitionMatrix, emissionParams' },
  blockRows: { type: 'integer', min: 1, default: HMM_BLOCK_ROWS, flag: 'block-rows', description: 'time steps per E-step block of whole sequences (memory bound; the unit --workers spreads)' },
  emissionParams: {
    type: 'custom',
    shape: 'emission parameters (with their type)',
    description: 'emission parameters to start from when initParams leaves the emission out (API)',
    check: (v, path) => {
      if (typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string') return v;
      throw emError('INVALID_ARGUMENT', path, v, 'must be emission parameters with a type', 'pass e.g. the emission of a fitted model: result.params.emission');
    },
  },
} as const satisfies OptionSchema;

/** Expected occupancy below which a state counts as never visited. @category Hidden Markov models */
export const EMPTY_STATE_OCCUPANCY = 1e-8;

/** Letters of `params` / `initParams` → the set they name (`e` expands to the emission's letters). */
function letterSet(text: string, emissionLetters: string, option: string): Set<string> {
  const allowed = new Set(['s', 't', 'e', ...emissionLetters]);
  const out = new Set<string>();
  for (const ch of text) {
    if (!allowed.has(ch)) {
      throw emError('INVALID_ARGUMENT', ['options', option], text, `contains "${ch}", not a parameter letter of this model (s, t, e${emissionLetters === 'e' ? '' : `, ${[...emissionLetters].join(', ')}`})`, "use s (initial), t (transitions) and e (every emission parameter) or the emission's letters, e.g. 'ste'");
    }
    if (ch === 'e') for (const l of emissionLetters) out.add(l);
    else out.add(ch);
  }
  return out;
}

/** A probability vector option: length K, entries ≥ 0 summing to 1 (within 1e-6), normalized. */
function probabilityOption(p: readonly number[], k: number, path: (string | number)[]): number[] {
  if (p.length !== k) throw emError('INVALID_ARGUMENT', path, p, `has ${p.length} entries, expected nStates = ${k}`, `pass ${k} probabilities`);
  const sum = p.reduce((a, b) => a + b, 0);
  if (!(Math.abs(sum - 1) <= 1e-6)) throw emError('INVALID_ARGUMENT', path, sum, `probabilities sum to ${sum}, not 1 (within 1e-6)`, 'normalize them');
  return p.map((v) => v / sum);
}

/**
 * A hidden Markov model with Gaussian, Gaussian-mixture, Poisson, categorical or user emissions.
 *
 * Many sequences (`{ x, lengths }`), sequence weights (`fit`'s `weights`, one per sequence: a
 * weight of 2 is the sequence twice), missing cells (NaN; a fully missing step contributes only
 * through the transitions, a partly missing Gaussian vector through its observed part), structural
 * zeros (left-to-right topologies), MAP with Dirichlet pseudo-counts, frozen parameters
 * (`params`/`initParams`), k-means or random initialization. Its structure kind is `chain`: fit it
 * with any registered chain E-step (`exact` forward–backward, `hard` Viterbi, `stochastic` FFBS).
 * Kernels are float64 on the host (no tensors).
 *
 * @example
 * ```ts
 * import { fit } from '@emlab/core';
 * import '@emlab/exact';
 * const hmm = hiddenMarkovModel({ nStates: 3, emission: 'gaussian', covarianceType: 'diag' });
 * const result = await fit(hmm, { x: rows, lengths: [500, 700] }, { seed: 1, nInit: 5 });
 * const path = hmm.predict(result.params, { x: rows, lengths: [500, 700] });
 * ```
 * @see Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech recognition.
 * @category Hidden Markov models
 */
export class HiddenMarkovModel<P extends EmissionParamsBase = EmissionParamsBase, S = unknown, PE = unknown> implements Model<HmmData, HmmParams<P>, HmmStats<S>, HmmPrepared<PE>> {
  readonly name = 'hmm';
  readonly structureKind = 'chain';
  readonly precisions = ['float64'] as const;
  readonly acceptsWeights = true;
  readonly nStates: number;
  readonly emission: HmmEmission<P, S, PE>;
  readonly stats: StatsAlgebra<HmmStats<S>>;
  readonly initMethods: readonly string[];
  readonly masks: ChainMasks;
  readonly initialMode: InitialMode;
  readonly topology: Topology;
  /** Letters the M-step updates (expanded) and the emission's share of them. */
  readonly update: ReadonlySet<string>;
  readonly emissionUpdate: string;
  /** MAP: log p(θ) of the Dirichlet priors (absent for maximum likelihood). */
  readonly logPrior?: (params: HmmParams<P>) => number;
  /**
   * Variational Bayes over θ (the `vb` method) for categorical and Poisson emissions: Dirichlet priors
   * on π and the rows of A, Dirichlet (categorical) or Gamma (Poisson) emission priors; see
   * `hmm-conjugate.ts`. Undefined for other emission families.
   */
  readonly conjugate?: ConjugateHooks<HmmData, HmmParams<P>, HmmStats<S>, HmmPrepared<PE>, HmmVbPrior, HmmVbPosterior>;
  private readonly o: Record<string, unknown>;
  private readonly initSet: ReadonlySet<string>;
  private readonly initialProbs: number[] | undefined;
  private readonly transitionMatrix: number[][] | undefined;
  private readonly read = new WeakMap<object, SequenceData>();

  /** @throws EmError `INVALID_ARGUMENT` naming the option. */
  constructor(options: HiddenMarkovModelOptions) {
    const o = parseOptions(HIDDEN_MARKOV_MODEL_OPTIONS, options, { owner: 'hiddenMarkovModel', pathOf: (key) => ['options', key] });
    const k = o['nStates'] as number;
    this.nStates = k;
    const e = o['emission'] as HmmEmissionName | HmmEmission;
    const covarianceType = o['covarianceType'] as CovarianceType;
    const regCovar = o['regCovar'] as number;
    const emission = (typeof e !== 'string'
      ? e
      : e === 'gaussian'
        ? gaussianEmission({ covarianceType, regCovar })
        : e === 'gmm'
          ? gmmEmission({ nMix: o['nMix'] as number, covarianceType, regCovar })
          : e === 'poisson'
            ? poissonEmission()
            : categoricalEmission({ ...(o['nCategories'] === undefined ? {} : { nCategories: o['nCategories'] as number[] }), ...(o['categories'] === undefined ? {} : { categories: o['categories'] as string[][] }) })) as unknown as HmmEmission<P, S, PE>;
    this.emission = emission;
    this.stats = hmmStatsAlgebra(emission.stats);
    this.initMethods = emission.initMethods;
    this.initialMode = o['initial'] as InitialMode;
    this.topology = o['topology'] as Topology;
    this.initialProbs = o['initialProbs'] === undefined ? undefined : probabilityOption(o['initialProbs'] as number[], k, ['options', 'initialProbs']);
    if (o['transitionMatrix'] !== undefined) {
      const m = o['transitionMatrix'] as number[][];
      if (m.length !== k || m.some((row) => row.length !== k)) throw emError('INVALID_ARGUMENT', ['options', 'transitionMatrix'], m, `must be ${k}×${k} (nStates)`, `pass ${k} rows of ${k} probabilities`);
      this.transitionMatrix = m.map((row, i) => {
        if (row.some((v) => v < 0)) throw emError('INVALID_ARGUMENT', ['options', 'transitionMatrix', i], row, 'has a negative entry', 'pass probabilities >= 0');
        return probabilityOption(row, k, ['options', 'transitionMatrix', i]);
      });
    }
    this.masks = chainMasks(k, this.topology, this.initialProbs, this.transitionMatrix);
    if (this.topology === 'left-right') {
      if (this.initialProbs?.some((p, i) => i > 0 && p > 0)) {
        throw emError('INVALID_ARGUMENT', ['options', 'initialProbs'], this.initialProbs, 'puts mass on states other than 0, but a left-right chain starts in state 0', 'set initialProbs to [1, 0, ..., 0] or use topology ergodic');
      }
      this.transitionMatrix?.forEach((row, i) => row.forEach((p, j) => {
        if (p > 0 && j !== i && j !== i + 1) throw emError('INVALID_ARGUMENT', ['options', 'transitionMatrix', i, j], p, 'is a transition a left-right chain does not allow (only i → i and i → i + 1)', 'set it to 0 or use topology ergodic');
      }));
      if (this.initialMode === 'stationary') throw emError('INVALID_ARGUMENT', ['options', 'initial'], 'stationary', 'conflicts with topology left-right (its stationary distribution sits in the last state)', "use initial 'free' or 'fixed'");
    }
    const letters = emission.letters;
    this.update = letterSet(o['params'] as string, letters, 'params');
    this.initSet = letterSet(o['initParams'] as string, letters, 'initParams');
    this.emissionUpdate = [...letters].filter((l) => this.update.has(l)).join('');
    const initEmission = [...letters].filter((l) => this.initSet.has(l)).length;
    if (initEmission !== 0 && initEmission !== letters.length) {
      throw emError('INVALID_ARGUMENT', ['options', 'initParams'], o['initParams'], `names some but not all of the emission's letters (${letters})`, `include all of ${letters} (or e) to initialize the emission, or none and pass emissionParams`);
    }
    if (initEmission === 0 && o['emissionParams'] === undefined) {
      throw emError('INVALID_ARGUMENT', ['options', 'initParams'], o['initParams'], 'leaves the emission out but no emissionParams were given', 'add e to initParams, or pass emissionParams (e.g. from a fitted model)');
    }
    const iPseudo = o['initialPseudoCount'] as number;
    const tPseudo = o['transitionPseudoCount'] as number;
    const conjugate = hmmConjugate({ nStates: k, emission, masks: this.masks, initialMode: this.initialMode, update: this.update, emissionUpdate: this.emissionUpdate, initialPseudoCount: iPseudo, transitionPseudoCount: tPseudo, algebra: this.stats });
    if (conjugate !== undefined) this.conjugate = conjugate;
    const initialMap = this.initialMode === 'free' && this.update.has('s') && iPseudo > 0;
    const transitionMap = this.update.has('t') && tPseudo > 0;
    if (initialMap || transitionMap) {
      this.logPrior = (params) => {
        let lp = initialMap ? dirichletLogDensity(params.initial, this.masks.initial, iPseudo) : 0;
        if (transitionMap) params.transition.forEach((row, i) => (lp += dirichletLogDensity(row, this.masks.transition, tPseudo, i * k)));
        return lp;
      };
    }
    // Record only what applies to this emission (results stay readable).
    const keep = new Set(['nStates', 'emission', 'initial', 'topology', 'initialPseudoCount', 'transitionPseudoCount', 'params', 'initParams', 'initWindow']);
    if (e === 'gaussian' || e === 'gmm') for (const key of ['covarianceType', 'regCovar']) keep.add(key);
    if (e === 'gmm') keep.add('nMix');
    for (const key of ['nCategories', 'categories', 'initialProbs', 'transitionMatrix', 'emissionParams']) if (o[key] !== undefined) keep.add(key);
    this.blockRows = o['blockRows'] as number;
    if (this.blockRows !== HMM_BLOCK_ROWS) keep.add('blockRows');
    // Workers rebuild the model from the registry by its options: built-in emission families only.
    if (typeof e === 'string') this.shard = hmmShardHooks(this);
    this.o = Object.fromEntries(Object.entries({ ...o, emission: emission.type, ...(this.initialProbs === undefined ? {} : { initialProbs: this.initialProbs }), ...(this.transitionMatrix === undefined ? {} : { transitionMatrix: this.transitionMatrix }) }).filter(([key]) => keep.has(key)));
    this.emissionParams = o['emissionParams'] as P | undefined;
  }

  private readonly emissionParams: P | undefined;
  /** Time steps per E-step block (see {@link HiddenMarkovModelOptions.blockRows}). */
  readonly blockRows: number;
  /**
   * Sharding hooks (`fit`'s `workers`): sequences are sharded in blocks of whole sequences, each owned by
   * the shard holding its first time step (see `hmm-shard.ts`). Undefined for a user emission object
   * (workers cannot rebuild it from the registry).
   */
  readonly shard?: ModelShardHooks<HmmPrepared<PE>>;

  get options(): Readonly<Record<string, unknown>> {
    return this.o;
  }

  /** The data as a matrix with lengths (read once per data object). @throws EmError `INVALID_DATA` */
  sequences(data: HmmData): SequenceData {
    const key = typeof data === 'object' && data !== null ? (data as object) : undefined;
    const cached = key === undefined ? undefined : this.read.get(key);
    if (cached !== undefined) return cached;
    const seq = readSequences(data);
    if (key !== undefined) this.read.set(key, seq);
    return seq;
  }

  /** @throws EmError `INVALID_DATA`: shapes, lengths, values for the emission family, fewer time steps than states. */
  validate(data: HmmData): void {
    const seq = this.sequences(data);
    this.emission.validate(seq);
    if (seq.rows < this.nStates) {
      throw emError('INVALID_DATA', ['data'], seq.rows, `has ${seq.rows} time steps, fewer than nStates = ${this.nStates}`, 'use fewer states or more data');
    }
  }

  /** @throws EmError `INVALID_PARAMS` naming the field (and `INVALID_DATA` for observations the parameters cannot score). */
  validateParams(params: unknown, data?: HmmData): asserts params is HmmParams<P> {
    const k = this.nStates;
    const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
      throw emError('INVALID_PARAMS', ['params', ...path], value, problem, remedy);
    };
    if (typeof params !== 'object' || params === null) bad([], params, 'must be an object { initial, transition, emission }', 'pass parameters from a FitResult or build them with that shape');
    const p = params as Partial<HmmParams<P>>;
    const checkRow = (row: unknown, path: (string | number)[], mask: Uint8Array, offset: number, what: string): void => {
      if (!Array.isArray(row) || row.length !== k) bad(path, row, `must have nStates = ${k} entries`, `pass ${k} probabilities`);
      let sum = 0;
      (row as unknown[]).forEach((v, j) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad([...path, j], v, 'must be a probability', 'pass numbers in [0, 1]');
        if ((v as number) > 0 && !mask[offset + j]) bad([...path, j], v, `is a structural zero of this model's ${what} (topology or given zeros)`, 'set it to 0');
        sum += v as number;
      });
      if (!(Math.abs(sum - 1) <= CHAIN_ROW_SUM_TOLERANCE)) bad(path, sum, `probabilities sum to ${sum}, not 1 (within ${CHAIN_ROW_SUM_TOLERANCE})`, `normalize the ${what}`);
    };
    checkRow(p.initial, ['initial'], this.masks.initial, 0, 'initial distribution');
    if (!Array.isArray(p.transition) || p.transition.length !== k) bad(['transition'], p.transition, `must have nStates = ${k} rows`, `pass a ${k}×${k} matrix`);
    (p.transition as unknown[]).forEach((row, i) => checkRow(row, ['transition', i], this.masks.transition, i * k, 'transition matrix rows'));
    this.emission.validateParams(p.emission, k, data === undefined ? undefined : this.sequences(data));
  }

  /**
   * Reads the sequences, checks sequence weights (one per sequence), prepares the emission family's observations.
   * @throws EmError `INVALID_ARGUMENT` for weights of the wrong length.
   */
  prepare(data: HmmData, ctx: PrepareContext = { precisions: ['float64'] }): HmmPrepared<PE> {
    return this.prepareSequences(this.sequences(data), ctx);
  }

  /**
   * {@link prepare} from sequences already read (what a shard worker rebuilds from shared arrays).
   * @throws EmError `INVALID_ARGUMENT` for weights of the wrong length.
   */
  prepareSequences(seq: SequenceData, ctx: PrepareContext = { precisions: ['float64'] }): HmmPrepared<PE> {
    const s = seq.lengths.length;
    const w = ctx.weights;
    if (w !== undefined && w.length !== s) {
      throw emError('INVALID_ARGUMENT', ['options', 'weights'], w, `has ${w.length} entries but the data has ${s} sequence(s)`, 'pass one weight per sequence (an HMM weighs whole sequences)');
    }
    let totalWeight = 0;
    for (let i = 0; i < s; i++) totalWeight += (w === undefined ? 1 : (w[i] as number)) * (seq.lengths[i] as number);
    let nMissingCells = 0;
    let nStepsAllMissing = 0;
    for (let r = 0; r < seq.rows; r++) {
      let missing = 0;
      for (let c = 0; c < seq.cols; c++) if (Number.isNaN(seq.values[r * seq.cols + c] as number)) missing++;
      nMissingCells += missing;
      if (missing === seq.cols) nStepsAllMissing++;
    }
    return {
      nRows: seq.rows,
      nSequences: s,
      lengths: seq.lengths,
      offsets: seq.offsets,
      weights: w,
      totalWeight,
      blocks: sequenceBlocks(seq.lengths, this.blockRows),
      x: seq,
      emission: this.emission.prepare(seq),
      nMissingCells,
      nStepsAllMissing,
      dispose() {},
    };
  }

  /**
   * `kmeans` (the emission family's k-means start; initial and transition probabilities from the
   * label sequences with one pseudo-count per allowed entry) or `random` (the family's random start;
   * initial and transition rows drawn uniformly on the simplex of allowed entries). Parameters not in
   * `initParams` come from `initialProbs`, `transitionMatrix` (uniform over allowed entries without
   * them) and `emissionParams`.
   */
  init(prepared: HmmPrepared<PE>, method: string, rng: Rng): HmmParams<P> {
    const k = this.nStates;
    const { initial: im, transition: tm } = this.masks;
    const uniform = (mask: Uint8Array, offset: number): number[] => {
      const m = Array.from({ length: k }, (_, j): number => (mask[offset + j] ? 1 : 0));
      const total = m.reduce((a, b) => a + b, 0);
      return m.map((v) => v / total);
    };
    let emission: P;
    let labels: Int32Array | undefined;
    if (this.initSet.has(this.emission.letters[0] as string)) {
      const e = this.emission.init(prepared.emission, k, method, rng.child('emission'), { offsets: prepared.offsets, window: this.o['initWindow'] as number });
      emission = e.params;
      labels = e.labels;
    } else {
      emission = this.emissionParams as P;
      this.emission.validateParams(emission, k, prepared.x);
    }
    const counts = (): { init: Float64Array; trans: Float64Array } => {
      const init = new Float64Array(k);
      const trans = new Float64Array(k * k);
      if (labels === undefined) return { init, trans };
      for (let s = 0; s < prepared.nSequences; s++) {
        const a = prepared.offsets[s] as number;
        const b = prepared.offsets[s + 1] as number;
        const first = labels[a] as number;
        if (first >= 0) init[first] = (init[first] as number) + 1;
        for (let t = a + 1; t < b; t++) {
          const from = labels[t - 1] as number;
          const to = labels[t] as number;
          if (from >= 0 && to >= 0) trans[from * k + to] = (trans[from * k + to] as number) + 1;
        }
      }
      return { init, trans };
    };
    const c = method === 'random' ? undefined : counts();
    let transition: number[][];
    if (this.initSet.has('t')) {
      transition = Array.from({ length: k }, (_, i) => {
        if (c === undefined) return uniformSimplexDraw(tm, i * k, k, () => rng.uniform());
        // Label transitions (one pseudo-count each) averaged with a sticky matrix: labels of single
        // observations can lack any temporal coherence (a weakly informative emission), and rows that
        // are all alike start EM next to the independent-mixture saddle, where it crawls.
        const fromLabels = dirichletMode(c.trans, tm, 1, uniform(tm, i * k), i * k);
        const sticky = Array.from({ length: k }, (_, j): number => (tm[i * k + j] ? (j === i ? 9 * Math.max(1, k - 1) : 1) : 0));
        const total = sticky.reduce((a, b) => a + b, 0);
        return fromLabels.map((v, j) => 0.5 * (v + (sticky[j] as number) / total));
      });
    } else {
      transition = this.transitionMatrix?.map((row) => [...row]) ?? Array.from({ length: k }, (_, i) => uniform(tm, i * k));
    }
    let initial: number[];
    if (this.initialMode === 'stationary') initial = stationaryDistribution(transition);
    else if (this.initialMode === 'free' && this.initSet.has('s')) initial = c === undefined ? uniformSimplexDraw(im, 0, k, () => rng.uniform()) : dirichletMode(c.init, im, 1, uniform(im, 0));
    else initial = this.initialProbs === undefined ? uniform(im, 0) : [...this.initialProbs];
    return { initial, transition, emission };
  }

  structure(prepared: HmmPrepared<PE>, params: HmmParams<P>) {
    return hmmStructure(prepared, params, this.emission, this.stats);
  }

  /**
   * Initial probabilities: the mode of Dirichlet(1 + counts + pseudo-count) on the allowed entries
   * (`free`), unchanged (`fixed`), or the stationary distribution of the new transition matrix
   * (`stationary`, a generalized M-step that never lowers the bound). Transitions: the same mode
   * row by row (structural zeros stay 0). Emissions: the family's M-step for the letters in `params`.
   */
  mStep(stats: HmmStats<S>, prev: HmmParams<P>, ctx: MStepContext<HmmPrepared<PE>>): MStepResult<HmmParams<P>> {
    const tPseudo = this.o['transitionPseudoCount'] as number;
    const iPseudo = this.o['initialPseudoCount'] as number;
    let emission = prev.emission;
    let events: readonly ModelEvent[] = [];
    let boundSlack = 0;
    if (this.emissionUpdate !== '') {
      const r = this.emission.mStep(stats.emission, prev.emission, { rng: ctx.rng, prepared: ctx.prepared.emission, update: this.emissionUpdate });
      emission = r.params;
      events = r.events ?? [];
      boundSlack = r.boundSlack ?? 0;
    }
    let initial = prev.initial;
    let transition = prev.transition;
    if (this.initialMode === 'stationary') {
      if (this.update.has('t')) ({ transition, initial } = stationaryTransitionStep(stats.initial, stats.transitions, this.masks.transition, tPseudo, prev.transition));
    } else {
      if (this.update.has('t')) transition = transitionMode(stats.transitions, this.masks.transition, tPseudo, prev.transition);
      if (this.initialMode === 'free' && this.update.has('s')) initial = dirichletMode(stats.initial, this.masks.initial, iPseudo, prev.initial);
    }
    return { params: { initial, transition, emission }, events, boundSlack };
  }

  /** Σ_k n_k log π_k + Σ_ij ξ_ij log A_ij + E_q[log p(x | z)] (+ log p(θ) for MAP), every constant included. */
  expectedLogJoint(stats: HmmStats<S>, params: HmmParams<P>): number {
    const k = this.nStates;
    let total = weightedLogSum(stats.initial, params.initial);
    params.transition.forEach((row, i) => (total += weightedLogSum(stats.transitions, row, i * k)));
    total += this.emission.expectedLogLikelihood(stats.emission, params.emission);
    return this.logPrior === undefined ? total : total + this.logPrior(params);
  }

  /** log p(x | θ) = Σ_s w_s log p(x_s | θ) by the scaled forward recursion (float64). */
  logLikelihood(prepared: HmmPrepared<PE>, params: HmmParams<P>): number {
    let total = 0;
    this.forEachBatch(prepared, params, (batch) => (total += forwardBackward(batch, { likelihoodOnly: true }).logLikelihood));
    return total;
  }

  /** Free parameters among those the M-step updates (BIC/AIC). */
  nParameters(params: HmmParams<P>): number {
    const k = this.nStates;
    let n = this.initialMode === 'free' && this.update.has('s') ? freeProbabilities(this.masks.initial, 0, k) : 0;
    if (this.update.has('t')) for (let i = 0; i < k; i++) n += freeProbabilities(this.masks.transition, i * k, k);
    return n + this.emission.nParameters(params.emission, this.emissionUpdate);
  }

  /** Rough float64 cost of an iteration: forward–backward is O(ΣT·K²). */
  iterationCost(prepared: HmmPrepared<PE>): number {
    return prepared.nRows * this.nStates * (this.nStates + prepared.x.cols) * 8;
  }

  /** States no sequence is expected to visit (expected occupancy below {@link EMPTY_STATE_OCCUPANCY}). */
  degenerate(stats: HmmStats<S>): readonly DegenerateComponent[] {
    const out: DegenerateComponent[] = [];
    stats.occupancy.forEach((o, k) => {
      if (!(o >= EMPTY_STATE_OCCUPANCY)) out.push({ component: k, reason: `state ${k} is never visited (expected occupancy ${o.toExponential(2)})` });
    });
    return out;
  }

  /** `nSequences`, `nMissing` (cells), `nStepsAllMissing`, `minLength`, `maxLength`. */
  summarizeData(prepared: HmmPrepared<PE>): Readonly<Record<string, number>> {
    return {
      nSequences: prepared.nSequences,
      nMissing: prepared.nMissingCells,
      nStepsAllMissing: prepared.nStepsAllMissing,
      minLength: prepared.lengths.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
      maxLength: prepared.lengths.reduce((a, b) => Math.max(a, b), 0),
    };
  }

  // ------------------------------------------------------------------ prediction API

  /** Runs `fn` on the float64 batch of every block of `data` at `params`. */
  private forEachBatch(prepared: HmmPrepared<PE>, params: HmmParams<P>, fn: (batch: ChainBatch, rowStart: number) => void): void {
    const structure = this.structure(prepared, params);
    for (const chunk of structure.chunks()) {
      const e = chunk.logEmission();
      fn({
        nStates: this.nStates,
        lengths: chunk.lengths,
        logEmission: e instanceof Float64Array ? e : Float64Array.from(e),
        logInitial: chunk.logInitial,
        logTransition: chunk.logTransition,
        ...(chunk.weights === undefined ? {} : { weights: chunk.weights }),
      }, chunk.rowStart);
    }
  }

  /** Validates `data` and `params` and prepares `data` (no weights). */
  private preparedFor(params: HmmParams<P>, data: HmmData): HmmPrepared<PE> {
    this.emission.validate(this.sequences(data));
    this.validateParams(params, data);
    return this.prepare(data);
  }

  /**
   * The most probable state path of every sequence (Viterbi), concatenated `[ΣT]`, with its log joint.
   * @returns `states` `[ΣT]` (−1 for a sequence impossible under θ), `logJoints` `[S]` log p(x_s, ẑ_s), and their sum.
   * @throws EmError `INVALID_DATA`, `INVALID_PARAMS`
   */
  decode(params: HmmParams<P>, data: HmmData): { states: Int32Array; logJoints: Float64Array; logJoint: number } {
    const prepared = this.preparedFor(params, data);
    const states = new Int32Array(prepared.nRows);
    const logJoints = new Float64Array(prepared.nSequences);
    let start = 0;
    this.forEachBatch(prepared, params, (batch, rowStart) => {
      const v = viterbi(batch);
      states.set(v.path, rowStart);
      logJoints.set(v.logJoints, start);
      start += batch.lengths.length;
    });
    return { states, logJoints, logJoint: logJoints.reduce((a, b) => a + b, 0) };
  }

  /** Viterbi states `[ΣT]` (see {@link HiddenMarkovModel.decode}). @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  predict(params: HmmParams<P>, data: HmmData): Int32Array {
    return this.decode(params, data).states;
  }

  /** Posterior state marginals p(z_t = k | x_s) `[ΣT][K]` (forward–backward, float64). @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  predictProba(params: HmmParams<P>, data: HmmData): number[][] {
    const prepared = this.preparedFor(params, data);
    const k = this.nStates;
    const out: number[][] = new Array(prepared.nRows);
    this.forEachBatch(prepared, params, (batch, rowStart) => {
      const g = forwardBackward(batch).gamma;
      for (let r = 0; r < g.length / k; r++) out[rowStart + r] = Array.from(g.subarray(r * k, (r + 1) * k));
    });
    return out;
  }

  /** log p(x_s | θ) per sequence `[S]`. @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  scoreSequences(params: HmmParams<P>, data: HmmData): Float64Array {
    const prepared = this.preparedFor(params, data);
    const out = new Float64Array(prepared.nSequences);
    let start = 0;
    this.forEachBatch(prepared, params, (batch) => {
      out.set(forwardBackward(batch, { likelihoodOnly: true }).logLikelihoods, start);
      start += batch.lengths.length;
    });
    return out;
  }

  /** log p(x | θ), the total over sequences (hmmlearn's `score`). @throws EmError `INVALID_DATA`, `INVALID_PARAMS` */
  score(params: HmmParams<P>, data: HmmData): number {
    return this.scoreSequences(params, data).reduce((a, b) => a + b, 0);
  }

  /** Bayesian information criterion −2 log L + p log N, N = ΣT observations (lower is better). */
  bic(params: HmmParams<P>, data: HmmData): number {
    return -2 * this.score(params, data) + this.nParameters(params) * Math.log(this.sequences(data).rows);
  }

  /** Akaike information criterion −2 log L + 2p (lower is better). */
  aic(params: HmmParams<P>, data: HmmData): number {
    return -2 * this.score(params, data) + 2 * this.nParameters(params);
  }

  /**
   * Draws sequences from the model with a seed: `lengths` one length or a list (sequence s draws
   * from the stream `seed/sample/sequence/s`).
   * @returns rows `x` `[ΣT][D]`, hidden `states` `[ΣT]` and the `lengths`.
   * @throws EmError `INVALID_PARAMS`, `INVALID_ARGUMENT` (lengths, seed).
   */
  sample(params: HmmParams<P>, lengths: number | readonly number[], seed: Seed = 0): { x: number[][]; states: number[]; lengths: number[] } {
    this.validateParams(params);
    const list = typeof lengths === 'number' ? [lengths] : [...lengths];
    if (list.length === 0 || list.some((t) => !(Number.isSafeInteger(t) && t >= 1))) {
      throw emError('INVALID_ARGUMENT', ['lengths'], lengths, 'must be a length >= 1 or a non-empty list of them', 'pass e.g. 1000 or [500, 500]');
    }
    const root = createRng(seed).child('sample');
    const x: number[][] = [];
    const states: number[] = [];
    list.forEach((len, s) => {
      const rng = root.child('sequence', s);
      let z = rng.categorical(params.initial);
      for (let t = 0; t < len; t++) {
        if (t > 0) z = rng.categorical(params.transition[z] as number[]);
        states.push(z);
        x.push(Array.from(this.emission.sample(params.emission, z, rng)));
      }
    });
    return { x, states, lengths: list };
  }
}

/**
 * Creates a {@link HiddenMarkovModel}.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * const casino = hiddenMarkovModel({ nStates: 2, emission: 'categorical', nCategories: [6] });
 * ```
 * @category Hidden Markov models
 */
export function hiddenMarkovModel(options: HiddenMarkovModelOptions): HiddenMarkovModel {
  return new HiddenMarkovModel(options);
}

/** Observations of HMM data as a matrix (for emission families and tests). @category Hidden Markov models */
export function observations(data: HmmData): ObservationMatrix {
  return readSequences(data);
}
