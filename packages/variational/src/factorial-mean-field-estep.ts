/**
 * Structured mean field for factorial hidden Markov models (Ghahramani &
 * Jordan 1997, §3.5): q(s) = Π_m q_m(s^m), each q_m a Markov chain, updated one
 * chain at a time by forward–backward.
 * @module
 */
import {
  emError,
  forwardBackward,
  parseOptions,
  productChain,
  registerEStep,
  yielder,
  type EStep,
  type FactorialChainStructure,
  type ForwardBackwardResult,
  type OptionSchema,
} from '@emlab/core';

/** The option table of {@link factorialMeanFieldEStep}. @category E-steps */
export const FACTORIAL_MEAN_FIELD_OPTIONS = {
  innerTol: { type: 'number', min: 0, default: 1e-8, description: 'sweeps stop when no marginal q_m(s_t^m = k) moves by more than this' },
  maxSweeps: { type: 'integer', min: 1, default: 100, description: 'at most this many sweeps over the chains per E-step' },
  exactStates: { type: 'integer', min: 0, default: 256, description: 'also compute log p(x | θ) on the product chain (for the trace\'s gap) when Π K_m is at most this; 0: never' },
} as const satisfies OptionSchema;

/** Options of {@link factorialMeanFieldEStep}. @category E-steps */
export interface FactorialMeanFieldOptions {
  /** Inner tolerance on the marginals. Default 1e-8. */
  readonly innerTol?: number;
  /** Sweeps per E-step at most. Default 100. */
  readonly maxSweeps?: number;
  /** Largest product chain on which log p(x | θ) is computed too. Default 256. */
  readonly exactStates?: number;
}

/** The E-step's state: each chain's marginals `[ΣT × K_m]` from the last call (warm start). @category E-steps */
export interface FactorialMeanFieldState {
  marginals: Float64Array[] | undefined;
}

/**
 * Structured mean field for factorial HMMs (Ghahramani & Jordan 1997, §3.5): q(s) = Π_m q_m(s^m)
 * with each q_m a Markov chain over chain m's states. With the other chains fixed, the best q_m is
 * the chain with chain m's own π_m and A_m and the emission log-potential
 * φ_t^m(k) = E_{q_{−m}}[log p(x_t | s_t) | s_t^m = k] (the structure's `meanFieldLogEmission`):
 * one forward–backward per chain update. Sweeps over the chains until no marginal moves by more
 * than `innerTol` (or `maxSweeps`), warm-started from the previous call's marginals (the E-step's
 * state), so every update, and hence the E-half, never lowers L.
 *
 * Bound: L(q, θ) = Σ_m (E_{q_m} log π_m + E_{q_m} log A_m + H(q_m)) + Σ_t E_q log p(x_t | s_t), every
 * constant included (the last term is Σ_k q^M_t(k) φ_t^M(k) of the chain updated last), a lower
 * bound on log p(x | θ). When Π K_m ≤ `exactStates` it also reports log p(x | θ) from a forward pass
 * on the product chain, so the trace's gap is KL(q ‖ posterior). Statistics: per-chain marginals and
 * counts, and second moments of the chains' states as products of marginals (m ≠ l).
 * Diagnostics: `sweeps`, `change` (the last sweep's largest move).
 *
 * @example
 * ```ts
 * const r = await fit(factorialHmm({ nChains: 4, nStates: 3 }), { x, lengths }, { eStep: 'mean-field', eStepOptions: { innerTol: 1e-10 } });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a bad option; `ABORTED` when the signal fires between sweeps.
 * @see Ghahramani, Z. & Jordan, M. I. (1997). Factorial hidden Markov models. Machine Learning 29, 245–273.
 * @see Saul, L. K. & Jordan, M. I. (1996). Exploiting tractable substructures in intractable networks. NIPS 8.
 * @category E-steps
 */
export function factorialMeanFieldEStep(options: FactorialMeanFieldOptions = {}): EStep<FactorialChainStructure, FactorialMeanFieldState> {
  const o = parseOptions(FACTORIAL_MEAN_FIELD_OPTIONS, options, 'factorialMeanFieldEStep');
  const innerTol = o['innerTol'] as number;
  const maxSweeps = o['maxSweeps'] as number;
  const exactStates = o['exactStates'] as number;
  return {
    name: 'mean-field',
    kind: 'factorial-chain',
    family: 'restricted',
    options: { innerTol, maxSweeps, exactStates },
    precisions: ['float64'],
    start: () => ({ marginals: undefined }),
    async run(structure, ctx) {
      const ks = structure.nStates;
      const m = ks.length;
      const rows = structure.nRows;
      const weights = structure.weights;
      const state = ctx.state;
      const warm = state.marginals !== undefined && state.marginals.length === m && state.marginals.every((q, l) => q.length === rows * (ks[l] as number));
      const q: Float64Array[] = warm ? (state.marginals as Float64Array[]).map((a) => Float64Array.from(a)) : ks.map((k) => new Float64Array(rows * k).fill(1 / k));
      const fbs: ForwardBackwardResult[] = new Array(m);
      let lastPhi: Float64Array = new Float64Array(0);
      let sweeps = 0;
      let change = Number.POSITIVE_INFINITY;
      const pause = yielder();
      while (sweeps < maxSweeps) {
        if (ctx.signal?.aborted) throw emError('ABORTED', ['options', 'signal'], 'aborted', 'was aborted during the mean-field sweeps', 'do not abort the fit');
        change = 0;
        for (let l = 0; l < m; l++) {
          const phi = structure.meanFieldLogEmission(l, q);
          const fb = forwardBackward({
            nStates: ks[l] as number,
            lengths: structure.lengths,
            logEmission: phi,
            logInitial: structure.logInitial[l] as Float64Array,
            logTransition: structure.logTransition[l] as Float64Array,
            ...(weights === undefined ? {} : { weights }),
          });
          const old = q[l] as Float64Array;
          for (let i = 0; i < old.length; i++) change = Math.max(change, Math.abs((fb.gamma[i] as number) - (old[i] as number)));
          q[l] = fb.gamma;
          fbs[l] = fb;
          if (l === m - 1) lastPhi = phi;
        }
        sweeps++;
        if (change <= innerTol) break;
        await pause();
      }
      state.marginals = q.map((a) => Float64Array.from(a));

      // L = Σ_m (E log π_m + E log A_m + H(q_m)) + Σ_t w E_q log p(x_t | s_t).
      const rowWeight = new Float64Array(rows);
      let r = 0;
      structure.lengths.forEach((len, s) => {
        const w = weights === undefined ? 1 : (weights[s] as number);
        for (let t = 0; t < len; t++) rowWeight[r++] = w;
      });
      let bound = 0;
      let entropy = 0;
      for (let l = 0; l < m; l++) {
        const fb = fbs[l] as ForwardBackwardResult;
        const li = structure.logInitial[l] as Float64Array;
        const lt = structure.logTransition[l] as Float64Array;
        fb.initialCounts.forEach((c, j) => (bound += c > 0 ? c * (li[j] as number) : 0));
        fb.transitionCounts.forEach((c, ij) => (bound += c > 0 ? c * (lt[ij] as number) : 0));
        entropy += fb.entropy;
      }
      const kLast = ks[m - 1] as number;
      const qLast = q[m - 1] as Float64Array;
      for (let i = 0; i < rows; i++) {
        const w = rowWeight[i] as number;
        if (w === 0) continue;
        let e = 0;
        for (let j = 0; j < kLast; j++) {
          const p = qLast[i * kLast + j] as number;
          if (p > 0) e += p * (lastPhi[i * kLast + j] as number);
        }
        bound += w * e;
      }
      bound += entropy;

      // Statistics: weighted marginals, counts, and E[e eᵀ] with independent chains.
      const offsets: number[] = [];
      let tot = 0;
      for (const k of ks) {
        offsets.push(tot);
        tot += k;
      }
      const marginals = q.map((a, l) => {
        const k = ks[l] as number;
        const out = new Float64Array(a.length);
        for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = (rowWeight[i] as number) * (a[i * k + j] as number);
        return out;
      });
      const pairs = new Float64Array(tot * tot);
      for (let i = 0; i < rows; i++) {
        const w = rowWeight[i] as number;
        if (w === 0) continue;
        for (let l = 0; l < m; l++) {
          const kl = ks[l] as number;
          const ql = q[l] as Float64Array;
          const ol = offsets[l] as number;
          for (let a = 0; a < kl; a++) {
            const pa = ql[i * kl + a] as number;
            if (pa === 0) continue;
            const row = (ol + a) * tot;
            pairs[row + ol + a] = (pairs[row + ol + a] as number) + w * pa;
            for (let h = 0; h < m; h++) {
              if (h === l) continue;
              const kh = ks[h] as number;
              const qh = q[h] as Float64Array;
              const oh = offsets[h] as number;
              for (let b = 0; b < kh; b++) pairs[row + oh + b] = (pairs[row + oh + b] as number) + w * pa * (qh[i * kh + b] as number);
            }
          }
        }
      }
      const stats = structure.stats({ marginals, pairs, initialCounts: fbs.map((f) => f.initialCounts), transitionCounts: fbs.map((f) => f.transitionCounts) });

      let logLikelihood: number | undefined;
      let jointStates = 1;
      for (const k of ks) jointStates *= k;
      if (jointStates <= exactStates) {
        const prod = productChain(structure, exactStates);
        logLikelihood = forwardBackward(
          { nStates: prod.nStates, lengths: structure.lengths, logEmission: structure.jointLogEmission(), logInitial: prod.logInitial, logTransition: prod.logTransition, ...(weights === undefined ? {} : { weights }) },
          { likelihoodOnly: true },
        ).logLikelihood;
      }
      return { stats, bound, entropy, ...(logLikelihood === undefined ? {} : { logLikelihood }), diagnostics: { sweeps, change } };
    },
    dispose(state) {
      state.marginals = undefined;
    },
  };
}

registerEStep({
  kind: 'factorial-chain',
  method: 'mean-field',
  family: 'restricted',
  description: 'structured mean field (Ghahramani & Jordan 1997): q = Π_m q_m, each chain by forward–backward given the others; ELBO with every constant',
  options: FACTORIAL_MEAN_FIELD_OPTIONS,
  create: (options) => factorialMeanFieldEStep((options ?? {}) as FactorialMeanFieldOptions),
});
