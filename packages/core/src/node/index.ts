/**
 * `@emlab/core/node`: what needs Node's file system. Atomic writes, text
 * files and streamed lines, output-path checks, and saving/loading results
 * and parameters. The main entry `@emlab/core` has no `node:` imports.
 * @module
 */
export { checkDistinctOutputs, checkWritable, loadParams, loadResult, readJsonFile, readTextFile, saveParams, saveResult, streamLines, writeFileAtomic } from './files.js';
export { csvRowBlocks } from '../online/csv-row-blocks.js';
export type { CsvRowBlock, CsvRowBlocksOptions } from '../online/csv-row-blocks.js';
export type { FileContent } from './files.js';
