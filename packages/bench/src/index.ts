/**
 * `@emlab/bench`: benchmark suites, metrics, results and the HTML report.
 * @module
 */
export type { BenchResults, BenchManifest, BenchTimings, BenchSeed, DatasetSummary, ModelSummary, MethodSummary, GroupSummary, RunIteration, RunMetrics, RunRecord, RunTimings } from './results.js';
export type { Suite, DatasetSpec, GeneratorDatasetSpec, BuiltinDatasetSpec, CsvDatasetSpec, BnDatasetSpec, MissingSpec, ModelSpec, MethodSpec, StoppingSpec, HeldOutSpec } from './suite-types.js';
