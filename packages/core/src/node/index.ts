/**
 * `@emlab/core/node`: what needs Node. Atomic writes, text files and streamed
 * lines, output-path checks, saving/loading results and parameters, and
 * sharding one fit over worker threads (importing this entry makes
 * `fit(…, { workers: n })` use threads). The main entry `@emlab/core` has no
 * `node:` imports.
 * @module
 */
export { checkDistinctOutputs, checkWritable, loadParams, loadResult, readJsonFile, readTextFile, saveParams, saveResult, streamLines, writeFileAtomic } from './files.js';
export { THREAD_SHARDS_OPTIONS, threadExecArgv, threadShards, toShared } from './shard-threads.js';
export type { ThreadShardsOptions } from './shard-threads.js';
export { convertToRowCache, openRowCache, openRowSource } from './row-cache.js';
export type { RowFileFormat, RowSourceOptions } from './row-cache.js';
export { csvRowBlocks } from '../online/csv-row-blocks.js';
export type { CsvRowBlock, CsvRowBlocksOptions } from '../online/csv-row-blocks.js';
export type { FileContent } from './files.js';
