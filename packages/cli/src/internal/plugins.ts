/**
 * `--plugin FILE.js`: user modules that register models or E-steps, imported
 * after the built-in packages and before anything else is looked up.
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EmError } from '@emlab/core';
import { badFlag, flagError } from './cli-error.js';

const loaded = new Set<string>();

/**
 * Imports each plug-in module once (paths relative to the working directory).
 * @throws EmError `IO_ERROR` (missing file) or `INVALID_ARGUMENT` (the module failed to load) naming `--plugin`.
 */
export async function importPlugins(paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    const abs = resolve(p);
    if (loaded.has(abs)) continue;
    if (!existsSync(abs)) throw flagError('IO_ERROR', ['--plugin'], p, 'does not exist', 'pass the path of a JavaScript module (relative to the working directory)');
    try {
      await import(pathToFileURL(abs).href);
    } catch (e) {
      const why = e instanceof EmError ? e.message : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
      throw badFlag('--plugin', p, `could not be loaded (${why.replace(/\s*\n\s*/g, ' ')})`, 'fix the module: it must be an ES module that loads with node and registers with registerModel or registerEStep from @emlab/core', e);
    }
    loaded.add(abs);
  }
}

/** Absolute paths of plug-ins (for worker threads, which import them again). */
export function pluginPaths(paths: readonly string[]): string[] {
  return paths.map((p) => resolve(p));
}
