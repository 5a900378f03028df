// TensorFlow.js's declarations use the global `Long` of @types/long (its dependency), which a
// project that lists its own "types" would not load: referenced here, emlab works with any "types".
/// <reference types="long" preserve="true" />
/**
 * `@emlab/core`: the bound L(q, θ), the one loop (`fit`, `fitSteps`), the
 * model and E-step contracts, structure kinds, registries, convergence
 * policies, precision, seeded streams, float64 linear algebra and the
 * gradient baseline. Browser-safe: file I/O is in `@emlab/core/node`.
 * @module
 */
export { EmError, EM_ERROR_CODES, emError, formatPath, describeValue } from './errors.js';
export type { EmErrorCode, EmErrorInit, ErrorPath } from './errors.js';
export { createRng, validateSeed } from './rng.js';
export type { Rng, Seed } from './rng.js';
export { initBackend, currentBackend } from './backend.js';
export type { BackendName } from './backend.js';
export { PRECISIONS, checkPrecision, floatArray, unitRoundoff } from './precision.js';
export type { FloatArray, Precision, PrecisionOption } from './precision.js';
export { sumStats } from './stats.js';
export type { StatsAlgebra } from './stats.js';
export type { LatentStructure } from './structures.js';
export { evaluateFiniteChunk, isFiniteStructure, reduceFiniteChunks, reduceFiniteChunksAsync, structurePrecision } from './finite.js';
export { isRowSource, registerRowSourceOpener, reopenRowSource } from './row-source.js';
export type { RowSource } from './row-source.js';
export { SHARDABLE_KINDS, ShardWorker, checkShardable, isShardEngine, mergeShardOutcomes, registerShardEngineFactory, replayShardStructure, replayStructure, resolveShardEngine, shardModelSpec, shardRange } from './shard.js';
export type {
  MergedShardOutcomes,
  ModelShardHooks,
  ReplayContext,
  ShardableKind,
  ShardArray,
  ShardBlockOutcome,
  ShardEngine,
  ShardEStepSpec,
  ShardExportContext,
  ShardImportContext,
  ShardModelSpec,
  ShardOutcome,
  ShardPayload,
  ShardReply,
  ShardRequest,
  ShardSession,
  ShardSessionSpec,
  ShardWorkerSetup,
} from './shard.js';
export type { BlockShardView } from './block-shard.js';
export type { FiniteBlock, FiniteChoice, FiniteChunk, FiniteChunkOptions, FiniteOutcome, FiniteShardView, FiniteStructure } from './finite.js';
export { isFactorialChainStructure, productChain } from './factorial-chain.js';
export type { FactorialChainCounts, FactorialChainStructure } from './factorial-chain.js';
export { evaluateChainChunk, isChainStructure, reduceChainChunks, reduceChainChunksAsync } from './chain-structure.js';
export type { ChainBlock, ChainChoice, ChainChunk, ChainChunkOptions, ChainOutcome, ChainShardView, ChainStructure, ReduceChainOptions } from './chain-structure.js';
export { FACTOR_GRAPH_BATCH, evidenceFromPatterns, evidencePatterns, expectedLogFactors, isFactorGraphStructure, marginalizeTable, scopeSize, subTableOffsets, validateFactorGraphSpec } from './factor-graph.js';
export { factorGraphBlockRanges, reduceFactorGraphBlocks } from './factor-graph-blocks.js';
export type { FactorGraphBlock, FactorGraphChoice, FactorGraphOutcome, FactorGraphShardView } from './factor-graph-blocks.js';
export type { EvidenceBatch, EvidenceFromPatternsOptions, EvidencePatternArrays, EvidencePatternOptions, EvidencePatterns, FactorGraph, FactorGraphSpec, FactorGraphStructure, FactorGraphVariable } from './factor-graph.js';
export { isContinuousStructure } from './continuous.js';
export type { ContinuousDerivatives, ContinuousMode, ContinuousStructure } from './continuous.js';
export { boundKindOf } from './estep.js';
export type { BoundKind, EStep, EStepContext, EStepFamily, EStepResult, EStepStartContext, MethodFamily } from './estep.js';
export { emMethod, fisherGradientNorm } from './em-method.js';
export { isMethod } from './method.js';
export type { FitContext, Method, MethodSession, MethodStep, RestartContext, RestartRun } from './method.js';
export { createEStep, findEStep, findModel, listESteps, listModels, registerEStep, registerModel, unregisterEStep, unregisterModel } from './registry.js';
export type { EStepRegistration, ModelDataSpec, ModelReadContext, ModelRegistration } from './registry.js';
export { AUTO_FLOAT64_COST } from './model.js';
export type { ConjugateHooks, DegenerateComponent, Model, ModelEvent, MStepContext, MStepResult, Parametrization, PrepareContext, PreparedData, StructureContext } from './model.js';
export { DEFAULT_MAX_ITER, fit, fitSteps, initialParams, logLikelihoodOf, resolveMethod } from './fit.js';
export type { FitOptions, FitProgress, FitRun, FitStep, IterationInfo } from './fit.js';
export { CONVERGENCE_POLICIES, DEFAULT_TOL, convergencePolicy, isConvergencePolicy, noiseFloor } from './convergence.js';
export type { ConvergenceInput, ConvergencePolicy, ConvergencePolicyName, ConvergenceVerdict } from './convergence.js';
export { fromJson, omitTimings, paramsDocument, parseParams, parseResult, toJson } from './result.js';
export type { ConvergenceReason, FitResult, IterationRecord, MonotonicityPolicy, MonotonicityViolation, ParamsValidator, RestartSummary, SavedParams } from './result.js';
export { CONDITIONING_CAP, FLOAT32_UNIT_ROUNDOFF, MONOTONICITY_FACTOR, beyondConditioningCap, convergenceScale, monotonicityTolerance } from './tolerance.js';
export { logSumExpRows, oneHotFloat } from './logspace.js';
export { VERSION } from './version.js';
export { checkOption, describeOptions, parseOptionText, parseOptions } from './option-schema.js';
export type { OptionSchema, OptionSpec, ParseOptionsContext } from './option-schema.js';
export { rejectUnknownOptions, integerOption, numberOption } from './options.js';
export { emitWarning, yieldToEventLoop, yielder } from './platform.js';
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
export { gradientAdapterFor, hasGradientAdapter, listGradientAdapters, registerGradientAdapter, unregisterGradientAdapter } from './gradient/adapters.js';
export type { AnyModel, GradientAdapter, GradientAdapterFactory, GradientProblem } from './gradient/adapters.js';
export { DEFAULT_ADAM_LEARNING_RATE, DEFAULT_LBFGS_HISTORY, GRADIENT_OPTIONS, fitGradient, gradientMethod, gradientMethodOptions } from './gradient/method.js';
export type { GradientFitResult, GradientMethodOptions, GradientOptimizer, GradientReport } from './gradient/method.js';
export { stationarity } from './gradient/stationarity.js';
export type { StationarityReport } from './gradient/stationarity.js';
export { ensureGradientKernels, logSumExpRowsDifferentiable, DIFFERENTIABLE_KERNELS } from './gradient/kernels.js';
export { CsvLineReader, splitCsvLine } from './csv-lines.js';
export { EULER_GAMMA, digamma, logBeta, logGamma, multivariateLogGamma, trigamma } from './special-functions.js';
export { procrustesRotation, squareSvd, symmetricEigen } from './eigen.js';
export type { SquareSvd, SymmetricEigen } from './eigen.js';
export { CHAIN_ROW_SUM_TOLERANCE, ffbs, forwardBackward, validateChainBatch, viterbi } from './chain/index.js';
export type {
  ChainBatch,
  ChainLayout,
  ChainLikelihood,
  FfbsBuffers,
  FfbsOptions,
  FfbsResult,
  ForwardBackwardBuffers,
  ForwardBackwardOptions,
  ForwardBackwardResult,
  ForwardBackwardVariant,
  ViterbiBuffers,
  ViterbiOptions,
  ViterbiResult,
} from './chain/index.js';
export { isInvalidPoint } from './accelerate/em-map.js';
export type { EmMap, EmMapEvaluation, EmMapResult, InvalidPoint } from './accelerate/em-map.js';
export type { Accelerator, AcceleratorState, AcceleratorStep, RejectionReason } from './accelerate/accelerator.js';
export { plainEm } from './accelerate/plain-em.js';
export { squarem } from './accelerate/squarem.js';
export type { SquaremMemory, SquaremMethod, SquaremOptions } from './accelerate/squarem.js';
export { aitken } from './accelerate/aitken.js';
export type { AitkenMemory, AitkenOptions } from './accelerate/aitken.js';
export { parabolicEm } from './accelerate/parabolic-em.js';
export type { ParabolicEmMemory, ParabolicEmOptions } from './accelerate/parabolic-em.js';
export { quasiNewton } from './accelerate/quasi-newton.js';
export type { QuasiNewtonMemory, QuasiNewtonOptions } from './accelerate/quasi-newton.js';
export { ACCELERATOR_NAMES, createAccelerator } from './accelerate/create-accelerator.js';
export type { AcceleratorName, AcceleratorOptionsByName } from './accelerate/create-accelerator.js';
export { numericalHessian } from './standard-errors/numerical-hessian.js';
export { numericalJacobian } from './standard-errors/numerical-jacobian.js';
export type { NumericalDerivativeOptions } from './standard-errors/richardson.js';
export { deltaMethod } from './standard-errors/delta-method.js';
export type { DeltaMethodResult } from './standard-errors/delta-method.js';
export { louisInformation } from './standard-errors/louis-information.js';
export type { LouisInformation, LouisInputs } from './standard-errors/louis-information.js';
export { covarianceFromInformation } from './standard-errors/covariance-from-information.js';
export type { CovarianceEstimate } from './standard-errors/covariance-from-information.js';
export { acceleratedMethod } from './accelerate/accelerated-method.js';
export type { AcceleratedMethodOptions, AcceleratedReport } from './accelerate/accelerated-method.js';
export { ACCELERATOR_OPTION_SCHEMAS } from './accelerate/registrations.js';
export { LouisAccumulator } from './standard-errors/louis-terms.js';
export type { LatentDerivatives, LouisTerms } from './standard-errors/louis-terms.js';
export { flattenParams } from './standard-errors/natural-parameters.js';
export { STANDARD_ERRORS_OPTIONS, standardErrors } from './standard-errors/standard-errors.js';
export type { NamedCovariance, StandardErrorMethod, StandardErrorsOptions, StandardErrorsResult } from './standard-errors/standard-errors.js';
export { ONLINE_EM_OPTIONS, fitOnline, partialFit } from './online/online-em.js';
export type { OnlineBatchRecord, OnlineEmOptions, OnlineFitResult, OnlinePassRecord, OnlineSource, OnlineState } from './online/online-em.js';
