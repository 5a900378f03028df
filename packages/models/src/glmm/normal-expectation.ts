/**
 * Quadrature rules for E f(μ + s Z), Z ~ N(0, 1), accurate to ~1e-12 for the
 * logistic family's A = softplus, A' = σ and A'' = σ(1 − σ).
 *
 * These functions are analytic in the strip |Im η| < π (their singularities
 * are at η = iπ(2k + 1)), so in the variable of a rule centred at μ with
 * scale s the strip has half-width π/s (Z) or π/(√2 s) (Gauss–Hermite's x),
 * and both rules below converge geometrically at a rate set by that width:
 *
 * - s ≤ 1.5: Gauss–Hermite with n = ⌈10 + 27 s²⌉ nodes (≤ 71). Its error
 *   behaves like exp(−2a√(2n)) with a = π/(√2 s) (Barrett 1961), so n must
 *   grow like s²; 20 s² already gave errors ≲ 1e-13 over μ ∈ [−10, 10] when
 *   measured against a fine reference, and 27 s² leaves a margin.
 * - s > 1.5: the trapezoid rule in Z on [−9, 9] with step h = 0.5/⌈s/1.1⌉
 *   (36⌈s/1.1⌉ + 1 nodes: fewer than Gauss–Hermite needs from here on, and
 *   Gauss–Hermite would need more than 100 nodes beyond s ≈ 1.9). Its
 *   error is ≈ 2 e^(d²/2) e^(−2πd/h) with d = π/s (Trefethen & Weideman
 *   2014), below 1e-14 for these h, plus the tail mass beyond |Z| = 9
 *   (2e-19). Its weights h φ(t_k) are normalized to sum to 1.
 *
 * Both rules depend on s only, so a Newton iteration over μ (the β M-step)
 * differentiates one fixed smooth function of μ.
 * @module
 */
import { gaussHermite } from './gauss-hermite.js';

/** Scales above this use the trapezoid rule (fewer nodes than Gauss–Hermite from here on). @category GLMM */
export const NORMAL_RULE_GH_MAX_SCALE = 1.5;

/** A rule E f(μ + s Z) ≈ Σ_k w_k f(μ + s t_k). @category GLMM */
export interface NormalRule {
  /** `[K]` standardized nodes t_k. */
  readonly nodes: Float64Array;
  /** `[K]` weights, Σ w_k = 1. */
  readonly weights: Float64Array;
  /** Which rule it is. */
  readonly kind: 'gauss-hermite' | 'trapezoid';
}

const ghCache = new Map<number, NormalRule>();
const trapCache = new Map<number, NormalRule>();
const POINT_RULE: NormalRule = { nodes: new Float64Array(1), weights: Float64Array.of(1), kind: 'gauss-hermite' };

/** Gauss–Hermite nodes for a standard normal: t = √2 x, w / √π. */
function normalGaussHermite(n: number): NormalRule {
  const hit = ghCache.get(n);
  if (hit !== undefined) return hit;
  const r = gaussHermite(n);
  const rule: NormalRule = {
    nodes: r.nodes.map((x) => Math.SQRT2 * x),
    weights: r.weights.map((w) => w / Math.sqrt(Math.PI)),
    kind: 'gauss-hermite',
  };
  ghCache.set(n, rule);
  return rule;
}

function trapezoid(j: number): NormalRule {
  const hit = trapCache.get(j);
  if (hit !== undefined) return hit;
  const h = 0.5 / j;
  const half = Math.ceil(9 / h);
  const K = 2 * half + 1;
  const nodes = new Float64Array(K);
  const weights = new Float64Array(K);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const t = (k - half) * h;
    nodes[k] = t;
    weights[k] = Math.exp(-0.5 * t * t);
    sum += weights[k]!;
  }
  for (let k = 0; k < K; k++) weights[k] = weights[k]! / sum;
  const rule: NormalRule = { nodes, weights, kind: 'trapezoid' };
  trapCache.set(j, rule);
  return rule;
}

/**
 * The rule for scale s ≥ 0 (see the module notes for how nodes are chosen); s = 0 gives the point rule.
 * @category GLMM
 */
export function normalExpectationRule(s: number): NormalRule {
  if (!(s > 0)) return POINT_RULE;
  if (s <= NORMAL_RULE_GH_MAX_SCALE) return normalGaussHermite(Math.ceil(10 + 27 * s * s));
  return trapezoid(Math.ceil(s / 1.1));
}
