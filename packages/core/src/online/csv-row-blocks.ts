/**
 * A numeric CSV file as a stream of row blocks, for online EM: the file is read in 64 KiB chunks
 * and parsed line by line, and at most one block of rows is held at a time (reading pauses while
 * the consumer works on a block). Node only (exported from `@emlab/core/node`).
 *
 * Conventions as `@emlab/data`'s `readNumericCsv`: a header row of unique, non-empty column names;
 * numeric cells; missing markers `''`, `NA`, `NaN`, `nan`, `?` (NaN); RFC 4180 quotes; a UTF-8
 * byte-order mark, CRLF endings and trailing blank lines accepted.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { CsvLineReader, splitCsvLine } from '../csv-lines.js';
import { EmError, emError } from '../errors.js';
import { parseOptions, type OptionSchema } from '../option-schema.js';

/** A block of rows of a numeric CSV file: the `{ values, rows, cols }` data form models accept. @category Online EM */
export interface CsvRowBlock {
  /** Row-major cells `[rows × cols]`; missing cells are NaN. */
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
  readonly columns: readonly string[];
  /** 0-based index (in the file's data rows) of the block's first row. */
  readonly firstRow: number;
}

/** Options of {@link csvRowBlocks}. @category Online EM */
export interface CsvRowBlocksOptions {
  /** Rows per block (the last block may be shorter). Default 1024. */
  readonly blockRows?: number;
  /** Cell texts read as missing (NaN). Default `['', 'NA', 'NaN', 'nan', '?']`. */
  readonly missingMarkers?: readonly string[];
}

const OPTIONS = {
  blockRows: { type: 'integer', min: 1, default: 1024, description: 'rows per block' },
  missingMarkers: {
    type: 'custom',
    shape: 'an array of strings',
    description: 'cell texts read as missing',
    check: (v, path) => {
      if (!Array.isArray(v) || v.some((m) => typeof m !== 'string')) throw emError('INVALID_ARGUMENT', path, v, 'must be an array of strings', 'pass e.g. ["", "NA"]');
      return v;
    },
  },
} as const satisfies OptionSchema;

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$/;

class BlockParser extends CsvLineReader {
  columns: string[] | undefined;
  cols = 0;
  rows = 0;
  buffer = new Float64Array(0);
  firstRow = 0;

  constructor(
    private readonly path: string,
    private readonly markers: ReadonlySet<string>,
    private readonly blockRows: number,
  ) {
    super();
  }

  take(): CsvRowBlock {
    const block = { values: this.buffer.slice(0, this.rows * this.cols), rows: this.rows, cols: this.cols, columns: this.columns as string[], firstRow: this.firstRow };
    this.firstRow += this.rows;
    this.rows = 0;
    return block;
  }

  protected header(text: string, lineNo: number): void {
    const names = splitCsvLine(text, (problem) => emError('PARSE_ERROR', [this.path, 'header'], text, `line ${lineNo}: ${problem}`, 'fix the quoting of the header row'));
    names.forEach((name, i) => {
      if (name === '') throw emError('PARSE_ERROR', [this.path, 'header', 'column', i + 1], text, `line ${lineNo}: header column ${i + 1} has an empty name`, 'give every column a non-empty name');
      if (names.indexOf(name) !== i) throw emError('PARSE_ERROR', [this.path, 'header', 'column', name], name, `line ${lineNo}: column name ${JSON.stringify(name)} appears twice`, 'give every column a unique name');
    });
    this.columns = names;
    this.cols = names.length;
    this.buffer = new Float64Array(this.blockRows * this.cols);
  }

  protected row(text: string, lineNo: number): void {
    const r = this.firstRow + this.rows;
    const cells = splitCsvLine(text, (problem) => emError('PARSE_ERROR', [this.path, 'row', r], text, `line ${lineNo}: ${problem}`, 'fix the quoting of the row'));
    if (cells.length !== this.cols) {
      throw emError('PARSE_ERROR', [this.path, 'row', r], text, `line ${lineNo}: expected ${this.cols} cells (one per header column) but found ${cells.length}`, `give every row exactly ${this.cols} cells; leave a cell empty for a missing value`);
    }
    const base = this.rows * this.cols;
    if (base + this.cols > this.buffer.length) {
      const grown = new Float64Array(2 * (base + this.cols));
      grown.set(this.buffer);
      this.buffer = grown;
    }
    cells.forEach((cell, c) => {
      if (this.markers.has(cell)) this.buffer[base + c] = Number.NaN;
      else if (NUMBER_RE.test(cell)) this.buffer[base + c] = Number(cell);
      else {
        const column = (this.columns as string[])[c] as string;
        throw emError('PARSE_ERROR', [this.path, 'row', r, 'column', column], cell, `line ${lineNo}, column ${JSON.stringify(column)}: cell ${JSON.stringify(cell)} is not a number`, 'fix the cell, or add it to missingMarkers if it marks a missing value');
      }
    });
    this.rows++;
  }
}

/**
 * Streams a numeric CSV file as blocks of `blockRows` rows (the last may be shorter). Each pass of
 * `for await` reads the file again from the start; memory stays at one block plus a 64 KiB chunk.
 *
 * @example
 * ```ts
 * import { csvRowBlocks } from '@emlab/core/node';
 * for await (const block of csvRowBlocks('big.csv', { blockRows: 512 })) console.log(block.firstRow, block.rows);
 * ```
 * @throws EmError `IO_ERROR` (unreadable file), `PARSE_ERROR` (header, ragged row, non-numeric cell,
 *   not UTF-8, no data rows: naming the line and column), `INVALID_ARGUMENT` (options).
 * @category Online EM
 */
export function csvRowBlocks(path: string, options: CsvRowBlocksOptions = {}): AsyncIterable<CsvRowBlock> {
  if (typeof path !== 'string' || path.length === 0) throw emError('INVALID_ARGUMENT', ['path'], path, 'must be a file path', 'pass the path of a CSV file');
  const o = parseOptions(OPTIONS, options, { owner: 'csvRowBlocks', pathOf: (k) => ['options', k] });
  const blockRows = o['blockRows'] as number;
  const markers = new Set((o['missingMarkers'] as string[] | undefined) ?? ['', 'NA', 'NaN', 'nan', '?']);
  return {
    async *[Symbol.asyncIterator](): AsyncGenerator<CsvRowBlock> {
      const parser = new BlockParser(path, markers, blockRows);
      const stream = createReadStream(path, { highWaterMark: 1 << 16 });
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let rest = '';
      let any = false;
      const decode = (chunk: Uint8Array | undefined): string => {
        try {
          return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
        } catch (e) {
          throw emError('PARSE_ERROR', [path], path, 'is not valid UTF-8 text', 'save the file as UTF-8', e);
        }
      };
      try {
        for await (const chunk of stream) {
          const lines = (rest + decode(chunk as Uint8Array)).split('\n');
          rest = lines.pop() as string;
          for (const line of lines) {
            parser.line(line);
            if (parser.rows >= blockRows) {
              any = true;
              yield parser.take();
            }
          }
        }
        rest += decode(undefined);
        if (rest.length > 0) parser.line(rest);
      } catch (e) {
        if (e instanceof EmError) throw e;
        throw emError('IO_ERROR', [path], path, `could not read the file (${e instanceof Error ? e.message : String(e)})`, 'check the path: the file must exist and be readable', e);
      } finally {
        stream.destroy();
      }
      if (parser.columns === undefined) throw emError('PARSE_ERROR', [path], path, 'the file is empty: line 1 should be a header row of column names', 'add a header row followed by numeric rows');
      if (parser.rows > 0) {
        any = true;
        yield parser.take();
      }
      if (!any) throw emError('PARSE_ERROR', [path], path, 'has a header but no data rows', 'add at least one row of numbers after the header');
    },
  };
}
