/**
 * BN CSV data: state names or indices, missing markers, hidden nodes, typed errors with row and
 * column, the streamed reader equal to the in-memory one, exact write/read round trip.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmError } from '@emlab/core';
import { catchEmError, catchEmErrorAsync } from '@emlab/testing';
import { checkBnData, parseBif, parseBnCsv, readBnCsv, sampleNetwork, writeBnCsv, type BayesNet, type BnData } from '@emlab/models';

const asia = parseBif(readFileSync(new URL('../../../data/bn/asia.bif', import.meta.url), 'utf8'));

describe('parseBnCsv', () => {
  it('reads state names and indices, missing markers as -1; absent nodes are hidden', () => {
    const d = parseBnCsv('smoke,xray,dysp\nyes,no,1\n"no" , ,NA\n0,?,nan\n1,NaN,yes\n\n\n', asia);
    expect(d.columns).toEqual(['smoke', 'xray', 'dysp']);
    expect(d.nRows).toBe(4);
    expect([...d.values]).toEqual([0, 1, 1, 1, -1, -1, 0, -1, -1, 1, -1, 0]);
  });

  it('a state named like a missing marker is the state; custom markers', () => {
    const n: BayesNet = { name: 'n', nodes: [{ name: 'A', states: ['NA', 'B'], parents: [], cpt: [0.5, 0.5] }] };
    expect([...parseBnCsv('A\nNA\nB\n?\n', n).values]).toEqual([0, 1, -1]);
    expect([...parseBnCsv('A\nB\n-\n', n, { missingMarkers: ['-'] }).values]).toEqual([1, -1]);
    expect(catchEmError(() => parseBnCsv('A\n?\n', n, { missingMarkers: ['-'] })).code).toBe('PARSE_ERROR');
  });

  it('accepts a BOM, CRLF, blank lines before the header and at the end; a blank line inside the data is a (ragged) row', () => {
    const d = parseBnCsv('\ufeff\r\nasia,tub\r\nyes,no\r\nno,yes\r\n\r\n', asia);
    expect([...d.values]).toEqual([0, 1, 1, 0]);
    const e = catchEmError(() => parseBnCsv('asia,tub\nyes,no\n\nno,yes\n', asia));
    expect(e.message).toMatch(/line 3 \(data row 2\): expected 2 cells/);
    // one column: a blank line inside the data is a missing cell
    expect([...parseBnCsv('asia\nyes\n\nno\n', asia).values]).toEqual([0, -1, 1]);
  });

  const errors: [string, string, BnCsvCase][] = [
    ['unknown state name', 'smoke,xray\nyes,no\nno,maybe\n', { code: 'PARSE_ERROR', path: ['<csv>', 'row', 1, 'column', 'xray'], message: /line 3 \(data row 2\), column "xray": "maybe" is not a state of xray \(states: yes, no\) nor a state index 0\.\.1/ }],
    ['state index out of range', 'smoke\n2\n', { code: 'PARSE_ERROR', path: ['<csv>', 'row', 0, 'column', 'smoke'], message: /line 2 \(data row 1\), column "smoke": "2" is not a state/ }],
    ['unknown column', 'smoke,weather\nyes,sunny\n', { code: 'PARSE_ERROR', path: ['<csv>', 'header', 'column', 'weather'], message: /line 1, column 2: "weather" is not a node of network "unknown"/ }],
    ['duplicate column', 'smoke,smoke\nyes,no\n', { code: 'PARSE_ERROR', path: ['<csv>', 'header', 'column', 'smoke'], message: /column "smoke" appears twice \(columns 1 and 2\)/ }],
    ['empty column name', 'smoke,\nyes,no\n', { code: 'PARSE_ERROR', path: ['<csv>', 'header', 'column', 2], message: /line 1, column 2: empty column name/ }],
    ['ragged row', 'smoke,xray\nyes,no\nyes\n', { code: 'PARSE_ERROR', path: ['<csv>', 'row', 1], message: /line 3 \(data row 2\): expected 2 cells \(one per header column\) but found 1/ }],
    ['too many cells', 'smoke,xray\nyes,no,no\n', { code: 'PARSE_ERROR', path: ['<csv>', 'row', 0], message: /expected 2 cells .* but found 3/ }],
    ['bad quoting', 'smoke,xray\n"yes,no\n', { code: 'PARSE_ERROR', path: ['<csv>', 'row', 0], message: /line 2: unterminated quoted cell/ }],
    ['empty file', '', { code: 'PARSE_ERROR', path: ['<csv>'], message: /the file is empty/ }],
    ['header only', 'smoke,xray\n', { code: 'PARSE_ERROR', path: ['<csv>'], message: /has a header \(line 1\) but no data rows/ }],
  ];
  type BnCsvCase = { code: string; path: (string | number)[]; message: RegExp };
  for (const [what, text, want] of errors) {
    it(`error: ${what}`, () => {
      const e = catchEmError(() => parseBnCsv(text, asia));
      expect(e.code).toBe(want.code);
      expect(e.path).toEqual(want.path);
      expect(e.message).toMatch(want.message);
      expect(e.message).toMatch(/Remedy: /);
    });
  }

  it('error: a column for a node declared hidden', () => {
    const e = catchEmError(() => parseBnCsv('smoke,either\nyes,no\n', asia, { hidden: ['either'] }));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.path).toEqual(['<csv>', 'header', 'column', 'either']);
    expect(e.message).toMatch(/line 1, column 2: node "either" is declared hidden but the data has a column for it/);
    // without the column it is fine
    expect(parseBnCsv('smoke\nyes\n', asia, { hidden: ['either'] }).columns).toEqual(['smoke']);
  });

  it('error: options', () => {
    expect(catchEmError(() => parseBnCsv('smoke\nyes\n', asia, { hidden: ['Ghost'] })).message).toMatch(/options\.hidden = "Ghost": is not a node of the network/);
    expect(catchEmError(() => parseBnCsv('smoke\nyes\n', asia, { hiden: [] } as never)).path).toEqual(['options', 'hiden']);
    expect(catchEmError(() => parseBnCsv(3 as unknown as string, asia)).path).toEqual(['text']);
  });
});

describe('files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emlab-bn-data-'));
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('readBnCsv streams a file into the same data as parseBnCsv; errors name the file', async () => {
    const data = sampleNetwork(asia, 5000, 3, { missingRate: 0.3, hide: ['either'] });
    const text = writeBnCsv(data, asia);
    const path = join(dir, 'asia.csv');
    await writeFile(path, text);
    const read = await readBnCsv(path, asia, { hidden: ['either'] });
    expect(read).toEqual(parseBnCsv(text, asia));
    expect(read).toEqual(data);
    await writeFile(join(dir, 'bad.csv'), 'smoke,xray\nyes,no\nno,perhaps\n');
    const err = await catchEmErrorAsync(readBnCsv(join(dir, 'bad.csv'), asia));
    expect(err).toBeInstanceOf(EmError);
    expect(err.path).toEqual([join(dir, 'bad.csv'), 'row', 1, 'column', 'xray']);
    expect((await catchEmErrorAsync(readBnCsv(join(dir, 'missing.csv'), asia))).code).toBe('IO_ERROR');
  });
});

describe('writeBnCsv', () => {
  it('round-trips exactly, quoting names that need it, including all-missing one-column rows', () => {
    const n: BayesNet = {
      name: 'odd',
      nodes: [
        { name: 'a,b', states: ['x y', '"q"', ' pad'], parents: [], cpt: [0.2, 0.3, 0.5] },
        { name: 'c', states: ['NA', 'ok'], parents: ['a,b'], cpt: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5] },
      ],
    };
    const data: BnData = { columns: ['c', 'a,b'], nRows: 4, values: Int32Array.from([0, 2, -1, 1, 1, -1, -1, -1]) };
    const text = writeBnCsv(data, n);
    expect(text.split('\n')[0]).toBe('c,"a,b"');
    expect(parseBnCsv(text, n)).toEqual(data);
    const one: BnData = { columns: ['c'], nRows: 3, values: Int32Array.from([0, -1, -1]) };
    expect(parseBnCsv(writeBnCsv(one, n), n)).toEqual(one);
  });

  it('checkBnData rejects values out of range, unknown or duplicate columns, wrong length', () => {
    const bad = (d: Partial<BnData>): EmError => catchEmError(() => writeBnCsv({ columns: ['smoke'], nRows: 1, values: Int32Array.from([0]), ...d }, asia));
    expect(bad({ values: Int32Array.from([2]) }).message).toMatch(/data\.row\[0\]\.column\.smoke = 2: row 1, column "smoke": not a state index/);
    expect(bad({ values: Int32Array.from([-2]) }).code).toBe('INVALID_DATA');
    expect(bad({ columns: ['weather'] }).message).toMatch(/data\.columns\[0\] = "weather": is not a node/);
    expect(bad({ columns: ['smoke', 'smoke'], values: Int32Array.from([0, 0]) }).message).toMatch(/appears twice/);
    expect(bad({ nRows: 2 }).message).toMatch(/has 1 entries but nRows × columns = 2 × 1 = 2/);
    expect(() => checkBnData({ columns: ['smoke'], nRows: 1, values: Int32Array.from([-1]) }, asia)).not.toThrow();
  });
});

describe('a weights column', () => {
  it('is left out of the data and returned as row weights, wherever it is in the header', () => {
    const d = parseBnCsv('smoke,count,xray\nyes,2,no\nno,0.5,\n', asia, { weightsColumn: 'count' });
    expect(d.columns).toEqual(['smoke', 'xray']);
    expect(Array.from(d.values)).toEqual([0, 1, 1, -1]);
    expect(Array.from(d.weights as Float64Array)).toEqual([2, 0.5]);
    const first = parseBnCsv('w,smoke\n3,yes\n', asia, { weightsColumn: 'w' });
    expect(Array.from(first.weights as Float64Array)).toEqual([3]);
    expect(parseBnCsv('smoke\nyes\n', asia).weights).toBeUndefined();
  });

  it('bad or missing weights, an absent column and a node name are errors naming the line and column', () => {
    expect(catchEmError(() => parseBnCsv('smoke,w\nyes,1\nno,-1\n', asia, { weightsColumn: 'w' })).message).toMatch(/line 3 \(data row 2\), column 2 \("w"\): weight "-1" is not a finite number >= 0/);
    expect(catchEmError(() => parseBnCsv('smoke,w\nyes,\n', asia, { weightsColumn: 'w' })).message).toMatch(/line 2 \(data row 1\), column 2 \("w"\): weight ""/);
    expect(catchEmError(() => parseBnCsv('smoke,w\nyes,1e999\n', asia, { weightsColumn: 'w' })).message).toMatch(/weight "1e999" is not a finite number/);
    expect(catchEmError(() => parseBnCsv('smoke\nyes\n', asia, { weightsColumn: 'w' })).message).toMatch(/line 1: the weights column "w" is not in the header \(smoke\)/);
    expect(catchEmError(() => parseBnCsv('smoke\nyes\n', asia, { weightsColumn: 'smoke' })).code).toBe('INVALID_ARGUMENT');
    // columns after the weights column keep their position in the file in messages
    expect(catchEmError(() => parseBnCsv('w,smoke,weather\n1,yes,sun\n', asia, { weightsColumn: 'w' })).message).toMatch(/line 1, column 3: "weather" is not a node/);
  });
});
