// @emlab/core/node file helpers and the CSV line layer: atomic writes of chunked content, records
// whose quoted cells span lines (RFC 4180), and streamed lines ending the reader.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvLineReader, EmError, emError, splitCsvLine } from '../src/index.js';
import { streamLines, writeFileAtomic } from '../src/node/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-core-files-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes a string, bytes, and sync or async chunks in order', async () => {
    const f = join(dir, 'a.txt');
    await writeFileAtomic(f, 'one');
    expect(await readFile(f, 'utf8')).toBe('one');
    await writeFileAtomic(f, new TextEncoder().encode('two'));
    expect(await readFile(f, 'utf8')).toBe('two');
    await writeFileAtomic(f, ['a', new TextEncoder().encode('b'), 'c']);
    expect(await readFile(f, 'utf8')).toBe('abc');
    async function* chunks(): AsyncGenerator<string> {
      for (let i = 0; i < 1000; i++) yield `${i}\n`;
    }
    await writeFileAtomic(f, chunks());
    expect((await readFile(f, 'utf8')).split('\n')).toHaveLength(1001);
  });

  it('an error while producing chunks passes through, leaves the previous file and no temporary file', async () => {
    const f = join(dir, 'keep.txt');
    await writeFile(f, 'previous');
    function* failing(): Generator<string> {
      yield 'partial';
      throw emError('INVALID_DATA', ['x'], 1, 'boom', 'none');
    }
    await expect(writeFileAtomic(f, failing())).rejects.toThrow(/boom/);
    function* buggy(): Generator<string> {
      yield 'partial';
      throw new RangeError('bug');
    }
    await expect(writeFileAtomic(f, buggy())).rejects.toBeInstanceOf(RangeError);
    expect(await readFile(f, 'utf8')).toBe('previous');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a directory that does not exist is an IO_ERROR naming the given path', async () => {
    const e = await writeFileAtomic(join(dir, 'no', 'x.txt'), 'x', ['--out']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EmError);
    expect((e as EmError).code).toBe('IO_ERROR');
    expect((e as EmError).message).toMatch(/^--out = /);
  });
});

/** Records what a reader is handed. */
class Recorder extends CsvLineReader {
  readonly seen: [string, number, string[]][] = [];
  protected header(text: string, lineNo: number): void {
    this.seen.push(['header', lineNo, this.split(text, lineNo)]);
  }
  protected row(text: string, lineNo: number): void {
    this.seen.push(['row', lineNo, this.split(text, lineNo)]);
  }
  private split(text: string, lineNo: number): string[] {
    return splitCsvLine(text, (problem) => emError('PARSE_ERROR', ['csv'], text, `line ${lineNo}: ${problem}`, 'fix it'), { keepQuoted: true });
  }
}

describe('CsvLineReader: RFC 4180 quoted line breaks', () => {
  it('joins the lines of a quoted cell and numbers records by the line they start on', () => {
    const r = new Recorder();
    r.text('a,"b\nc"\n1,"x\r\n\r\ny"\n"he said ""hi""",3\n2,4\n');
    expect(r.seen).toEqual([
      ['header', 1, ['a', 'b\nc']],
      ['row', 3, ['1', 'x\n\ny']],
      ['row', 6, ['he said "hi"', '3']],
      ['row', 7, ['2', '4']],
    ]);
  });

  it('a stray quote inside an unquoted cell does not open a quoted cell (the splitter reports it)', () => {
    const r = new Recorder();
    expect(() => r.text('a,b\nx"y,1\n2,3\n')).toThrow(/line 2: a double quote inside the unquoted cell/);
  });

  it('an unterminated quoted cell at the end of the input is reported at the line where it starts', () => {
    const r = new Recorder();
    expect(() => r.text('a,b\n1,2\n3,"4\n5,6\n')).toThrow(/line 3: unterminated quoted cell/);
  });

  it('streamLines ends the reader (an open quote at the end of a file is reported), UTF-16 with a BOM included', async () => {
    const f = join(dir, 'open.csv');
    await writeFile(f, 'a,b\n1,"2\n');
    await expect(streamLines(f, new Recorder())).rejects.toThrow(/line 2: unterminated quoted cell/);
    const g = join(dir, 'u16.csv');
    await writeFile(g, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,"b\nc"\n1,2\n', 'utf16le')]));
    const r = new Recorder();
    await streamLines(g, r);
    expect(r.seen).toEqual([
      ['header', 1, ['a', 'b\nc']],
      ['row', 3, ['1', '2']],
    ]);
  });
});
