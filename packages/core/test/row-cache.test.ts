// Row caches (data larger than memory): CSV, Parquet (hyparquet-writer writes the fixture, hyparquet
// reads it) and Arrow (apache-arrow, IPC file and stream formats) convert to the same float64 rows,
// missing cells become NaN, blocks read back exactly, the cache is reused until the source changes,
// and bad input is a typed error naming the row and column.
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type EmError, createRng, isRowSource, reopenRowSource } from '@emlab/core';

/** The error a promise rejects with (a promise that resolves fails the test). */
const failure = (p: Promise<unknown>): Promise<EmError> =>
  p.then(
    () => {
      throw new Error('expected an error');
    },
    (e: unknown) => e as EmError,
  );
import { convertToRowCache, openRowSource } from '@emlab/core/node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-rowcache-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rng = createRng(9).child('row-cache');
const n = 70_000; // more than one conversion chunk (65 536 rows)
const cols = ['x', 'y', 'z'];
const values = Array.from({ length: n * 3 }, (_, i) => (i % 97 === 5 ? Number.NaN : rng.normal() * 10 ** ((i % 3) - 1)));

async function expectRows(path: string, format?: 'csv' | 'parquet' | 'arrow'): Promise<void> {
  const src = await openRowSource(path, { cacheDir: join(dir, 'cache'), ...(format === undefined ? {} : { format }) });
  expect(isRowSource(src)).toBe(true);
  expect([src.nRows, src.nColumns, src.columns]).toEqual([n, 3, cols]);
  const all = src.read(0, n);
  expect(Array.from(all)).toEqual(values);
  const mid = src.read(65_530, 20);
  expect(Array.from(mid)).toEqual(values.slice(65_530 * 3, 65_550 * 3));
  const again = reopenRowSource(src.locator as string);
  expect(Array.from(again?.read(n - 1, 1) ?? [])).toEqual(values.slice((n - 1) * 3));
}

describe('row caches', () => {
  it('read CSV (missing markers), Parquet and Arrow (file and stream) to the same rows', async () => {
    const csv = join(dir, 't.csv');
    const lines = ['x,y,z'];
    for (let r = 0; r < n; r++) lines.push(values.slice(r * 3, r * 3 + 3).map((v, c) => (Number.isNaN(v) ? ['', 'NA', '?'][(r + c) % 3] : String(v))).join(','));
    await writeFile(csv, `${lines.join('\n')}\n`);
    await expectRows(csv);
    const columnData = cols.map((name, c) => ({ name, type: 'DOUBLE' as const, nullable: true, data: Array.from({ length: n }, (_, r) => (Number.isNaN(values[r * 3 + c] as number) ? null : (values[r * 3 + c] as number))) }));
    const pq = join(dir, 't.parquet');
    await writeFile(pq, new Uint8Array(parquetWriteBuffer({ columnData })));
    await expectRows(pq);
    const table = tableFromArrays(Object.fromEntries(cols.map((name, c) => [name, Float64Array.from({ length: n }, (_, r) => values[r * 3 + c] as number)])));
    await writeFile(join(dir, 't.arrow'), tableToIPC(table, 'file'));
    await expectRows(join(dir, 't.arrow'));
    await writeFile(join(dir, 't.arrows'), tableToIPC(table, 'stream'));
    await expectRows(join(dir, 't.arrows'));
  });

  it('reuses a cache until the source changes, and rebuilds on request', async () => {
    const csv = join(dir, 'small.csv');
    await writeFile(csv, 'a,b\n1,2\n3,4\n');
    const first = await convertToRowCache(csv, { cacheDir: join(dir, 'cache') });
    const src = await openRowSource(csv, { cacheDir: join(dir, 'cache') });
    expect(Array.from(src.read(0, 2))).toEqual([1, 2, 3, 4]);
    await writeFile(csv, 'a,b\n5,6\n');
    await utimes(csv, new Date(), new Date(Date.now() + 5000));
    const changed = await openRowSource(csv, { cacheDir: join(dir, 'cache') });
    expect([changed.nRows, Array.from(changed.read(0, 1))]).toEqual([1, [5, 6]]);
    expect(await convertToRowCache(csv, { cacheDir: join(dir, 'cache'), rebuild: true })).toBe(first);
  });

  it('names the row and column of a bad cell, and the path of an unknown format or a missing file', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'a,b\n1,2\n3,oops\n');
    const e1 = await failure(openRowSource(bad, { cacheDir: join(dir, 'cache') }));
    expect([e1.code, e1.path]).toEqual(['PARSE_ERROR', [bad, 3, 1]]);
    await writeFile(bad, 'a,b\n1,2\n3,Infinity\n');
    const e2 = await failure(openRowSource(bad, { cacheDir: join(dir, 'cache') }));
    expect([e2.code, e2.path]).toEqual(['INVALID_DATA', [bad, 3, 1]]);
    await writeFile(bad, 'a,b\n1,2\n3\n');
    expect((await failure(openRowSource(bad, { cacheDir: join(dir, 'cache') }))).code).toBe('PARSE_ERROR');
    expect((await failure(openRowSource(join(dir, 'x.xlsx')))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(openRowSource(join(dir, 'none.csv')))).code).toBe('IO_ERROR');
  });
});
