/**
 * `@emlab/bench`: benchmark suites, data-set kinds, the runner, metrics,
 * results (JSON, CSV, Parquet) and the HTML report. The report's chart
 * libraries and the Parquet writer load only when a report or Parquet file is
 * written, so importing this package is cheap.
 * @module
 */
export type { BenchResults, BenchManifest, BenchTimings, BenchSeed, DatasetSummary, ModelSummary, MethodSummary, GroupSummary, RunFitInfo, RunIteration, RunMetrics, RunRecord, RunTimings, SkippedRun } from './results.js';
export type { Suite, SuiteInput, DatasetSpec, MissingSpec, ModelSpec, MethodSpec, StoppingSpec, LimitsSpec, HeldOutSpec } from './suite-schema.js';
export { SUITE_SCHEMA, DATASET_SCHEMA, DATASET_SHORTHAND_SCHEMAS, MISSING_SCHEMA, MODEL_SCHEMA, METHOD_SCHEMA, STOPPING_SCHEMA, LIMITS_SCHEMA, HELD_OUT_SCHEMA, SEED_SCHEMA, SUITE_CONVERGENCE_POLICIES } from './suite-schema.js';
export { validateSuite, loadSuite, locateSuiteError } from './suite.js';
export type { LoadedSuite } from './suite.js';
export type { TextLocation } from './internal/json-source.js';
export { suiteJsonSchema } from './json-schema.js';
export { runSuite, runSuiteFile, writeResults, JOURNAL_FILE, REACH_TOLERANCE } from './runner.js';
export type { RunSuiteOptions, ProgressEvent, SuiteOutputFiles, ParquetOutput } from './runner.js';
export { runsCsv, RUNS_CSV_COLUMNS } from './runs-csv.js';
export type { RunColumn } from './runs-csv.js';
export { hungarian, adjustedRandIndex, mixtureParameterError, hashJson, canonicalJson } from './metrics.js';
export type { MixtureParamsLike } from './metrics.js';
export { NUMERIC_TABLE, registerDatasetKind, unregisterDatasetKind, listDatasetKinds, findDatasetKind } from './dataset-registry.js';
export type { DatasetKind, DatasetContext, DatasetContent } from './dataset-registry.js';
export { maskMissing, splitRows, pickRows, numericTableContent } from './datasets/numeric-table.js';
export type { Matrix } from './datasets/numeric-table.js';
export { BN_TABLE, cptError } from './datasets/bayesian-network.js';
export { GLMM_DATASET_OPTIONS, GLMM_TABLE, glmmParameterError } from './datasets/glmm.js';
export { checkDataset, materializeDataset } from './materialize.js';
export type { MaterializedDataset } from './materialize.js';
export { renderReport, writeReport, buildSections, meanSd, isApproximate, chartSpec, renderSvg, escapeHtml, formatNumber, METRIC_COLUMNS, REPORT_DATA_ELEMENT_ID } from './report/index.js';
export type { ReportData, ReportSection, RunSeries, SeriesPoint, PairedPoint, WinTieLoss, TableRow, MeanSd, MetricColumn, ChartKind } from './report/index.js';
export { runWorker, RUN_WORKER_OPTIONS } from './queue/worker.js';
export type { RunWorkerOptions, WorkerEvent } from './queue/worker.js';
export { QUEUE_FILE } from './queue/submit.js';
export type { SuiteQueueOptions } from './queue/submit.js';
export { parseRedisUrl, QUEUE_NAMES, QUEUE_PREFIX } from './queue/connection.js';
export { queueShards, QUEUE_SHARDS_OPTIONS } from './queue/fit-shards.js';
export type { QueueShardsOptions } from './queue/fit-shards.js';
