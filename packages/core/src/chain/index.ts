/**
 * Hidden-Markov-model (`chain`) kernels: forward–backward, Viterbi and
 * forward-filtering backward-sampling over a batch of sequences, in float64.
 *
 * @module
 */
export { forwardBackward } from './forward-backward.js';
export { viterbi } from './viterbi.js';
export { ffbs } from './ffbs.js';
export { validateChainBatch, CHAIN_ROW_SUM_TOLERANCE } from './validate.js';
export type { ChainLayout } from './validate.js';
export type {
  ChainBatch,
  ChainLikelihood,
  ForwardBackwardVariant,
  ForwardBackwardBuffers,
  ForwardBackwardOptions,
  ForwardBackwardResult,
  ViterbiBuffers,
  ViterbiOptions,
  ViterbiResult,
  FfbsBuffers,
  FfbsOptions,
  FfbsResult,
} from './types.js';
