/**
 * The shard views of the `chain` and `factor-graph` block loops, in process (no threads): every block
 * evaluated by exactly one of S shards (chain: by first time step; factor-graph: by first pattern), the
 * collected outcomes merged (`mergeShardOutcomes`) and replayed on a main structure
 * (`replayShardStructure`) give the unsharded outcome exactly (`Object.is` on every number, `toEqual` on
 * the statistics), for S = 1…4 and for more shards than blocks; merging rejects missing, doubled and
 * disagreeing blocks with `INTERNAL`.
 */
import { describe, expect, it } from 'vitest';
import { EmError } from '../src/errors.js';
import { forwardBackward } from '../src/chain/forward-backward.js';
import { reduceChainChunks, type ChainChunk, type ChainOutcome, type ChainStructure } from '../src/chain-structure.js';
import { reduceFactorGraphBlocks, type FactorGraphOutcome } from '../src/factor-graph-blocks.js';
import { evidencePatterns, type FactorGraphStructure } from '../src/factor-graph.js';
import { createRng } from '../src/rng.js';
import { mergeShardOutcomes, replayShardStructure, shardRange, type ShardBlockOutcome, type ShardReply } from '../src/shard.js';
import type { StatsAlgebra } from '../src/stats.js';

type Vec = { readonly v: Float64Array };
const vecAlgebra: StatsAlgebra<Vec> = {
  zero: (like) => ({ v: new Float64Array(like.v.length) }),
  add: (a, b) => ({ v: a.v.map((x, i) => x + (b.v[i] as number)) }),
  scale: (a, c) => ({ v: a.v.map((x) => x * c) }),
};

/** A toy chain structure: K = 3, random emission tables, sequences in blocks of ≤ `blockRows` steps. */
function toyChain(lengths: readonly number[], blockRows: number, weights?: readonly number[]): ChainStructure<Vec> {
  const k = 3;
  const rng = createRng(4).child('toy-chain');
  const total = lengths.reduce((a, b) => a + b, 0);
  const emission = Float64Array.from({ length: total * k }, () => rng.normal() * 2);
  const logInitial = Float64Array.from([0.5, 0.3, 0.2], Math.log);
  const logTransition = Float64Array.from([0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.25, 0.25, 0.5], Math.log);
  const chunks: ChainChunk<Vec>[] = [];
  let s = 0;
  let row = 0;
  while (s < lengths.length) {
    let count = 0;
    let rows = 0;
    while (s + count < lengths.length && (count === 0 || rows + (lengths[s + count] as number) <= blockRows)) rows += lengths[s + count++] as number;
    const r0 = row;
    chunks.push({
      start: s,
      rowStart: r0,
      lengths: Int32Array.from(lengths.slice(s, s + count)),
      ...(weights === undefined ? {} : { weights: Float64Array.from(weights.slice(s, s + count)) }),
      logInitial,
      logTransition,
      logEmission: () => emission.subarray(r0 * k, (r0 + rows) * k),
      stats: (gamma, trans, init) => ({ v: Float64Array.from([...Array.from({ length: k }, (_, j) => { let t = 0; for (let i = j; i < gamma.length; i += k) t += gamma[i] as number; return t; }), ...trans, ...init]) }),
    });
    s += count;
    row += rows;
  }
  return { kind: 'chain', nStates: k, nSequences: lengths.length, nRows: total, algebra: vecAlgebra, chunks: () => chunks };
}

const exact = (block: { batch: Parameters<typeof forwardBackward>[0] }) => {
  const fb = forwardBackward(block.batch);
  return { gamma: fb.gamma, transitionCounts: fb.transitionCounts, initialCounts: fb.initialCounts, entropy: fb.entropy, logLikelihood: fb.logLikelihood, totals: { seen: [1] } };
};

function expectSame<S>(a: { stats: S } & Record<string, unknown>, b: { stats: S } & Record<string, unknown>): void {
  expect(b.stats).toEqual(a.stats);
  for (const key of ['bound', 'logJoint', 'entropy', 'logLikelihood', 'rows', 'sequences', 'patterns']) expect(Object.is(a[key], b[key]), key).toBe(true);
  expect(b['sums']).toEqual(a['sums']);
  expect(b['totals']).toEqual(a['totals']);
}

describe('chain shard view', () => {
  const lengths = [40, 7, 25, 60, 3, 18, 33];
  const weights = [1, 2, 0.5, 1, 3, 1, 0.25];
  for (const nShards of [1, 2, 3, 4, 12]) {
    it(`${nShards} shard(s) by first time step, replayed in block order, equal the unsharded loop`, () => {
      const structure = toyChain(lengths, 50, weights);
      const rng = createRng(1).child('estep');
      const direct = reduceChainChunks(structure, rng, exact);
      const replies: ShardReply[] = [];
      for (let sh = 0; sh < nShards; sh++) {
        const { from, to } = shardRange(structure.nRows, sh, nShards);
        const blocks: ShardBlockOutcome[] = [];
        reduceChainChunks({ ...structure, shard: { owns: (_i, r) => r >= from && r < to, collect: (index, outcome) => blocks.push({ index, outcome }) } }, createRng(1).child('estep'), exact);
        replies.push({ kind: 'chain', nComponents: structure.nStates, nBlocks: [...structure.chunks()].length, blocks });
      }
      const replay = replayShardStructure(mergeShardOutcomes(replies.reverse()), { nRows: structure.nRows, algebra: vecAlgebra, precision: 'float64', structure: () => structure });
      expect(replay.kind).toBe('chain');
      const replayed = reduceChainChunks(replay as ChainStructure<Vec>, rng, () => {
        throw new Error('a replay must not evaluate blocks');
      });
      expectSame(direct as unknown as ChainOutcome<Vec> & Record<string, unknown>, replayed as unknown as ChainOutcome<Vec> & Record<string, unknown>);
      expect(replayed.totals?.['seen']).toEqual(Float64Array.of([...structure.chunks()].length));
    });
  }
});

describe('factor-graph shard view', () => {
  // Three variables, random evidence with missing cells: blocks of 5 distinct patterns.
  const rng = createRng(9).child('toy-fg');
  const cards = [2, 3, 2];
  const nRows = 200;
  const values = Int32Array.from({ length: nRows * 3 }, (_, i) => (rng.uniform() < 0.25 ? -1 : rng.int(cards[i % 3] as number)));
  const evidence = evidencePatterns(values, nRows, cards, { batchSize: 5, upload: false, weights: Float64Array.from({ length: nRows }, (_, r) => 1 + (r % 3)) });
  const spec = { variables: cards.map((c, i) => ({ name: `v${i}`, cardinality: c })), factorScopes: [[0], [1], [2]], families: [[0], [1], [2]] };
  const structure: FactorGraphStructure<Vec> = {
    kind: 'factor-graph',
    spec,
    factorTables: cards.map((c) => new Float64Array(c).fill(1 / c)),
    evidence,
    algebra: vecAlgebra,
    stats: (counts) => ({ v: Float64Array.from(counts.flatMap((c) => [...c])) }),
  };
  // A deterministic per-block evaluation: weighted observed-state counts and a log of them.
  const evaluate = (block: { start: number; size: number }) => {
    const counts = cards.map((c) => new Float64Array(c));
    let bound = 0;
    for (let p = block.start; p < block.start + block.size; p++) {
      const m = evidence.counts[p] as number;
      for (let v = 0; v < 3; v++) {
        const s = evidence.values[p * 3 + v] as number;
        if (s >= 0) (counts[v] as Float64Array)[s] = ((counts[v] as Float64Array)[s] as number) + m;
      }
      bound += m * Math.log(1 + p);
    }
    return { stats: structure.stats(counts), bound, entropy: bound / 3, logLikelihood: bound, sums: { m: block.size } };
  };
  for (const nShards of [1, 2, 3, 100]) {
    it(`${nShards} shard(s) by first pattern, replayed in block order, equal the unsharded loop`, async () => {
      const direct = await reduceFactorGraphBlocks(structure, createRng(1), evaluate);
      const nBlocks = Math.ceil(evidence.nPatterns / 5);
      expect(nBlocks).toBeGreaterThan(4);
      const replies: ShardReply[] = [];
      for (let sh = 0; sh < nShards; sh++) {
        const { from, to } = shardRange(evidence.nPatterns, sh, nShards);
        const blocks: ShardBlockOutcome[] = [];
        await reduceFactorGraphBlocks({ ...structure, shard: { owns: (_i, start) => start >= from && start < to, collect: (index, outcome) => blocks.push({ index, outcome }) } }, createRng(1), evaluate);
        replies.push({ kind: 'factor-graph', nComponents: 3, nBlocks, blocks });
      }
      const replay = replayShardStructure(mergeShardOutcomes(replies), { nRows, algebra: vecAlgebra, precision: 'float64', structure: () => structure });
      const replayed = await reduceFactorGraphBlocks(replay as FactorGraphStructure<Vec>, createRng(1), () => {
        throw new Error('a replay must not evaluate blocks');
      });
      expectSame(direct as unknown as FactorGraphOutcome<Vec> & Record<string, unknown>, replayed as unknown as FactorGraphOutcome<Vec> & Record<string, unknown>);
    });
  }
});

describe('mergeShardOutcomes', () => {
  const outcome = { stats: 0, bound: 0, entropy: 0, logLikelihood: 0, sums: {}, patterns: 1 };
  const reply = (blocks: number[], extra: Partial<ShardReply> = {}): ShardReply => ({ kind: 'factor-graph', nComponents: 2, nBlocks: 3, blocks: blocks.map((index) => ({ index, outcome })), ...extra });
  it('rejects a missing or doubled block, and shards that disagree on the kind or the blocks', () => {
    for (const replies of [[reply([0, 1])], [reply([0, 1]), reply([1, 2])], [reply([0]), reply([1, 2], { kind: 'chain' })], [reply([0]), reply([1, 2], { nBlocks: 4 })]]) {
      let caught: unknown;
      try {
        mergeShardOutcomes(replies);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(EmError);
      expect((caught as EmError).code).toBe('INTERNAL');
    }
    expect(mergeShardOutcomes([reply([2]), reply([0, 1])]).outcomes.length).toBe(3);
  });
});
