/**
 * Exact queries on a factor graph at fixed parameters: posterior marginals of
 * every variable and family given one instance's evidence (float64 junction
 * tree).
 * @module
 */
import { emError, evidencePatterns, marginalizeTable, validateFactorGraphSpec, type FactorGraph } from '@emlab/core';
import { calibrateHostSync } from './fg-calibrate-host.js';
import { buildPlan, type CliquePlan } from './fg-plan.js';
import { scopeCounts } from './factor-graph-estep.js';

/** Evidence for {@link posteriorMarginals}: variable name → state name or index. @category E-steps */
export type FactorGraphEvidence = Readonly<Record<string, string | number>>;

/** What {@link posteriorMarginals} returns. @category E-steps */
export interface PosteriorMarginals {
  /** log p(evidence | θ) (natural log; −∞ when the evidence is impossible). */
  readonly logEvidence: number;
  /** Posterior marginal of every variable, by name: P(variable = state | evidence), states in order. */
  readonly marginals: Readonly<Record<string, readonly number[]>>;
  /** Posterior of every family of the spec (row-major over the family, last variable fastest). */
  readonly families: readonly (readonly number[])[];
}

/**
 * Exact posterior marginals of every variable (and family) of a factor graph
 * given one instance's evidence: one junction-tree calibration.
 *
 * @param graph - a factor graph at fixed parameters (for a Bayesian network: `bnFactorGraph(net)` from `@emlab/models`).
 * @param evidence - observed variables by name, each a state name (needs `states` in the spec), an index, or an
 *   index as a string when no state has that name. Default none.
 * @example
 * ```ts
 * const q = posteriorMarginals(bnFactorGraph(asia), { smoke: 'yes', xray: 'yes' });
 * q.marginals.lung; // [P(lung=yes | ...), P(lung=no | ...)]
 * ```
 * @throws EmError `INVALID_ARGUMENT` for an unknown variable or state; `INVALID_PARAMS` for impossible evidence.
 * @category E-steps
 */
export function posteriorMarginals(graph: FactorGraph, evidence: FactorGraphEvidence = {}): PosteriorMarginals {
  const spec = graph.spec;
  validateFactorGraphSpec(spec);
  const nv = spec.variables.length;
  const row = new Int32Array(nv).fill(-1);
  for (const [name, value] of Object.entries(evidence)) {
    const v = spec.variables.findIndex((x) => x.name === name);
    if (v < 0) {
      throw emError('INVALID_ARGUMENT', ['evidence', name], value, `names no variable of the graph`, `use one of: ${spec.variables.map((x) => x.name).join(', ')}`);
    }
    const variable = spec.variables[v] as FactorGraph['spec']['variables'][number];
    let s = typeof value === 'number' ? value : (variable.states ?? []).indexOf(value);
    // A string that names no state may be a state index ("0", "1", ...).
    if (typeof value === 'string' && s < 0 && /^\d+$/.test(value)) s = Number(value);
    if (!Number.isInteger(s) || s < 0 || s >= variable.cardinality) {
      throw emError('INVALID_ARGUMENT', ['evidence', name], value, `is not a state of "${name}"`, variable.states ? `use one of: ${variable.states.join(', ')}` : `use an index in [0, ${variable.cardinality})`);
    }
    row[v] = s;
  }
  const patterns = evidencePatterns(row, 1, spec.variables.map((v) => v.cardinality), { upload: false });
  try {
    const plan = buildPlan(spec, patterns);
    const cal = calibrateHostSync(graph, patterns, plan);
    const marginals: Record<string, number[]> = {};
    spec.variables.forEach((variable, v) => {
      const ci = plan.tree.variableClique[v] as number;
      marginals[variable.name] = Array.from(marginalizeTable(spec, cal.cliqueCounts[ci] as Float64Array, (plan.cliques[ci] as CliquePlan).axes, [v]));
    });
    const families = scopeCounts(spec, plan, cal, spec.families, plan.familyClique).map((f) => Array.from(f));
    if (!Number.isFinite(cal.logLikelihood)) {
      throw emError('INVALID_PARAMS', ['evidence'], evidence, 'has probability 0 under the parameters', 'check the evidence against the structural zeros of the tables');
    }
    return { logEvidence: cal.logLikelihood, marginals, families };
  } finally {
    patterns.dispose();
  }
}
