/**
 * How a failure reaches the user: one line on stderr, never a stack trace
 * (unless `EMLAB_DEBUG=1`). User errors (`EmError`) exit 2; running out of
 * memory (an allocation or the wasm memory) exits 2 with a remedy; anything
 * else is a bug in emlab: exit 1 with a "please report" line.
 * @module
 */
import { EmError } from '@emlab/core';
import type { CliIo } from './io.js';

/** Messages of allocation failures: V8's, and the wasm backend's when its memory is exhausted. */
const OUT_OF_MEMORY = /Array buffer allocation failed|Invalid (?:typed )?array length|Invalid string length|out of memory|table index is out of bounds|memory access out of bounds|Cannot allocate Wasm memory|WebAssembly\.Memory/i;

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ');

/**
 * Prints `e` for the user and returns the exit code.
 * @param argv - the command line (named in the "please report" line).
 */
export function reportError(e: unknown, io: CliIo, argv: readonly string[]): number {
  const debug = process.env['EMLAB_DEBUG'] === '1';
  if (e instanceof EmError && e.code !== 'INTERNAL') {
    io.stderr(`emlab: error [${e.code}]: ${oneLine(e.message)}\n`);
    if (debug && e.stack !== undefined) io.stderr(`${e.stack}\n`);
    return 2;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  if ((err instanceof RangeError || err.constructor?.name === 'RuntimeError') && OUT_OF_MEMORY.test(err.message)) {
    io.stderr(
      `emlab: error [OUT_OF_MEMORY]: the data or the model is too large for the memory available (${oneLine(err.message)}). ` +
        'Remedy: use fewer rows, columns or components (or a smaller --imputations, --n, ...); if the sizes are modest, please report it\n',
    );
    if (debug && err.stack !== undefined) io.stderr(`${err.stack}\n`);
    return 2;
  }
  io.stderr(`emlab: internal error: ${err.name}: ${oneLine(err.message)}\n`);
  io.stderr(`emlab: this is a bug in emlab; please report it with the command line (emlab ${argv.join(' ')})${debug ? '' : ' and the output of EMLAB_DEBUG=1'}\n`);
  if (debug && err.stack !== undefined) io.stderr(`${err.stack}\n`);
  return 1;
}
