/**
 * The `factor-graph` structure kind: discrete factors per instance after evidence.
 *
 * A model with discrete latent variables (a Bayesian network with hidden nodes
 * or missing cells, a latent-class model, a Markov random field) describes
 * itself to E-steps as
 *
 * - a {@link FactorGraphSpec}: variables with cardinalities, the scopes of its
 *   factors, and the *families* (variable subsets) whose posterior marginals
 *   its M-step needs. The spec never depends on θ; a model builds it once in
 *   `prepare` and hands the same object to every `structure(prepared, θ)`, so
 *   E-steps may cache θ-free plans (a junction tree, a Gibbs schedule) keyed
 *   on its identity;
 * - the factor tables at θ ({@link FactorGraph.factorTables}), as
 *   probabilities: p(x) ∝ exp(logConstant) · Π_f φ_f(x_f);
 * - the evidence of every instance, grouped by distinct pattern with
 *   multiplicities and uploaded once as indicator tensors
 *   ({@link EvidencePatterns});
 * - how expected family counts become the model's statistics (`stats`) and
 *   their {@link StatsAlgebra}.
 *
 * Why probabilities, not logs: sum-product message passing multiplies and
 * adds tables, so probabilities avoid a log-sum-exp per message (exact E-steps
 * normalize messages per instance and keep the log normalizers instead), and
 * structural zeros stay exact zeros. An E-step that needs logs (mean field:
 * E_q log φ) takes them itself, mapping log 0 to −∞ and using 0 · log 0 = 0.
 *
 * How E-steps consume it (the contract every `factor-graph` E-step keeps):
 *
 * 1. For every distinct pattern p (multiplicity m_p), q_p is a distribution
 *    over the variables; evidence enters as the likelihood vector λ_{p,v}
 *    (`EvidenceBatch.indicators[v]`, `[batchSize, card]`, 1 where a state is
 *    consistent with the evidence, all ones for unobserved variables; `null`
 *    when v is unobserved in the whole batch). Patterns are distinct, so an
 *    E-step's cost grows with `nPatterns`, not `nRows`; E-steps loop over
 *    `evidence.batches` and may build per-batch tensors from the indicators.
 *    The unnormalized posterior of pattern p is
 *    exp(logConstant) Π_f φ_f(x_f) Π_v λ_{p,v}(x_v), and log p(e_p | θ) is the
 *    log of its sum.
 * 2. The statistics are `stats(counts)` with `counts[i]` = Σ_p m_p q_p(x_{family i}),
 *    a row-major table over `spec.families[i]` (last variable fastest),
 *    added over batches in float64 JS.
 * 3. The bound is L(q, θ) = Σ_p m_p (E_{q_p}[log exp(logConstant) Π φ_f] + H(q_p)),
 *    which needs E_q log φ_f, i.e. q marginals over every factor scope (for a
 *    Bayesian network the factor scopes ARE the families, so they come free).
 *    - exact (junction tree, `@emlab/exact`): q_p = posterior; L = Σ m_p log p(e_p);
 *      H = L − E_q log p.
 *    - mean field: q_p = Π_v q_{p,v}, each `[batchSize, card]` tensor updated by
 *      q_v ∝ λ_v · exp(Σ_{f ∋ v} E_{q_{−v}} log φ_f); family counts are products
 *      of variable marginals; H = −Σ_v Σ q_v log q_v.
 *    - Gibbs (`monte-carlo`): per pattern, sweeps over the variables not fixed by
 *      the evidence, drawing x_v ∝ λ_v(x_v) Π_{f ∋ v} φ_f(x_f) for all patterns of a
 *      batch at once (`[batchSize, card]` tables); family counts are the draws'
 *      frequencies times m_p; the bound is a Monte Carlo estimate (E_q log p from
 *      the draws, H from the chain's conditionals), with its standard error.
 *    None of these needs anything from the model beyond this interface.
 * 4. Caching: `spec` is one object per model and `evidence` one per fit, so
 *    θ-free plans (junction trees, schedules) may be cached in a `WeakMap`
 *    keyed on them. Tensors must not outlive a `run` (`fit` checks for leaks);
 *    the indicator tensors belong to the prepared data and are freed with it.
 *    Factor tables are float64 host arrays, small (Σ table sizes); E-steps
 *    upload them as float32 once per `run`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { emError } from './errors.js';
import type { FactorGraphShardView } from './factor-graph-blocks.js';
import type { StatsAlgebra } from './stats.js';
import type { LatentStructure } from './structures.js';

/** One discrete variable of a factor graph. @category Structures */
export interface FactorGraphVariable {
  readonly name: string;
  /** Number of states, ≥ 1. */
  readonly cardinality: number;
  /** State names (optional; used by queries that name states). */
  readonly states?: readonly string[];
}

/**
 * The θ-free shape of a factor graph. Scopes are lists of distinct variable
 * indices; a table over a scope is row-major with the LAST variable fastest.
 * @category Structures
 */
export interface FactorGraphSpec {
  readonly variables: readonly FactorGraphVariable[];
  /** Scope of every factor. */
  readonly factorScopes: readonly (readonly number[])[];
  /** Scopes whose expected counts the model's statistics are made of (for a Bayesian network: [...parents, node], one per node). */
  readonly families: readonly (readonly number[])[];
}

/** A factor graph at given parameters: p(x) ∝ exp(logConstant) Π_f φ_f(x_f). @category Structures */
export interface FactorGraph {
  readonly spec: FactorGraphSpec;
  /** One non-negative table per factor, row-major over its scope (last variable fastest). */
  readonly factorTables: readonly Float64Array[];
  /** log of the constant multiplying the product (0 for a Bayesian network, whose factors are CPTs). Default 0. */
  readonly logConstant?: number;
}

/**
 * A batch of distinct evidence patterns, uploaded once per fit.
 * @category Structures
 */
export interface EvidenceBatch {
  /** Index of the batch's first pattern. */
  readonly start: number;
  /** Number of patterns in the batch. */
  readonly size: number;
  /**
   * Per variable: the likelihood vectors λ `[size, cardinality]` (float32; one-hot for an observed
   * cell, all ones for a missing one), or `null` when the variable is unobserved in every pattern
   * of the batch (hidden), i.e. all ones.
   */
  readonly indicators: readonly (tf.Tensor2D | null)[];
  /** Multiplicities `[1, size]` (float32, shaped for a `matMul` that sums a batch). */
  readonly counts: tf.Tensor2D;
}

/**
 * The evidence of all instances, grouped by distinct pattern.
 *
 * `values[p * nVariables + v]` is the observed state of variable v in
 * pattern p, or −1; `counts[p]` how many instances have that pattern (the sum
 * of their row weights when the data are weighted);
 * `rowPattern[r]` the pattern of instance r. Built by {@link evidencePatterns}.
 * @category Structures
 */
export interface EvidencePatterns {
  readonly nVariables: number;
  readonly nRows: number;
  /** Σ of the row weights (= nRows when unweighted): what `counts` sum to. */
  readonly totalWeight: number;
  readonly nPatterns: number;
  readonly values: Int32Array;
  readonly counts: Float64Array;
  readonly rowPattern: Int32Array;
  /**
   * Patterns in batches of at most `batchSize`, with their indicator tensors (empty when built with
   * `upload: false`; on a shard worker only the batches it owns).
   */
  readonly batches: readonly EvidenceBatch[];
  /** Patterns per batch (also what host E-steps use to walk the patterns). */
  readonly batchSize: number;
  /** Frees the indicator tensors (the owner's `PreparedData.dispose` calls it). */
  dispose(): void;
}

/**
 * A `factor-graph` latent structure: a {@link FactorGraph} at θ plus the
 * evidence of every instance and the way family counts become statistics.
 * See the module documentation for how exact, mean-field and Gibbs E-steps
 * consume it.
 * @category Structures
 */
export interface FactorGraphStructure<S = unknown> extends LatentStructure, FactorGraph {
  readonly kind: 'factor-graph';
  readonly evidence: EvidencePatterns;
  readonly algebra: StatsAlgebra<S>;
  /**
   * The model's statistics from expected family counts: `familyCounts[i]` = Σ_p m_p q_p(x_{family i}),
   * row-major over `spec.families[i]`.
   */
  stats(familyCounts: readonly Float64Array[]): S;
  /**
   * Set by a sharded fit (see `shard.ts`), never by models: how the block loop
   * (`reduceFactorGraphBlocks`, in `factor-graph-blocks.ts`) treats the blocks of patterns.
   * Absent: every block is evaluated here.
   */
  readonly shard?: FactorGraphShardView<S>;
}

/** Narrows a structure to `factor-graph`. @category Structures */
export function isFactorGraphStructure(s: LatentStructure): s is FactorGraphStructure {
  return s.kind === 'factor-graph';
}

/** Default number of patterns per {@link EvidenceBatch}. @category Structures */
export const FACTOR_GRAPH_BATCH = 4096;

/** Number of entries of a table over `scope`. @category Structures */
export function scopeSize(spec: FactorGraphSpec, scope: readonly number[]): number {
  let n = 1;
  for (const v of scope) n *= (spec.variables[v] as FactorGraphVariable).cardinality;
  return n;
}

/**
 * Checks a spec: cardinalities ≥ 1, scopes of distinct valid indices.
 * @throws EmError `INVALID_ARGUMENT` naming the scope.
 * @category Structures
 */
export function validateFactorGraphSpec(spec: FactorGraphSpec): void {
  const n = spec.variables.length;
  spec.variables.forEach((v, i) => {
    if (!Number.isInteger(v.cardinality) || v.cardinality < 1) {
      throw emError('INVALID_ARGUMENT', ['spec', 'variables', i, 'cardinality'], v.cardinality, `variable "${v.name}" needs an integer cardinality >= 1`, 'give every variable at least one state');
    }
  });
  const check = (scopes: readonly (readonly number[])[], what: 'factorScopes' | 'families'): void => {
    scopes.forEach((scope, f) => {
      const seen = new Set<number>();
      for (const v of scope) {
        if (!Number.isInteger(v) || v < 0 || v >= n || seen.has(v)) {
          throw emError('INVALID_ARGUMENT', ['spec', what, f], scope, `must list distinct variable indices in [0, ${n})`, 'fix the scope');
        }
        seen.add(v);
      }
    });
  };
  check(spec.factorScopes, 'factorScopes');
  check(spec.families, 'families');
}

/** Options of {@link evidencePatterns}. @category Structures */
export interface EvidencePatternOptions {
  /** Patterns per batch. Default {@link FACTOR_GRAPH_BATCH}. */
  readonly batchSize?: number;
  /** Row weights `[nRows]`: a pattern's count is the sum of its rows' weights. Default all 1. */
  readonly weights?: Float64Array;
  /** Upload the indicator tensors (float32 kernels). Default true; false keeps only host arrays (float64 E-steps). */
  readonly upload?: boolean;
}

/**
 * Groups instances by distinct evidence pattern and uploads one-hot indicator
 * tensors per batch (once per fit: call it from `prepare`).
 *
 * @param values - `[nRows, cardinalities.length]` row-major, state index or −1 (missing); not checked
 *   beyond the range (the model validates its data first).
 * @param cardinalities - per variable.
 * @throws EmError `INVALID_DATA` for a state outside [−1, cardinality).
 * @category Structures
 */
export function evidencePatterns(values: Int32Array, nRows: number, cardinalities: readonly number[], options: EvidencePatternOptions = {}): EvidencePatterns {
  const nv = cardinalities.length;
  const batchSize = options.batchSize ?? FACTOR_GRAPH_BATCH;
  if (values.length !== nRows * nv) {
    throw emError('INVALID_DATA', ['values'], values, `has length ${values.length}, expected nRows * nVariables = ${nRows * nv}`, 'pass one value (or −1) per row and variable');
  }
  const index = new Map<string, number>();
  const rowPattern = new Int32Array(nRows);
  const firstRow: number[] = [];
  const countsList: number[] = [];
  for (let r = 0; r < nRows; r++) {
    const row = values.subarray(r * nv, (r + 1) * nv);
    for (let v = 0; v < nv; v++) {
      const s = row[v] as number;
      if (s < -1 || s >= (cardinalities[v] as number)) {
        throw emError('INVALID_DATA', ['data', r, v], s, `is not a state of variable ${v} (cardinality ${cardinalities[v]})`, 'pass state indices in [0, cardinality) or −1 for missing');
      }
    }
    const key = row.join(',');
    let p = index.get(key);
    if (p === undefined) {
      p = firstRow.length;
      index.set(key, p);
      firstRow.push(r);
      countsList.push(0);
    }
    countsList[p] = (countsList[p] as number) + (options.weights === undefined ? 1 : (options.weights[r] as number));
    rowPattern[r] = p;
  }
  const nPatterns = firstRow.length;
  const patternValues = new Int32Array(nPatterns * nv);
  firstRow.forEach((r, p) => patternValues.set(values.subarray(r * nv, (r + 1) * nv), p * nv));
  const counts = Float64Array.from(countsList);
  return evidenceFromPatterns({ values: patternValues, counts, rowPattern, nRows }, cardinalities, { batchSize, ...(options.upload === undefined ? {} : { upload: options.upload }) });
}

/** The host arrays of {@link EvidencePatterns}, as they travel to shard workers. @category Structures */
export interface EvidencePatternArrays {
  /** `[nPatterns × nVariables]` state or −1. */
  readonly values: Int32Array;
  /** `[nPatterns]` multiplicities (sums of row weights). */
  readonly counts: Float64Array;
  /** `[nRows]` pattern of every row; may be empty where no query maps rows to patterns (shard workers). */
  readonly rowPattern: Int32Array;
  readonly nRows: number;
}

/** Options of {@link evidenceFromPatterns}. @category Structures */
export interface EvidenceFromPatternsOptions {
  /** Patterns per batch. Default {@link FACTOR_GRAPH_BATCH}. */
  readonly batchSize?: number;
  /** Upload indicator tensors (float32 kernels). Default true. */
  readonly upload?: boolean;
  /** Upload only the batches whose first pattern this returns true for (a shard worker's own). Default all. */
  readonly owns?: (start: number) => boolean;
}

/**
 * {@link EvidencePatterns} from patterns already grouped (what {@link evidencePatterns} builds from rows,
 * and what a shard worker rebuilds from the arrays it gets): batches of `batchSize` patterns, with
 * indicator tensors uploaded for the batches `owns` selects (`batches` then lists only those).
 * @category Structures
 */
export function evidenceFromPatterns(arrays: EvidencePatternArrays, cardinalities: readonly number[], options: EvidenceFromPatternsOptions = {}): EvidencePatterns {
  const nv = cardinalities.length;
  const batchSize = options.batchSize ?? FACTOR_GRAPH_BATCH;
  const { values: patternValues, counts, rowPattern, nRows } = arrays;
  const nPatterns = counts.length;
  const batches: EvidenceBatch[] = [];
  try {
    for (let start = 0; start < nPatterns && options.upload !== false; start += batchSize) {
      if (options.owns !== undefined && !options.owns(start)) continue;
      const size = Math.min(batchSize, nPatterns - start);
      const indicators: (tf.Tensor2D | null)[] = [];
      for (let v = 0; v < nv; v++) {
        const card = cardinalities[v] as number;
        let observed = false;
        for (let p = start; p < start + size && !observed; p++) observed = (patternValues[p * nv + v] as number) >= 0;
        if (!observed) {
          indicators.push(null);
          continue;
        }
        const buf = new Float32Array(size * card);
        for (let i = 0; i < size; i++) {
          const s = patternValues[(start + i) * nv + v] as number;
          if (s < 0) buf.fill(1, i * card, (i + 1) * card);
          else buf[i * card + s] = 1;
        }
        indicators.push(tf.tensor2d(buf, [size, card]));
      }
      batches.push({ start, size, indicators, counts: tf.tensor2d(Float32Array.from(counts.subarray(start, start + size)), [1, size]) });
    }
  } catch (e) {
    disposeBatches(batches);
    throw e;
  }
  let disposed = false;
  let totalWeight = 0;
  for (let p = 0; p < nPatterns; p++) totalWeight += counts[p] as number;
  return {
    nVariables: nv,
    nRows,
    totalWeight,
    nPatterns,
    values: patternValues,
    counts,
    rowPattern,
    batches,
    batchSize,
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeBatches(batches);
    },
  };
}

function disposeBatches(batches: readonly EvidenceBatch[]): void {
  for (const b of batches) {
    b.counts.dispose();
    for (const t of b.indicators) t?.dispose();
  }
}

/**
 * Σ_f Σ_x counts_f(x) log φ_f(x) in float64, with 0 · log 0 = 0: the expected
 * log of the factor product under q, given q's expected counts over every
 * factor scope (`scopeCounts[f]` row-major over `spec.factorScopes[f]`).
 * A positive count on a zero entry gives −∞.
 * @category Structures
 */
export function expectedLogFactors(graph: FactorGraph, scopeCounts: readonly Float64Array[]): number {
  let total = 0;
  graph.factorTables.forEach((table, f) => {
    const counts = scopeCounts[f] as Float64Array;
    for (let i = 0; i < table.length; i++) {
      const c = counts[i] as number;
      if (c !== 0) total += c * Math.log(table[i] as number);
    }
  });
  return total;
}

/**
 * Sums a row-major table over `scope` down to `target` ⊆ `scope` (float64),
 * keeping `target`'s order.
 * @throws Error when `target` is not a subset of `scope`.
 * @category Structures
 */
export function marginalizeTable(spec: FactorGraphSpec, table: ArrayLike<number>, scope: readonly number[], target: readonly number[]): Float64Array {
  for (const v of target) if (!scope.includes(v)) throw new Error(`marginalizeTable: variable ${v} is not in the scope [${scope.join(', ')}]`);
  const cards = spec.variables.map((v) => v.cardinality);
  const offsets = subTableOffsets(scope, target, cards);
  const out = new Float64Array(target.reduce((n, v) => n * (cards[v] as number), 1));
  for (let i = 0; i < table.length; i++) out[offsets[i] as number] = (out[offsets[i] as number] as number) + (table[i] as number);
  return out;
}

/**
 * For every entry x of a row-major table over `vars` (last fastest), the index of x's
 * configuration of `sub` ⊆ `vars` in a row-major table over `sub` (in `sub`'s order);
 * `cards[v]` is variable v's cardinality. What marginalizing and message passing index by.
 * @category Structures
 */
export function subTableOffsets(vars: readonly number[], sub: readonly number[], cards: readonly number[]): Int32Array {
  // Stride of each table axis in the sub-table (0 when the axis is not in `sub`).
  const stride = vars.map((v) => {
    const j = sub.indexOf(v);
    if (j < 0) return 0;
    let st = 1;
    for (let k = j + 1; k < sub.length; k++) st *= cards[sub[k] as number] as number;
    return st;
  });
  const shape = vars.map((v) => cards[v] as number);
  const out = new Int32Array(shape.reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  let o = 0;
  for (let x = 0; x < out.length; x++) {
    out[x] = o;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      o += stride[a] as number;
      if ((idx[a] as number) < (shape[a] as number)) break;
      o -= (stride[a] as number) * (shape[a] as number);
      idx[a] = 0;
    }
  }
  return out;
}
