/**
 * Data-set kind `csv`: a numeric CSV file (missing cells NaN), path relative
 * to the suite file; an optional column of integer labels enables the
 * adjusted Rand index and is removed from the data.
 * @module
 */
import { resolve } from 'node:path';
import { emError, type OptionSchema } from '@emlab/core';
import { readNumericCsv } from '@emlab/data';
import { registerDatasetKind } from '../dataset-registry.js';
import { reanchor } from '../suite.js';
import { numericTableContent } from './numeric-table.js';

/** Options of the `csv` data-set kind. @category Data sets */
export const CSV_DATASET_OPTIONS = {
  path: { type: 'string', required: true, description: 'the CSV file, relative to the suite file' },
  labelColumn: { type: 'string', description: 'a column of integer labels (enables the adjusted Rand index; removed from the data)' },
} as const satisfies OptionSchema;

registerDatasetKind({
  kind: 'csv',
  description: 'a numeric CSV file (missing cells NaN), relative to the suite file; optional label column',
  options: CSV_DATASET_OPTIONS,
  format: 'numeric-table',
  missing: ['mcar', 'mar'],
  async materialize(o, ctx) {
    const rel = o['path'] as string;
    const at = [...ctx.path, 'options'];
    let t;
    try {
      t = await readNumericCsv(resolve(ctx.baseDir, rel));
    } catch (e) {
      throw reanchor(e, [...at, 'path'], 1);
    }
    let labels: Int32Array | null = null;
    let values = t.values;
    let cols = t.cols;
    const labelColumn = o['labelColumn'] as string | undefined;
    if (labelColumn !== undefined) {
      const li = t.columns.indexOf(labelColumn);
      if (li < 0) throw emError('INVALID_ARGUMENT', [...at, 'labelColumn'], labelColumn, `is not a column of ${rel} (columns: ${t.columns.join(', ')})`, 'name a column of the file');
      labels = new Int32Array(t.rows);
      values = new Float64Array(t.rows * (t.cols - 1));
      for (let r = 0; r < t.rows; r++) {
        const lab = t.values[r * t.cols + li] as number;
        if (!Number.isInteger(lab)) throw emError('INVALID_DATA', [...at, 'labelColumn'], lab, `row ${r + 1} of ${rel} has a non-integer label`, 'labels must be integers');
        labels[r] = lab;
        let c2 = 0;
        for (let c = 0; c < t.cols; c++) if (c !== li) values[r * (t.cols - 1) + c2++] = t.values[r * t.cols + c] as number;
      }
      cols = t.cols - 1;
    }
    return numericTableContent({ values, rows: t.rows, cols }, { description: `${rel}: ${t.rows}×${cols}${t.missing > 0 ? `, ${t.missing} missing cells` : ''}`, truth: null, labels }, ctx);
  },
});
