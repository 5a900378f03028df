/**
 * The exact E-step over factorial hidden Markov chains: forward–backward on
 * the product chain of Π_m K_m joint states.
 * @module
 */
import { emError, forwardBackward, parseOptions, productChain, registerEStep, type EStep, type FactorialChainStructure, type OptionSchema } from '@emlab/core';

/** The option table of {@link factorialExactEStep}. @category E-steps */
export const FACTORIAL_EXACT_OPTIONS = {
  maxJointStates: { type: 'integer', min: 1, default: 4096, description: 'largest product chain (Π K_m joint states) it accepts; the cost is O(ΣT · (Π K_m)²)' },
} as const satisfies OptionSchema;

/**
 * The per-chain weighted marginals, counts and stacked-indicator second moments of a posterior over
 * the product chain (gamma `[ΣT × N]` unweighted, counts weighted, as `forwardBackward` returns them).
 * @internal
 */
export function marginalizeProduct(
  structure: FactorialChainStructure,
  digits: Int32Array,
  gamma: Float64Array,
  transitionCounts: Float64Array,
  initialCounts: Float64Array,
): { marginals: Float64Array[]; pairs: Float64Array; initialCounts: Float64Array[]; transitionCounts: Float64Array[] } {
  const ks = structure.nStates;
  const m = ks.length;
  const n = initialCounts.length;
  const offsets: number[] = [];
  let tot = 0;
  for (const k of ks) {
    offsets.push(tot);
    tot += k;
  }
  const rows = structure.nRows;
  const rowWeight = new Float64Array(rows);
  let r = 0;
  structure.lengths.forEach((len, s) => {
    const w = structure.weights === undefined ? 1 : (structure.weights[s] as number);
    for (let t = 0; t < len; t++) rowWeight[r++] = w;
  });
  const marginals = ks.map((k) => new Float64Array(rows * k));
  const mass = new Float64Array(n);
  for (let i = 0; i < rows; i++) {
    const w = rowWeight[i] as number;
    if (w === 0) continue;
    for (let c = 0; c < n; c++) {
      const g = w * (gamma[i * n + c] as number);
      if (g === 0) continue;
      mass[c] = (mass[c] as number) + g;
      for (let l = 0; l < m; l++) {
        const a = marginals[l] as Float64Array;
        const idx = i * (ks[l] as number) + (digits[c * m + l] as number);
        a[idx] = (a[idx] as number) + g;
      }
    }
  }
  const pairs = new Float64Array(tot * tot);
  for (let c = 0; c < n; c++) {
    const g = mass[c] as number;
    if (g === 0) continue;
    for (let l = 0; l < m; l++) {
      const a = (offsets[l] as number) + (digits[c * m + l] as number);
      for (let h = 0; h < m; h++) {
        const b = (offsets[h] as number) + (digits[c * m + h] as number);
        pairs[a * tot + b] = (pairs[a * tot + b] as number) + g;
      }
    }
  }
  const init = ks.map((k) => new Float64Array(k));
  const trans = ks.map((k) => new Float64Array(k * k));
  for (let c = 0; c < n; c++) {
    const g = initialCounts[c] as number;
    if (g !== 0) {
      for (let l = 0; l < m; l++) {
        const a = init[l] as Float64Array;
        const j = digits[c * m + l] as number;
        a[j] = (a[j] as number) + g;
      }
    }
    for (let d = 0; d < n; d++) {
      const t = transitionCounts[c * n + d] as number;
      if (t === 0) continue;
      for (let l = 0; l < m; l++) {
        const k = ks[l] as number;
        const a = trans[l] as Float64Array;
        const ij = (digits[c * m + l] as number) * k + (digits[d * m + l] as number);
        a[ij] = (a[ij] as number) + t;
      }
    }
  }
  return { marginals, pairs, initialCounts: init, transitionCounts: trans };
}

/**
 * Exact inference in a factorial HMM: the M chains as one chain over the Π_m K_m joint states
 * (log initial Σ_m log π_m, log transition Σ_m log A_m, the joint emission table), forward–backward
 * on it, and the posterior marginalized to per-chain marginals and counts and the pairwise
 * second moments of the chains' states. The bound is the log-likelihood Σ_s w_s log p(x_s | θ);
 * H(q) is the entropy of the posterior over joint paths. Cost O(ΣT · (Π K_m)²), so only for small
 * products (`maxJointStates`); use `mean-field` beyond.
 *
 * @example
 * ```ts
 * const r = await fit(factorialHmm({ nChains: 2, nStates: 3 }), { x, lengths }); // 'exact' is the default
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option, or at run time for a product chain larger than `maxJointStates`.
 * @see Ghahramani, Z. & Jordan, M. I. (1997). Factorial hidden Markov models. Machine Learning 29, 245–273.
 * @category E-steps
 */
export function factorialExactEStep(options: Readonly<Record<string, unknown>> & { readonly maxJointStates?: number } = {}): EStep<FactorialChainStructure> {
  const maxJointStates = parseOptions(FACTORIAL_EXACT_OPTIONS, options, 'factorialExactEStep')['maxJointStates'] as number;
  return {
    name: 'exact',
    kind: 'factorial-chain',
    family: 'exact',
    options: { maxJointStates },
    precisions: ['float64'],
    run(structure, ctx) {
      if (ctx.signal?.aborted) throw emError('ABORTED', ['options', 'signal'], 'aborted', 'was aborted before the E-step', 'do not abort the fit');
      const prod = productChain(structure, maxJointStates);
      const fb = forwardBackward({
        nStates: prod.nStates,
        lengths: structure.lengths,
        logEmission: structure.jointLogEmission(),
        logInitial: prod.logInitial,
        logTransition: prod.logTransition,
        ...(structure.weights === undefined ? {} : { weights: structure.weights }),
      });
      const counts = marginalizeProduct(structure, prod.digits, fb.gamma, fb.transitionCounts, fb.initialCounts);
      return { stats: structure.stats(counts), bound: fb.logLikelihood, entropy: fb.entropy, logLikelihood: fb.logLikelihood, diagnostics: { jointStates: prod.nStates } };
    },
  };
}

registerEStep({
  kind: 'factorial-chain',
  method: 'exact',
  family: 'exact',
  description: 'forward–backward on the product chain of the factorial model (Π K_m joint states); the bound is the log-likelihood',
  options: FACTORIAL_EXACT_OPTIONS,
  create: factorialExactEStep,
});
