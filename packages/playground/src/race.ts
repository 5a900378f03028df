/**
 * Methods side by side: one `fitSteps` run per method on the same model, data, seed and start,
 * stepped together one iteration at a time. Each lane keeps its records (the bound trace) and
 * its latest parameters; when a run ends its `FitResult` is the one `fit` (and `emlab fit`)
 * returns for the same inputs.
 * @module
 */
import { EmError, fitSteps, listESteps, toJson, type FitOptions, type FitResult, type FitRun, type IterationRecord, type MethodFamily, type Model, type PreparedData } from '@emlab/core';
import { gaussianMixture, hiddenMarkovModel, missingSummary, type GaussianMixture, type HiddenMarkovModel } from '@emlab/models';
import type { Table } from './data.js';
import type { Settings } from './settings.js';

/** A registered method for a structure kind (`finite` for the mixture, `chain` for the HMM, or any kind). */
export interface MethodInfo {
  readonly name: string;
  readonly family: MethodFamily;
  readonly description: string;
}

/** The methods the registry offers for a structure kind, in registry order. */
export function availableMethods(kind: string): MethodInfo[] {
  return listESteps(kind).map((e) => ({ name: e.method, family: e.family, description: e.description }));
}

/** The structure kind of the settings' model. */
export const kindOf = (s: Settings): string => (s.model === 'hmm' ? 'chain' : 'finite');

/** One method's run. */
export interface Lane {
  readonly method: string;
  readonly family: MethodFamily | null;
  /** Iteration records so far (the bound trace). */
  readonly records: IterationRecord[];
  /** θ after the latest iteration (plain JSON). */
  params: unknown;
  /** The result once the run ended. */
  result: FitResult | null;
  /** Why the method could not run (a typed error's message), if it could not. */
  error: string | null;
  /** Warnings the fit raised (non-convergence, monotonicity). */
  readonly warnings: string[];
  /** Milliseconds spent in this lane's steps. */
  ms: number;
}

/** The fit options every lane shares (the Node test builds the same). */
export function fitOptions(s: Settings, method: string, onWarning: (m: string) => void): FitOptions {
  return {
    eStep: method,
    seed: s.seed,
    init: s.init,
    maxIter: s.maxIter,
    ...(s.tol === null ? {} : { tol: s.tol }),
    precision: s.precision,
    onWarning,
  };
}

/** The model of the settings: a Gaussian mixture, or an HMM with Gaussian emissions. */
export function modelOf(s: Settings): GaussianMixture | HiddenMarkovModel {
  return s.model === 'hmm' ? hiddenMarkovModel({ nStates: s.k, emission: 'gaussian' }) : gaussianMixture({ nComponents: s.k, covarianceType: s.cov });
}

/** The table as the model's data: a matrix for the mixture, one sequence for the HMM. */
export function modelData(s: Settings, t: Table): unknown {
  const m = { values: t.values, rows: t.rows, cols: t.cols };
  return s.model === 'hmm' ? { ...m, lengths: [t.rows] } : m;
}

/** Every method of the settings, stepped together. */
export class Race {
  readonly lanes: Lane[];
  private readonly runs: (FitRun<unknown> | null)[];
  readonly model: GaussianMixture | HiddenMarkovModel;
  readonly data: unknown;
  private disposed = false;
  /** Iterations stepped (the largest lane's record count). */
  iteration = 0;

  constructor(readonly settings: Settings, readonly table: Table) {
    const model = modelOf(settings);
    this.model = model;
    const data = modelData(settings, table);
    this.data = data;
    const families = new Map(availableMethods(model.structureKind).map((m) => [m.name, m.family]));
    this.lanes = [];
    this.runs = [];
    for (const method of settings.methods) {
      const lane: Lane = { method, family: families.get(method) ?? null, records: [], params: null, result: null, error: null, warnings: [], ms: 0 };
      let run: FitRun<unknown> | null = null;
      try {
        run = fitSteps(model as unknown as Model<unknown, unknown, unknown, PreparedData>, data, fitOptions(settings, method, (m) => lane.warnings.push(m)));
      } catch (e) {
        lane.error = describeError(e);
      }
      this.lanes.push(lane);
      this.runs.push(run);
    }
  }

  /** Whether every lane has ended (finished or failed). */
  get finished(): boolean {
    return this.lanes.every((l) => l.result !== null || l.error !== null);
  }

  /** One iteration of every lane still running. */
  async step(): Promise<void> {
    if (this.disposed) throw new EmError('ABORTED', 'the race was reset', { path: ['race'] });
    for (const [i, lane] of this.lanes.entries()) {
      const run = this.runs[i];
      if (run === null || run === undefined || lane.result !== null || lane.error !== null) continue;
      const t0 = performance.now();
      try {
        const s = await run.step();
        if (s === null) {
          lane.result = await run.result();
          lane.params = lane.result.params;
        } else {
          lane.records.push(s.record);
          lane.params = s.params;
        }
      } catch (e) {
        lane.error = describeError(e);
      }
      lane.ms += performance.now() - t0;
    }
    this.iteration = Math.max(0, ...this.lanes.map((l) => l.records.length));
  }

  /** Frees every run. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.runs.map((r) => r?.dispose()));
  }

  /**
   * A finished lane's result: for the mixture, what `emlab fit --json` prints (the FitResult with
   * the columns and missing-data summary); for the HMM, the FitResult as `emlab fit --out` saves it.
   */
  resultJson(method: string): string {
    const lane = this.lanes.find((l) => l.method === method);
    if (lane?.result == null) {
      throw new EmError('INVALID_ARGUMENT', `method ${JSON.stringify(method)} has no result yet. Remedy: run it to the end first`, { path: ['method'], value: method });
    }
    return `${toJson(this.settings.model === 'gmm' ? { ...lane.result, ...cliExtras(this.table) } : lane.result)}\n`;
  }
}

/** The keys `emlab fit --json` adds for a numeric table: columns, nMissing, nRowsAllMissing, missingPatterns. */
export function cliExtras(t: Table): Record<string, unknown> {
  const m = missingSummary({ values: t.values, rows: t.rows, cols: t.cols });
  return {
    columns: [...t.columns],
    nMissing: m.nMissing,
    nRowsAllMissing: m.nRowsAllMissing,
    missingPatterns: m.patterns.map((p) => ({ missing: p.missing.map((c) => t.columns[c] as string), count: p.count })),
  };
}

/** A message for the page: an EmError's code and message, or any other error's message. */
export function describeError(e: unknown): string {
  if (e instanceof EmError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
