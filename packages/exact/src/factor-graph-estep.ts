/**
 * The exact E-step on the `factor-graph` structure: junction-tree (Hugin)
 * calibration over distinct evidence patterns, batched on tensors in float32
 * (`fg-calibrate-tensor.ts`) or pattern by pattern on the host in float64
 * (`fg-calibrate-host.ts`), from one θ-free plan (`fg-plan.ts`).
 *
 * @see Lauritzen, S. L. & Spiegelhalter, D. J. (1988). Local computations with probabilities on graphical structures.
 * @see Jensen, F. V., Lauritzen, S. L. & Olesen, K. G. (1990). Bayesian updating in causal probabilistic networks by local computations (Hugin).
 * @module
 */
import { EmError, expectedLogFactors, marginalizeTable, parseOptions, reduceFactorGraphBlocks, registerEStep, type EStep, type FactorGraphSpec, type FactorGraphStructure, type OptionSchema } from '@emlab/core';
import { hostCalibrator } from './fg-calibrate-host.js';
import { MAX_TABLE_ENTRIES, tensorCalibrator, type Calibration } from './fg-calibrate-tensor.js';
import { planFor, type CliquePlan, type Plan } from './fg-plan.js';

export { MAX_TABLE_ENTRIES };

export function scopeCounts(spec: FactorGraphSpec, plan: Plan, cal: Calibration, scopes: readonly (readonly number[])[], cliqueOf: readonly number[]): Float64Array[] {
  return scopes.map((scope, i) => {
    const ci = cliqueOf[i] as number;
    return marginalizeTable(spec, cal.cliqueCounts[ci] as Float64Array, (plan.cliques[ci] as CliquePlan).axes, scope);
  });
}

/** The option table of {@link factorGraphExactEStep}. @category E-steps */
export const FACTOR_GRAPH_EXACT_OPTIONS = {
  maxTableEntries: { type: 'integer', min: 1, default: MAX_TABLE_ENTRIES, description: 'memory budget: float32 entries per set of clique tables (patterns × Σ clique sizes)' },
} as const satisfies OptionSchema;

/** Options of {@link factorGraphExactEStep}. @category E-steps */
export interface FactorGraphExactOptions {
  /**
   * Memory budget: at most this many float32 entries per set of clique tables (patterns × Σ clique
   * sizes); evidence batches are split further to stay below it. Default {@link MAX_TABLE_ENTRIES}
   * (2²², 16 MB; peak memory is a few times that). ALARM (1020 entries per pattern) fits 4112 patterns.
   */
  readonly maxTableEntries?: number;
}

/**
 * The exact E-step for `factor-graph` structures (junction tree, batched over
 * distinct evidence patterns). q_p = p(hidden | e_p, θ); the bound is the
 * observed-data log-likelihood Σ_p m_p log p(e_p | θ); H(q) = log-likelihood −
 * E_q[log p(x, z | θ)]. In float32 the calibration is batched on tensors
 * (`[patterns, ...clique]` tables); in float64 it runs on the host, pattern by
 * pattern, and agrees with enumeration to roundoff.
 *
 * Diagnostics: `nPatterns` (distinct evidence patterns), `nBatches`, `nCliques`,
 * `maxCliqueSize`, `totalCliqueSize`.
 *
 * @example
 * ```ts
 * import { fit } from '@emlab/core';
 * import { factorGraphExactEStep } from '@emlab/exact';
 * const r = await fit(bayesianNetwork(net, { hidden: ['Z'] }), data, { eStep: factorGraphExactEStep() });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for an unknown option or a `maxTableEntries` that is not an integer >= 1.
 * @category E-steps
 */
export function factorGraphExactEStep(options: FactorGraphExactOptions = {}): EStep<FactorGraphStructure> {
  const maxTableEntries = parseOptions(FACTOR_GRAPH_EXACT_OPTIONS, options, 'factorGraphExactEStep')['maxTableEntries'] as number;
  return {
    name: 'exact',
    kind: 'factor-graph',
    family: 'exact',
    options: { maxTableEntries },
    shardable: true,
    async run(structure, ctx) {
      const plan = planFor(structure.spec, structure.evidence);
      const spec = structure.spec;
      const evidence = structure.evidence;
      const host = ctx.precision === 'float64' ? hostCalibrator(structure, evidence, plan) : undefined;
      // Uploaded on the first block this thread evaluates (none on the main thread of a sharded fit).
      const tensor = host === undefined ? tensorCalibrator(structure, evidence, plan, maxTableEntries) : undefined;
      let r;
      try {
        // Block by block (each from zero, added in block order), so that shards can evaluate blocks.
        r = await reduceFactorGraphBlocks(structure, ctx.rng, async (block) => {
          let weight = 0;
          for (let p = block.start; p < block.start + block.size; p++) weight += evidence.counts[p] as number;
          let cal: Calibration;
          if (host !== undefined) cal = await host.block(block.start, block.size, weight);
          else if (block.batch !== undefined) cal = (tensor as ReturnType<typeof tensorCalibrator>).batch(block.batch, weight);
          else throw new EmError('INTERNAL', `the evidence batch at pattern ${block.start} was not uploaded (float32 needs the indicator tensors: prepare with float32 among the precisions)`);
          const familyCounts = scopeCounts(spec, plan, cal, spec.families, plan.familyClique);
          // A Bayesian network's factor scopes are its families (one array): marginalize once.
          const factorCounts = spec.factorScopes === spec.families ? familyCounts : scopeCounts(spec, plan, cal, spec.factorScopes, plan.factorClique);
          const expectedLogJoint = expectedLogFactors(structure, factorCounts) + (structure.logConstant ?? 0) * weight;
          return { stats: structure.stats(familyCounts), bound: cal.logLikelihood, entropy: cal.logLikelihood - expectedLogJoint, logLikelihood: cal.logLikelihood };
        }, { ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) });
      } finally {
        tensor?.dispose();
      }
      const logLikelihood = r.logLikelihood as number;
      return {
        stats: r.stats,
        bound: logLikelihood,
        entropy: r.entropy,
        logLikelihood,
        diagnostics: {
          nPatterns: structure.evidence.nPatterns,
          nBatches: structure.evidence.batches.length,
          nCliques: plan.cliques.length,
          maxCliqueSize: plan.tree.maxCliqueSize,
          totalCliqueSize: plan.tree.totalSize,
        },
      };
    },
  };
}

registerEStep({
  kind: 'factor-graph',
  method: 'exact',
  family: 'exact',
  description: 'junction tree batched over distinct evidence patterns; the bound is the log-likelihood',
  options: FACTOR_GRAPH_EXACT_OPTIONS,
  create: factorGraphExactEStep,
});

