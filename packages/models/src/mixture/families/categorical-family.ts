/**
 * The categorical component family over several columns: given the
 * component, each column is an independent categorical variable with its own
 * levels. A mixture of it is latent class analysis (Lazarsfeld & Henry 1968;
 * Goodman 1974). A missing cell is marginalized.
 * @module
 */
import { emError, parseOptions, type FloatArray, type OptionSchema, type StatsAlgebra } from '@emlab/core';
import type { ComponentFamily, FamilyBlock, FamilyData, FamilyMStepResult } from '../component-family.js';
import { badParams, permuted } from '../internal/arrays.js';

/** Parameters: per column its number of levels, and P(x_c = l | z = k) `[K][C][L_c]`. @category General mixtures */
export interface CategoricalFamilyParams {
  readonly levels: number[];
  readonly probs: number[][][];
}

/** Options of {@link categoricalFamily}. @category General mixtures */
export interface CategoricalFamilyOptions {
  /** Its columns (names or 0-based indices); default every column no other family names. */
  readonly columns?: readonly (string | number)[];
  /** Number of levels, one for every column or one per column; default 1 + the largest code seen in each column. */
  readonly levels?: number | readonly number[];
}

/** Option table of {@link categoricalFamily} (besides `columns`). @category General mixtures */
export const CATEGORICAL_FAMILY_OPTIONS = {
  levels: { type: 'number-list', min: 2, description: 'levels per column (one for all, or one per column); default 1 + the largest code' },
} as const satisfies OptionSchema;

/** Statistics: weighted level counts, `[K × Σ_c L_c]` (column c's levels from `offsets[c]`). @category General mixtures */
export interface CategoricalStats {
  readonly k: number;
  readonly offsets: Int32Array;
  readonly counts: Float64Array;
}

/** Prepared data of a categorical family. @internal */
export interface CategoricalPrepared {
  readonly data: FamilyData;
  readonly levels: number[];
  readonly offsets: Int32Array;
  readonly total: number;
  /** Pooled level frequencies `[Σ L_c]`. */
  readonly pooled: Float64Array;
}

const algebra: StatsAlgebra<CategoricalStats> = {
  zero: (like) => ({ k: like.k, offsets: like.offsets, counts: new Float64Array(like.counts.length) }),
  add: (a, b) => ({ k: a.k, offsets: a.offsets, counts: a.counts.map((v, i) => v + (b.counts[i] as number)) }),
  scale: (a, s) => ({ k: a.k, offsets: a.offsets, counts: a.counts.map((v) => v * s) }),
};

function accumulate(prep: CategoricalPrepared, k: number, start: number, rows: number, weights: FloatArray): CategoricalStats {
  const c = prep.levels.length;
  const counts = new Float64Array(k * prep.total);
  for (let i = 0; i < rows; i++) {
    const base = (start + i) * c;
    for (let j = 0; j < c; j++) {
      const x = prep.data.values[base + j] as number;
      if (Number.isNaN(x)) continue;
      const at = (prep.offsets[j] as number) + x;
      for (let m = 0; m < k; m++) {
        const w = weights[i * k + m] as number;
        if (w !== 0) counts[m * prep.total + at] = (counts[m * prep.total + at] as number) + w;
      }
    }
  }
  return { k, offsets: prep.offsets, counts };
}

function levelsOption(v: number | readonly number[] | undefined): readonly number[] | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? [v] : v;
}

/**
 * Independent categorical columns given the component: log p(x | z = k) =
 * Σ_c log π_{k,c,x_c}. Cells hold integer codes 0 … L_c − 1. M-step: the
 * weighted level frequencies per component and column (maximum likelihood;
 * a level never seen in a component gets probability 0).
 * K·Σ_c (L_c − 1) free parameters.
 *
 * @throws EmError `INVALID_ARGUMENT` for a bad option.
 * @example
 * ```ts
 * // Latent class analysis of four items with 3 levels each:
 * mixtureModel({ nComponents: 2, family: [categoricalFamily({ columns: ['q1', 'q2', 'q3', 'q4'], levels: 3 })] });
 * ```
 * @see Goodman (1974), Exploratory latent structure analysis using both identifiable and unidentifiable models, Biometrika 61(2).
 * @category General mixtures
 */
export function categoricalFamily(options: CategoricalFamilyOptions = {}): ComponentFamily<CategoricalFamilyParams, CategoricalStats, CategoricalPrepared> {
  const { columns, levels: rawLevels, ...rest } = options;
  const o = parseOptions(CATEGORICAL_FAMILY_OPTIONS, { ...rest, ...(rawLevels === undefined ? {} : { levels: levelsOption(rawLevels) }) }, { owner: 'categoricalFamily', pathOf: (k) => ['options', 'family', k] });
  const given = o['levels'] as number[] | undefined;
  if (given?.some((l) => !Number.isInteger(l))) throw emError('INVALID_ARGUMENT', ['options', 'family', 'levels'], given, 'must be integers >= 2', 'pass the number of levels of each column');
  const levelsFor = (cols: number): number[] | undefined => {
    if (given === undefined) return undefined;
    if (given.length === 1) return Array.from({ length: cols }, () => given[0] as number);
    if (given.length !== cols) throw emError('INVALID_ARGUMENT', ['options', 'family', 'levels'], given, `has ${given.length} entries for ${cols} columns`, 'pass one number of levels for all columns, or one per column');
    return [...given];
  };
  return {
    name: 'categorical',
    columns,
    missing: 'marginalized',
    spec: { family: 'categorical', ...(columns === undefined ? {} : { columns: [...columns] }), ...(given === undefined ? {} : { levels: [...given] }) },
    arity: { min: 1, max: Number.POSITIVE_INFINITY },
    algebra,
    validate(view) {
      const lv = levelsFor(view.columns.length);
      const seen = new Float64Array(view.columns.length);
      for (let r = 0; r < view.rows; r++) {
        for (let j = 0; j < view.columns.length; j++) {
          const x = view.at(r, j);
          if (Number.isNaN(x)) continue;
          if (!Number.isInteger(x) || x < 0) throw emError('INVALID_DATA', ['data', r, view.columns[j] as number], x, `is not a level code 0, 1, 2, ... (column ${view.names[j]}, categorical family)`, 'code the levels of categorical columns as integers from 0');
          if (lv !== undefined && x >= (lv[j] as number)) throw emError('INVALID_DATA', ['data', r, view.columns[j] as number], x, `is not below the ${lv[j]} levels of column ${view.names[j]}`, 'raise levels or recode the column');
          seen[j] = (seen[j] as number) + 1;
        }
      }
      seen.forEach((s, j) => {
        if (s === 0) throw emError('INVALID_DATA', ['data', 'column', view.columns[j] as number], 0, `column ${view.names[j]} has no observed value`, 'drop the column: nothing can be learned about it');
      });
    },
    prepare(data) {
      const c = data.columns.length;
      const levels = levelsFor(c) ?? Array.from({ length: c }, (_, j) => {
        let max = 0;
        for (let r = 0; r < data.nRows; r++) {
          const x = data.values[r * c + j] as number;
          if (!Number.isNaN(x) && x > max) max = x;
        }
        return Math.max(2, max + 1);
      });
      const offsets = new Int32Array(c);
      let total = 0;
      levels.forEach((l, j) => {
        offsets[j] = total;
        total += l;
      });
      const prep: CategoricalPrepared = { data, levels, offsets, total, pooled: new Float64Array(total) };
      const ones = new Float64Array(data.nRows);
      for (let r = 0; r < data.nRows; r++) ones[r] = data.weights === undefined ? 1 : (data.weights[r] as number);
      const counts = accumulate(prep, 1, 0, data.nRows, ones).counts;
      for (let j = 0; j < c; j++) {
        let s = 0;
        for (let l = 0; l < (levels[j] as number); l++) s += counts[(offsets[j] as number) + l] as number;
        for (let l = 0; l < (levels[j] as number); l++) prep.pooled[(offsets[j] as number) + l] = s > 0 ? (counts[(offsets[j] as number) + l] as number) / s : 1 / (levels[j] as number);
      }
      return prep;
    },
    initialStats(prep, k, start, rows, weights) {
      return accumulate(prep, k, start, rows, weights);
    },
    structure(prep, params, k) {
      const c = prep.levels.length;
      // log-probabilities, flattened like the statistics.
      const logp = new Float64Array(k * prep.total);
      params.probs.forEach((comp, m) => comp.forEach((col, j) => col.forEach((p, l) => (logp[m * prep.total + (prep.offsets[j] as number) + l] = Math.log(p)))));
      return {
        block(start, rows): FamilyBlock<CategoricalStats> {
          return {
            logDensity() {
              const out = new Float64Array(rows * k);
              for (let i = 0; i < rows; i++) {
                const base = (start + i) * c;
                for (let j = 0; j < c; j++) {
                  const x = prep.data.values[base + j] as number;
                  if (Number.isNaN(x)) continue;
                  const at = (prep.offsets[j] as number) + x;
                  for (let m = 0; m < k; m++) out[i * k + m] = (out[i * k + m] as number) + (logp[m * prep.total + at] as number);
                }
              }
              return out;
            },
            stats: (w) => accumulate(prep, k, start, rows, w),
          };
        },
      };
    },
    mStep(stats, prev, prep, ctx): FamilyMStepResult<CategoricalFamilyParams> {
      const { k } = stats;
      const probs: number[][][] = [];
      for (let m = 0; m < k; m++) {
        const comp: number[][] = [];
        prep.levels.forEach((L, j) => {
          const off = m * prep.total + (prep.offsets[j] as number);
          let s = 0;
          for (let l = 0; l < L; l++) s += stats.counts[off + l] as number;
          const fallback = prev?.probs[m]?.[j] ?? Array.from(prep.pooled.subarray(prep.offsets[j] as number, (prep.offsets[j] as number) + L));
          comp.push(s > 0 ? Array.from({ length: L }, (_, l) => (stats.counts[off + l] as number) / s) : [...fallback]);
        });
        probs.push(comp);
      }
      const events = ctx.empty.map((m) => {
        const r = ctx.pickRow(ctx.rng);
        probs[m] = prep.levels.map((L, j) => {
          const x = prep.data.values[r * prep.levels.length + j] as number;
          return Array.from({ length: L }, (_, l) => {
            const pooled = prep.pooled[(prep.offsets[j] as number) + l] as number;
            return Number.isNaN(x) ? pooled : 0.5 * pooled + (l === x ? 0.5 : 0);
          });
        });
        return { type: 'reinitialized', component: m, detail: `component ${m} was empty; reinitialized halfway between the pooled level frequencies and data row ${r}`, value: r };
      });
      return { params: { levels: [...prep.levels], probs }, events };
    },
    expectedLogJoint(stats, params) {
      let total = 0;
      const width = stats.counts.length / stats.k;
      params.probs.forEach((comp, m) => comp.forEach((col, j) => col.forEach((p, l) => {
        const n = stats.counts[m * width + (stats.offsets[j] as number) + l] as number;
        if (n !== 0) total += n * Math.log(p);
      })));
      return total;
    },
    nParameters(params) {
      return params.probs.length * params.levels.reduce((s, l) => s + l - 1, 0);
    },
    validateParams(params, k, prep, path): asserts params is CategoricalFamilyParams {
      if (typeof params !== 'object' || params === null) badParams(path, params, 'must be an object { levels, probs }', 'pass parameters from a fit result');
      const p = params as Partial<CategoricalFamilyParams>;
      const levels = p.levels;
      if (!Array.isArray(levels) || levels.some((l) => !Number.isInteger(l) || l < 2)) badParams([...path, 'levels'], levels, 'must be an array of integers >= 2', 'pass the number of levels of each column');
      if (prep !== undefined && (levels.length !== prep.levels.length || levels.some((l, j) => l !== prep.levels[j]))) {
        badParams([...path, 'levels'], levels, `must be [${prep.levels.join(', ')}] (the levels of these columns)`, 'pass parameters fitted with the same columns and levels');
      }
      if (!Array.isArray(p.probs) || p.probs.length !== k) badParams([...path, 'probs'], p.probs, `must be an array of nComponents = ${k} entries`, 'pass one table per component');
      p.probs.forEach((comp, m) => {
        if (!Array.isArray(comp) || comp.length !== levels.length) badParams([...path, 'probs', m], comp, `must have ${levels.length} columns`, 'pass one probability vector per column');
        comp.forEach((col, j) => {
          if (!Array.isArray(col) || col.length !== levels[j]) badParams([...path, 'probs', m, j], col, `must have ${levels[j]} probabilities`, 'pass one probability per level');
          let s = 0;
          col.forEach((v, l) => {
            if (typeof v !== 'number' || !(v >= 0 && v <= 1)) badParams([...path, 'probs', m, j, l], v, 'must be a probability in [0, 1]', 'fix the probability');
            s += v;
          });
          if (Math.abs(s - 1) > 1e-9) badParams([...path, 'probs', m, j], s, 'sum to this, not 1 (within 1e-9)', 'normalize the probabilities');
        });
      });
    },
    permute(params, order) {
      return { levels: [...params.levels], probs: permuted(params.probs, order) };
    },
    componentMean(params, k) {
      return ((params.probs[k] as number[][])[0] as number[]).reduce((s, p, l) => s + p * l, 0);
    },
  };
}
