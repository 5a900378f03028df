/**
 * The discrete Bayesian-network model with hidden nodes and missing cells:
 * structure kind `factor-graph` (one factor per node: its CPT over
 * [...parents, node]), statistics = expected family counts, M-step = maximum
 * likelihood or MAP with Dirichlet pseudo-counts on those counts.
 *
 * @see Lauritzen, S. L. (1995). The EM algorithm for graphical association models with missing data.
 * @see Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977).
 * @module
 */
import {
  emError,
  evidencePatterns,
  FACTOR_GRAPH_BATCH,
  integerOption,
  numberOption,
  rejectUnknownOptions,
  type EvidencePatterns,
  type FactorGraph,
  type FactorGraphSpec,
  type FactorGraphStructure,
  type LouisTerms,
  type Model,
  type ModelEvent,
  type ModelShardHooks,
  type MStepContext,
  type MStepResult,
  type Parametrization,
  type PrepareContext,
  type PreparedData,
  type Rng,
  type StructureContext,
  type StatsAlgebra,
  type ConjugateHooks,
} from '@emlab/core';
import { bnConjugate, type BnVbPosterior, type BnVbPrior } from './bn-conjugate.js';
import { checkBnData } from './bn-data.js';
import { bnLouisTerms } from './bn-louis.js';
import { bnShardHooks } from './bn-shard.js';
import { bnSimulate } from './bn-simulate.js';
import type { BayesNet, BnData, BnNode } from './bn-types.js';
import { validateNetwork } from './bn-validate.js';

/**
 * Parameters of a Bayesian network: every node's CPT by node name (plain JSON), in the
 * {@link BnNode} layout (`[...parent configurations, own state]`, own state fastest).
 * @category Bayesian networks
 */
export interface BnParams {
  readonly cpts: Readonly<Record<string, readonly number[]>>;
}

/**
 * Expected sufficient statistics: per node (network order), Σ_n q_n(parents, node), in the CPT
 * layout. Plain float64 numbers, additive over rows.
 * @category Bayesian networks
 */
export interface BnStats {
  readonly counts: readonly (readonly number[])[];
}

/** Options of {@link bayesianNetwork}. @category Bayesian networks */
export interface BayesianNetworkOptions {
  /** Nodes that are never observed (they must not be data columns). Nodes absent from the data are hidden anyway. */
  readonly hidden?: readonly string[];
  /**
   * Dirichlet pseudo-count a ≥ 0 added to every expected count (MAP under a Dirichlet(1 + a)
   * prior on every CPT column of a non-frozen node; the log prior, with its normalizing constant,
   * is part of the reported objective). Default 0 (maximum likelihood).
   */
  readonly pseudoCount?: number;
  /** Nodes whose CPTs stay fixed (at the network's CPTs, or at the given start). */
  readonly frozen?: readonly string[];
  /** Concentration of the seeded random Dirichlet CPT columns of the `random` init. Default 1 (uniform on the simplex). */
  readonly initConcentration?: number;
  /** Distinct evidence patterns per tensor batch of the E-step. Default 4096. */
  readonly batchSize?: number;
}

/** Prepared data: evidence patterns (with their indicator tensors) and complete-family counts. @category Bayesian networks */
export interface BnPrepared extends PreparedData {
  readonly evidence: EvidencePatterns;
  /** Per node: whether its family (node and parents) is observed in every row. */
  readonly completeFamily: readonly boolean[];
  /** Per node: counts of its family over the rows (valid for complete families; used by the `random` init). */
  readonly observedCounts: readonly Float64Array[];
}

/** A Bayesian network's structure: `factor-graph` with BN statistics. @category Bayesian networks */
export type BnStructure = FactorGraphStructure<BnStats>;

/** Elementwise algebra on {@link BnStats}. @category Bayesian networks */
export const bnStatsAlgebra: StatsAlgebra<BnStats> = {
  zero: (like) => ({ counts: like.counts.map((c) => c.map(() => 0)) }),
  add: (a, b) => ({ counts: a.counts.map((c, i) => c.map((x, j) => x + ((b.counts[i] as readonly number[])[j] as number))) }),
  scale: (a, s) => ({ counts: a.counts.map((c) => c.map((x) => x * s)) }),
};

/**
 * The factor-graph spec of a network (θ-free): variables in node order with their states, one
 * factor per node over [...parents, node], families = factor scopes.
 * @category Bayesian networks
 */
export function bnFactorGraphSpec(net: BayesNet): FactorGraphSpec {
  const index = new Map(net.nodes.map((n, i) => [n.name, i]));
  const scopes = net.nodes.map((n, i) => [...n.parents.map((p) => index.get(p) as number), i]);
  return {
    variables: net.nodes.map((n) => ({ name: n.name, cardinality: n.states.length, states: n.states })),
    factorScopes: scopes,
    families: scopes,
  };
}

/**
 * A network (at its own CPTs, or at `params`) as a factor graph, e.g. for exact queries:
 * `posteriorMarginals(bnFactorGraph(net), { smoke: 'yes' })` with `@emlab/exact`.
 * @category Bayesian networks
 */
export function bnFactorGraph(net: BayesNet, params?: BnParams): FactorGraph {
  const spec = bnFactorGraphSpec(net);
  return { spec, factorTables: net.nodes.map((n) => Float64Array.from(params ? (params.cpts[n.name] as readonly number[]) : n.cpt)) };
}

/** The network's own CPTs as {@link BnParams}. @category Bayesian networks */
export function bnParamsFromNetwork(net: BayesNet): BnParams {
  const cpts: Record<string, number[]> = {};
  for (const n of net.nodes) cpts[n.name] = n.cpt.slice();
  return { cpts };
}

/** A copy of the network with the CPTs of `params` (e.g. a fit's result, to write as BIF/JSON). @category Bayesian networks */
export function networkWithParams(net: BayesNet, params: BnParams): BayesNet {
  return {
    name: net.name,
    nodes: net.nodes.map((n): BnNode => ({ name: n.name, states: n.states.slice(), parents: n.parents.slice(), cpt: (params.cpts[n.name] ?? n.cpt).slice() })),
  };
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). @category Bayesian networks */
export function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * A Gamma(shape, 1) draw (Marsaglia & Tsang 2000; shape < 1 by the u^(1/shape) boost).
 * @category Bayesian networks
 */
export function gammaDraw(rng: Rng, shape: number): number {
  if (shape < 1) return gammaDraw(rng, shape + 1) * Math.pow(Math.max(rng.uniform(), Number.MIN_VALUE), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (Math.log(Math.max(u, Number.MIN_VALUE)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * Maximum-likelihood / MAP CPTs from expected family counts (a pure function the model binds).
 *
 * θ_{k|c} = (n_{ck} + a) / Σ_j (n_{cj} + a). A parent configuration c with Σ_j n_{cj} + a·K = 0
 * (no expected count, a = 0) gets the uniform distribution (the prior mode) and is reported.
 *
 * @returns the CPTs and, per node with such configurations, their count and the first one.
 * @category Bayesian networks
 */
export function bnMStepCpt(counts: readonly number[], card: number, pseudoCount: number): { cpt: number[]; empty: number[] } {
  const cpt = new Array<number>(counts.length);
  const empty: number[] = [];
  for (let c = 0; c * card < counts.length; c++) {
    let total = 0;
    for (let k = 0; k < card; k++) total += (counts[c * card + k] as number) + pseudoCount;
    if (total > 0 && Number.isFinite(total)) {
      for (let k = 0; k < card; k++) {
        const n = (counts[c * card + k] as number) + pseudoCount;
        // A positive expected count keeps a positive probability: n / total underflows to exactly 0
        // for a denormal n (an ALARM fit hit it), and a zero CPT entry would then give a later row
        // that needs it probability 0 (a bound of −∞). The floor changes the column sum by < 5e-324.
        cpt[c * card + k] = n > 0 ? Math.max(n / total, Number.MIN_VALUE) : n / total;
      }
    } else {
      for (let k = 0; k < card; k++) cpt[c * card + k] = 1 / card;
      empty.push(c);
    }
  }
  return { cpt, empty };
}

/**
 * A discrete Bayesian network with hidden nodes and missing cells, fitted by EM.
 *
 * - Structure: `factor-graph` (see `@emlab/core`): one factor per node (its CPT), the data grouped
 *   by distinct evidence pattern; the exact E-step (`@emlab/exact`) runs a junction tree batched
 *   over patterns.
 * - Statistics: expected family counts Σ_n q_n(parents, node) ({@link BnStats}).
 * - M-step: {@link bnMStepCpt} per node (frozen nodes keep their CPTs); zero-count parent
 *   configurations are reported as `empty-parent-configuration` events.
 * - Objective: E_q[log p(x, z | θ)] (+ the Dirichlet log prior when `pseudoCount` > 0).
 * - Init `random` (default): seeded Dirichlet(`initConcentration`) columns for every node whose family
 *   touches a hidden node or a missing cell; nodes whose family is observed in every row start at
 *   their observed-count MLE (what the first M-step would give them anyway); frozen nodes at the
 *   network's CPTs. Init `network`: the network's CPTs. `nInit` restarts draw fresh random CPTs.
 *
 * @example
 * ```ts
 * import { fit } from '@emlab/core';
 * import '@emlab/exact';
 * const model = bayesianNetwork(asia, { hidden: ['tub'], pseudoCount: 1 });
 * const r = await fit(model, data, { seed: 0, nInit: 5 });
 * const fitted = networkWithParams(asia, r.params);
 * ```
 * @category Bayesian networks
 */
export class BayesianNetwork implements Model<BnData, BnParams, BnStats, BnPrepared> {
  readonly name = 'bayesian-network';
  readonly structureKind = 'factor-graph';
  readonly initMethods = ['random', 'network'] as const;
  readonly precisions = ['float32', 'float64'] as const;
  readonly acceptsWeights = true;
  readonly stats = bnStatsAlgebra;
  readonly network: BayesNet;
  readonly hidden: readonly string[];
  readonly frozen: readonly string[];
  readonly pseudoCount: number;
  readonly initConcentration: number;
  readonly batchSize: number;
  /** The θ-free factor-graph spec (one object for the model's lifetime: E-steps cache plans on it). */
  readonly spec: FactorGraphSpec;
  private readonly index: ReadonlyMap<string, number>;
  private readonly frozenMask: readonly boolean[];
  /**
   * Variational Bayes over the CPTs (the `vb` method): a Dirichlet(α) prior on every CPT column of
   * every non-frozen node (α = 1 + pseudoCount by default); see `bn-conjugate.ts`.
   */
  readonly conjugate: ConjugateHooks<BnData, BnParams, BnStats, BnPrepared, BnVbPrior, BnVbPosterior>;
  /**
   * Sharding hooks (`fit`'s `workers`): the distinct evidence patterns are sharded in blocks of
   * `batchSize`, each owned by the shard holding its first pattern (see `bn-shard.ts`).
   */
  readonly shard: ModelShardHooks<BnPrepared> = bnShardHooks(this);

  /** @throws EmError `INVALID_ARGUMENT` (options, network structure), `INVALID_PARAMS` (network CPTs). */
  constructor(net: BayesNet, options: BayesianNetworkOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an object', 'pass { hidden, pseudoCount, frozen } or omit it');
    }
    rejectUnknownOptions(options as Readonly<Record<string, unknown>>, ['hidden', 'pseudoCount', 'frozen', 'initConcentration', 'batchSize'], 'bayesianNetwork');
    this.network = validateNetwork(net, { onWarning: () => {} });
    this.index = new Map(this.network.nodes.map((n, i) => [n.name, i]));
    const names = (key: 'hidden' | 'frozen'): string[] => {
      const list = options[key] ?? [];
      if (!Array.isArray(list)) throw emError('INVALID_ARGUMENT', ['options', key], list, 'must be an array of node names', `pass e.g. ${key}: ['${this.network.nodes[0]?.name}']`);
      list.forEach((name, i) => {
        if (typeof name !== 'string' || !this.index.has(name)) {
          throw emError('INVALID_ARGUMENT', ['options', key, i], name, 'is not a node of the network', `use node names: ${this.network.nodes.map((n) => n.name).join(', ')}`);
        }
      });
      return [...new Set(list as string[])];
    };
    this.hidden = names('hidden');
    this.frozen = names('frozen');
    this.pseudoCount = numberOption(options.pseudoCount ?? 0, ['options', 'pseudoCount'], 0);
    this.initConcentration = numberOption(options.initConcentration ?? 1, ['options', 'initConcentration'], Number.MIN_VALUE);
    this.batchSize = integerOption(options.batchSize ?? FACTOR_GRAPH_BATCH, ['options', 'batchSize'], 1);
    this.spec = bnFactorGraphSpec(this.network);
    this.frozenMask = this.network.nodes.map((n) => this.frozen.includes(n.name));
    this.conjugate = bnConjugate(this.network, this.frozenMask, this.pseudoCount, (prepared, params) => this.structure(prepared, params));
  }

  get options(): Readonly<Record<string, unknown>> {
    return { hidden: [...this.hidden], pseudoCount: this.pseudoCount, frozen: [...this.frozen], initConcentration: this.initConcentration, batchSize: this.batchSize };
  }

  /**
   * @throws EmError `INVALID_DATA`: not BnData, unknown or duplicate columns, a state index out of
   *   range (row and column named), a declared hidden node present as a column, no rows.
   */
  validate(data: BnData): void {
    checkBnData(data, this.network);
    if (data.nRows < 1) throw emError('INVALID_DATA', ['data', 'nRows'], data.nRows, 'has no rows', 'pass at least one row');
    if (!data.values.some((v) => v >= 0)) {
      throw emError('INVALID_DATA', ['data'], `${data.nRows} rows`, 'has no observed cell: every value is missing, so nothing can be learned', 'pass data with observed values (a missing cell is -1, an absent column is hidden)');
    }
    data.columns.forEach((col, c) => {
      if (this.hidden.includes(col)) {
        throw emError('INVALID_DATA', ['data', 'columns', c], col, `is declared hidden (options.hidden) but is a column of the data`, `drop the column "${col}" from the data, or remove it from options.hidden`);
      }
    });
  }

  /** @throws EmError `INVALID_PARAMS` naming the node. */
  validateParams(params: unknown, _data?: BnData): asserts params is BnParams {
    validateBnParams(params, this.network);
  }

  /** @throws EmError `INVALID_ARGUMENT` when `ctx.weights` does not have one entry per row. */
  prepare(data: BnData, ctx: PrepareContext = { precisions: ['float32'] }): BnPrepared {
    const nv = this.network.nodes.length;
    const n = data.nRows;
    const w = ctx.weights;
    if (w !== undefined && w.length !== n) {
      throw emError('INVALID_ARGUMENT', ['options', 'weights'], w, `has ${w.length} entries but the data has ${n} rows`, 'pass one weight per row');
    }
    const cols = data.columns.length;
    const colOf = data.columns.map((c) => this.index.get(c) as number);
    const values = new Int32Array(n * nv).fill(-1);
    for (let r = 0; r < n; r++) for (let c = 0; c < cols; c++) values[r * nv + (colOf[c] as number)] = data.values[r * cols + c] as number;
    const observedCounts = this.spec.families.map((f) => new Float64Array(f.reduce((s, v) => s * (this.spec.variables[v]?.cardinality ?? 1), 1)));
    const completeFamily = this.spec.families.map((family, i) => {
      for (let r = 0; r < n; r++) {
        let o = 0;
        for (const v of family) {
          const s = values[r * nv + v] as number;
          if (s < 0) return false;
          o = o * (this.spec.variables[v]?.cardinality ?? 1) + s;
        }
        const t = observedCounts[i] as Float64Array;
        t[o] = (t[o] as number) + (w === undefined ? 1 : (w[r] as number));
      }
      return true;
    });
    const evidence = evidencePatterns(values, n, this.spec.variables.map((v) => v.cardinality), { batchSize: this.batchSize, upload: ctx.precisions.includes('float32'), ...(w === undefined ? {} : { weights: w }) });
    return { nRows: n, totalWeight: evidence.totalWeight, evidence, completeFamily, observedCounts, dispose: () => evidence.dispose() };
  }

  init(prepared: BnPrepared, method: string, rng: Rng): BnParams {
    if (method === 'network') return bnParamsFromNetwork(this.network);
    if (method !== 'random') {
      throw emError('INVALID_ARGUMENT', ['options', 'init'], method, 'is not an initialization method of bayesian-network', "use 'random', 'network' or given parameters");
    }
    const cpts: Record<string, number[]> = {};
    this.network.nodes.forEach((node, i) => {
      const k = node.states.length;
      if (this.frozenMask[i]) {
        cpts[node.name] = node.cpt.slice();
      } else if (prepared.completeFamily[i]) {
        cpts[node.name] = bnMStepCpt(Array.from(prepared.observedCounts[i] as Float64Array), k, this.pseudoCount).cpt;
      } else {
        const r = rng.child('node', node.name);
        const cpt: number[] = [];
        for (let c = 0; c < node.cpt.length / k; c++) {
          const g = Array.from({ length: k }, () => gammaDraw(r, this.initConcentration));
          let t = g.reduce((a, b) => a + b, 0);
          // Tiny concentrations can underflow every draw: fall back to a point mass on one state.
          if (!(t > 0)) {
            g[r.int(k)] = 1;
            t = 1;
          }
          cpt.push(...g.map((x) => x / t));
        }
        cpts[node.name] = cpt;
      }
    });
    return { cpts };
  }

  structure(prepared: BnPrepared, params: BnParams, ctx: StructureContext = { precision: 'float32' }): BnStructure {
    return {
      kind: 'factor-graph',
      precision: ctx.precision,
      spec: this.spec,
      factorTables: this.network.nodes.map((n) => Float64Array.from(params.cpts[n.name] as readonly number[])),
      logConstant: 0,
      evidence: prepared.evidence,
      algebra: bnStatsAlgebra,
      stats: (familyCounts) => ({ counts: familyCounts.map((c) => Array.from(c)) }),
    };
  }

  mStep(stats: BnStats, prev: BnParams, _ctx: MStepContext<BnPrepared>): MStepResult<BnParams> {
    const cpts: Record<string, readonly number[]> = {};
    const events: ModelEvent[] = [];
    this.network.nodes.forEach((node, i) => {
      if (this.frozenMask[i]) {
        cpts[node.name] = prev.cpts[node.name] as readonly number[];
        return;
      }
      const { cpt, empty } = bnMStepCpt(stats.counts[i] as readonly number[], node.states.length, this.pseudoCount);
      cpts[node.name] = cpt;
      if (empty.length > 0) {
        events.push({
          type: 'empty-parent-configuration',
          component: i,
          value: empty.length,
          detail: `node "${node.name}": ${empty.length} parent configuration(s) with zero expected count got the uniform distribution (first: ${describeConfig(this.network, this.index, node, empty[0] as number)})`,
        });
      }
    });
    return events.length > 0 ? { params: { cpts }, events } : { params: { cpts } };
  }

  /**
   * Unconstrained coordinates for the stationarity check (Fisher's identity): per CPT column of
   * every non-frozen node, the K−1 logits log θ_j − log θ_K (frozen nodes keep the network's CPTs).
   * A probability of exactly 0 maps to a logit of −700 (exp underflows to 0 again).
   */
  parametrization(_prepared: BnPrepared): Parametrization<BnParams> {
    const free = this.network.nodes.filter((_, i) => !this.frozenMask[i]);
    const dim = free.reduce((n, node) => n + (node.cpt.length / node.states.length) * (node.states.length - 1), 0);
    return {
      description: 'bn: per CPT column of each non-frozen node, K−1 logits log θ_j − log θ_K',
      dim,
      toVector: (params) => {
        this.validateParams(params);
        const v = new Float64Array(dim);
        let at = 0;
        for (const node of free) {
          const k = node.states.length;
          const cpt = params.cpts[node.name] as readonly number[];
          for (let c = 0; c < cpt.length / k; c++) {
            const last = Math.log(Math.max(cpt[c * k + k - 1] as number, 1e-300));
            for (let j = 0; j < k - 1; j++) v[at++] = Math.max(Math.log(cpt[c * k + j] as number), -700) - last;
          }
        }
        return v;
      },
      fromVector: (v) => {
        const cpts: Record<string, number[]> = {};
        let at = 0;
        this.network.nodes.forEach((node, i) => {
          if (this.frozenMask[i]) {
            cpts[node.name] = node.cpt.slice();
            return;
          }
          const k = node.states.length;
          const cpt: number[] = [];
          for (let c = 0; c < node.cpt.length / k; c++) {
            const logits = [...Array.from({ length: k - 1 }, (_, j) => v[at + j] as number), 0];
            at += k - 1;
            const top = Math.max(...logits);
            const z = logits.reduce((a, l) => a + Math.exp(l - top), 0);
            for (const l of logits) cpt.push(Math.exp(l - top) / z);
          }
          cpts[node.name] = cpt;
        });
        return { cpts };
      },
    };
  }

  /** Σ_node Σ counts · log θ (0 · log 0 = 0), plus the Dirichlet log prior when `pseudoCount` > 0. */
  expectedLogJoint(stats: BnStats, params: BnParams): number {
    let total = 0;
    this.network.nodes.forEach((node, i) => {
      const counts = stats.counts[i] as readonly number[];
      const cpt = params.cpts[node.name] as readonly number[];
      for (let j = 0; j < counts.length; j++) {
        const c = counts[j] as number;
        if (c !== 0) total += c * Math.log(cpt[j] as number);
      }
    });
    return total + this.logPrior(params);
  }

  /**
   * log Π Dir(θ_{·|c} | 1 + a) over the CPT columns of non-frozen nodes, with normalizing
   * constants; 0 when `pseudoCount` = 0 (maximum likelihood, no prior).
   */
  logPrior(params: BnParams): number {
    const a = this.pseudoCount;
    if (a === 0) return 0;
    let total = 0;
    this.network.nodes.forEach((node, i) => {
      if (this.frozenMask[i]) return;
      const k = node.states.length;
      const cpt = params.cpts[node.name] as readonly number[];
      const columns = cpt.length / k;
      total += columns * (logGamma(k * (1 + a)) - k * logGamma(1 + a));
      for (const p of cpt) total += a * Math.log(p);
    });
    return total;
  }

  /**
   * Louis' identity in the natural coordinates (per CPT column of each non-frozen node, the first
   * K − 1 probabilities), by enumerating the unobserved nodes of each distinct evidence pattern
   * (see `bn-louis.ts`; at most 2¹⁶ joint configurations per pattern).
   */
  louis(prepared: BnPrepared, params: BnParams): LouisTerms<BnParams> {
    return bnLouisTerms(this.network, this.frozenMask, prepared.evidence, params, this.pseudoCount);
  }

  /** Rows drawn at `params` over the columns and missing cells of `like` (parametric bootstrap). */
  simulate(params: BnParams, like: BnData, rng: Rng): BnData {
    return bnSimulate(this.network, params, like, rng);
  }

  /** float64 cost of an iteration: a host junction-tree pass over each distinct pattern (≈ 8 flops per family entry). */
  iterationCost(prepared: BnPrepared): number {
    const size = this.spec.families.reduce((n, f) => n + f.reduce((m, v) => m * (this.spec.variables[v]?.cardinality ?? 1), 1), 0);
    return prepared.evidence.nPatterns * size * 8;
  }

  /** Number of free parameters: Σ_node (states − 1) · parent configurations (frozen nodes excluded). */
  nParameters(_params: BnParams): number {
    return this.network.nodes.reduce((s, n, i) => (this.frozenMask[i] ? s : s + (n.cpt.length / n.states.length) * (n.states.length - 1)), 0);
  }
}

function describeConfig(net: BayesNet, index: ReadonlyMap<string, number>, node: BnNode, config: number): string {
  if (node.parents.length === 0) return 'no parents';
  const parts: string[] = [];
  let rest = config;
  for (let j = node.parents.length - 1; j >= 0; j--) {
    const p = net.nodes[index.get(node.parents[j] as string) as number] as BnNode;
    parts.unshift(`${p.name}=${p.states[rest % p.states.length]}`);
    rest = Math.floor(rest / p.states.length);
  }
  return parts.join(', ');
}

/**
 * Checks {@link BnParams} against a network: every node present with a CPT of the right length,
 * entries finite and ≥ 0, each column summing to 1 within 1e-6.
 * @throws EmError `INVALID_PARAMS` naming the node.
 * @category Bayesian networks
 */
export function validateBnParams(params: unknown, net: BayesNet): asserts params is BnParams {
  if (typeof params !== 'object' || params === null || typeof (params as { cpts?: unknown }).cpts !== 'object' || (params as { cpts?: unknown }).cpts === null) {
    throw emError('INVALID_PARAMS', ['params'], params, 'must be { cpts: { [node]: number[] } }', 'pass parameters from bnParamsFromNetwork or a previous fit');
  }
  const cpts = (params as { cpts: Record<string, unknown> }).cpts;
  for (const key of Object.keys(cpts)) {
    if (!net.nodes.some((n) => n.name === key)) throw emError('INVALID_PARAMS', ['params', 'cpts', key], key, 'is not a node of the network', 'remove it');
  }
  for (const node of net.nodes) {
    const cpt = cpts[node.name];
    const path = ['params', 'cpts', node.name];
    if (!Array.isArray(cpt) || cpt.length !== node.cpt.length) {
      throw emError('INVALID_PARAMS', path, cpt, `node "${node.name}" needs a CPT of ${node.cpt.length} numbers`, 'give every node its CPT in the network layout ([...parents, node], node fastest)');
    }
    const k = node.states.length;
    for (let c = 0; c < cpt.length / k; c++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const p = cpt[c * k + j] as unknown;
        if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) {
          throw emError('INVALID_PARAMS', [...path, c * k + j], p, `node "${node.name}": CPT entries must be finite and >= 0`, 'fix the entry');
        }
        sum += p;
      }
      if (Math.abs(sum - 1) > 1e-6) {
        throw emError('INVALID_PARAMS', [...path, c * k], sum, `node "${node.name}": parent configuration ${c} sums to ${sum}, not 1`, 'normalize every CPT column');
      }
    }
  }
}

/**
 * Creates a {@link BayesianNetwork} model for `fit`.
 * @throws EmError `INVALID_ARGUMENT` (options, network structure), `INVALID_PARAMS` (network CPTs).
 * @category Bayesian networks
 */
export function bayesianNetwork(net: BayesNet, options: BayesianNetworkOptions = {}): BayesianNetwork {
  return new BayesianNetwork(net, options);
}
