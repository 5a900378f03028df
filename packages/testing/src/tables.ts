/**
 * fast-check arbitraries for finite E-step unit tests on {@link tableStructure}.
 * @module
 */
import fc from 'fast-check';

/** Options of {@link logJointTableArb}. @category Testing */
export interface LogJointTableOptions {
  readonly minK?: number;
  /** Default 5. */
  readonly maxK?: number;
  /** Default 12. */
  readonly maxRows?: number;
  /** Allow −∞ entries (a component with zero weight), never a whole row. Default true. */
  readonly allowMinusInfinity?: boolean;
}

/**
 * A log-joint table `[N][K]` of finite float32-representable values in [−60, 10]
 * (some −∞ if allowed, but every row has a finite entry), plus a block size for the structure.
 * @category Testing
 */
export function logJointTableArb(options: LogJointTableOptions = {}): fc.Arbitrary<{ table: number[][]; blockRows: number }> {
  const allowInf = options.allowMinusInfinity ?? true;
  return fc.integer({ min: options.minK ?? 1, max: options.maxK ?? 5 }).chain((k) =>
    fc.record({
      table: fc.array(
        fc
          .tuple(
            fc.array(fc.double({ min: -60, max: 10, noNaN: true }).map((v) => Math.fround(v)), { minLength: k, maxLength: k }),
            fc.array(fc.boolean(), { minLength: k, maxLength: k }),
            fc.integer({ min: 0, max: k - 1 }),
          )
          .map(([vals, inf, keep]) => vals.map((v, j) => (allowInf && inf[j] && j !== keep && Math.abs(v) > 40 ? Number.NEGATIVE_INFINITY : v))),
        { minLength: 1, maxLength: options.maxRows ?? 12 },
      ),
      blockRows: fc.integer({ min: 1, max: 5 }),
    }),
  );
}
