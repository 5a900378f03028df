/**
 * The data a view fits: a built-in data set, a generated mixture (with entries hidden at random),
 * or a dropped CSV file; plus the points added by clicking. Everything is deterministic given the
 * settings (and the CSV text), so Node reproduces it with the same calls (see the browser test).
 * @module
 */
import { emError } from '@emlab/core';
import { loadBuiltin, makeGaussianMixture, maskMissing, parseNumericCsv } from '@emlab/data';
import { hiddenMarkovModel, type HmmParams } from '@emlab/models';
import type { GeneratorSettings, Settings } from './settings.js';

/** A numeric table as the Gaussian mixture takes it, with column names. */
export interface Table {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
  readonly columns: readonly string[];
  /** What it is, for the page. */
  readonly description: string;
}

/** A CSV file the user dropped: its name and text (kept in memory, not in the URL). */
export interface DroppedCsv {
  readonly name: string;
  readonly text: string;
}

/** Column names x1 … xD. */
const xNames = (d: number): string[] => Array.from({ length: d }, (_, j) => `x${j + 1}`);

/**
 * The base table for the settings (before clicked points).
 * @throws EmError `INVALID_ARGUMENT` when the source is a CSV but none was dropped; the CSV parser's errors for a bad file.
 */
export function baseTable(s: Settings, csv: DroppedCsv | null): Table {
  if (s.model === 'hmm') return baseSeries(s, csv);
  switch (s.data) {
    case 'generated': {
      const g = makeGaussianMixture({ nSamples: s.gen.n, nComponents: s.gen.clusters, nFeatures: 2, seed: s.gen.seed, separation: s.gen.separation, covariance: s.gen.shape });
      const complete = { values: g.values, rows: g.rows, cols: g.cols };
      const t = s.gen.missing > 0 ? maskMissing(complete, { rate: s.gen.missing, seed: s.gen.seed }).table : complete;
      return {
        values: t.values,
        rows: t.rows,
        cols: t.cols,
        columns: xNames(2),
        description: `generated: ${s.gen.n} rows from ${s.gen.clusters} Gaussian clusters (${s.gen.shape} covariances, separation ${s.gen.separation}, data seed ${s.gen.seed})${s.gen.missing > 0 ? `, ${Math.round(s.gen.missing * 100)}% of cells hidden at random` : ''}`,
      };
    }
    case 'csv': {
      if (csv === null) {
        throw emError('INVALID_ARGUMENT', ['data'], 'csv', 'no CSV file was dropped on this page', 'drop a CSV file (a header row and numeric columns) on the page, or choose a built-in data set');
      }
      const t = parseNumericCsv(csv.text, { name: csv.name });
      if (t.cols < 2) throw emError('INVALID_DATA', [csv.name, 'columns'], t.columns, 'has fewer than two numeric columns', 'drop a CSV file with at least two numeric columns');
      return { values: t.values, rows: t.rows, cols: t.cols, columns: t.columns, description: `${csv.name}: ${t.rows} rows × ${t.cols} columns${t.missing > 0 ? `, ${t.missing} missing cell${t.missing === 1 ? '' : 's'}` : ''}` };
    }
    default: {
      const b = loadBuiltin(s.data);
      return { values: b.values, rows: b.rows, cols: b.cols, columns: b.columns, description: `built-in ${b.name}: ${b.description}` };
    }
  }
}

/** The table with the clicked points appended (2-column data only; clicked points are complete rows). */
export function withPoints(t: Table, points: Settings['points']): Table {
  if (points.length === 0) return t;
  if (t.cols === 1) throw emError('INVALID_ARGUMENT', ['pts'], points.length, 'points are added to 2-column mixture data only, not to a series', 'remove the points (Clear points)');
  if (t.cols !== 2) {
    throw emError('INVALID_ARGUMENT', ['pts'], points.length, `points can be added to 2-column data only (this table has ${t.cols} columns)`, 'remove the points (Clear points) or choose 2-D data');
  }
  const values = new Float64Array((t.rows + points.length) * 2);
  values.set(t.values);
  points.forEach(([x, y], i) => {
    values[(t.rows + i) * 2] = x;
    values[(t.rows + i) * 2 + 1] = y;
  });
  return { ...t, values, rows: t.rows + points.length, description: `${t.description}, plus ${points.length} clicked point${points.length === 1 ? '' : 's'}` };
}

/**
 * The true HMM of the generator settings: `clusters` states with unit-variance Gaussian emissions
 * whose means are `separation` apart (centred on 0), self-transition `stay`, the rest spread
 * evenly, and a uniform initial distribution.
 */
export function hmmTruth(g: GeneratorSettings): HmmParams {
  const k = g.clusters;
  const off = k === 1 ? 0 : (1 - g.stay) / (k - 1);
  return {
    initial: Array.from({ length: k }, () => 1 / k),
    transition: Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (k === 1 ? 1 : i === j ? g.stay : off))),
    emission: { type: 'gaussian', covarianceType: 'full', means: Array.from({ length: k }, (_, i) => [(i - (k - 1) / 2) * g.separation]), covariances: Array.from({ length: k }, () => [[1]]) },
  } as HmmParams;
}

/** The HMM's series: one sequence, one column (generated from {@link hmmTruth}, or a CSV file's first column). */
function baseSeries(s: Settings, csv: DroppedCsv | null): Table {
  if (s.data === 'generated') {
    const sample = hiddenMarkovModel({ nStates: s.gen.clusters, emission: 'gaussian' }).sample(hmmTruth(s.gen), [s.gen.n], s.gen.seed);
    const complete = { values: Float64Array.from(sample.x, (r) => r[0] as number), rows: s.gen.n, cols: 1 };
    const t = s.gen.missing > 0 ? maskMissing(complete, { rate: s.gen.missing, seed: s.gen.seed }).table : complete;
    return {
      values: t.values,
      rows: t.rows,
      cols: 1,
      columns: ['x'],
      description: `generated: a series of ${s.gen.n} steps from a ${s.gen.clusters}-state HMM (unit-variance Gaussian emissions, means ${s.gen.separation} apart, self-transition ${s.gen.stay}, data seed ${s.gen.seed})${s.gen.missing > 0 ? `, ${Math.round(s.gen.missing * 100)}% of steps hidden at random` : ''}`,
    };
  }
  if (s.data === 'csv') {
    if (csv === null) throw emError('INVALID_ARGUMENT', ['data'], 'csv', 'no CSV file was dropped on this page', 'drop a CSV file (a header row and numeric columns) on the page, or choose generated data');
    const t = parseNumericCsv(csv.text, { name: csv.name });
    const values = Float64Array.from({ length: t.rows }, (_, i) => t.values[i * t.cols] as number);
    return { values, rows: t.rows, cols: 1, columns: [t.columns[0] as string], description: `${csv.name}: column ${JSON.stringify(t.columns[0])} as one series of ${t.rows} steps` };
  }
  throw emError('INVALID_ARGUMENT', ['data'], s.data, 'is a 2-D mixture data set; the HMM fits a 1-D series', 'choose generated data or drop a CSV file (its first column is the series), or switch the model to gmm');
}

/** The table a view fits. */
export function buildTable(s: Settings, csv: DroppedCsv | null): Table {
  return withPoints(baseTable(s, csv), s.points);
}

const quote = (name: string): string => (/[",\r\n]/.test(name) || name !== name.trim() ? `"${name.replace(/"/g, '""')}"` : name);

/**
 * The table as CSV text: a header of column names, then every row with `String(x)` (which reads
 * back to the same float64) and empty cells for missing values. What `emlab fit data.csv` reads,
 * so a view's fit can be reproduced exactly on the command line.
 */
export function tableCsv(t: Table): string {
  const lines = [t.columns.map(quote).join(',')];
  for (let i = 0; i < t.rows; i++) {
    const row: string[] = [];
    for (let j = 0; j < t.cols; j++) {
      const v = t.values[i * t.cols + j] as number;
      row.push(Number.isNaN(v) ? '' : String(v));
    }
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}
