/**
 * Sharding hooks of the Gaussian mixture (`Model.shard`): the prepared data
 * travel to workers as metadata and arrays, and each worker rebuilds the same
 * prepared data (same centring offset, frame, prepared row order, missingness
 * patterns and block boundaries), uploading to its device only the blocks
 * whose first row it owns. Blocks it does not own stay as stubs that know their
 * rows and feature layout but hold no tensors; they are never evaluated there.
 * @module
 */
import { EmError, type ModelShardHooks, type ShardArray, type ShardExportContext, type ShardImportContext, type ShardPayload } from '@emlab/core';
import { uploadBlock, type DataBlock, type FeatureLayout, type GmmPrepared } from './gmm-data.js';
import type { MissingPrepared, PatternSegment } from './gmm-missing.js';
import { reopenStream, streamedPrepared } from './gmm-stream.js';

/** A block as it travels: first row, rows, and whether Φ is precomputed (packed layout). */
type BlockMeta = readonly [start: number, rows: number, packed: 0 | 1];

interface PatternMeta {
  readonly obs: readonly number[];
  readonly mis: readonly number[];
  readonly start: number;
  readonly count: number;
  /** Offset of the pattern's `xo` in the shared `xo` array. */
  readonly xoOffset: number;
  readonly blocks: readonly BlockMeta[] | null;
}

/** The metadata of prepared Gaussian-mixture data (plain JSON). */
interface GmmShardMeta {
  readonly nRows: number;
  readonly nFeatures: number;
  readonly maxNorm: number;
  readonly totalWeight: number;
  readonly offset: readonly number[];
  readonly variance: readonly number[];
  readonly frame: readonly number[] | null;
  readonly blocks: readonly BlockMeta[];
  readonly missing: { readonly nOriginalRows: number; readonly nMissingCells: number; readonly patterns: readonly PatternMeta[] } | null;
  /** Streamed data: where workers reopen the rows (they read their own blocks from it). */
  readonly stream?: { readonly locator: string; readonly upload: boolean };
}

const blockMeta = (b: DataBlock): BlockMeta => [b.start, b.rows, b.phi === undefined && b.layout !== 'packed' ? 0 : 1];

/** The prepared data as metadata and (shared) arrays. */
function exportPrepared(p: GmmPrepared, ctx: ShardExportContext): ShardPayload {
  if (p.stream !== undefined) {
    const locator = p.stream.source.locator;
    if (locator === undefined) throw new EmError('INVALID_ARGUMENT', 'these rows cannot be reopened by workers (their row source has no locator): fit with workers: 1', { path: ['options', 'workers'] });
    const meta: GmmShardMeta = {
      nRows: p.nRows, nFeatures: p.nFeatures, maxNorm: p.maxNorm, totalWeight: p.totalWeight, offset: Array.from(p.offset), variance: Array.from(p.variance),
      frame: p.frame === undefined ? null : Array.from(p.frame), blocks: [], missing: null, stream: { locator, upload: p.blocks.length > 0 },
    };
    return { meta, arrays: {} };
  }
  const arrays: Record<string, ShardArray> = { centred: ctx.share(p.centred) };
  if (p.weights !== undefined) arrays['weights'] = ctx.share(p.weights);
  let missing: GmmShardMeta['missing'] = null;
  if (p.missing !== undefined) {
    const m = p.missing;
    const total = m.patterns.reduce((n, pat) => n + pat.xo.length, 0);
    const xo = new Float64Array(total);
    let at = 0;
    const patterns = m.patterns.map((pat): PatternMeta => {
      xo.set(pat.xo, at);
      const meta = { obs: Array.from(pat.obs), mis: Array.from(pat.mis), start: pat.start, count: pat.count, xoOffset: at, blocks: pat.blocks === undefined ? null : pat.blocks.map(blockMeta) };
      at += pat.xo.length;
      return meta;
    });
    arrays['xo'] = ctx.share(xo);
    arrays['order'] = ctx.share(m.order);
    arrays['allMissingRows'] = ctx.share(m.allMissingRows);
    missing = { nOriginalRows: m.nOriginalRows, nMissingCells: m.nMissingCells, patterns };
  }
  const meta: GmmShardMeta = {
    nRows: p.nRows,
    nFeatures: p.nFeatures,
    maxNorm: p.maxNorm,
    totalWeight: p.totalWeight,
    offset: Array.from(p.offset),
    variance: Array.from(p.variance),
    frame: p.frame === undefined ? null : Array.from(p.frame),
    blocks: p.blocks.map(blockMeta),
    missing,
  };
  return { meta, arrays };
}

function arrayOf<T extends ShardArray>(payload: ShardPayload, key: string, ctor: abstract new (...a: never[]) => T): T {
  const a = payload.arrays[key];
  if (!(a instanceof ctor)) throw new EmError('INTERNAL', `a Gaussian-mixture shard payload lacks the array "${key}"`);
  return a;
}

/** The same prepared data on a worker, with device blocks only where this shard owns the first row. */
function importPrepared(payload: ShardPayload, ctx: ShardImportContext): GmmPrepared {
  const meta = payload.meta as GmmShardMeta;
  if (meta.stream !== undefined) {
    // Streamed blocks are read on first use, so a worker only ever reads the blocks it owns.
    const moments = { offset: Float64Array.from(meta.offset), variance: Float64Array.from(meta.variance), maxNorm: meta.maxNorm, frame: meta.frame === null ? undefined : Float64Array.from(meta.frame) };
    return streamedPrepared(reopenStream(meta.stream.locator), moments, meta.stream.upload && ctx.precisions.includes('float32'));
  }
  const cols = meta.nFeatures;
  const centred = arrayOf(payload, 'centred', Float64Array);
  const weights = payload.arrays['weights'] === undefined ? undefined : arrayOf(payload, 'weights', Float64Array);
  const upload = ctx.precisions.includes('float32');
  const owned: DataBlock[] = [];
  const blockOf = ([start, rows, packed]: BlockMeta): DataBlock => {
    const layout: FeatureLayout = packed === 1 ? 'packed' : 'full';
    if (upload && ctx.owns(start)) {
      const b = uploadBlock(centred, start, rows, cols, packed === 1);
      owned.push(b);
      return b;
    }
    return {
      start,
      rows,
      layout,
      phi: undefined,
      get x(): never {
        throw new EmError('INTERNAL', `the block at prepared row ${start} belongs to another shard`);
      },
    };
  };
  const blocks = meta.blocks.map(blockOf);
  let missing: MissingPrepared | undefined;
  const hostPatterns: PatternSegment[] = [];
  const all = Int32Array.from({ length: cols }, (_, c) => c);
  if (meta.missing === null) {
    hostPatterns.push({ obs: all, mis: new Int32Array(0), start: 0, count: meta.nRows, xo: centred });
  } else {
    const xo = arrayOf(payload, 'xo', Float64Array);
    const patterns = meta.missing.patterns.map((pm): PatternSegment => {
      const obs = Int32Array.from(pm.obs);
      const seg = { obs, mis: Int32Array.from(pm.mis), start: pm.start, count: pm.count, xo: xo.subarray(pm.xoOffset, pm.xoOffset + pm.count * obs.length) };
      return pm.blocks === null ? seg : { ...seg, blocks: pm.blocks.map(blockOf) };
    });
    const nComplete = meta.nRows - patterns.reduce((n, p) => n + p.count, 0);
    if (nComplete > 0) hostPatterns.push({ obs: all, mis: new Int32Array(0), start: 0, count: nComplete, xo: centred.subarray(0, nComplete * cols) });
    hostPatterns.push(...patterns);
    missing = { order: arrayOf(payload, 'order', Int32Array), nOriginalRows: meta.missing.nOriginalRows, allMissingRows: arrayOf(payload, 'allMissingRows', Int32Array), patterns, nMissingCells: meta.missing.nMissingCells };
  }
  return {
    nRows: meta.nRows,
    nFeatures: cols,
    offset: Float64Array.from(meta.offset),
    centred,
    variance: Float64Array.from(meta.variance),
    maxNorm: meta.maxNorm,
    blocks,
    ...(missing === undefined ? {} : { missing }),
    hostPatterns,
    weights,
    totalWeight: meta.totalWeight,
    frame: meta.frame === null ? undefined : Float64Array.from(meta.frame),
    dispose: () => {
      for (const b of owned) {
        b.x.dispose();
        b.phi?.dispose();
      }
      owned.length = 0;
    },
  };
}

/**
 * The Gaussian mixture's sharding hooks (see core's `shard.ts`).
 * @category Gaussian mixtures
 */
export const gmmShardHooks: ModelShardHooks<GmmPrepared> = { exportPrepared, importPrepared };
