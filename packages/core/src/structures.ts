/**
 * Latent-structure types: what an E-step sees of a model.
 *
 * Models never import E-step packages and E-step packages never import
 * models: they meet here. A model's `structure(prepared, params, ctx)` returns
 * one of these; the registry maps (structure kind, method) to E-steps.
 *
 * Kinds: `finite` (a K-way latent per row, `finite.ts`; rows with missing
 * Gaussian entries are `finite` too), `factor-graph` (discrete factors per
 * instance after evidence, `factor-graph.ts`), `chain` (hidden Markov chains
 * per sequence, `chain-structure.ts`). A new kind is a new interface with a new `kind`
 * string; nothing in `fit` changes.
 *
 * @module
 */
import type { Precision } from './precision.js';

/** Base of every latent structure. @category Structures */
export interface LatentStructure {
  /** The structure kind, e.g. `'finite'`. The registry key together with the method name. */
  readonly kind: string;
  /** The arithmetic the structure's kernels compute in. */
  readonly precision?: Precision;
  /** Frees tensors the structure holds (uploaded parameters). Called by `fit`. */
  dispose?(): void;
}
