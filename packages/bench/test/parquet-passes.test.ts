/**
 * Regression: incremental EM counts passes in steps of 1/B, so a run's `passes` is not an integer
 * (7.9999999999999885 after 80 tenths); runs.parquet stores it as a double (it was an INT32 column
 * and the whole suite ended in an internal error after every run had finished).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { expect, it } from 'vitest';
import { runSuite } from '@emlab/bench';

it('fractional passes of incremental EM reach runs.parquet as doubles', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'emlab-parquet-passes-'));
  try {
    const r = await runSuite(
      { datasets: [{ id: 'g', kind: 'gaussian-mixture', options: { nSamples: 200, nComponents: 2, nFeatures: 2, seed: 1 } }], models: [{ type: 'gmm' }], esteps: [{ id: 'inc', method: 'incremental', options: { blocks: 10 } }], seeds: [0], stopping: { maxIter: 10 } },
      { workers: 1, outDir: dir, report: false, parquet: 'runs' },
    );
    const passes = r.runs[0]?.metrics.passes as number;
    expect(Number.isInteger(passes)).toBe(false);
    const b = await readFile(join(dir, 'runs.parquet'));
    const rows = (await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) })) as { passes: number }[];
    expect(rows[0]?.passes).toBe(passes);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
