/**
 * The line layer shared by emlab's CSV readers (numeric tables in
 * `@emlab/data`, state-name tables in `@emlab/models`): files streamed line by
 * line (never read whole into a string), one splitter for RFC 4180 quoting,
 * and one driver for the byte-order mark, CRLF endings, blank lines and the
 * header/row dispatch. Each reader supplies what a header and a row mean.
 * @module
 */
import { emError, type EmError } from './errors.js';

/**
 * Splits one CSV line into cells: unquoted cells are trimmed; double-quoted
 * cells may hold commas and `""` is a literal quote. Quoted cells are trimmed
 * too unless `keepQuoted` (then their content is kept exactly).
 * @param fail - makes the error for a malformed line from a problem description.
 * @category Data
 */
export function splitCsvLine(text: string, fail: (problem: string) => EmError, options: { readonly keepQuoted?: boolean } = {}): string[] {
  if (!text.includes('"')) {
    const parts = text.split(',');
    for (let i = 0; i < parts.length; i++) parts[i] = (parts[i] as string).trim();
    return parts;
  }
  const cells: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] === '"') {
      const start = i;
      i++;
      let cell = '';
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw fail(`unterminated quoted cell starting at character ${start + 1}`);
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (i < n && text[i] !== ',') throw fail(`unexpected character ${JSON.stringify(text[i])} after the closing quote at character ${i + 1}`);
      cells.push(options.keepQuoted === true ? cell : cell.trim());
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      const cell = text.slice(i, end);
      if (cell.includes('"')) throw fail(`a double quote inside the unquoted cell ${JSON.stringify(cell.trim())}`);
      cells.push(cell.trim());
      i = end;
    }
    if (i >= n) return cells;
    i++; // skip the comma
  }
}

// Quote states of a record being scanned (RFC 4180): at a cell's start, inside an unquoted cell,
// inside a quoted cell, just after a quote inside a quoted cell (closing, or the first of "").
const START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const AFTER_QUOTE = 3;

/** The quote state after scanning `text` from `state`: QUOTED means a quoted cell continues on the next line. */
function scanQuotes(text: string, state: number): number {
  let s = state;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (s) {
      case START:
        if (c === 0x22) s = QUOTED;
        else if (c !== 0x20 && c !== 0x09 && c !== 0x2c) s = UNQUOTED;
        break;
      case UNQUOTED:
        if (c === 0x2c) s = START;
        break;
      case QUOTED:
        if (c === 0x22) s = AFTER_QUOTE;
        break;
      default: // AFTER_QUOTE
        s = c === 0x22 ? QUOTED : c === 0x2c ? START : UNQUOTED;
    }
  }
  return s;
}

/**
 * Line dispatch of a CSV reader: strips a byte-order mark and CR, joins the
 * physical lines of a record whose quoted cell holds a line break (RFC 4180),
 * skips blank lines before the header and at the end of the file, and hands
 * every other record to `header` (the first) or `row` with the number of the
 * line it starts on; blank lines followed by data are rows (so a reader
 * reports them as missing or ragged). Feed lines with `line`, then call `end`
 * (`streamLines` and `text` do).
 * @category Data
 */
export abstract class CsvLineReader {
  /** Physical number of the last line seen. */
  protected lineNo = 0;
  /** Physical number of the header line (0 before it). */
  protected headerLine = 0;
  /** Blank lines not yet known to be trailing. */
  private pendingBlank: number[] = [];
  /** A record whose quoted cell is still open at the end of a line: its text so far, first line, quote state. */
  private open: { text: string; line: number; state: number } | undefined;

  /** Feeds one physical line (without its newline). */
  line(raw: string): void {
    this.lineNo++;
    let text = raw;
    if (this.lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (this.open !== undefined) {
      const state = scanQuotes(`\n${text}`, this.open.state);
      const joined = `${this.open.text}\n${text}`;
      if (state === QUOTED) {
        this.open = { text: joined, line: this.open.line, state };
        return;
      }
      const first = this.open.line;
      this.open = undefined;
      this.record(joined, first);
      return;
    }
    if (text.includes('"')) {
      const state = scanQuotes(text, START);
      if (state === QUOTED) {
        this.open = { text, line: this.lineNo, state };
        return;
      }
    }
    this.record(text, this.lineNo);
  }

  /** Ends the input: a record left inside an open quoted cell goes to `header`/`row`, whose splitter reports the unterminated quote. */
  end(): void {
    if (this.open === undefined) return;
    const { text, line } = this.open;
    this.open = undefined;
    this.record(text, line);
  }

  /** Feeds every line of an in-memory text (CRLF, LF or CR endings; no trailing empty line), then ends the input. */
  text(text: string): void {
    const re = /\r\n|\n|\r/g;
    let start = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      this.line(text.slice(start, m.index));
      start = m.index + m[0].length;
    }
    if (start < text.length) this.line(text.slice(start));
    this.end();
  }

  private record(text: string, lineNo: number): void {
    if (this.headerLine === 0) {
      if (text.trim() === '') return;
      this.headerLine = lineNo;
      this.header(text, lineNo);
      return;
    }
    if (text.trim() === '') {
      this.pendingBlank.push(lineNo);
      return;
    }
    for (const n of this.pendingBlank) this.row('', n);
    this.pendingBlank = [];
    this.row(text, lineNo);
  }

  /**
   * The header's column names and their indices, for readers that find columns by name.
   * @param source - the input's name in errors (a path).
   * @throws EmError `PARSE_ERROR` at the header line for bad quoting or a name that appears twice.
   */
  protected namedColumns(text: string, lineNo: number, source: string): { readonly names: string[]; readonly index: Map<string, number> } {
    const names = splitCsvLine(text, (problem) => emError('PARSE_ERROR', [source, 'header'], text, `line ${lineNo}: ${problem}`, 'fix the quoting of the header row'));
    const index = new Map<string, number>();
    names.forEach((n, c) => {
      if (index.has(n)) throw emError('PARSE_ERROR', [source, 'header', 'column', n], n, `line ${lineNo}: column ${JSON.stringify(n)} appears twice`, 'give every column a distinct name');
      index.set(n, c);
    });
    return { names, index };
  }

  protected abstract header(text: string, lineNo: number): void;
  protected abstract row(text: string, lineNo: number): void;
}
