/**
 * Sharding hooks of the Bayesian network (`Model.shard`): the distinct
 * evidence patterns and their multiplicities (sums of row weights) travel to
 * workers as arrays (shared memory between threads), never the rows. Each
 * worker rebuilds the same patterns in the same blocks of `batchSize`
 * patterns and uploads indicator tensors (float32 kernels) only for the
 * blocks it owns: those whose first pattern lies in its range of patterns.
 * @module
 */
import { EmError, evidenceFromPatterns, type ModelShardHooks, type ShardArray, type ShardExportContext, type ShardImportContext, type ShardPayload } from '@emlab/core';
import type { BnPrepared } from './bn-model.js';
import type { BayesNet } from './bn-types.js';

/** The metadata of prepared network data (plain JSON). */
interface BnShardMeta {
  readonly nRows: number;
  /** Distinct evidence patterns: blocks are owned by their first pattern. */
  readonly shardUnits: number;
  readonly nVariables: number;
  readonly batchSize: number;
  readonly completeFamily: readonly boolean[];
  /** Length of every node's observed-count table in `observedCounts` (concatenated). */
  readonly observedSizes: readonly number[];
}

/** What the hooks need of the model. */
interface BnShardModel {
  readonly network: BayesNet;
  readonly options: Readonly<Record<string, unknown>>;
}

function arrayOf<T extends ShardArray>(payload: ShardPayload, key: string, ctor: abstract new (...a: never[]) => T): T {
  const a = payload.arrays[key];
  if (!(a instanceof ctor)) throw new EmError('INTERNAL', `a Bayesian-network shard payload lacks the array "${key}"`);
  return a;
}

/**
 * The Bayesian network's sharding hooks (see core's `shard.ts`). Per fit, P·V·4 bytes of pattern values
 * and P·8 of multiplicities travel once (P distinct patterns, V nodes); per iteration, the CPTs out and,
 * per block of patterns, the expected family counts (Σ_node |CPT| float64) back. Workers rebuild the
 * model from the registry with its network (`workerOptions`).
 * @category Bayesian networks
 */
export function bnShardHooks(model: BnShardModel): ModelShardHooks<BnPrepared> {
  return {
    workerOptions: () => ({ ...model.options, network: model.network }),
    exportPrepared(p: BnPrepared, ctx: ShardExportContext): ShardPayload {
      const e = p.evidence;
      const observed = new Float64Array(p.observedCounts.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of p.observedCounts) {
        observed.set(c, at);
        at += c.length;
      }
      const meta: BnShardMeta = {
        nRows: p.nRows,
        shardUnits: e.nPatterns,
        nVariables: e.nVariables,
        batchSize: e.batchSize,
        completeFamily: [...p.completeFamily],
        observedSizes: p.observedCounts.map((c) => c.length),
      };
      return { meta, arrays: { values: ctx.share(e.values), counts: ctx.share(e.counts), observedCounts: observed } };
    },
    importPrepared(payload: ShardPayload, ctx: ShardImportContext): BnPrepared {
      const meta = payload.meta as BnShardMeta;
      const values = arrayOf(payload, 'values', Int32Array);
      const counts = arrayOf(payload, 'counts', Float64Array);
      const observed = arrayOf(payload, 'observedCounts', Float64Array);
      const cards = model.network.nodes.map((n) => n.states.length);
      if (cards.length !== meta.nVariables || counts.length !== meta.shardUnits || values.length !== meta.shardUnits * meta.nVariables) {
        throw new EmError('INTERNAL', 'a Bayesian-network shard payload does not match its network (the workers must rebuild the same model)');
      }
      // No row → pattern map on workers: they only run E-steps, which see patterns.
      const evidence = evidenceFromPatterns({ values, counts, rowPattern: new Int32Array(0), nRows: meta.nRows }, cards, {
        batchSize: meta.batchSize,
        upload: ctx.precisions.includes('float32'),
        owns: (start) => ctx.owns(start),
      });
      let at = 0;
      const observedCounts = meta.observedSizes.map((n) => {
        const c = observed.slice(at, at + n);
        at += n;
        return c;
      });
      return { nRows: meta.nRows, totalWeight: evidence.totalWeight, evidence, completeFamily: [...meta.completeFamily], observedCounts, dispose: () => evidence.dispose() };
    },
  };
}
