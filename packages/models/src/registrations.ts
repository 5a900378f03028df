/**
 * The built-in models in core's model registry (on import of `@emlab/models`):
 * what `emlab fit --model NAME`, `compare` and benchmark suites find by name.
 * @module
 */
import { emError, registerModel, type OptionSchema } from '@emlab/core';
import { bayesianNetwork, type BayesianNetworkOptions } from './bn/bn-model.js';
import type { BayesNet } from './bn/bn-types.js';
import { GAUSSIAN_MIXTURE_OPTIONS, gaussianMixture, type GaussianMixtureOptions } from './gmm/gaussian-mixture.js';
import { GLMM_OPTIONS, glmm, type GlmmOptions } from './glmm/glmm-model.js';
import { MCLUST_OPTIONS, MIXTURE_OPTIONS, MixtureModel, mclustMixture, type MclustMixtureOptions, type MixtureModelOptions } from './mixture/mixture-model.js';
import { HIDDEN_MARKOV_MODEL_OPTIONS, hiddenMarkovModel, type HiddenMarkovModelOptions } from './hmm/hidden-markov-model.js';
import { FACTORIAL_HMM_OPTIONS, factorialHmm, type FactorialHmmOptions } from './fhmm/factorial-hmm.js';

registerModel({
  name: 'gmm',
  aliases: ['gaussian-mixture'],
  description: 'Gaussian mixture (full, diag, spherical, tied covariances; missing entries as latent variables)',
  structureKind: 'finite',
  options: GAUSSIAN_MIXTURE_OPTIONS,
  create: (options) => gaussianMixture(options as unknown as GaussianMixtureOptions),
  // Complete rows without weights can also be streamed from a row cache (openRowSource).
  data: { format: 'numeric-table', rowSource: true },
});

const nameList = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/** Options of the Bayesian-network registration (the network is a file path on the command line, a network object in the API). */
export const BAYESIAN_NETWORK_OPTIONS = {
  network: {
    type: 'custom',
    required: true,
    flag: 'network',
    shape: 'a network file (BIF or emlab JSON) or a network object',
    description: 'the network whose CPTs are fitted (structure and states; its CPTs are the `network` init)',
    check: (v, path) => {
      if (typeof v === 'string' || (typeof v === 'object' && v !== null && Array.isArray((v as BayesNet).nodes))) return v;
      throw emError('INVALID_ARGUMENT', path, v, 'must be a network file path or a network object', 'pass --network asia.bif');
    },
    parse: (text) => text,
  },
  hidden: { type: 'custom', flag: 'hidden', shape: 'a list of node names', description: 'nodes never observed (absent columns are hidden anyway)', check: (v, path) => stringList(v, path), parse: nameList },
  frozen: { type: 'custom', flag: 'frozen', shape: 'a list of node names', description: 'nodes whose CPTs stay fixed', check: (v, path) => stringList(v, path), parse: nameList },
  pseudoCount: { type: 'number', min: 0, default: 0, flag: 'pseudo-count', description: 'Dirichlet pseudo-count (MAP); 0 is maximum likelihood' },
  initConcentration: { type: 'number', min: 0, exclusiveMin: true, default: 1, flag: 'init-concentration', description: 'Dirichlet concentration of the random CPT init' },
  batchSize: { type: 'integer', min: 1, default: 4096, flag: 'batch-size', description: 'distinct evidence patterns per E-step batch' },
} as const satisfies OptionSchema;

function stringList(v: unknown, path: readonly (string | number)[]): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw emError('INVALID_ARGUMENT', path, v, 'must be a list of names', 'pass e.g. ["either"] (API) or --hidden either,lung (CLI)');
  return [...(v as string[])];
}

registerModel({
  name: 'bayesian-network',
  aliases: ['bn'],
  description: 'discrete Bayesian network: CPTs by EM (hidden nodes, missing cells, MAP with Dirichlet pseudo-counts)',
  structureKind: 'factor-graph',
  options: BAYESIAN_NETWORK_OPTIONS,
  create: (options) => {
    const { network, ...rest } = options as unknown as { network: BayesNet | string } & BayesianNetworkOptions;
    if (typeof network === 'string') {
      throw emError('INVALID_ARGUMENT', ['options', 'network'], network, 'is a file path: read the network first', 'pass the network object (readNetwork from @emlab/models), or load data through the registration');
    }
    return bayesianNetwork(network, rest);
  },
  data: {
    format: 'custom',
    dataType: 'bn-table',
    describe: 'a CSV of state names whose header names nodes (missing cells empty, NA or ?; absent nodes are hidden), with --network FILE',
    read: async (files, options, context) => {
      // Loaded on demand: file I/O stays out of the browser-safe entry.
      const { readNetwork } = await import('./bn/bn-io.js');
      const { readBnCsv } = await import('./bn/bn-data.js');
      const net = typeof options['network'] === 'string' ? await readNetwork(options['network']) : (options['network'] as BayesNet);
      const [file] = files;
      if (file === undefined) throw emError('INVALID_ARGUMENT', ['data'], undefined, 'is missing', 'pass the data CSV');
      const { weights, ...data } = await readBnCsv(file, net, context?.weightsColumn === undefined ? {} : { weightsColumn: context.weightsColumn });
      return { data, options: { ...options, network: net }, ...(weights === undefined ? {} : { weights }) };
    },
  },
});

/**
 * Options of the GLMM registration: the model's options ({@link GLMM_OPTIONS}) and the column roles
 * that read a CSV (`emlab fit data.csv --model glmm --family poisson --response y --group school --fixed x1,x2`).
 */
export const GLMM_REGISTRATION_OPTIONS = {
  ...GLMM_OPTIONS,
  response: { type: 'string', default: 'y', flag: 'response', description: 'CSV column of the response (counts for poisson, 0/1 for logistic)' },
  group: { type: 'string', default: 'group', flag: 'group', description: 'CSV column of the group ids (one random-effect vector per group)' },
  fixed: { type: 'custom', flag: 'fixed', shape: 'a list of column names', description: 'CSV columns of the fixed-effect covariates (after the intercept)', check: (v, path) => stringList(v, path), parse: nameList },
  random: { type: 'custom', flag: 'random', shape: 'a list of column names', description: 'CSV columns of random slopes (z after the random intercept)', check: (v, path) => stringList(v, path), parse: nameList },
  fixedIntercept: { type: 'boolean', default: true, flag: 'fixed-intercept', description: 'prepend a column of ones to x' },
  randomIntercept: { type: 'boolean', default: true, flag: 'random-intercept', description: 'prepend a column of ones to z (a random intercept per group)' },
} as const satisfies OptionSchema;

const GLMM_ROLE_KEYS = ['response', 'group', 'fixed', 'random', 'fixedIntercept', 'randomIntercept'] as const;

registerModel({
  name: 'glmm',
  aliases: ['mixed-model'],
  description: 'generalized linear mixed model: Poisson or logistic regression with Gaussian random effects per group (no exact E-step; exact log-likelihood by adaptive Gauss-Hermite quadrature)',
  structureKind: 'continuous',
  defaultMethod: 'mcem',
  options: GLMM_REGISTRATION_OPTIONS,
  create: (options) => {
    const modelOptions: Record<string, unknown> = { ...options };
    for (const k of GLMM_ROLE_KEYS) delete modelOptions[k];
    return glmm(modelOptions as unknown as GlmmOptions);
  },
  data: {
    format: 'custom',
    dataType: 'glmm-table',
    describe: 'a CSV with a header: --response and --group columns, --fixed and --random covariate columns (intercepts added unless switched off)',
    read: async (files, options) => {
      const [file] = files;
      if (file === undefined) throw emError('INVALID_ARGUMENT', ['data'], undefined, 'is missing', 'pass the data CSV');
      const { readGlmmCsv } = await import('./glmm/glmm-csv.js');
      const data = await readGlmmCsv(file, {
        response: options['response'] as string,
        group: options['group'] as string,
        fixed: (options['fixed'] as string[] | undefined) ?? [],
        random: (options['random'] as string[] | undefined) ?? [],
        fixedIntercept: options['fixedIntercept'] as boolean,
        randomIntercept: options['randomIntercept'] as boolean,
      });
      return { data, options };
    },
  },
});

/**
 * Options of the HMM registration: the model's options plus where its data come from in a CSV file
 * (`--columns`, `--sequence-column`).
 */
export const HMM_REGISTRATION_OPTIONS = {
  ...HIDDEN_MARKOV_MODEL_OPTIONS,
  columns: { type: 'custom', flag: 'columns', shape: 'a list of column names', description: 'observation columns of the CSV, in order (default: every column but the sequence column)', check: (v, path) => stringList(v, path), parse: nameList },
  sequenceColumn: { type: 'string', flag: 'sequence-column', description: 'CSV column of sequence ids (rows in time order within a sequence; default: one sequence)' },
} as const satisfies OptionSchema;

registerModel({
  name: 'hmm',
  aliases: ['hidden-markov-model'],
  description: 'hidden Markov model (Gaussian, Gaussian-mixture, Poisson, categorical emissions; many sequences; missing cells as latent variables)',
  structureKind: 'chain',
  options: HMM_REGISTRATION_OPTIONS,
  create: (options) => {
    const { columns: _columns, sequenceColumn: _sequenceColumn, ...rest } = options as Record<string, unknown>;
    return hiddenMarkovModel(rest as unknown as HiddenMarkovModelOptions);
  },
  data: {
    format: 'custom',
    describe: 'a CSV with a header: observation columns (numbers; category labels for --emission categorical) and an optional sequence-id column, rows in time order',
    dataType: 'hmm-sequences',
    read: async (files, options) => {
      const { readHmmCsv } = await import('./hmm/hmm-csv.js');
      const [file] = files;
      if (file === undefined) throw emError('INVALID_ARGUMENT', ['data'], undefined, 'is missing', 'pass the data CSV');
      const categorical = options['emission'] === 'categorical';
      const table = await readHmmCsv(file, {
        ...(options['columns'] === undefined ? {} : { columns: options['columns'] as string[] }),
        ...(options['sequenceColumn'] === undefined ? {} : { sequenceColumn: options['sequenceColumn'] as string }),
        categorical,
        ...(categorical && options['categories'] !== undefined ? { categories: options['categories'] as string[][] } : {}),
      });
      return { data: table, options: { ...options, ...(table.categories === undefined ? {} : { categories: table.categories }) } };
    },
  },
});

/** Options of the factorial-HMM registration: the model's, plus the CSV columns and the sequence-id column. */
export const FACTORIAL_HMM_REGISTRATION_OPTIONS = {
  ...FACTORIAL_HMM_OPTIONS,
  columns: { type: 'custom', flag: 'columns', shape: 'a list of column names', description: 'observation columns of the CSV, in order (default: every column but the sequence column)', check: (v, path) => stringList(v, path), parse: nameList },
  sequenceColumn: { type: 'string', flag: 'sequence-column', description: 'CSV column of sequence ids (rows in time order within a sequence; default: one sequence)' },
} as const satisfies OptionSchema;

registerModel({
  name: 'factorial-hmm',
  aliases: ['fhmm'],
  description: 'factorial hidden Markov model (Ghahramani & Jordan): M independent chains, one full-covariance Gaussian output; exact (product chain) or structured mean-field E-steps',
  structureKind: 'factorial-chain',
  options: FACTORIAL_HMM_REGISTRATION_OPTIONS,
  create: (options) => {
    const { columns: _columns, sequenceColumn: _sequenceColumn, ...rest } = options as Record<string, unknown>;
    return factorialHmm(rest as unknown as FactorialHmmOptions);
  },
  data: {
    format: 'custom',
    describe: 'a CSV with a header: numeric observation columns and an optional sequence-id column, rows in time order',
    read: async (files, options) => {
      const { readHmmCsv } = await import('./hmm/hmm-csv.js');
      const [file] = files;
      if (file === undefined) throw emError('INVALID_ARGUMENT', ['data'], undefined, 'is missing', 'pass the data CSV');
      const table = await readHmmCsv(file, {
        ...(options['columns'] === undefined ? {} : { columns: options['columns'] as string[] }),
        ...(options['sequenceColumn'] === undefined ? {} : { sequenceColumn: options['sequenceColumn'] as string }),
        categorical: false,
      });
      return { data: table, options };
    },
  },
});

registerModel({
  name: 'mixture',
  aliases: ['general-mixture'],
  description: 'general mixture: products of component families (gaussian with mclust covariances, t, poisson, exponential, bernoulli, categorical, regression); missing entries marginalized or latent',
  structureKind: 'finite',
  options: MIXTURE_OPTIONS,
  create: (options) => new MixtureModel(options as unknown as MixtureModelOptions),
  data: { format: 'numeric-table', columnOptions: ['initLabels'] },
});

registerModel({
  name: 'mclust',
  description: "Gaussian mixture with mclust's 14 covariance parameterizations (EII … VVV, E/V), hierarchical initialization",
  structureKind: 'finite',
  options: MCLUST_OPTIONS,
  create: (options) => mclustMixture(options as unknown as MclustMixtureOptions),
  data: { format: 'numeric-table', columnOptions: ['initLabels'] },
});
