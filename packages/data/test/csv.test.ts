import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EmError } from '@emlab/core';
import { catchEmError } from '@emlab/testing';
import { numericCsvChunks, parseNumericCsv, readNumericCsv, tableToRows, writeNumericCsv } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-data-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tmpFile(name: string, content: string | Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

async function catchAsync(p: Promise<unknown>): Promise<EmError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EmError);
    return e as EmError;
  }
  throw new Error('expected an EmError');
}

describe('readNumericCsv / parseNumericCsv: good input', () => {
  it('parses a simple file', async () => {
    const p = await tmpFile('simple.csv', 'a,b,c\n1,2,3\n4.5,-6e2,+.5\n');
    const t = await readNumericCsv(p);
    expect(t.columns).toEqual(['a', 'b', 'c']);
    expect(t.rows).toBe(2);
    expect(t.cols).toBe(3);
    expect(t.missing).toBe(0);
    expect(Array.from(t.values)).toEqual([1, 2, 3, 4.5, -600, 0.5]);
    expect(t.values.length).toBe(6);
    expect(tableToRows(t)).toEqual([
      [1, 2, 3],
      [4.5, -600, 0.5],
    ]);
  });

  it('trims cells and strips quotes (commas and doubled quotes inside quotes)', async () => {
    const text = ' "x, the first" , "say ""hi""",plain \n "1" ,  2 ," 3 "\n';
    const p = await tmpFile('quoted.csv', text);
    const t = await readNumericCsv(p);
    expect(t.columns).toEqual(['x, the first', 'say "hi"', 'plain']);
    expect(Array.from(t.values)).toEqual([1, 2, 3]);
    expect(parseNumericCsv(text)).toEqual(t);
  });

  it('accepts CRLF, a UTF-8 BOM and trailing blank lines', async () => {
    const text = '\uFEFFa,b\r\n1,2\r\n3,4\r\n\r\n  \r\n';
    const p = await tmpFile('crlf.csv', Buffer.from(text, 'utf8'));
    const t = await readNumericCsv(p);
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.rows).toBe(2);
    expect(Array.from(t.values)).toEqual([1, 2, 3, 4]);
    expect(parseNumericCsv(text)).toEqual(t);
  });

  it('accepts a last line without a newline', () => {
    const t = parseNumericCsv('a\n1\n2');
    expect(Array.from(t.values)).toEqual([1, 2]);
  });

  it('maps the default missing markers to NaN and counts them', async () => {
    const p = await tmpFile('missing.csv', 'a,b,c\n,NA,NaN\nnan,?,1\n"",2,3\n');
    const t = await readNumericCsv(p);
    expect(t.rows).toBe(3);
    expect(t.missing).toBe(6);
    const v = Array.from(t.values);
    expect(v.slice(0, 5).every(Number.isNaN)).toBe(true);
    expect(v.slice(5)).toEqual([1, Number.NaN, 2, 3]);
  });

  it('honours custom missing markers (case-sensitive)', () => {
    const t = parseNumericCsv('a,b\n-999,1\nmissing,2\n', { missingMarkers: ['-999', 'missing'] });
    expect(t.missing).toBe(2);
    const e = catchEmError(() => parseNumericCsv('a\nna\n'));
    expect(e.code).toBe('PARSE_ERROR');
    const e2 = catchEmError(() => parseNumericCsv('a,b\n,1\n', { missingMarkers: ['NA'] }));
    expect(e2.code).toBe('PARSE_ERROR');
  });

  it('treats a blank line between data rows as a row (missing for one column)', () => {
    const t = parseNumericCsv('a\n1\n\n3\n\n');
    expect(t.rows).toBe(3);
    expect(t.missing).toBe(1);
  });

  it('accepts quoted cells holding line breaks (RFC 4180), in the header and in rows', async () => {
    const text = 'x,"long\nname"\n1,"2\r\n"\n"3",4\n';
    const p = await tmpFile('quoted-newline.csv', text);
    const t = await readNumericCsv(p);
    expect(t.columns).toEqual(['x', 'long\nname']);
    expect(Array.from(t.values)).toEqual([1, 2, 3, 4]);
    expect(parseNumericCsv(text)).toEqual(t);
    // Errors after a multi-line record name the right physical line.
    const e = catchEmError(() => parseNumericCsv('x,y\n1,"2\n"\n3,abc\n'));
    expect(e.message).toMatch(/^<csv>\.row\[1\]\.column\.y = "abc": line 4, column 2 \("y"\)/);
  });

  it('reads UTF-16 LE and BE files with a byte-order mark', async () => {
    const text = 'a,b\n1,2\n3,4\n';
    const le = await tmpFile('le.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const be = Buffer.from(text, 'utf16le');
    be.swap16();
    const bePath = await tmpFile('be.csv', Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    for (const p of [le, bePath]) {
      const t = await readNumericCsv(p);
      expect(t.columns).toEqual(['a', 'b']);
      expect(Array.from(t.values)).toEqual([1, 2, 3, 4]);
    }
  });

  it('keeps infinite cells with nonFinite: "keep"', () => {
    const t = parseNumericCsv('a,b\nInfinity,-Infinity\n1e400,-1e400\n', { nonFinite: 'keep' });
    expect(Array.from(t.values)).toEqual([Infinity, -Infinity, Infinity, -Infinity]);
  });

  it('parses any finite double back exactly (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 20 }), (xs) => {
        const text = `v\n${xs.map((x) => String(x)).join('\n')}\n`;
        const t = parseNumericCsv(text);
        expect(Array.from(t.values)).toEqual(xs.map((x) => (Object.is(x, -0) ? 0 : x)));
      }),
    );
  });
});

describe('readNumericCsv / parseNumericCsv: errors', () => {
  function expectMessage(e: EmError, ...parts: string[]): void {
    for (const part of parts) expect(e.message).toContain(part);
    expect(e.message).toContain('Remedy:');
  }

  it('empty file', async () => {
    const p = await tmpFile('empty.csv', '');
    const e = await catchAsync(readNumericCsv(p));
    expect(e.code).toBe('PARSE_ERROR');
    expectMessage(e, 'empty', 'line 1');
    expect(e.path[0]).toBe(p);
    expect(catchEmError(() => parseNumericCsv('\n\n')).code).toBe('PARSE_ERROR');
  });

  it('duplicate and empty column names', async () => {
    const p = await tmpFile('dup.csv', 'a,b,a\n1,2,3\n');
    const e = await catchAsync(readNumericCsv(p));
    expect(e.code).toBe('PARSE_ERROR');
    expectMessage(e, 'line 1', '"a"', 'twice');
    const e2 = catchEmError(() => parseNumericCsv('\n\na,,c\n1,2,3\n'));
    expect(e2.code).toBe('PARSE_ERROR');
    expectMessage(e2, 'line 3', 'empty name');
  });

  it('ragged rows name expected and actual cell counts', async () => {
    const p = await tmpFile('ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    const e = await catchAsync(readNumericCsv(p));
    expect(e.code).toBe('PARSE_ERROR');
    expectMessage(e, 'line 3', 'expected 3', 'found 2');
    expect(e.path).toEqual([p, 'row', 1]);
    const e2 = catchEmError(() => parseNumericCsv('a,b\n1,2\n\n3,4\n'));
    expectMessage(e2, 'line 3', 'found 1');
  });

  it('non-numeric cells name the line, column and cell text', async () => {
    for (const bad of ['1.2.3', '12abc', '0x10', 'NA NA', '1e', '--1']) {
      const p = await tmpFile('bad.csv', `a,bee\n1,2\r\n3,${bad}\n`);
      const e = await catchAsync(readNumericCsv(p));
      expect(e.code).toBe('PARSE_ERROR');
      expectMessage(e, 'line 3', '"bee"', JSON.stringify(bad), 'missingMarkers');
      expect(e.path).toEqual([p, 'row', 1, 'column', 'bee']);
    }
  });

  it('infinite and overflowing cells name the line and the column (1-based index and name)', async () => {
    for (const [bad, what] of [['-Infinity', 'is infinite'], ['Infinity', 'is infinite'], ['1e400', 'overflows float64'], ['-2e308', 'overflows float64']] as const) {
      const p = await tmpFile('inf.csv', `a,bee\n1,2\n3,${bad}\n`);
      const e = await catchAsync(readNumericCsv(p));
      expect(e.code).toBe('PARSE_ERROR');
      expectMessage(e, `line 3, column 2 ("bee"): cell ${JSON.stringify(bad)} ${what}`);
      expect(e.path).toEqual([p, 'row', 1, 'column', 'bee']);
    }
  });

  it('text that is not UTF-8 (and has no UTF-16 byte-order mark) is an error naming the encoding', async () => {
    const p = await tmpFile('latin1.csv', Buffer.from('a,b\n1,2\n\xe9,3\n', 'latin1'));
    const e = await catchAsync(readNumericCsv(p));
    expect(e.code).toBe('PARSE_ERROR');
    expectMessage(e, 'is not valid UTF-8', 'UTF-16 with a byte-order mark');
  });

  it('bad quoting', () => {
    const e = catchEmError(() => parseNumericCsv('a,b\n"1,2\n'));
    expect(e.code).toBe('PARSE_ERROR');
    expectMessage(e, 'line 2', 'unterminated');
    const e2 = catchEmError(() => parseNumericCsv('a,b\n"1"x,2\n'));
    expectMessage(e2, 'line 2');
  });

  it('no data rows', async () => {
    const p = await tmpFile('header-only.csv', 'a,b\n\n');
    const e = await catchAsync(readNumericCsv(p));
    expect(e.code).toBe('PARSE_ERROR');
    expectMessage(e, 'no data rows', 'line 1');
  });

  it('missing file and unreadable path give IO_ERROR naming the path', async () => {
    const missing = join(dir, 'does-not-exist.csv');
    const e = await catchAsync(readNumericCsv(missing));
    expect(e.code).toBe('IO_ERROR');
    expectMessage(e, missing, 'check the path');
    const e2 = await catchAsync(readNumericCsv(dir));
    expect(e2.code).toBe('IO_ERROR');
    expectMessage(e2, dir);
  });

  it('bad options give INVALID_ARGUMENT', async () => {
    const e = catchEmError(() => parseNumericCsv('a\n1\n', { missingMarkers: [1] as unknown as string[] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    const e2 = catchEmError(() => parseNumericCsv('a\n1\n', { nonFinite: 'drop' } as unknown as { nonFinite: 'keep' }));
    expect(e2.message).toMatch(/^options\.nonFinite = "drop": must be one of "error", "keep"/);
    const e3 = catchEmError(() => parseNumericCsv('a\n1\n', { missingMarker: [] } as unknown as { nonFinite: 'keep' }));
    expect(e3.message).toMatch(/^options\.missingMarker = .*is not an option of parseNumericCsv/);
    const e4 = await catchAsync(readNumericCsv(join(dir, 'x.csv'), { name: 'x' } as unknown as { nonFinite: 'keep' }));
    expect(e4.path).toEqual(['options', 'name']);
  });
});

describe('large files and round trips', () => {
  it('streams a 200k-row file', async () => {
    const rows = 200_000;
    const p = join(dir, 'large.csv');
    const out = createWriteStream(p);
    out.write('id,x,y\n');
    let chunk = '';
    for (let r = 0; r < rows; r++) {
      chunk += `${r},${r * 0.5},${r % 7 === 0 ? 'NA' : -r}\n`;
      if (chunk.length > 1 << 16) {
        out.write(chunk);
        chunk = '';
      }
    }
    out.end(chunk);
    await new Promise<void>((resolve, reject) => {
      out.on('finish', resolve);
      out.on('error', reject);
    });
    const t0 = performance.now();
    const t = await readNumericCsv(p);
    const ms = performance.now() - t0;
    expect(t.rows).toBe(rows);
    expect(t.cols).toBe(3);
    expect(t.values.length).toBe(rows * 3);
    expect(t.missing).toBe(Math.ceil(rows / 7));
    for (const r of [0, 1, 12345, rows - 1]) {
      expect(t.values[r * 3]).toBe(r);
      expect(t.values[r * 3 + 1]).toBe(r * 0.5);
      if (r % 7 === 0) expect(t.values[r * 3 + 2]).toBeNaN();
      else expect(t.values[r * 3 + 2]).toBe(-r);
    }
    expect(ms).toBeLessThan(3000);
  });

  it('write → read round trip preserves values exactly, NaN as empty cells', async () => {
    const values = new Float64Array([Math.PI, -1e-300, Number.NaN, 1 / 3, 123456789.123456789, 5e-324, Number.MAX_VALUE, 0, -2.5]);
    const p = join(dir, 'roundtrip.csv');
    await writeNumericCsv(p, ['pi, etc', 'say "b"', 'c'], values, 3);
    const text = await readFile(p, 'utf8');
    expect(text.split('\n')[0]).toBe('"pi, etc","say ""b""",c');
    expect(text.split('\n')[1]).toBe(`${String(Math.PI)},-1e-300,`);
    const t = await readNumericCsv(p);
    expect(t.columns).toEqual(['pi, etc', 'say "b"', 'c']);
    expect(t.rows).toBe(3);
    expect(t.missing).toBe(1);
    expect(Array.from(t.values)).toEqual(Array.from(values));
  });

  it('writes atomically: a failed write keeps the previous file and leaves no temporary file', async () => {
    const p = join(dir, 'atomic.csv');
    await writeNumericCsv(p, ['a'], [1, 2], 1);
    // A directory where the file should go: the rename fails after every byte was written.
    const target = join(dir, 'a-directory.csv');
    await import('node:fs/promises').then((fs) => fs.mkdir(target));
    const e = await catchAsync(writeNumericCsv(target, ['a'], [1], 1, ['--out']));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toMatch(/^--out = /);
    expect(await readFile(p, 'utf8')).toBe('a\n1\n2\n');
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('numericCsvChunks yields the text writeNumericCsv writes, in chunks of about 64 KiB', async () => {
    const values = Float64Array.from({ length: 40_000 }, (_, i) => i / 7);
    const chunks = [...numericCsvChunks(['x', 'y'], values, 2)];
    expect(chunks.length).toBeGreaterThan(5);
    const p = join(dir, 'chunks.csv');
    await writeNumericCsv(p, ['x', 'y'], values, 2);
    expect(chunks.join('')).toBe(await readFile(p, 'utf8'));
  });

  it('write validates shapes and reports IO errors', async () => {
    const e = await catchAsync(writeNumericCsv(join(dir, 'x.csv'), ['a', 'b'], [1, 2, 3], 2));
    expect(e.code).toBe('INVALID_ARGUMENT');
    const e2 = await catchAsync(writeNumericCsv(join(dir, 'x.csv'), ['a'], [1, 2], 2));
    expect(e2.code).toBe('INVALID_ARGUMENT');
    const e3 = await catchAsync(writeNumericCsv(join(dir, 'no-such-dir', 'x.csv'), ['a'], [1], 1));
    expect(e3.code).toBe('IO_ERROR');
    expect(e3.message).toContain('Remedy:');
  });
});
