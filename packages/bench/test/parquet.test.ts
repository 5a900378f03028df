/**
 * runs.parquet and iterations.parquet: written by hyparquet-writer, read back with hyparquet (the
 * reader of the same project, an independent code path) and compared value by value with
 * results.json; and, when Python with pandas and pyarrow or fastparquet is installed, read by pandas.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNS_CSV_COLUMNS, runSuite, type BenchResults } from '@emlab/bench';

const PANDAS = spawnSync('python3', ['-c', 'import pandas\ntry:\n  import pyarrow\nexcept ImportError:\n  import fastparquet'], { stdio: 'ignore' }).status === 0;
if (!PANDAS) {
  process.stderr.write('emlab tests: SKIPPING the pandas cross-check of runs.parquet: python3 with pandas and pyarrow (or fastparquet) is not installed (Debian bookworm packages neither pyarrow nor fastparquet; pip install pandas pyarrow to run it). The hyparquet read-back test still runs.\n');
}

let dir: string;
let results: BenchResults;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-parquet-'));
  results = await runSuite(
    {
      datasets: [
        { id: 'd', kind: 'gaussian-mixture', options: { nSamples: 80, nComponents: 2, nFeatures: 2, seed: 1 }, missing: { rate: 0.05 } },
        { id: 'n', bif: 'asia', nSamples: 200, seed: 1 },
      ],
      models: [{ type: 'gmm' }, { type: 'bn', options: { pseudoCount: 1 } }],
      esteps: ['exact', 'hard', { id: 'mc', method: 'stochastic', options: { nDraws: 2 } }],
      seeds: [0, 'b'],
      stopping: { maxIter: 5 },
      heldOut: { fraction: 0.2 },
    },
    { workers: 1, outDir: dir, report: false, parquet: 'iterations' },
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = async (name: string): Promise<ArrayBuffer> => {
  const b = await readFile(join(dir, name));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};

describe('Parquet output', () => {
  it('runs.parquet holds one typed row per run equal to results.json (null where runs.csv is empty)', async () => {
    const buf = await file('runs.parquet');
    const meta = parquetMetadata(buf);
    expect(Number(meta.num_rows)).toBe(results.runs.length);
    const rows = await parquetReadObjects({ file: buf });
    expect(rows).toHaveLength(results.runs.length);
    expect(Object.keys(rows[0] as object)).toEqual(RUNS_CSV_COLUMNS.map((c) => c.name));
    results.runs.forEach((r, i) => {
      const row = rows[i] as Record<string, unknown>;
      for (const c of RUNS_CSV_COLUMNS) {
        const v = c.get(r, results.timings.runs[r.id]);
        const want = v === null || v === undefined ? null : c.type === 'string' ? String(v) : v;
        expect(row[c.name], `${r.id} ${c.name}`).toEqual(want);
      }
    });
    // Types a data frame gets: doubles, 32-bit integers, booleans, strings.
    const types = Object.fromEntries(meta.schema.slice(1).map((s) => [s.name, s.type]));
    expect([types['bound'], types['nIter'], types['converged'], types['method'], types['seed']]).toEqual(['DOUBLE', 'INT32', 'BOOLEAN', 'BYTE_ARRAY', 'BYTE_ARRAY']);
  });

  it('iterations.parquet holds one row per iteration of every run, equal to the traces', async () => {
    const rows = (await parquetReadObjects({ file: await file('iterations.parquet') })) as Record<string, unknown>[];
    const want = results.runs.flatMap((r) =>
      r.trace.map((t, i) => ({ run: r.id, seed: String(r.seed), iteration: t.iteration, boundAfterM: t.boundAfterM, boundStdErr: t.boundStdErr, passes: t.passes, precision: t.precision, elapsedMs: results.timings.runs[r.id]?.elapsedMs[i] })),
    );
    expect(rows).toHaveLength(want.length);
    rows.forEach((row, i) => expect(row).toMatchObject(want[i] as object));
  });

  it.runIf(PANDAS)('pandas reads runs.parquet with the same rows and numbers', () => {
    const out = execFileSync('python3', ['-c', 'import sys, pandas as pd\nd = pd.read_parquet(sys.argv[1])\nprint(len(d)); print(repr(float(d["bound"].sum())))', join(dir, 'runs.parquet')]).toString().trim().split('\n');
    expect(Number(out[0])).toBe(results.runs.length);
    const sum = results.runs.reduce((a, r) => a + (r.metrics.bound ?? 0), 0);
    expect(Math.abs(Number(out[1]) - sum)).toBeLessThanOrEqual(1e-9 * Math.abs(sum));
  });
});
