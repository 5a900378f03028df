/**
 * The suite file format (JSON), as TypeScript types. `validateSuite` in
 * `suite.ts` checks a parsed file against these and fills in defaults.
 * @module
 */

/** Masking entries as missing (NaN) after generation. @category Suites */
export interface MissingSpec {
  /** Fraction of entries to mask, in [0, 1). */
  readonly rate: number;
  /**
   * `'mcar'`: every entry independently with probability `rate`.
   * `'mar'`: the first column is never masked; the other entries of a row are
   * masked with probability 2·rate when the row's first value is above its
   * median, 0 otherwise (missingness depends only on observed values).
   */
  readonly mechanism: 'mcar' | 'mar';
  readonly seed: number | string;
}

/** A generated Gaussian mixture (`makeGaussianMixture` from @emlab/data). @category Suites */
export interface GeneratorDatasetSpec {
  readonly id: string;
  readonly generator: 'gaussianMixture';
  /** `makeGaussianMixture` options: nSamples, nComponents, nFeatures, seed, separation?, covariance?, weights?. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly missing?: MissingSpec;
}

/** A built-in data set by name (`loadBuiltin`). @category Suites */
export interface BuiltinDatasetSpec {
  readonly id: string;
  readonly builtin: string;
  readonly missing?: MissingSpec;
}

/** A numeric CSV file, path relative to the suite file. @category Suites */
export interface CsvDatasetSpec {
  readonly id: string;
  readonly csv: string;
  /** Optional column holding true labels (integers): enables ARI; the column is removed from the data. */
  readonly labelColumn?: string;
  readonly missing?: MissingSpec;
}

/** A Bayesian network (BIF file relative to the suite, or a built-in network name) and data sampled from it. @category Suites */
export interface BnDatasetSpec {
  readonly id: string;
  /** BIF path relative to the suite file, or a built-in network name (e.g. `'asia'`). */
  readonly bif: string;
  readonly nSamples: number;
  readonly seed: number | string;
  /** Variables to hide (latent in every row). */
  readonly hidden?: readonly string[];
  /** Missing cells (`mcar` only for networks). */
  readonly missing?: MissingSpec;
}

/** A data set entry. @category Suites */
export type DatasetSpec = GeneratorDatasetSpec | BuiltinDatasetSpec | CsvDatasetSpec | BnDatasetSpec;

/** A model entry. @category Suites */
export interface ModelSpec {
  readonly id: string;
  /** `'gmm'` (Gaussian mixture) or `'bn'` (Bayesian network). */
  readonly type: 'gmm' | 'bn';
  /**
   * Model options. gmm: `nComponents` (default: the data set's true K when
   * known), `covarianceType` (`'full'`), `regCovar` (1e-6). bn: the network's options.
   */
  readonly options: Readonly<Record<string, unknown>>;
  /** Data set ids this model runs on (default: every data set of a matching kind). */
  readonly datasets?: readonly string[];
  /** Method ids this model runs with (default: every method registered for its structure kind). */
  readonly esteps?: readonly string[];
  /** Initialization method (default: the suite's `init`, else the model's first: gmm `kmeans++`, bn `random`). */
  readonly init?: string;
}

/** A method entry: a registered E-step, or `'gradient'` (the gradient-ascent baseline). @category Suites */
export interface MethodSpec {
  /** Unique id (default: the method name). */
  readonly id: string;
  /** Registry method name (`exact`, `hard`, `stochastic`, a plug-in's) or `gradient`. */
  readonly method: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Stopping rules (core `fit` options). @category Suites */
export interface StoppingSpec {
  readonly maxIter: number;
  readonly tol: number;
}

/** Held-out split: a seeded random `fraction` of rows is held out. @category Suites */
export interface HeldOutSpec {
  readonly fraction: number;
  readonly seed: number | string;
}

/**
 * A benchmark suite, defaults filled in.
 * @category Suites
 */
export interface Suite {
  readonly format: 'emlab/suite';
  readonly name: string;
  readonly description: string;
  /** Module paths relative to the suite file, imported before the runs (they call `registerEStep`). */
  readonly plugins: readonly string[];
  readonly datasets: readonly DatasetSpec[];
  readonly models: readonly ModelSpec[];
  /** Methods compared in every group. */
  readonly esteps: readonly MethodSpec[];
  readonly seeds: readonly (number | string)[];
  readonly stopping: StoppingSpec;
  /** Initialization method for every model without its own `init`, or null for each model's default; run once per (data set, model, seed). */
  readonly init: string | null;
  /** Held-out split, or null for none. */
  readonly heldOut: HeldOutSpec | null;
}
