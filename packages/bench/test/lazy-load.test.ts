/**
 * Importing @emlab/bench (as the command line does on every start) loads neither the chart libraries
 * (vega, vega-lite) nor the Parquet writer, the JSON Schema converter or the worker pool: they are
 * imported only when a report, a Parquet file or a schema is written or a pool is started.
 * Runs the built package in a child process with a resolution hook that lists every module loaded.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HOOK = fileURLToPath(new URL('./fixtures/trace-imports.mjs', import.meta.url));
const DIST = new URL('../dist/index.js', import.meta.url).href;
const LAZY = /node_modules\/(vega|vega-lite|vega-[a-z-]+|hyparquet-writer|@valibot\/to-json-schema|piscina)\//;

function loaded(script: string): string[] {
  const r = spawnSync(process.execPath, ['--import', HOOK, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  return r.stderr.split('\n').filter((l) => l.startsWith('resolved ')).map((l) => l.slice('resolved '.length));
}

describe('lazy loading', () => {
  it('importing @emlab/bench loads no chart library, Parquet writer, schema converter or pool', () => {
    const urls = loaded(`await import(${JSON.stringify(DIST)});`);
    expect(urls.some((u) => u.includes('/packages/bench/dist/index.js'))).toBe(true);
    expect(urls.filter((u) => LAZY.test(u))).toEqual([]);
  });

  it('rendering a chart, writing Parquet and making the JSON Schema load them (so the check above can see them)', () => {
    const script = [
      `const b = await import(${JSON.stringify(DIST)});`,
      `await b.renderSvg(b.chartSpec('bound-iteration', [{ run: 'r', method: 'm', seed: '0', x: 1, y: 1, lo: null, hi: null }], ['m']));`,
      `(await import(${JSON.stringify(new URL('../dist/runs-parquet.js', import.meta.url).href)})).runsParquet({ runs: [], timings: { runs: {} } });`,
      'await b.suiteJsonSchema();',
    ].join('\n');
    const urls = loaded(script);
    for (const pkg of ['vega', 'vega-lite', 'hyparquet-writer', '@valibot/to-json-schema']) expect(urls.some((u) => u.includes(`node_modules/${pkg}/`)), pkg).toBe(true);
  });
});
