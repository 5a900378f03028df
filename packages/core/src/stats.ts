/**
 * Sufficient-statistics algebra: the interface between E-step and M-step.
 *
 * Statistics are plain JS data (float64), additive over rows: the statistics
 * of rows A plus those of rows B equal those of A ∪ B. That one property gives
 * chunked E-steps, streaming/online EM, incremental (Neal–Hinton) EM, SAEM and
 * sharding across worker threads without changing the loop.
 *
 * @module
 */

/**
 * zero / add / scale for a model's sufficient statistics.
 * @typeParam S - the statistics type (plain data, JSON-serialisable).
 * @category Interfaces
 */
export interface StatsAlgebra<S> {
  /** The additive identity (statistics of zero rows). `like` fixes shapes and references. */
  zero(like: S): S;
  /** a + b, a new object (inputs untouched). */
  add(a: S, b: S): S;
  /** c · a, a new object (used by Monte Carlo averaging and stochastic approximation). */
  scale(a: S, c: number): S;
}

/** Adds a list of statistics with an algebra (left to right). @category Interfaces */
export function sumStats<S>(algebra: StatsAlgebra<S>, parts: readonly S[]): S {
  if (parts.length === 0) throw new Error('sumStats: empty list');
  let acc = parts[0] as S;
  for (let i = 1; i < parts.length; i++) acc = algebra.add(acc, parts[i] as S);
  return acc;
}
