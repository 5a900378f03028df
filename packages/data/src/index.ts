/**
 * emlab data: a streamed numeric CSV reader and writer, seeded Gaussian-mixture
 * generators and built-in data sets.
 * @module
 */
export { DEFAULT_MISSING_MARKERS, numericCsvChunks, readNumericCsv, parseNumericCsv, writeNumericCsv, tableToRows } from './csv.js';
export type { NumericTable, CsvReadOptions, CsvParseOptions } from './csv.js';
export { makeGaussianMixture, toRows } from './generators.js';
export type { MixtureTruth, MixtureCovarianceShape, GaussianMixtureOptions, GeneratedMixture } from './generators.js';
export { builtinDatasets, loadBuiltin } from './builtin.js';
export type { BuiltinDataset, BuiltinDatasetSpec } from './builtin.js';
export { maskMissing, dropIncompleteRows, fillMissing } from './missing.js';
export type { NumericMatrix, MaskOptions, MissingMechanism } from './missing.js';
