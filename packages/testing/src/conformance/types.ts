/**
 * Types shared by the conformance kit's model and E-step suites.
 * @module
 */

/**
 * One property of a conformance suite: a name for the test report and a function that runs it
 * (fast-check inside) and rejects with a readable error naming the counterexample.
 * @category Conformance
 */
export interface ConformanceProperty {
  /** The property's id (e.g. `'monotone'`), shared by all its variants. */
  readonly property: string;
  /** Test name, e.g. `'monotone: exact, float64'`. */
  readonly name: string;
  run(): Promise<void>;
}

/** How much a suite runs. @category Conformance */
export interface ConformanceRunOptions {
  /** fast-check runs per property (properties that run many fits per case use a fifth). Default 20. */
  readonly numRuns?: number;
  /** fast-check seed: fixed by default, so the suite is deterministic; change it to explore. Default 20_240_917. */
  readonly seed?: number;
  /** Timeout of each `it` block in ms (vitest binding only). Default: vitest's. */
  readonly timeout?: number;
}

/** The fast-check seed the kit uses unless told otherwise. @category Conformance */
export const DEFAULT_CONFORMANCE_SEED = 20_240_917;

/** Default fast-check runs per property. @category Conformance */
export const DEFAULT_CONFORMANCE_RUNS = 20;

/** What {@link runConformance} reports per property. @category Conformance */
export interface ConformanceOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  /** The failure (first line of the property's error message), when not ok. */
  readonly error?: string;
}
