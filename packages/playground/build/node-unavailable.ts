/**
 * A Vite plugin for the browser bundle: every `node:` module (the file readers and writers of
 * `@emlab/core/node`, `@emlab/data`'s `readNumericCsv`, `@emlab/models`' network and CSV readers,
 * `fitOnline`'s file source) resolves to a module whose exports throw an `EmError` (`IO_ERROR`)
 * when called, so the page bundles the real packages without pulling in Node's file system, and
 * code that would need it fails with a typed error instead of a missing-module crash.
 *
 * The export names are those of the real module (read at build time from the Node that runs
 * Vite), so any named import resolves. Nothing runs at import time.
 * @module
 */
import type { Plugin } from 'vite';

const PREFIX = '\0emlab-node-unavailable:';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The plugin (enforced before Vite's own resolution). */
export function nodeModulesUnavailable(): Plugin {
  return {
    name: 'emlab-node-modules-unavailable',
    enforce: 'pre',
    resolveId(id) {
      return id.startsWith('node:') ? `${PREFIX}${id.slice('node:'.length)}` : null;
    },
    async load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const name = id.slice(PREFIX.length);
      const real = (await import(/* @vite-ignore */ `node:${name}`)) as Record<string, unknown>;
      const names = Object.keys(real).filter((n) => n !== 'default' && IDENTIFIER.test(n)).sort();
      const lines = [
        "import { EmError } from '@emlab/core';",
        `const MODULE = ${JSON.stringify(`node:${name}`)};`,
        'function unavailable(what) {',
        '  return function () {',
        '    throw new EmError("IO_ERROR", `${MODULE} ${what}() is not available in a browser: the page has no file system. Remedy: pass the data as arrays (or a dropped file\'s text to parseNumericCsv); use the Node packages for files`, { path: [MODULE, what] });',
        '  };',
        '}',
        ...names.map((n) => `export const ${n} = unavailable(${JSON.stringify(n)});`),
        `export default { ${names.join(', ')} };`,
      ];
      return lines.join('\n');
    },
  };
}
