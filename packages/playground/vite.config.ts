/**
 * Vite configuration of the playground: a static site (relative URLs, so the output can be served
 * from any folder) bundling the `@emlab/*` packages' built `dist` for the browser, with
 * `node:` modules replaced (see `build/node-unavailable.ts`) and the TensorFlow.js wasm binaries
 * emitted as assets.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type InlineConfig } from 'vite';
import { nodeModulesUnavailable } from './build/node-unavailable.ts';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/** The configuration; `outDir` defaults to `dist` beside this file. */
export function playgroundConfig(options: { outDir?: string; logLevel?: InlineConfig['logLevel'] } = {}): InlineConfig {
  return {
    root: ROOT,
    base: './',
    configFile: false,
    logLevel: options.logLevel ?? 'info',
    plugins: [nodeModulesUnavailable()],
    build: {
      outDir: options.outDir ?? fileURLToPath(new URL('./dist', import.meta.url)),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      chunkSizeWarningLimit: 4096,
      // The wasm binaries are fetched by URL, never inlined.
      assetsInlineLimit: 0,
      rolldownOptions: {
        onwarn(warning, warn) {
          // Benign here: the packages import some modules both statically and lazily (so the lazy
          // import cannot split them off), and the build-time profile of slow plugins.
          if (warning.code === 'INEFFECTIVE_DYNAMIC_IMPORT' || warning.code === 'PLUGIN_TIMINGS') return;
          warn(warning);
        },
      },
    },
    preview: { port: 4173 },
    server: { port: 5173 },
  };
}

export default defineConfig(playgroundConfig());
