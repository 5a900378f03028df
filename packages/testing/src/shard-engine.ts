/**
 * A shard engine wrapper for tests of sharded fits: records how many blocks each shard evaluated.
 * @module
 */
import type { ShardEngine } from '@emlab/core';

/**
 * `inner` (worker threads, a queue, …) that records, per sharded E-step, how many blocks each shard
 * evaluated (`owned[call][shard]`): what tests of block ownership check.
 * @category Testing
 */
export function countingShardEngine(inner: ShardEngine): ShardEngine & { readonly owned: number[][] } {
  const owned: number[][] = [];
  return {
    kind: inner.kind,
    shards: inner.shards,
    owned,
    async open(spec) {
      const session = await inner.open(spec);
      return {
        shards: session.shards,
        async evaluate(request) {
          const replies = await session.evaluate(request);
          owned.push(replies.map((r) => r.blocks.length));
          return replies;
        },
        close: () => session.close(),
      };
    },
  };
}
