/**
 * What every structure kind's block loop (`finite`, `chain`, `factor-graph`) does in a sharded fit
 * (see `shard.ts`): one view type and one block walk, so the three loops cannot drift apart.
 * @module
 */

/**
 * How a block loop treats the blocks of a sharded fit (`structure.shard`, set by a sharded fit, never
 * by models; absent: every block is evaluated here).
 *
 * - On a worker (`owns` and `collect`): only the blocks the shard owns are evaluated (by block index
 *   and first unit: a prepared row, a time step or a distinct evidence pattern), and each outcome
 *   goes to `collect` with its block index; the loop's own totals are then partial.
 * - On the main thread (`outcomes`): the blocks were evaluated elsewhere; the loop adds their outcomes
 *   in block order exactly as it would have added its own, so the E-step's result is bit-identical to
 *   an unsharded run, whatever the number of shards.
 * @typeParam O - a block's outcome in that kind's loop.
 * @category Structures
 */
export interface BlockShardView<O> {
  /** Worker: whether this shard evaluates the block (by index and first unit). */
  readonly owns?: (index: number, start: number) => boolean;
  /**
   * Worker: receives every evaluated block's outcome. (A method, so that a structure of `S` stays
   * assignable to one of `unknown`, as E-steps take it.)
   */
  collect?(index: number, outcome: O): void;
  /** Main thread: every block's outcome, by block index (the structure's blocks are not used). */
  readonly outcomes?: readonly O[];
}

/**
 * The blocks of a structure as (index, outcome thunk) pairs: evaluated here, replayed from a sharded
 * fit's outcomes (main thread), or only the shard's own (worker, which also collects them).
 * @internal
 */
export function* shardedBlocks<C, O>(
  view: BlockShardView<O> | undefined,
  chunks: () => Iterable<C>,
  startOf: (chunk: C) => number,
  evaluate: (chunk: C, index: number) => O,
  select: ((index: number) => boolean) | undefined,
): Generator<{ index: number; outcome: () => O }> {
  if (view?.outcomes !== undefined) {
    for (let i = 0; i < view.outcomes.length; i++) {
      if (select !== undefined && !select(i)) continue;
      const o = view.outcomes[i] as O;
      yield { index: i, outcome: () => o };
    }
    return;
  }
  let index = 0;
  for (const chunk of chunks()) {
    const i = index++;
    if (select !== undefined && !select(i)) continue;
    if (view?.owns !== undefined && !view.owns(i, startOf(chunk))) continue;
    yield {
      index: i,
      outcome: () => {
        const o = evaluate(chunk, i);
        view?.collect?.(i, o);
        return o;
      },
    };
  }
}
