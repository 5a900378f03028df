/**
 * `@emlab/bench`: benchmark suites, metrics, results and the HTML report.
 * @module
 */
export type { BenchResults, BenchManifest, BenchTimings, BenchSeed, DatasetSummary, ModelSummary, MethodSummary, GroupSummary, RunIteration, RunMetrics, RunRecord, RunTimings } from './results.js';
export type { Suite, DatasetSpec, GeneratorDatasetSpec, BuiltinDatasetSpec, CsvDatasetSpec, BnDatasetSpec, MissingSpec, ModelSpec, MethodSpec, StoppingSpec, HeldOutSpec } from './suite-types.js';
export { validateSuite, loadSuite } from './suite.js';
export type { LoadedSuite } from './suite.js';
export { runSuite, runSuiteFile, writeResults, JOURNAL_FILE, REACH_TOLERANCE } from './runner.js';
export type { RunSuiteOptions, ProgressEvent, SuiteOutputFiles } from './runner.js';
export { runsCsv, RUNS_CSV_COLUMNS } from './runs-csv.js';
export { hungarian, adjustedRandIndex, mixtureParameterError, hashJson, canonicalJson } from './metrics.js';
export type { MixtureParamsLike } from './metrics.js';
export { maskMissing, splitRows, materializeDataset } from './datasets.js';
export type { Matrix, MaterializedDataset } from './datasets.js';
export { renderReport, writeReport, buildSections, meanSd, isApproximate, chartSpec, renderSvg, escapeHtml, formatNumber, METRIC_COLUMNS, REPORT_DATA_ELEMENT_ID } from './report/index.js';
export type { ReportData, ReportSection, SeriesPoint, TableRow, MeanSd, MetricColumn, ChartKind } from './report/index.js';
