/**
 * Data-set kind `hidden-markov-model`: sequences drawn from a random Gaussian
 * hidden Markov model (K states, D features, diagonal unit covariances, means
 * `separation` apart, self-transition probability `stay`), or read from a CSV
 * (`file`, with `columns` and `sequenceColumn`). Held-out data are whole
 * sequences. Data type `hmm-sequences` (`{ x, lengths }`): what the `hmm`
 * model registration reads. Simulated data know their states (the adjusted
 * Rand index of the Viterbi path) and imply the model's `nStates`.
 * @module
 */
import { resolve } from 'node:path';
import { createRng, emError, type OptionSchema } from '@emlab/core';
import { hiddenMarkovModel, readHmmCsv, type HmmParams } from '@emlab/models';
import { registerDatasetKind, type DatasetContext, type DatasetContent } from '../dataset-registry.js';
import { reanchor } from '../suite.js';
import { seedOption } from './seed-option.js';
import { splitRows } from './numeric-table.js';

/** The data type of HMM sequence sets (`{ x: number[][], lengths: number[] }`). @category Data sets */
export const HMM_SEQUENCES = 'hmm-sequences';

/** Options of the `hidden-markov-model` data-set kind. @category Data sets */
export const HIDDEN_MARKOV_DATASET_OPTIONS = {
  file: { type: 'string', description: 'a CSV relative to the suite file (observation columns and an optional sequence-id column, rows in time order); instead of simulating' },
  columns: {
    type: 'custom',
    shape: 'a list of column names',
    description: 'observation columns of the CSV (default: every column but the sequence column)',
    check: (v, path) => {
      if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) throw emError('INVALID_ARGUMENT', path, v, 'must be a non-empty list of column names', 'pass e.g. ["x", "y"]');
      return [...(v as string[])];
    },
  },
  sequenceColumn: { type: 'string', description: 'CSV column of sequence ids (default: one sequence)' },
  nStates: { type: 'integer', min: 1, max: 1000, description: 'simulated: hidden states K' },
  nFeatures: { type: 'integer', min: 1, max: 10_000, description: 'simulated: observation dimension D (default 2)' },
  nSequences: { type: 'integer', min: 1, description: 'simulated: sequences (default 10)' },
  length: { type: 'integer', min: 1, description: 'simulated: steps per sequence (default 200)' },
  separation: { type: 'number', min: 0, exclusiveMin: true, description: 'simulated: distance between state means in noise standard deviations (default 3)' },
  stay: { type: 'number', min: 0, max: 1, exclusiveMax: true, description: 'simulated: self-transition probability (default 0.9; the rest spread evenly)' },
  seed: seedOption('simulated: root seed of the truth and the draw', { default: 0 }),
} as const satisfies OptionSchema;

type Sequences = { x: number[][]; lengths: number[] };

/** The sequences `idx` of a sequence set. */
function takeSequences(d: Sequences, idx: readonly number[]): Sequences {
  const starts: number[] = [];
  let at = 0;
  for (const t of d.lengths) {
    starts.push(at);
    at += t;
  }
  const x: number[][] = [];
  const lengths: number[] = [];
  for (const i of idx) {
    const t = d.lengths[i] as number;
    for (let r = 0; r < t; r++) x.push(d.x[(starts[i] as number) + r] as number[]);
    lengths.push(t);
  }
  return { x, lengths };
}

/** A random Gaussian HMM: means on a scaled simplex-like layout, unit diagonal covariances. */
export function randomGaussianHmm(k: number, d: number, separation: number, stay: number, seed: number | string): HmmParams {
  const rng = createRng(seed).child('hmm-truth');
  const means = Array.from({ length: k }, (_, j) => Array.from({ length: d }, (_, c) => (c === j % d ? separation * (Math.floor(j / d) + 1) : 0) + 0.25 * rng.normal()));
  const off = k === 1 ? 0 : (1 - stay) / (k - 1);
  return {
    initial: new Array<number>(k).fill(1 / k),
    transition: Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (k === 1 ? 1 : i === j ? stay : off))),
    emission: { type: 'gaussian', covarianceType: 'diag', means, covariances: means.map(() => Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => (a === b ? 1 : 0)))) },
  } as unknown as HmmParams;
}

async function fromFile(o: Record<string, unknown>, ctx: DatasetContext): Promise<{ data: Sequences; label: string }> {
  const at = [...ctx.path, 'options', 'file'];
  try {
    const t = await readHmmCsv(resolve(ctx.baseDir, o['file'] as string), {
      ...(o['columns'] === undefined ? {} : { columns: o['columns'] as string[] }),
      ...(o['sequenceColumn'] === undefined ? {} : { sequenceColumn: o['sequenceColumn'] as string }),
    });
    const x: number[][] = [];
    for (let r = 0; r < t.rows; r++) x.push(Array.from(t.values.subarray(r * t.cols, (r + 1) * t.cols)));
    return { data: { x, lengths: Array.from(t.lengths) }, label: String(o['file']) };
  } catch (e) {
    throw reanchor(e, at, 1);
  }
}

registerDatasetKind({
  kind: 'hidden-markov-model',
  description: 'sequences from a random Gaussian HMM (states known) or read from a CSV (file); held-out data are whole sequences',
  options: HIDDEN_MARKOV_DATASET_OPTIONS,
  format: HMM_SEQUENCES,
  check(o, ctx) {
    const simulated = ['nStates', 'nFeatures', 'nSequences', 'length', 'separation', 'stay'].filter((k) => o[k] !== undefined);
    if (o['file'] !== undefined && simulated.length > 0) {
      throw emError('INVALID_ARGUMENT', [...ctx.path, 'options', simulated[0] as string], o[simulated[0] as string], 'is a simulation option, and file reads the sequences instead', `drop ${simulated.join(', ')}, or drop file`);
    }
    if (o['file'] === undefined && o['nStates'] === undefined) {
      throw emError('INVALID_ARGUMENT', [...ctx.path, 'options', 'nStates'], undefined, 'is required to simulate (or pass file)', 'pass e.g. "nStates": 3');
    }
    if (o['file'] === undefined && (o['columns'] !== undefined || o['sequenceColumn'] !== undefined)) {
      throw emError('INVALID_ARGUMENT', [...ctx.path, 'options', o['columns'] !== undefined ? 'columns' : 'sequenceColumn'], o['columns'] ?? o['sequenceColumn'], 'applies to a CSV file only', 'pass file, or drop it');
    }
  },
  size: (o) => (o['file'] !== undefined ? null : ((o['nSequences'] as number | undefined) ?? 10) * ((o['length'] as number | undefined) ?? 200) * ((o['nFeatures'] as number | undefined) ?? 2)),
  async materialize(o, ctx): Promise<DatasetContent> {
    let data: Sequences;
    let states: number[] | null = null;
    let truth: HmmParams | null = null;
    let label: string;
    let k: number | undefined;
    if (o['file'] !== undefined) {
      ({ data, label } = await fromFile(o, ctx));
    } else {
      k = o['nStates'] as number;
      const d = (o['nFeatures'] as number | undefined) ?? 2;
      const n = (o['nSequences'] as number | undefined) ?? 10;
      const t = (o['length'] as number | undefined) ?? 200;
      const seed = o['seed'] as number | string;
      truth = randomGaussianHmm(k, d, (o['separation'] as number | undefined) ?? 3, (o['stay'] as number | undefined) ?? 0.9, seed);
      const hmm = hiddenMarkovModel({ nStates: k, emission: 'gaussian', covarianceType: 'diag' });
      const s = hmm.sample(truth as never, new Array<number>(n).fill(t), `${String(seed)}/sample`);
      data = { x: s.x, lengths: s.lengths };
      states = s.states;
      label = `Gaussian HMM K=${k}, D=${d}, ${n} × ${t} steps, seed ${String(seed)}`;
    }
    const nSeq = data.lengths.length;
    const { train, test } = nSeq < 2 ? { train: [0], test: [] as number[] } : splitRows(nSeq, ctx.heldOut, ctx.id);
    const trainData = test.length === 0 ? data : takeSequences(data, train);
    let trainLabels: Int32Array | null = null;
    if (states !== null) {
      const byState = takeSequences({ x: states.map((z) => [z]), lengths: data.lengths }, train);
      trainLabels = Int32Array.from(byState.x.map((r) => r[0] as number));
    }
    const rows = trainData.x.length;
    return {
      format: HMM_SEQUENCES,
      train: trainData,
      test: test.length === 0 ? null : takeSequences(data, test),
      trainLabels,
      truth,
      ...(k === undefined ? {} : { modelDefaults: { nStates: k } }),
      description: `${label}; ${rows} training steps in ${trainData.lengths.length} sequences`,
      nRows: nSeq,
      nTrain: train.length,
      nTest: test.length,
      nFeatures: (data.x[0] ?? []).length,
      missing: null,
    };
  },
});
