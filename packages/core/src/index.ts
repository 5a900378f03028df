export { EmError, EM_ERROR_CODES, emError, formatPath, describeValue } from './errors.js';
export type { EmErrorCode, EmErrorInit, ErrorPath } from './errors.js';
export { createRng, validateSeed } from './rng.js';
export type { Rng, Seed } from './rng.js';
export { initBackend, currentBackend } from './backend.js';
export type { BackendName } from './backend.js';
export { sumStats } from './stats.js';
export type { StatsAlgebra } from './stats.js';
export { isFiniteStructure, reduceFiniteChunks } from './structures.js';
export type { LatentStructure, FiniteStructure, FiniteChunk, FiniteBlockResult, ChunkSums } from './structures.js';
export { FACTOR_GRAPH_BATCH, evidencePatterns, expectedLogFactors, isFactorGraphStructure, marginalizeTable, scopeSize, subTableOffsets, validateFactorGraphSpec } from './factor-graph.js';
export type { EvidenceBatch, EvidencePatternOptions, EvidencePatterns, FactorGraph, FactorGraphSpec, FactorGraphStructure, FactorGraphVariable } from './factor-graph.js';
export { boundKindOf } from './estep.js';
export type { EStep, EStepContext, EStepResult, EStepFamily, BoundKind } from './estep.js';
export { registerEStep, unregisterEStep, listESteps, createEStep } from './registry.js';
export type { EStepRegistration } from './registry.js';
export type { Model, PreparedData, ModelEvent, MStepContext, MStepResult, Parametrization } from './model.js';
export { fit } from './fit.js';
export type { FitOptions, IterationInfo, MonotonicityPolicy } from './fit.js';
export { saveResult, loadResult, saveParams, loadParams, parseResult, toJson, fromJson, omitTimings } from './result.js';
export type { FitResult, IterationRecord, ConvergenceReason, MonotonicityViolation, RestartSummary, SavedParams, ParamsValidator } from './result.js';
export { FLOAT32_UNIT_ROUNDOFF, MONOTONICITY_FACTOR, monotonicityTolerance, convergenceScale } from './tolerance.js';
export { logSumExpRows, oneHotFloat } from './logspace.js';
export { VERSION } from './version.js';
export { rejectUnknownOptions, integerOption, numberOption } from './options.js';
export {
  cholesky,
  choleskyWithJitter,
  choleskyBatch,
  choleskySolve,
  logDetFromCholesky,
  solveLower,
  solveUpper,
  solveLowerTransposed,
  invertLower,
  inverseFromCholesky,
  mahalanobisSq,
  matMul as matMul64,
  transpose as transpose64,
  symmetrize,
  identity,
  toMatrix,
  fromMatrix,
} from './linalg.js';
export type { JitteredCholesky } from './linalg.js';
export { fitGradient, gradientMethodOptions, stationarity, initialParams, registerGradientAdapter, unregisterGradientAdapter, gradientAdapterFor, hasGradientAdapter, listGradientAdapters, DEFAULT_ADAM_LEARNING_RATE, DEFAULT_LBFGS_HISTORY } from './gradient.js';
export type { GradientAdapter, GradientAdapterFactory, GradientProblem, GradientFitOptions, GradientFitResult, GradientOptimizer, StationarityReport, AnyModel } from './gradient.js';
export { ensureGradientKernels, logSumExpRowsDifferentiable, DIFFERENTIABLE_KERNELS } from './gradient-kernels.js';
export { CsvLineReader, splitCsvLine, streamLines } from './csv-lines.js';
