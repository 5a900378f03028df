/**
 * The E-step conformance suite: the E-step on the kit's own small structures
 * of its kind compared with brute force, its lifecycle, the continuous-latent
 * hooks of `finite` blocks, its options, and — through `fit` on models of its
 * kind — the model suite's fit properties with this E-step. `checkEStep`
 * registers them as vitest `it` blocks; {@link eStepProperties} returns them.
 * @module
 */
import fc from 'fast-check';
import {
  EmError,
  createRng,
  emError,
  findEStep,
  initBackend,
  isMethod,
  type EStep,
  type EStepContext,
  type EStepRegistration,
  type EStepResult,
  type FactorGraphStructure,
  type FiniteStructure,
  type LatentStructure,
  type Method,
  type Model,
  type OptionSpec,
} from '@emlab/core';
import { bayesianNetwork, sampleNetwork, type BnData } from '@emlab/models';
import { randomBayesNet } from '../bn-helpers.js';
import { expectNoTensorLeak } from '../leak.js';
import { discrepancy } from './internal/compare.js';
import { factorGraphCaseArb, factorGraphCaseStructure, factorGraphTruth, type FactorGraphCase } from './internal/factor-graph-cases.js';
import { expectEmError, fail, McCalibration, StdErrTally } from './internal/fit-checks.js';
import { caseStructure, finiteCaseArb, finiteTruth, impliedQ, kitMixtureDataArb, type FiniteCase, type LatentTableStats } from './internal/finite-cases.js';
import { kitMixture } from './internal/kit-mixture.js';
import { modelProperties, type ModelPropertyName } from './model-properties.js';
import { DEFAULT_CONFORMANCE_RUNS, DEFAULT_CONFORMANCE_SEED, type ConformanceProperty, type ConformanceRunOptions } from './types.js';

/** The properties of the E-step suite (the `fit:` ones are the model suite's, run with this E-step). @category Conformance */
export const ESTEP_PROPERTIES = ['brute-force', 'latent-hooks', 'lifecycle', 'reproducible', 'bad-options', 'abort', 'fit'] as const;

/** A property of the E-step suite. @category Conformance */
export type EStepPropertyName = (typeof ESTEP_PROPERTIES)[number];

/** A model and data sets the `fit` properties run the E-step (or method) on. @category Conformance */
export interface EStepFitCase {
  readonly label: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly model: Model<any, any, any, any>;
  readonly data: fc.Arbitrary<unknown>;
}

/** A structure of the E-step's kind supplied by the caller, with what is known about it. @category Conformance */
export interface StructureCase {
  readonly structure: LatentStructure;
  /** Σ_n w_n log p(x_n | θ), when known: exact E-steps must match it, restricted ones stay below, Monte Carlo ones within 4 SE. */
  readonly logLikelihood?: number;
}

/** Options of `checkEStep` / {@link eStepProperties}. @category Conformance */
export interface CheckEStepOptions extends ConformanceRunOptions {
  /** `describe` label (vitest binding). Default `conformance: E-step <kind>/<name>`. */
  readonly label?: string;
  /** Which properties to run (default all of {@link ESTEP_PROPERTIES} that apply). */
  readonly properties?: readonly EStepPropertyName[];
  /** Which of the model suite's properties the `fit` cases run. Default monotone, bound-vs-log-likelihood, tensor-hygiene, reproducible. */
  readonly fitProperties?: readonly ModelPropertyName[];
  /**
   * Builds the E-step from options (to feed it malformed ones). Default: its registration under
   * (kind, name), when that builds an E-step of the same name.
   */
  readonly factory?: (options?: Readonly<Record<string, unknown>>) => EStep | Method;
  /** For restricted `finite` E-steps: a problem with q `[N][K]` (rows with zero weight are null) for a table, or undefined when q is in the family (e.g. one-hot rows for a hard E-step). */
  readonly inFamily?: (q: readonly (readonly number[] | null)[], table: readonly (readonly number[])[]) => string | undefined;
  /**
   * Models and data the `fit` properties use. Default: the kit's missing-entry mixture for `finite`,
   * a Bayesian network with a hidden node and missing cells for `factor-graph`; required for other
   * kinds and for methods of every kind (`'*'`, e.g. the gradient baseline).
   */
  readonly fitCases?: readonly EStepFitCase[];
}

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Seeds per case with which a Monte Carlo E-step's standard error is calibrated. */
const MC_SEEDS = 24;

/** The default `fit` cases of a structure kind. */
function defaultFitCases(kind: string): EStepFitCase[] | undefined {
  if (kind === 'finite') return [{ label: 'kit missing-entry mixture (K = 2)', model: kitMixture(2), data: kitMixtureDataArb() }];
  if (kind === 'factor-graph') {
    const net = randomBayesNet(11, { nNodes: 4, maxCard: 3, maxParents: 2 });
    const hidden = (net.nodes[1] as { name: string }).name;
    const data: fc.Arbitrary<BnData> = fc.record({ n: fc.integer({ min: 12, max: 40 }), seed: fc.integer({ min: 0, max: 1_000_000 }) }).map(({ n, seed }) => sampleNetwork(net, n, seed, { missingRate: 0.2, hide: [hidden] }));
    return [{ label: `Bayesian network (4 nodes, ${hidden} hidden, 20% missing)`, model: bayesianNetwork(net, { hidden: [hidden] }), data }];
  }
  return undefined;
}

/** The registration that builds this E-step, if any. */
function registrationOf(e: EStep | Method): EStepRegistration | undefined {
  try {
    const r = findEStep(e.kind, e.name);
    const made = r.create({});
    return made.name === e.name && made.family === e.family ? r : undefined;
  } catch {
    return undefined;
  }
}

/** A value of the wrong type or range for an option spec. */
function wrongValue(spec: OptionSpec): unknown {
  switch (spec.type) {
    case 'integer':
      return 1.5;
    case 'number':
      return 'NaN';
    case 'boolean':
      return 'yes';
    case 'enum':
      return '__not_a_value__';
    case 'string':
      return 42;
    case 'number-list':
      return ['a'];
    case 'custom':
      return Symbol('not an option value');
  }
}

/** The E-step's lifecycle on one structure: start, three runs with one state, dispose; results checked. */
async function lifecycle(eStep: EStep, structure: LatentStructure, seed: number, what: string): Promise<EStepResult[]> {
  const rng = createRng(seed).child('conformance-lifecycle');
  const out: EStepResult[] = [];
  await expectNoTensorLeak(async () => {
    const state = eStep.start?.({ rng: rng.child('estep-start'), restart: 0, structure });
    try {
      let passes = 0;
      for (let t = 1; t <= 3; t++) {
        const ctx: EStepContext = { rng: rng.child('iter', t, 'estep'), iteration: t, passes, state, precision: structure.precision ?? 'float64' };
        const ret = eStep.run(structure, ctx);
        const e = await ret;
        for (const key of ['bound', 'entropy'] as const) if (typeof e[key] !== 'number' || Number.isNaN(e[key])) fail(`${what}: run ${t} returned ${key} = ${e[key]}`);
        if (e.coverage !== undefined && !(e.coverage > 0 && e.coverage <= 1)) fail(`${what}: run ${t} returned coverage ${e.coverage} (must be in (0, 1])`);
        if (e.boundStdErr !== undefined && !(e.boundStdErr >= 0)) fail(`${what}: run ${t} returned boundStdErr ${e.boundStdErr}`);
        if (eStep.family === 'monte-carlo' && e.boundStdErr === undefined) fail(`${what}: a Monte Carlo E-step must return boundStdErr`);
        const alg = (structure as { algebra?: { zero(s: unknown): unknown; add(a: unknown, b: unknown): unknown; scale(a: unknown, c: number): unknown } }).algebra;
        if (alg !== undefined) {
          const shape = discrepancy(alg.scale(e.stats, 0), alg.zero(e.stats));
          if (shape.relative === Number.POSITIVE_INFINITY) fail(`${what}: run ${t} returned statistics of another shape than the structure's algebra (${shape.path})`);
        }
        passes += e.coverage ?? 1;
        out.push(e);
      }
    } finally {
      if (eStep.start !== undefined) eStep.dispose?.(state);
    }
  }, what);
  return out;
}

/** Runs an E-step once (its own start/dispose), no checks. */
async function once(eStep: EStep, structure: LatentStructure, seed: number, signal?: AbortSignal): Promise<EStepResult> {
  const rng = createRng(seed).child('conformance-once');
  const state = eStep.start?.({ rng: rng.child('estep-start'), restart: 0, structure });
  try {
    return await eStep.run(structure, { rng: rng.child('estep'), iteration: 1, passes: 0, state, precision: structure.precision ?? 'float64', ...(signal === undefined ? {} : { signal }) });
  } finally {
    if (eStep.start !== undefined) eStep.dispose?.(state);
  }
}

const near = (x: number, y: number, tol: number): boolean => Math.abs(x - y) <= tol;

/** Brute-force checks of one finite case. */
function checkFinite(eStep: EStep, c: FiniteCase, e: EStepResult, calls: { stats: number; sampleStats: number; latentEntropy: number }, nChunks: number, inFamily: CheckEStepOptions['inFamily']): void {
  const truth = finiteTruth(c);
  const k = (c.table[0] as number[]).length;
  const stats = e.stats as LatentTableStats;
  const tol = 1e-10 * Math.max(1, Math.abs(truth.logLikelihood), truth.totalWeight, Math.abs(truth.entropy));
  const what = `${eStep.kind}/${eStep.name} on a ${c.table.length}×${k} ${c.precision} table${c.weights === undefined ? '' : ' (weighted)'}${c.h === undefined ? '' : ' with a continuous latent part'}`;
  c.table.forEach((_, r) => {
    const w = c.weights === undefined ? 1 : (c.weights[r] as number);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = stats.q[r * k + j] as number;
      if (!(v >= 0)) fail(`${what}: row ${r}: weight table entry ${v} < 0`);
      s += v;
    }
    if (!near(s, w, 1e-12 * Math.max(1, w))) fail(`${what}: row ${r}: the weight table sums to ${s}, not the row weight ${w}`);
  });
  if (e.logLikelihood !== undefined && !near(e.logLikelihood, truth.logLikelihood, tol)) fail(`${what}: logLikelihood ${e.logLikelihood}, brute force ${truth.logLikelihood}`);
  if (c.h !== undefined && calls.latentEntropy < nChunks) fail(`${what}: latentEntropy was read for ${calls.latentEntropy} of ${nChunks} blocks`);
  if (eStep.family === 'monte-carlo') {
    if (e.boundStdErr === undefined) fail(`${what}: no boundStdErr`);
    if (c.h !== undefined && calls.sampleStats < nChunks) fail(`${what}: the continuous part of the latent was not drawn (sampleStats called for ${calls.sampleStats} of ${nChunks} blocks): return the draws to core's block loop`);
    return;
  }
  if (calls.sampleStats > 0) fail(`${what}: a ${eStep.family} E-step used sampleStats (drawn statistics)`);
  const implied = impliedQ(c, stats);
  // Deterministic statistics: the latent value's expectation under q.
  implied.q.forEach((q, r) => {
    if (q === null) return;
    const w = c.weights === undefined ? 1 : (c.weights[r] as number);
    q.forEach((qk, j) => {
      const m = stats.m[r * k + j] as number;
      const expected = w * qk * ((c.mean[r] as number[])[j] as number);
      if (!near(m, expected, 1e-12 * Math.max(1, Math.abs(expected), w))) fail(`${what}: row ${r}, component ${j}: statistic ${m}, expected w·q·E[latent] = ${expected}`);
    });
  });
  if (eStep.family === 'exact') {
    truth.posterior.forEach((p, r) => {
      const q = implied.q[r];
      if (q === null || q === undefined) return;
      p.forEach((pk, j) => {
        if (!near(q[j] as number, pk, 1e-12)) fail(`${what}: row ${r}, component ${j}: q = ${q[j]}, posterior ${pk}`);
      });
    });
    if (!near(e.bound, truth.logLikelihood, tol)) fail(`${what}: bound ${e.bound}, log p(x) = ${truth.logLikelihood}`);
    if (!near(e.entropy, truth.entropy, tol)) fail(`${what}: entropy ${e.entropy}, brute force ${truth.entropy}`);
    return;
  }
  implied.q.forEach((q, r) => {
    if (q === null) return;
    const s = q.reduce((a, b) => a + b, 0);
    if (!near(s, 1, 1e-12)) fail(`${what}: row ${r}: q sums to ${s}`);
  });
  if (!near(e.bound, implied.bound, tol)) fail(`${what}: bound ${e.bound}, but L(q) recomputed from its statistics is ${implied.bound}`);
  if (!near(e.entropy, implied.entropy, tol)) fail(`${what}: entropy ${e.entropy}, but H(q) (continuous part included) is ${implied.entropy}`);
  if (!(e.bound <= truth.logLikelihood + tol)) fail(`${what}: the restricted bound ${e.bound} exceeds log p(x) = ${truth.logLikelihood}`);
  const problem = inFamily?.(implied.q, c.table);
  if (problem !== undefined) fail(`${what}: q is not in the E-step's family: ${problem}`);
}

/** Brute-force checks of one factor-graph case. */
function checkFactorGraph(eStep: EStep, c: FactorGraphCase, s: FactorGraphStructure, e: EStepResult): void {
  const truth = factorGraphTruth(c);
  const counts = e.stats as Float64Array[];
  const rel = c.precision === 'float64' ? 1e-9 : 1e-4;
  const tol = rel * Math.max(1, Math.abs(truth.logLikelihood), truth.totalWeight, Math.abs(truth.entropy));
  const what = `${eStep.kind}/${eStep.name} on a ${c.nNodes}-node network, ${c.nRows} rows, ${c.precision}${c.weights === undefined ? '' : ' (weighted)'}`;
  counts.forEach((t, i) => {
    let sum = 0;
    for (const v of t) {
      if (!(v >= -tol)) fail(`${what}: family ${i}: negative count ${v}`);
      sum += v;
    }
    if (!near(sum, truth.totalWeight, rel * Math.max(1, truth.totalWeight))) fail(`${what}: family ${i}: counts sum to ${sum}, not the total weight ${truth.totalWeight}`);
  });
  if (e.logLikelihood !== undefined && !near(e.logLikelihood, truth.logLikelihood, tol)) fail(`${what}: logLikelihood ${e.logLikelihood}, brute force ${truth.logLikelihood}`);
  if (eStep.family === 'monte-carlo') {
    if (e.boundStdErr === undefined) fail(`${what}: no boundStdErr`);
    return;
  }
  // The kit's graphs are Bayesian networks: factor scopes = families, so E_q log p follows from the counts.
  let elj = (s.logConstant ?? 0) * truth.totalWeight;
  counts.forEach((t, i) => {
    const phi = s.factorTables[i] as Float64Array;
    t.forEach((v, j) => {
      if (v > 0) elj += v * Math.log(phi[j] as number);
    });
  });
  if (!near(e.bound, elj + e.entropy, tol)) fail(`${what}: bound ${e.bound} ≠ E_q log p (${elj}) + H(q) (${e.entropy})`);
  if (eStep.family === 'exact') {
    if (!near(e.bound, truth.logLikelihood, tol)) fail(`${what}: bound ${e.bound}, log p(x) = ${truth.logLikelihood}`);
    if (!near(e.entropy, truth.entropy, tol)) fail(`${what}: entropy ${e.entropy}, brute force ${truth.entropy}`);
    counts.forEach((t, i) => {
      const d = discrepancy(Array.from(t), Array.from(truth.counts[i] as Float64Array), Math.max(1, truth.totalWeight));
      if (!(d.relative <= rel)) fail(`${what}: family ${i} counts differ from brute force at ${d.path}: ${String(d.a)} vs ${String(d.b)}`);
    });
    return;
  }
  if (!(e.bound <= truth.logLikelihood + tol)) fail(`${what}: the restricted bound ${e.bound} exceeds log p(x) = ${truth.logLikelihood}`);
}

/**
 * The E-step suite as a list of properties (see `checkEStep` for what each checks).
 * @example
 * ```ts
 * const outcomes = await runConformance(eStepProperties(myEStep(), undefined, { numRuns: 10 }));
 * ```
 * @param structures - extra structures of the E-step's kind (required for kinds the kit has no structures for).
 * @throws EmError `INVALID_ARGUMENT` when the E-step's kind has no kit structures and neither `structures` nor `fitCases` is given, or a method that is not an E-step comes without `fitCases`.
 * @category Conformance
 */
export function eStepProperties(eStep: EStep | Method, structures?: fc.Arbitrary<StructureCase>, options: CheckEStepOptions = {}): ConformanceProperty[] {
  const numRuns = options.numRuns ?? DEFAULT_CONFORMANCE_RUNS;
  const fcSeed = options.seed ?? DEFAULT_CONFORMANCE_SEED;
  const wanted = new Set<string>(options.properties ?? ESTEP_PROPERTIES);
  const props: ConformanceProperty[] = [];
  const add = (property: EStepPropertyName, name: string, run: () => Promise<void>): void => {
    if (wanted.has(property)) props.push({ property, name: `${property}: ${name}`, run });
  };
  const check = async <T>(arb: fc.Arbitrary<T>, runs: number, body: (x: T, seed: number) => Promise<void>): Promise<void> => {
    await initBackend();
    await fc.assert(fc.asyncProperty(arb, seedArb, body), { numRuns: runs, seed: fcSeed });
  };
  const fitCases = options.fitCases ?? defaultFitCases(eStep.kind);
  if (isMethod(eStep) && fitCases === undefined) throw emError('INVALID_ARGUMENT', ['checkEStep', 'fitCases'], undefined, `is required for ${eStep.name}, a method of kind "${eStep.kind}" that is not an E-step`, 'pass fitCases: [{ label, model, data }] (models and data arbitraries to fit with it)');
  if (!isMethod(eStep)) {
    const e = eStep;
    if (e.kind === 'finite') {
      add('brute-force', 'finite tables', async () => {
        const cal = new McCalibration();
        await check(finiteCaseArb(), numRuns, async (c, seed) => {
          const cs = caseStructure(c);
          const nChunks = [...cs.structure.chunks()].length;
          const r = await once(e, cs.structure as FiniteStructure, seed);
          checkFinite(e, c, r, cs.calls, nChunks, options.inFamily);
          if (e.family === 'monte-carlo') {
            const truth = finiteTruth(c);
            const runs = [r];
            for (let i = 1; i < MC_SEEDS; i++) runs.push(await once(e, caseStructure(c).structure as FiniteStructure, seed + i));
            cal.add(runs.map((x) => x.bound), runs.map((x) => x.boundStdErr ?? Number.NaN), truth.logLikelihood, 1e-10 * Math.max(1, Math.abs(truth.logLikelihood), truth.totalWeight), `${e.name} on a ${c.table.length}-row table`);
          }
        });
        if (e.family === 'monte-carlo') cal.verify(`${e.kind}/${e.name}`);
      });
      add('latent-hooks', 'finite blocks with a continuous latent part', async () => {
        const draws = new StdErrTally(5);
        await check(finiteCaseArb().filter((c) => c.h !== undefined), numRuns, async (c, seed) => {
          const cs = caseStructure(c);
          const nChunks = [...cs.structure.chunks()].length;
          const r = await once(e, cs.structure as FiniteStructure, seed);
          if (cs.calls.latentEntropy < nChunks) fail(`${e.name}: latentEntropy read for ${cs.calls.latentEntropy} of ${nChunks} blocks: compute H(q) with core's block loop (reduceFiniteChunks)`);
          if (e.family !== 'monte-carlo') {
            if (cs.calls.sampleStats > 0) fail(`${e.name}: a ${e.family} E-step drew the continuous latent (sampleStats)`);
            checkFinite(e, c, r, cs.calls, nChunks, options.inFamily);
            return;
          }
          if (cs.calls.sampleStats < nChunks) fail(`${e.name}: the continuous latent was drawn in ${cs.calls.sampleStats} of ${nChunks} blocks: return draws to core's block loop`);
          // The drawn statistics are unbiased: averages over R runs within 5 standard errors of w·p and w·p·E[latent].
          const R = 48;
          const truth = finiteTruth(c);
          const k = (c.table[0] as number[]).length;
          const n = c.table.length;
          const sq = new Float64Array(n * k);
          const sm = new Float64Array(n * k);
          for (let i = 0; i < R; i++) {
            const s = (await once(e, caseStructure(c).structure as FiniteStructure, seed + 1 + i)).stats as LatentTableStats;
            for (let j = 0; j < n * k; j++) {
              sq[j] = (sq[j] as number) + (s.q[j] as number) / R;
              sm[j] = (sm[j] as number) + (s.m[j] as number) / R;
            }
          }
          truth.posterior.forEach((p, r) => {
            const w = c.weights === undefined ? 1 : (c.weights[r] as number);
            p.forEach((pk, j) => {
              const mean = (c.mean[r] as number[])[j] as number;
              const spread = (c.spread[r] as number[])[j] as number;
              // Upper bounds of the standard errors of the averages (one draw per row is the worst case).
              const seQ = w * Math.sqrt((pk * (1 - pk)) / R);
              const seM = w * Math.sqrt((pk * (mean * mean + spread * spread)) / R);
              if (pk === 0 && (sq[r * k + j] !== 0 || sm[r * k + j] !== 0)) fail(`${e.name}: row ${r}, component ${j}: draws of a component with posterior 0`);
              draws.add(sq[r * k + j] as number, w * pk, seQ, 1e-12 * Math.max(1, w), `${e.name}: row ${r}, component ${j}: mean draw weight`);
              draws.add(sm[r * k + j] as number, w * pk * mean, seM, 1e-12 * Math.max(1, w), `${e.name}: row ${r}, component ${j}: mean drawn latent statistic`);
            });
          });
        });
        draws.verify(`${e.name}: drawn statistics averaged over 48 runs`);
      });
    }
    if (e.kind === 'factor-graph') {
      add('brute-force', 'Bayesian networks by enumeration', async () => {
        const cal = new McCalibration();
        await check(factorGraphCaseArb(), numRuns, async (c, seed) => {
          const s = factorGraphCaseStructure(c);
          try {
            const r = await expectNoTensorLeak(() => once(e, s, seed), `${e.name} on a factor graph`);
            checkFactorGraph(e, c, s, r);
            if (e.family === 'monte-carlo') {
              const truth = factorGraphTruth(c);
              const runs = [r];
              for (let i = 1; i < MC_SEEDS; i++) runs.push(await once(e, s, seed + i));
              cal.add(runs.map((x) => x.bound), runs.map((x) => x.boundStdErr ?? Number.NaN), truth.logLikelihood, (c.precision === 'float64' ? 1e-9 : 1e-4) * Math.max(1, Math.abs(truth.logLikelihood), truth.totalWeight), `${e.name} on a ${c.nNodes}-node network`);
            }
          } finally {
            s.dispose();
          }
        });
        if (e.family === 'monte-carlo') cal.verify(`${e.kind}/${e.name}`);
      });
    }
    type Made = { readonly structure: LatentStructure; dispose(): void; readonly logLikelihood?: number };
    // Cases build their structure inside the property (factor-graph structures upload tensors).
    const kitStructures: fc.Arbitrary<{ make(): Made }> | undefined =
      e.kind === 'finite'
        ? finiteCaseArb().map((c) => ({ make: (): Made => ({ structure: caseStructure(c).structure, dispose: () => undefined, logLikelihood: finiteTruth(c).logLikelihood }) }))
        : e.kind === 'factor-graph'
          ? factorGraphCaseArb().map((c) => ({
              make: (): Made => {
                const structure = factorGraphCaseStructure(c);
                return { structure, dispose: () => structure.dispose() };
              },
            }))
          : undefined;
    const given = structures?.map((sc) => ({ make: (): Made => ({ ...sc, dispose: () => undefined }) }));
    const all = [kitStructures, given].filter((a) => a !== undefined);
    all.forEach((arb, i) => {
      const which = i === 0 && kitStructures !== undefined ? 'kit structures' : 'given structures';
      add('lifecycle', which, () =>
        check(arb, numRuns, async (made, seed) => {
          const c = made.make();
          try {
            const rs = await lifecycle(e, c.structure, seed, `${e.kind}/${e.name} lifecycle`);
            const ll = c.logLikelihood;
            const first = rs[0] as EStepResult;
            if (ll !== undefined && e.family === 'exact' && !near(first.bound, ll, 1e-9 * Math.max(1, Math.abs(ll)))) fail(`${e.name}: exact bound ${first.bound} ≠ log p(x) = ${ll}`);
            if (ll !== undefined && e.family === 'restricted' && !(first.bound <= ll + 1e-9 * Math.max(1, Math.abs(ll)))) fail(`${e.name}: restricted bound ${first.bound} > log p(x) = ${ll}`);
          } finally {
            c.dispose();
          }
        }),
      );
      add('reproducible', which, async () => {
        let differed = 0;
        await check(arb, numRuns, async (made, seed) => {
          const c = made.make();
          try {
            const a = await once(e, c.structure, seed);
            const b = await once(e, c.structure, seed);
            if (JSON.stringify(summary(a)) !== JSON.stringify(summary(b))) fail(`${e.name}: two runs with one seed differ`);
            if (e.family === 'monte-carlo' && JSON.stringify(summary(await once(e, c.structure, seed + 1))) !== JSON.stringify(summary(a))) differed++;
          } finally {
            c.dispose();
          }
        });
        if (e.family === 'monte-carlo' && differed === 0) fail(`${e.name}: different seeds gave identical results in every case`);
      });
      add('abort', which, () =>
        check(arb, Math.max(2, Math.ceil(numRuns / 5)), async (made, seed) => {
          const c = made.make();
          try {
            await expectNoTensorLeak(async () => {
              try {
                await once(e, c.structure, seed, AbortSignal.abort());
              } catch (err) {
                if (!(err instanceof EmError && err.code === 'ABORTED')) fail(`${e.name}: a run with an aborted signal failed with ${err instanceof Error ? err.message : String(err)} instead of EmError ABORTED`);
              }
            }, `${e.name}: an aborted run`);
          } finally {
            c.dispose();
          }
        }),
      );
    });
  }
  const factory = options.factory ?? registrationOf(eStep)?.create;
  if (factory !== undefined) {
    const schema = registrationOf(eStep)?.options ?? {};
    add('bad-options', 'unknown and ill-typed options', async () => {
      const made = factory({});
      if (made.name !== eStep.name || made.family !== eStep.family || made.kind !== eStep.kind) fail(`${eStep.name}: the factory builds ${made.kind}/${made.name} (${made.family})`);
      await expectEmError(() => factory({ __bogus: 1 }), ['INVALID_ARGUMENT'], `${eStep.name}: an unknown option`);
      await expectEmError(() => factory(42 as unknown as Record<string, unknown>), ['INVALID_ARGUMENT'], `${eStep.name}: options that are not an object`);
      for (const [key, spec] of Object.entries(schema)) {
        const e = await expectEmError(() => factory({ [key]: wrongValue(spec) }), ['INVALID_ARGUMENT'], `${eStep.name}: option ${key} = ${String(wrongValue(spec))}`);
        if (!e.path.includes(key)) fail(`${eStep.name}: the error for option ${key} names the path ${JSON.stringify(e.path)}, not the option`);
      }
    });
  }
  for (const fcase of fitCases ?? []) {
    for (const p of modelProperties(fcase.model, fcase.data, {
      methods: [eStep],
      properties: options.fitProperties ?? ['monotone', 'bound-vs-log-likelihood', 'tensor-hygiene', 'reproducible'],
      numRuns,
      seed: fcSeed,
    })) {
      if (wanted.has('fit')) props.push({ property: 'fit', name: `fit: ${fcase.label}: ${p.name}`, run: p.run });
    }
  }
  return props;
}

/** The numbers of an E-step result (statistics flattened), for comparing runs. */
function summary(e: EStepResult): unknown {
  const flat = (v: unknown): unknown => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : Array.isArray(v) ? v.map(flat) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flat(x)])) : v);
  return { ...e, stats: flat(e.stats) };
}
