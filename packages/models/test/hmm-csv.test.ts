/**
 * HMM data from CSV: sequence ids (contiguous and interleaved), column
 * selection and order, numbers and missing markers, category labels (sorted
 * numerically or as text, or given), the registration's reader, typed errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findModel, fit } from '@emlab/core';
import '@emlab/exact';
import { hiddenMarkovModel, parseHmmCsv, readHmmCsv, type HmmTable } from '@emlab/models';
import { catchEmError, catchEmErrorAsync } from '@emlab/testing';

describe('parseHmmCsv', () => {
  it('groups rows by sequence id (file order within a sequence) and maps them back with order', () => {
    const t = parseHmmCsv('id,x,y\na,1,10\nb,2,20\na,3,NA\nc,4,40\nb,5,50\n', { sequenceColumn: 'id' });
    expect(t.sequenceIds).toEqual(['a', 'b', 'c']);
    expect(Array.from(t.lengths)).toEqual([2, 2, 1]);
    expect(t.columns).toEqual(['x', 'y']);
    expect(Array.from(t.order)).toEqual([0, 2, 1, 4, 3]);
    expect(Array.from(t.values)).toEqual([1, 10, 3, Number.NaN, 2, 20, 5, 50, 4, 40]);
  });

  it('without a sequence column the rows are one sequence; columns pick and order', () => {
    const t = parseHmmCsv('x,y,z\n1,2,3\n4,5,6\n', { columns: ['z', 'x'] });
    expect(Array.from(t.lengths)).toEqual([2]);
    expect(t.columns).toEqual(['z', 'x']);
    expect(Array.from(t.values)).toEqual([3, 1, 6, 4]);
  });

  it('category labels: sorted numerically when all are numbers, as text otherwise, or as given', () => {
    const dice = parseHmmCsv('roll\n6\n1\n10\n2\n?\n', { categorical: true });
    expect(dice.categories).toEqual([['1', '2', '6', '10']]);
    expect(Array.from(dice.values)).toEqual([2, 0, 3, 1, Number.NaN]);
    const words = parseHmmCsv('w\nsun\nrain\nsun\n', { categorical: true });
    expect(words.categories).toEqual([['rain', 'sun']]);
    expect(Array.from(words.values)).toEqual([1, 0, 1]);
    const given = parseHmmCsv('w\nsun\nrain\n', { categorical: true, categories: [['sun', 'rain', 'fog']] });
    expect(Array.from(given.values)).toEqual([0, 1]);
    const err = catchEmError(() => parseHmmCsv('w\nsnow\n', { categorical: true, categories: [['sun', 'rain']] }));
    expect([err.code, err.path]).toEqual(['INVALID_DATA', ['<csv>', 'row', 0, 'column', 'w']]);
  });

  it.each([
    ['an unknown column', () => parseHmmCsv('x\n1\n', { columns: ['y'] }), 'INVALID_ARGUMENT', ['options', 'columns']],
    ['an unknown sequence column', () => parseHmmCsv('x\n1\n', { sequenceColumn: 'id' }), 'INVALID_ARGUMENT', ['options', 'sequenceColumn']],
    ['a missing sequence id', () => parseHmmCsv('id,x\na,1\n,2\n', { sequenceColumn: 'id' }), 'PARSE_ERROR', ['<csv>', 'row', 1, 'column', 'id']],
    ['a cell that is not a number', () => parseHmmCsv('x\n1\nabc\n'), 'PARSE_ERROR', ['<csv>', 'row', 1, 'column', 'x']],
    ['a short row', () => parseHmmCsv('x,y\n1,2\n3\n'), 'PARSE_ERROR', ['<csv>', 'row', 1]],
    ['no data rows', () => parseHmmCsv('x,y\n'), 'PARSE_ERROR', ['<csv>']],
  ] as const)('%s is a typed error', (_name, f, code, path) => {
    const err = catchEmError(f);
    expect([err.code, err.path]).toEqual([code, path]);
  });
});

describe('readHmmCsv and the hmm registration reader', () => {
  it('reads a file and fits through the registration (categorical labels into the parameters)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emlab-hmm-csv-'));
    try {
      const file = join(dir, 'rolls.csv');
      const lines = ['session,face'];
      const faces = ['1', '2', '3', '4', '5', '6'];
      for (let i = 0; i < 300; i++) lines.push(`${i < 150 ? 's1' : 's2'},${faces[(i * 7 + (i % 5)) % 6]}`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const t = await readHmmCsv(file, { sequenceColumn: 'session', categorical: true });
      expect(Array.from(t.lengths)).toEqual([150, 150]);
      const reg = findModel('hmm');
      if (reg.data?.format !== 'custom') throw new Error('hmm reads its own data');
      const { data, options } = await reg.data.read([file], { nStates: 2, emission: 'categorical', sequenceColumn: 'session' });
      expect(options['categories']).toEqual([faces]);
      const model = reg.create(options);
      const r = await fit(model, data, { seed: 1, maxIter: 5, onWarning: () => undefined });
      expect((r.params as { emission: { categories: string[][] } }).emission.categories).toEqual([faces]);
      expect(hiddenMarkovModel({ nStates: 2, emission: 'categorical' }).predict(r.params as never, data as HmmTable)).toHaveLength(300);
      expect((await catchEmErrorAsync(readHmmCsv(join(dir, 'none.csv')))).code).toBe('IO_ERROR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
