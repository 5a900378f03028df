/**
 * Sharding hooks of the hidden Markov model (`Model.shard`): the observations
 * (float64, NaN for a missing cell), the sequence lengths and the sequence
 * weights travel to workers as arrays (shared memory between threads); each
 * worker prepares them again with the same model (same emission family, same
 * blocks of whole sequences, `blockRows` time steps each). A shard owns the
 * blocks whose first time step lies in its range of time steps, so shards get
 * similar numbers of time steps whatever the sequence lengths; a shard whose
 * range holds no block's first step evaluates nothing.
 * @module
 */
import { EmError, type ModelShardHooks, type PreparedData, type PrepareContext, type ShardArray, type ShardExportContext, type ShardImportContext, type ShardPayload } from '@emlab/core';
import type { SequenceData } from './hmm-data.js';
import type { HmmPrepared } from './hmm-structure.js';

/** The metadata of prepared HMM data (plain JSON). */
interface HmmShardMeta {
  /** ΣT: blocks are owned by their first time step. */
  readonly nRows: number;
  readonly cols: number;
  readonly nSequences: number;
}

/** What the hooks need of the model: its own `prepareSequences`. */
interface Preparer<PE> {
  prepareSequences(seq: SequenceData, ctx: PrepareContext): HmmPrepared<PE>;
}

function arrayOf<T extends ShardArray>(payload: ShardPayload, key: string, ctor: abstract new (...a: never[]) => T): T {
  const a = payload.arrays[key];
  if (!(a instanceof ctor)) throw new EmError('INTERNAL', `an HMM shard payload lacks the array "${key}"`);
  return a;
}

/**
 * The HMM's sharding hooks (see core's `shard.ts`), bound to the model that prepares the data again on
 * a worker. Per fit, ΣT·D·8 bytes of observations, S·4 of lengths and S·8 of weights travel once (shared
 * memory for threads); per iteration, θ out and per block K² + K·(2 + emission statistics) float64 back.
 * @category Hidden Markov models
 */
export function hmmShardHooks<PE>(model: Preparer<PE>): ModelShardHooks<HmmPrepared<PE>> {
  return {
    exportPrepared(p: HmmPrepared<PE>, ctx: ShardExportContext): ShardPayload {
      const meta: HmmShardMeta = { nRows: p.nRows, cols: p.x.cols, nSequences: p.nSequences };
      const arrays: Record<string, ShardArray> = { values: ctx.share(p.x.values), lengths: ctx.share(p.lengths) };
      if (p.weights !== undefined) arrays['weights'] = ctx.share(p.weights);
      return { meta, arrays };
    },
    importPrepared(payload: ShardPayload, ctx: ShardImportContext): HmmPrepared<PE> & PreparedData {
      const meta = payload.meta as HmmShardMeta;
      const values = arrayOf(payload, 'values', Float64Array);
      const lengths = arrayOf(payload, 'lengths', Int32Array);
      const weights = payload.arrays['weights'] === undefined ? undefined : arrayOf(payload, 'weights', Float64Array);
      if (lengths.length !== meta.nSequences || values.length !== meta.nRows * meta.cols) throw new EmError('INTERNAL', 'an HMM shard payload does not match its metadata');
      const offsets = new Int32Array(lengths.length + 1);
      for (let s = 0; s < lengths.length; s++) offsets[s + 1] = (offsets[s] as number) + (lengths[s] as number);
      const seq: SequenceData = { values, rows: meta.nRows, cols: meta.cols, lengths, offsets };
      // Host kernels only (float64): every block is cheap to describe, and only owned ones are evaluated.
      return model.prepareSequences(seq, { precisions: ctx.precisions, ...(weights === undefined ? {} : { weights }) });
    },
  };
}
