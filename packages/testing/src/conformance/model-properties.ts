/**
 * The model conformance suite: the properties every model must have, run
 * through `fit` over a data arbitrary with every method registered for the
 * model's structure kind (or a given list). `checkModel` registers them as
 * vitest `it` blocks; {@link modelProperties} returns them as functions for
 * any runner or a plain script.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  EmError,
  createRng,
  fit,
  fitSteps,
  initBackend,
  initialParams,
  isMethod,
  logLikelihoodOf,
  omitTimings,
  toJson,
  type EStep,
  type FitOptions,
  type FitResult,
  type Method,
  type Model,
  type Precision,
} from '@emlab/core';
import { loadParams, loadResult, saveParams, saveResult } from '@emlab/core/node';
import { expectNoTensorLeak } from '../leak.js';
import { runEStep } from '../run-estep.js';
import { discrepancy, firstArray, numericLeaves, pathText, replaceAt, valueAt } from './internal/compare.js';
import { checkBoundsAgainstLikelihood, checkTraceMonotone, expectEmError, fail, QUIET, registeredExact, resolveMethods, StdErrTally, type MethodUnderTest } from './internal/fit-checks.js';
import { checkLifecycle, instrumentEStep, instrumentModel } from './internal/instrument.js';
import { countRows, defaultBadData, selectRows as selectKnownRows, type BadInput, type RowSelector } from './rows.js';
import { DEFAULT_CONFORMANCE_RUNS, DEFAULT_CONFORMANCE_SEED, type ConformanceProperty, type ConformanceRunOptions } from './types.js';

/** The properties of the model suite. @category Conformance */
export const MODEL_PROPERTIES = ['monotone', 'bound-vs-log-likelihood', 'additive-statistics', 'weights', 'round-trip', 'tensor-hygiene', 'bad-input', 'reproducible'] as const;

/** A property of the model suite. @category Conformance */
export type ModelPropertyName = (typeof MODEL_PROPERTIES)[number];

/** Options of `checkModel` / {@link modelProperties}. @category Conformance */
export interface CheckModelOptions<D, P> extends ConformanceRunOptions {
  /** `describe` label (vitest binding). Default `conformance: model <name>`. */
  readonly label?: string;
  /**
   * Methods to fit with: registered names or E-step/method objects. Default: every method registered
   * for the model's structure kind (methods for every kind, such as `'gradient'`, when they accept the model).
   */
  readonly methods?: readonly (string | EStep | Method)[];
  /** Which properties to run (default all of {@link MODEL_PROPERTIES}). */
  readonly properties?: readonly ModelPropertyName[];
  /** Starting parameters for a data set (the "given" start). Default `initialParams(model, data, { seed })`. */
  readonly params?: (data: D, seed: number) => P | Promise<P>;
  /** Precisions the monotonicity and hygiene properties run in. Default the model's `precisions`. */
  readonly precisions?: readonly Precision[];
  /** Iterations per fit. Default 8. */
  readonly maxIter?: number;
  /** Row subsets of a data set (default: arrays of rows, dense matrices, discrete tables; see `selectRows`). */
  readonly selectRows?: RowSelector<D>;
  /** Malformed data sets and the codes they must raise (default `defaultBadData`). */
  readonly badData?: (data: D) => readonly BadInput<D>[];
  /** Relative tolerance of "weight 2 = duplicated row" in float64. Default 1e-9. */
  readonly weightTolerance?: number;
  /** The E-step the statistics properties use. Default the exact E-step registered for the model's kind. */
  readonly statsEStep?: EStep;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type M<D, P> = Model<D, P, any, any>;

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/**
 * The model suite as a list of properties (see `checkModel` for what each checks). Nothing runs
 * until a property's `run()` is called; the methods are resolved now (import the packages that
 * register them first).
 * @example
 * ```ts
 * for (const p of modelProperties(myModel, myDataArb, { numRuns: 10 })) await p.run();
 * ```
 * @throws EmError `UNKNOWN_ESTEP` for a method name nothing registers.
 * @category Conformance
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function modelProperties<D, P>(model: Model<D, P, any, any>, data: fc.Arbitrary<D>, options: CheckModelOptions<D, P> = {}): ConformanceProperty[] {
  const numRuns = options.numRuns ?? DEFAULT_CONFORMANCE_RUNS;
  const few = Math.max(2, Math.ceil(numRuns / 5));
  const fcSeed = options.seed ?? DEFAULT_CONFORMANCE_SEED;
  const maxIter = options.maxIter ?? 8;
  const methods = resolveMethods(model, options.methods);
  const precisions = options.precisions ?? model.precisions ?? ['float64'];
  const host: Precision = precisions.includes('float64') ? 'float64' : (precisions[0] as Precision);
  const wanted = new Set<string>(options.properties ?? MODEL_PROPERTIES);
  const start = async (d: D, seed: number): Promise<P> => (options.params ? await options.params(d, seed) : await initialParams(model, d, { seed }));
  const select = (d: D, rows: readonly number[]): D => (options.selectRows ? options.selectRows(d, rows) : selectKnownRows(d, rows));
  const rowsOf = (d: D): number => {
    const n = countRows(d);
    if (n === undefined && options.selectRows === undefined) fail(`${model.name}: unknown data shape: pass selectRows (and the row count follows from selecting)`);
    return n ?? fail(`${model.name}: cannot count the rows of the data`);
  };
  const check = async (runs: number, body: (d: D, seed: number) => Promise<void>): Promise<void> => {
    await initBackend();
    await fc.assert(fc.asyncProperty(data, seedArb, body), { numRuns: runs, seed: fcSeed });
  };
  const props: ConformanceProperty[] = [];
  const add = (property: ModelPropertyName, name: string, run: () => Promise<void>): void => {
    if (wanted.has(property)) props.push({ property, name: `${property}: ${name}`, run });
  };
  const em = methods.filter((m) => m.family === 'exact' || m.family === 'restricted');
  // The model's own exact E-step when listed (methods for every kind, such as accelerators, come later).
  const firstEm = em.find((m) => m.label === 'exact') ?? em[0] ?? methods[0];
  const at = (m: MethodUnderTest, p: Precision): Precision => (m.precisions.includes(p) ? p : (m.precisions.find((x) => precisions.includes(x)) ?? p));

  // 1. The bound never decreases (exact and restricted families, both half-steps, every precision).
  for (const m of em) {
    for (const p of precisions.filter((x) => m.precisions.includes(x))) {
      add('monotone', `${m.label}, ${p}`, () =>
        check(numRuns, async (d, seed) => {
          const p0 = await start(d, seed);
          const r = await fit(model, d, { eStep: m.create(), init: p0, precision: p, monotonicity: 'throw', maxIter, tol: 0, seed, ...QUIET });
          // maxIter bounds E-step calls; an accelerated method's iteration may make several, so
          // it records fewer iterations. Either way, with tol 0 only the iteration limit stops a fit.
          if (r.convergenceReason !== 'max-iter' || r.nIter > maxIter) fail(`${model.name} with ${m.label}: expected the fit to run to maxIter = ${maxIter} with tol 0, it stopped after ${r.nIter} iterations (${r.convergenceReason})`);
          checkTraceMonotone(r, `${model.name} with ${m.label} (${p})`);
        }),
      );
    }
  }

  // 2. Bound vs log-likelihood at every iterate, weighted or not.
  for (const m of methods) {
    const p = at(m, host);
    add('bound-vs-log-likelihood', `${m.label}, ${p}`, async () => {
      const tally = new StdErrTally();
      await check(numRuns, async (d, seed) => {
        const p0 = await start(d, seed);
        const weights = model.acceptsWeights && seed % 2 === 1 ? randomWeights(rowsOf(d), seed) : undefined;
        const r = await fit(model, d, { eStep: m.create(), init: p0, precision: p, maxIter, tol: 0, seed, recordParams: true, ...(weights === undefined ? {} : { weights }), ...QUIET });
        await checkBoundsAgainstLikelihood(model, d, weights, p0, r, `${model.name} with ${m.label}${weights === undefined ? '' : ' (weighted)'}`, tally);
      });
      tally.verify(`${model.name} with ${m.label}`);
    });
  }

  // 3. Statistics additive over a partition of the rows, invariant to row order; the algebra's laws.
  add('additive-statistics', host, async () => {
    const eStep = options.statsEStep ?? registeredExact(model.structureKind) ?? fail(`${model.name}: no exact E-step registered for "${model.structureKind}": import its package or pass statsEStep`);
    const rtol = host === 'float64' ? 1e-9 : 2e-4;
    await check(numRuns, async (d, seed) => {
      const n = rowsOf(d);
      fc.pre(n >= 2);
      const p0 = await start(d, seed);
      const rng = createRng(seed).child('conformance-split');
      const inA = Array.from({ length: n }, () => rng.uniform() < 0.5);
      inA[0] = true;
      inA[n - 1] = false;
      const rowsA = inA.flatMap((a, i) => (a ? [i] : []));
      const rowsB = inA.flatMap((a, i) => (a ? [] : [i]));
      const perm = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
      }
      const w = model.acceptsWeights && seed % 2 === 1 ? randomWeights(n, seed) : undefined;
      const pick = (rows: number[]): number[] | undefined => (w === undefined ? undefined : rows.map((i) => w[i] as number));
      const all = Array.from({ length: n }, (_, i) => i);
      const full = await statsOf(model, eStep, select(d, all), p0, host, pick(all), seed);
      if (full === null) fail(`${model.name}: the data set does not validate`);
      const a = await statsOf(model, eStep, select(d, rowsA), p0, host, pick(rowsA), seed);
      const b = await statsOf(model, eStep, select(d, rowsB), p0, host, pick(rowsB), seed);
      fc.pre(a !== null && b !== null);
      const permuted = await statsOf(model, eStep, select(d, perm), p0, host, pick(perm), seed);
      if (permuted === null) fail(`${model.name}: the data set with its rows permuted does not validate`);
      if (a === null || b === null) return;
      const alg = model.stats;
      const snapA = structuredClone(a.stats);
      const sum = alg.add(a.stats, b.stats);
      const where = `${model.name}: rows split ${rowsA.length}/${rowsB.length}${w === undefined ? '' : ', weighted'}`;
      const dAdd = discrepancy(sum, full.stats);
      if (!(dAdd.relative <= rtol)) fail(`${where}: stats(A) + stats(B) differs from stats(A ∪ B) at ${dAdd.path}: ${String(dAdd.a)} vs ${String(dAdd.b)} (relative ${dAdd.relative.toExponential(2)} > ${rtol})`);
      const dPerm = discrepancy(permuted.stats, full.stats);
      if (!(dPerm.relative <= rtol)) fail(`${where}: statistics change when the rows are permuted, at ${dPerm.path}: ${String(dPerm.a)} vs ${String(dPerm.b)} (relative ${dPerm.relative.toExponential(2)})`);
      if (discrepancy(a.stats, snapA).relative !== 0) fail(`${where}: algebra.add modified its first argument`);
      const dZero = discrepancy(alg.add(alg.zero(full.stats), full.stats), full.stats);
      if (!(dZero.relative <= 1e-15)) fail(`${where}: zero + s differs from s at ${dZero.path}`);
      const dScale = discrepancy(alg.scale(full.stats, 2), alg.add(full.stats, full.stats));
      if (!(dScale.relative <= 1e-15)) fail(`${where}: scale(s, 2) differs from s + s at ${dScale.path}`);
      const scale = Math.max(Math.abs(full.logLikelihood), full.totalWeight);
      const close = (x: number, y: number, what: string): void => {
        if (!(Math.abs(x - y) <= rtol * Math.max(scale, Math.abs(x), Math.abs(y)))) fail(`${where}: ${what}: ${x} (sum over parts) vs ${y} (all rows)`);
      };
      close(a.logLikelihood + b.logLikelihood, full.logLikelihood, 'log-likelihood');
      close(a.entropy + b.entropy, full.entropy, 'entropy');
      close(a.totalWeight + b.totalWeight, full.totalWeight, 'total weight');
      close(model.expectedLogJoint(sum, p0), model.expectedLogJoint(full.stats, p0), 'expectedLogJoint');
      close(permuted.logLikelihood, full.logLikelihood, 'log-likelihood, rows permuted');
    });
  });

  // 4. Row weights: integer weights equal repeated rows; all-ones weights equal no weights.
  if (model.acceptsWeights && firstEm !== undefined) {
    const p = at(firstEm, host);
    const rtol = options.weightTolerance ?? (p === 'float64' ? 1e-9 : 2e-4);
    add('weights', `${firstEm.label}, ${p}`, () =>
      check(numRuns, async (d, seed) => {
        const n = rowsOf(d);
        const p0 = await start(d, seed);
        const rng = createRng(seed).child('conformance-weights');
        const w = Array.from({ length: n }, () => 1 + rng.int(3));
        w[rng.int(n)] = 2;
        const expanded = w.flatMap((k, i) => new Array<number>(k).fill(i));
        const base: FitOptions<P> = { init: p0, precision: p, maxIter, tol: 0, seed, recordParams: true, ...QUIET };
        const fw = await fit(model, d, { ...base, eStep: firstEm.create(), weights: w });
        const fe = await fit(model, select(d, expanded), { ...base, eStep: firstEm.create() });
        sameFit(fw, fe, rtol, `${model.name} with ${firstEm.label}: weights ${JSON.stringify(w)} vs repeated rows`);
        const ones = await fit(model, d, { ...base, eStep: firstEm.create(), weights: new Array<number>(n).fill(1) });
        const plain = await fit(model, d, { ...base, eStep: firstEm.create() });
        sameFit(ones, plain, rtol, `${model.name} with ${firstEm.label}: all-ones weights vs no weights`);
      }),
    );
  }

  // 5. Save/load round trip of results and parameters; reloaded parameters validate and predict the same.
  add('round-trip', host, () =>
    check(few, async (d, seed) => {
      const p0 = await start(d, seed);
      const r = await fit(model, d, { init: p0, precision: host, maxIter: 3, tol: 0, seed, recordParams: true, ...(firstEm === undefined ? {} : { eStep: firstEm.create() }), ...QUIET });
      const dir = await mkdtemp(join(tmpdir(), 'emlab-conformance-'));
      try {
        await saveResult(join(dir, 'result.json'), r);
        const back = await loadResult<P>(join(dir, 'result.json'), model);
        if (toJson(back) !== toJson(r)) fail(`${model.name}: a saved and reloaded result differs from the original`);
        await saveParams(join(dir, 'params.json'), model.name, r.params);
        const params = await loadParams<P>(join(dir, 'params.json'), model);
        if (toJson(params) !== toJson(r.params)) fail(`${model.name}: saved and reloaded parameters differ from the original`);
        model.validateParams(params, d);
        const fromResult = await loadParams<P>(join(dir, 'result.json'), model);
        if (toJson(fromResult) !== toJson(r.params)) fail(`${model.name}: the parameters read from a saved result differ from the original`);
        const [l1, l2] = [await logLikelihoodOf(model, d, params), await logLikelihoodOf(model, d, r.params)];
        if (!Object.is(l1, l2)) fail(`${model.name}: reloaded parameters give log-likelihood ${l1}, the originals ${l2}`);
        const warm = await fit(model, d, { init: params, precision: host, maxIter: 1, tol: 0, ...QUIET });
        if (warm.nIter !== 1) fail(`${model.name}: a warm start from reloaded parameters did not run`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
  );

  // 6. No tensor growth around fits, errors and aborts; E-step dispose once per start.
  for (const m of methods) {
    for (const p of precisions.filter((x) => m.precisions.includes(x))) {
      add('tensor-hygiene', `${m.label}, ${p}`, () =>
        check(few, async (d, seed) => {
          const p0 = await start(d, seed);
          const make = (): { eStep: EStep | Method; verify: (what: string, starts?: number) => void } => {
            const raw = m.create();
            if (isMethod(raw)) return { eStep: raw, verify: () => undefined };
            const { eStep, log } = instrumentEStep(raw);
            return {
              eStep,
              verify: (what, starts) => {
                checkLifecycle(log, `${model.name} with ${m.label}, ${what}`);
                if (starts !== undefined && log.starts !== starts) fail(`${model.name} with ${m.label}, ${what}: ${log.starts} E-step starts, expected ${starts}`);
              },
            };
          };
          const base = { precision: p, tol: 0, seed, ...QUIET } as const;
          // Warm-up outside the checks: kernels may cache constants on first use.
          await fit(model, d, { ...base, eStep: m.create(), init: p0, maxIter: 1 });
          const ok = make();
          await expectNoTensorLeak(() => fit(model, d, { ...base, eStep: ok.eStep, maxIter: 3, nInit: 2 }), `${model.name} with ${m.label}: a fit with 2 restarts`);
          ok.verify('a fit with 2 restarts', 2);
          // maxIter 12: room for 2 iterations of a method that makes several E-step calls per iteration.
          const failing = make();
          const marker = new Error('conformance: thrown by onIteration');
          await expectNoTensorLeak(async () => {
            try {
              await fit(model, d, { ...base, eStep: failing.eStep, init: p0, maxIter: 12, onIteration: (rec) => {
                if (rec.iteration === 2) throw marker;
              } });
            } catch (e) {
              if (e !== marker) throw e;
              return;
            }
            fail(`${model.name} with ${m.label}: an error thrown by onIteration did not reach the caller`);
          }, `${model.name} with ${m.label}: a fit that throws`);
          failing.verify('a fit that throws');
          const aborted = make();
          const ac = new AbortController();
          const r = await expectNoTensorLeak(() => fit(model, d, { ...base, eStep: aborted.eStep, init: p0, maxIter: 12, signal: ac.signal, onIteration: (rec) => {
            if (rec.iteration === 2) ac.abort();
          } }), `${model.name} with ${m.label}: an aborted fit`);
          if (r.convergenceReason !== 'aborted') fail(`${model.name} with ${m.label}: an aborted fit ended with reason ${r.convergenceReason}`);
          aborted.verify('an aborted fit');
          const early = make();
          await expectNoTensorLeak(() => expectEmError(() => fit(model, d, { ...base, eStep: early.eStep, init: p0, signal: AbortSignal.abort() }), ['ABORTED'], `${model.name}: a fit aborted before it started`), `${model.name}: a fit aborted before it started`);
          early.verify('a fit aborted before it started', 0);
          const stepped = make();
          await expectNoTensorLeak(async () => {
            const run = fitSteps(model, d, { ...base, eStep: stepped.eStep, init: p0, maxIter: 5 });
            await run.step();
            await run.step();
            await run.dispose();
          }, `${model.name} with ${m.label}: fitSteps disposed after 2 steps`);
          stepped.verify('fitSteps disposed after 2 steps', 1);
        }),
      );
    }
  }

  // 7. Bad input → a typed EmError before any work.
  add('bad-input', 'data, parameters and options', () =>
    check(few, async (d, seed) => {
      const p0 = await start(d, seed);
      const n = countRows(d);
      const rng = createRng(seed).child('conformance-bad-input');
      const exact = registeredExact(model.structureKind);
      type Case = { label: string; data?: unknown; options: Record<string, unknown>; codes: readonly string[]; prepare?: boolean };
      const cases: Case[] = [
        { label: 'an unknown fit option', options: { maxIters: 5 }, codes: ['INVALID_ARGUMENT'] },
        { label: 'tol = -1', options: { tol: -1 }, codes: ['INVALID_ARGUMENT'] },
        { label: 'tol = NaN', options: { tol: Number.NaN }, codes: ['INVALID_ARGUMENT'] },
        { label: 'maxIter = 0', options: { maxIter: 0 }, codes: ['INVALID_ARGUMENT'] },
        { label: 'nInit = 1.5', options: { nInit: 1.5 }, codes: ['INVALID_ARGUMENT'] },
        { label: 'seed = 1.5', options: { seed: 1.5 }, codes: ['INVALID_ARGUMENT'] },
        { label: "precision = 'float16'", options: { precision: 'float16' }, codes: ['INVALID_ARGUMENT'] },
        { label: "monotonicity = 'sometimes'", options: { monotonicity: 'sometimes' }, codes: ['INVALID_ARGUMENT'] },
        { label: 'an unregistered method name', options: { eStep: '__no_such_method__' }, codes: ['UNKNOWN_ESTEP'] },
        { label: 'an unknown initialization method', options: { init: '__no_such_init__' }, codes: ['INVALID_ARGUMENT'] },
      ];
      if (exact !== undefined) {
        cases.push(
          { label: 'eStepOptions beside an E-step object', options: { eStepOptions: {} }, codes: ['INVALID_ARGUMENT'] },
          { label: 'an unknown option of the exact E-step', options: { eStep: 'exact', eStepOptions: { __bogus: 1 } }, codes: ['INVALID_ARGUMENT'] },
        );
      }
      if (model.acceptsWeights && n !== undefined) {
        const ones = (): number[] => new Array<number>(n).fill(1);
        const nan = ones();
        nan[rng.int(n)] = Number.NaN;
        const neg = ones();
        neg[rng.int(n)] = -1;
        cases.push(
          { label: `weights of length ${n + 1} for ${n} rows`, options: { weights: [...ones(), 1] }, codes: ['INVALID_ARGUMENT'], prepare: true },
          { label: `weights of length ${n - 1} for ${n} rows`, options: { weights: ones().slice(1) }, codes: ['INVALID_ARGUMENT'], prepare: true },
          { label: 'a NaN weight', options: { weights: nan }, codes: ['INVALID_ARGUMENT'] },
          { label: 'a negative weight', options: { weights: neg }, codes: ['INVALID_ARGUMENT'] },
          { label: 'all weights 0', options: { weights: ones().map(() => 0) }, codes: ['INVALID_ARGUMENT'] },
        );
      } else if (n !== undefined) {
        cases.push({ label: 'weights for a model without acceptsWeights', options: { weights: new Array<number>(n).fill(1) }, codes: ['INVALID_ARGUMENT'] });
      }
      const leaves = numericLeaves(p0);
      if (leaves.length > 0) {
        const leaf = leaves[rng.int(leaves.length)] as (typeof leaves)[number];
        cases.push(
          { label: `params with ${pathText(leaf.path)} = NaN`, options: { init: replaceAt(p0, leaf.path, Number.NaN) }, codes: ['INVALID_PARAMS'] },
          { label: `params with ${pathText(leaf.path)} = Infinity`, options: { init: replaceAt(p0, leaf.path, Number.POSITIVE_INFINITY) }, codes: ['INVALID_PARAMS'] },
          { label: `params with ${pathText(leaf.path)} as a string`, options: { init: replaceAt(p0, leaf.path, String(leaf.value)) }, codes: ['INVALID_PARAMS'] },
        );
      }
      const arr = firstArray(p0);
      if (arr !== undefined) cases.push({ label: `params with ${pathText(arr)} one entry short`, options: { init: replaceAt(p0, arr, (valueAt(p0, arr) as unknown[]).slice(0, -1)) }, codes: ['INVALID_PARAMS'] });
      cases.push({ label: 'params {}', options: { init: {} }, codes: ['INVALID_PARAMS'] });
      for (const bad of (options.badData ?? defaultBadData)(d)) cases.push({ label: `data: ${bad.label}`, data: bad.value, options: {}, codes: [bad.code ?? 'INVALID_DATA'] });
      for (const c of cases) {
        const inst = instrumentModel(model);
        const eStep = exact === undefined ? undefined : instrumentEStep(exact);
        const opts: Record<string, unknown> = { ...QUIET, ...(eStep === undefined ? {} : { eStep: eStep.eStep }), ...c.options };
        const what = `${model.name}: ${c.label}`;
        await expectNoTensorLeak(() => expectEmError(() => fit(inst.model, ('data' in c ? c.data : d) as D, opts as FitOptions<P>), c.codes, what), what);
        const work: string[] = (['init', 'structure', 'mStep'] as const).filter((h) => inst.calls[h] > 0);
        if (!c.prepare && inst.calls.prepare > 0) work.unshift('prepare');
        if (work.length > 0) fail(`${what}: the error came after work started (${work.join(', ')} called)`);
        if (eStep !== undefined && eStep.log.starts > 0) fail(`${what}: the error came after the E-step started`);
      }
    }),
  );

  // 8. Same seed → identical result; a different seed changes Monte Carlo results; fitSteps = fit.
  for (const m of methods) {
    const p = at(m, host);
    add('reproducible', `${m.label}, ${p}`, async () => {
      let differed = 0;
      await check(few, async (d, seed) => {
        const o: FitOptions<P> = { precision: p, seed, nInit: 2, maxIter: 4, tol: 0, ...QUIET };
        const a = toJson(omitTimings(await fit(model, d, { ...o, eStep: m.create() })));
        const b = toJson(omitTimings(await fit(model, d, { ...o, eStep: m.create() })));
        if (a !== b) fail(`${model.name} with ${m.label}: two fits with seed ${seed} differ`);
        const run = fitSteps(model, d, { ...o, eStep: m.create() });
        let steps = 0;
        for await (const s of run) {
          steps++;
          if (s.record === undefined) fail('fitSteps yielded a step without a record');
        }
        const c = toJson(omitTimings(await run.result()));
        if (c !== a) fail(`${model.name} with ${m.label}: fitSteps (${steps} steps) gave a different result than fit`);
        if (m.family === 'monte-carlo') {
          const p0 = await start(d, seed);
          const t1 = toJson((await fit(model, d, { precision: p, init: p0, seed, maxIter: 2, tol: 0, eStep: m.create(), ...QUIET })).trace.map((r) => [r.boundAfterE, r.boundAfterM]));
          const t2 = toJson((await fit(model, d, { precision: p, init: p0, seed: seed + 1, maxIter: 2, tol: 0, eStep: m.create(), ...QUIET })).trace.map((r) => [r.boundAfterE, r.boundAfterM]));
          if (t1 !== t2) differed++;
        }
      });
      if (m.family === 'monte-carlo' && differed === 0) fail(`${model.name} with ${m.label}: seeds s and s + 1 gave identical Monte Carlo results in every case`);
    });
  }
  return props;
}

/** Row weights from a seed: a mix of 0.5, 1, 2 and 3. */
function randomWeights(n: number, seed: number): number[] {
  const rng = createRng(seed).child('conformance-row-weights');
  return Array.from({ length: n }, () => [0.5, 1, 2, 3][rng.int(4)] as number);
}

/** One exact E-step pass on a data set at `params`: its statistics, log-likelihood, entropy and total weight; null when the data do not validate. */
async function statsOf<D, P>(model: M<D, P>, eStep: EStep, data: D, params: P, precision: Precision, weights: number[] | undefined, seed: number): Promise<{ stats: unknown; logLikelihood: number; entropy: number; totalWeight: number } | null> {
  try {
    model.validate(data);
  } catch (e) {
    if (e instanceof EmError && e.code === 'INVALID_DATA') return null;
    throw e;
  }
  const prepared = model.prepare(data, { precisions: [precision], ...(weights === undefined ? {} : { weights: Float64Array.from(weights) }) });
  try {
    const structure = model.structure(prepared, params, { precision });
    try {
      const e = await runEStep(eStep, structure, { rng: createRng(seed).child('conformance-stats') });
      if (e.logLikelihood === undefined) fail(`${model.name}: the exact E-step returned no log-likelihood`);
      return { stats: e.stats, logLikelihood: e.logLikelihood, entropy: e.entropy, totalWeight: prepared.totalWeight ?? prepared.nRows };
    } finally {
      structure.dispose?.();
    }
  } finally {
    prepared.dispose();
  }
}

/** Two fits from the same start that must agree: total weight, every record's bounds and parameters up to the first reinitialization, and the result. */
function sameFit<P>(a: FitResult<P>, b: FitResult<P>, rtol: number, what: string): void {
  const rel = (x: number, y: number, scale: number): number => Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), scale, 1e-300);
  if (!(rel(a.totalWeight, b.totalWeight, 0) <= 1e-12)) fail(`${what}: total weights ${a.totalWeight} and ${b.totalWeight} differ`);
  const w = a.totalWeight;
  let reinit = false;
  for (let t = 0; t < Math.min(a.trace.length, b.trace.length); t++) {
    const ra = a.trace[t];
    const rb = b.trace[t];
    if (ra === undefined || rb === undefined) break;
    if ([...ra.events, ...rb.events].some((e) => e.type === 'reinitialized')) {
      reinit = true;
      break;
    }
    for (const key of ['boundAfterE', 'boundAfterM'] as const) {
      if (!(rel(ra[key], rb[key], w) <= rtol)) fail(`${what}: iteration ${ra.iteration}: ${key} ${ra[key]} vs ${rb[key]}`);
    }
    const dp = discrepancy(ra.params, rb.params);
    if (!(dp.relative <= rtol)) fail(`${what}: iteration ${ra.iteration}: parameters differ at ${dp.path}: ${String(dp.a)} vs ${String(dp.b)} (relative ${dp.relative.toExponential(2)})`);
  }
  if (reinit) return;
  if (a.trace.length !== b.trace.length) fail(`${what}: ${a.trace.length} vs ${b.trace.length} iterations`);
  const dp = discrepancy(a.params, b.params);
  if (!(dp.relative <= rtol)) fail(`${what}: final parameters differ at ${dp.path}`);
  if (a.logLikelihood !== null && b.logLikelihood !== null && !(rel(a.logLikelihood, b.logLikelihood, w) <= rtol)) fail(`${what}: log-likelihoods ${a.logLikelihood} vs ${b.logLikelihood}`);
}
