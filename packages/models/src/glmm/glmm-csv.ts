/**
 * GLMM data from a CSV file by column roles (no formulas): the response
 * column, the group column, fixed-effect covariates and random-effect
 * covariates, with an intercept column of ones added to x and to z unless
 * switched off.
 * @module
 */
import { CsvLineReader, emError, splitCsvLine } from '@emlab/core';
import type { GlmmModelData } from './glmm-model.js';

/** Which columns play which role. @category GLMM */
export interface GlmmColumnRoles {
  /** Response column (counts for Poisson, 0/1 for logistic). */
  readonly response: string;
  /** Group column (any text; groups are ordered by their text). */
  readonly group: string;
  /** Fixed-effect covariate columns (x after the intercept). Default none. */
  readonly fixed?: readonly string[];
  /** Random-effect covariate columns (z after the intercept: random slopes). Default none. */
  readonly random?: readonly string[];
  /** Prepend a column of ones to x (default true). */
  readonly fixedIntercept?: boolean;
  /** Prepend a column of ones to z: a random intercept (default true). */
  readonly randomIntercept?: boolean;
}

class GlmmCsvReader extends CsvLineReader {
  private index: Map<string, number> | undefined;
  private width = 0;
  readonly group: string[] = [];
  readonly y: number[] = [];
  readonly x: number[][] = [];
  readonly z: number[][] = [];
  private readonly fixed: readonly string[];
  private readonly random: readonly string[];

  constructor(
    private readonly name: string,
    private readonly roles: GlmmColumnRoles,
  ) {
    super();
    this.fixed = roles.fixed ?? [];
    this.random = roles.random ?? [];
  }

  protected header(text: string, lineNo: number): void {
    const { names, index } = this.namedColumns(text, lineNo, this.name);
    const need = (col: string, role: string): void => {
      if (!index.has(col)) throw emError('INVALID_ARGUMENT', ['options', role], col, `is not a column of ${this.name} (columns: ${names.join(', ')})`, `pass --${role} with one of those names`);
    };
    need(this.roles.response, 'response');
    need(this.roles.group, 'group');
    this.fixed.forEach((c) => need(c, 'fixed'));
    this.random.forEach((c) => need(c, 'random'));
    this.index = index;
    this.width = names.length;
  }

  protected row(text: string, lineNo: number): void {
    const r = this.y.length;
    const cells = splitCsvLine(text, (problem) => emError('PARSE_ERROR', [this.name, 'row', r], text, `line ${lineNo}: ${problem}`, 'fix the quoting of the row'));
    if (cells.length !== this.width) {
      throw emError('PARSE_ERROR', [this.name, 'row', r], text, `line ${lineNo} (data row ${r + 1}): expected ${this.width} cells but found ${cells.length}`, `give every row ${this.width} comma-separated cells`);
    }
    const index = this.index!;
    const num = (col: string): number => {
      const cell = cells[index.get(col)!]!;
      const v = cell.trim() === '' ? Number.NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw emError('PARSE_ERROR', [this.name, 'row', r, 'column', col], cell, `line ${lineNo} (data row ${r + 1}), column ${JSON.stringify(col)}: ${JSON.stringify(cell)} is not a finite number`, 'give every response and covariate cell a number (the GLMM has no missing covariates)');
      }
      return v;
    };
    this.group.push(cells[index.get(this.roles.group)!]!);
    this.y.push(num(this.roles.response));
    this.x.push([...(this.roles.fixedIntercept === false ? [] : [1]), ...this.fixed.map(num)]);
    this.z.push([...(this.roles.randomIntercept === false ? [] : [1]), ...this.random.map(num)]);
  }

  finish(): GlmmModelData {
    if (this.index === undefined) throw emError('PARSE_ERROR', [this.name], this.name, 'the file is empty: line 1 should be a header row', 'add a header row naming the columns');
    if (this.y.length === 0) throw emError('PARSE_ERROR', [this.name], this.name, 'has a header but no data rows', 'add at least one row');
    return { group: this.group, y: this.y, x: this.x, z: this.z };
  }
}

/**
 * Parses CSV text into GLMM data by column roles.
 * @throws EmError `PARSE_ERROR` (empty file, ragged row, non-numeric cell with line and column),
 *   `INVALID_ARGUMENT` (a role naming no column).
 * @example
 * ```ts
 * const data = parseGlmmCsv('school,score,hours\na,3,1.5\nb,0,2\n', { response: 'score', group: 'school', fixed: ['hours'] });
 * ```
 * @category GLMM
 */
export function parseGlmmCsv(text: string, roles: GlmmColumnRoles, name = '<csv>'): GlmmModelData {
  const reader = new GlmmCsvReader(name, roles);
  reader.text(text);
  return reader.finish();
}

/**
 * Reads a CSV file into GLMM data by column roles (streamed line by line); errors as {@link parseGlmmCsv}, plus `IO_ERROR`.
 * @category GLMM
 */
export async function readGlmmCsv(path: string, roles: GlmmColumnRoles): Promise<GlmmModelData> {
  const { streamLines } = await import('@emlab/core/node');
  const reader = new GlmmCsvReader(path, roles);
  await streamLines(path, reader);
  return reader.finish();
}
