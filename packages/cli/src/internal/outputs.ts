/**
 * Output files: every path is checked before any work (its directory exists
 * and is writable, it is not a directory, no two outputs name the same file),
 * and the outputs of a command are committed together at the end: each is
 * written completely to a staging file beside its target (core's
 * `writeFileAtomic`: checked writes, fsync), and only when all are staged are
 * they renamed over their targets. A failed run leaves every previous file as
 * it was and no partial file behind.
 * @module
 */
import { unlink, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EmError } from '@emlab/core';
import { checkDistinctOutputs, checkWritable, writeFileAtomic, type FileContent } from '@emlab/core/node';
import { flagError } from './cli-error.js';

/** One output: the flag that names it, its path, and its content. */
export interface Output {
  readonly flag: string;
  readonly path: string;
  /** The content, produced when the output is written (a string, bytes, or chunks). */
  readonly content: () => FileContent | Promise<FileContent>;
}

/**
 * Checks, before any work, that every output can be written and that no two name the same file (or an input).
 * @param inputs - files the command reads, which outputs must not replace before they are read (pairs of flag and path).
 * @throws EmError `IO_ERROR` or `INVALID_ARGUMENT` naming the flag.
 */
export async function checkOutputs(outputs: readonly (readonly [string, string | undefined])[], inputs: readonly (readonly [string, string | undefined])[] = []): Promise<void> {
  checkDistinctOutputs(outputs);
  for (const [flag, path] of outputs) {
    if (path === undefined) continue;
    for (const [inFlag, inPath] of inputs) {
      if (inPath !== undefined && resolve(inPath) === resolve(path)) {
        throw flagError('INVALID_ARGUMENT', [flag], path, `names the same file as ${inFlag}, which the command reads`, `write to another file, e.g. ${join(dirname(path), `out-${basename(path)}`)}`);
      }
    }
    await checkWritable(path, [flag]);
  }
}

/** A staging name beside the target. */
function stagingPath(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.emlab-${process.pid}-${Math.floor(Math.random() * 2 ** 32).toString(36)}.stage`);
}

/**
 * Writes every output to a staging file, then renames them all over their targets.
 * @throws EmError `IO_ERROR` naming the flag of the output that failed (no target changed), or an
 *   error of a content producer (no target changed).
 */
export async function commitOutputs(outputs: readonly Output[]): Promise<void> {
  const staged: [string, Output][] = [];
  try {
    for (const o of outputs) {
      const stage = stagingPath(o.path);
      try {
        await writeFileAtomic(stage, await o.content(), [o.flag]);
      } catch (e) {
        if (!(e instanceof EmError) || e.code !== 'IO_ERROR') throw e;
        const cause = (e.cause as NodeJS.ErrnoException | undefined)?.code ?? (e.cause as Error | undefined)?.message ?? 'write failed';
        throw flagError('IO_ERROR', [o.flag], o.path, `could not be written (${cause}); no output file was changed`, 'free disk space or choose another location', e);
      }
      staged.push([stage, o]);
    }
    for (const [stage, o] of staged) {
      try {
        await rename(stage, o.path);
      } catch (e) {
        throw flagError('IO_ERROR', [o.flag], o.path, `could not be put in place (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path and permissions', e);
      }
    }
    staged.length = 0;
  } finally {
    await Promise.all(staged.map(([stage]) => unlink(stage).catch(() => undefined)));
  }
}
