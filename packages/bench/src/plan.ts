/**
 * Planning a suite: everything is checked against the registries and the
 * data before any run (model types and options, method names and options,
 * data-set kinds, options and sizes, initialization methods, each method's
 * `check` on each model and data set), then each (data set, model, seed)
 * gets its start once (`initialParams`: the start `fit` itself would make),
 * shared by every method.
 * @module
 */
import { EmError, createEStep, findEStep, formatPath, initialParams, isMethod, listESteps } from '@emlab/core';
import { checkDataset } from './materialize.js';
import type { MaterializedDataset } from './materialize.js';
import { hashJson } from './metrics.js';
import { buildModel, checkModelOptions, dataFormatOf, modelApplies, modelRegistration, type AnyModel } from './models.js';
import type { DatasetSummary, MethodSummary, ModelSummary, SkippedRun } from './results.js';
import type { RunContext, RunTask } from './run-one.js';
import type { MethodSpec, ModelSpec, Suite } from './suite-schema.js';
import { reanchor } from './suite.js';

/** The runs of a suite and what the results say about its parts. @internal */
export interface Plan {
  readonly tasks: RunTask[];
  readonly groups: { id: string; dataset: string; model: string; seed: number | string; initHash: string }[];
  readonly datasets: DatasetSummary[];
  readonly models: ModelSummary[];
  readonly methods: MethodSummary[];
  readonly skipped: SkippedRun[];
}

/** Builds method `j` for a structure kind (validating its options), anchored at the suite. */
function makeMethod(suite: Suite, j: number, kind: string): ReturnType<typeof createEStep> {
  const spec = suite.esteps[j] as MethodSpec;
  try {
    findEStep(kind, spec.method);
  } catch (e) {
    throw reanchor(e, ['suite', 'esteps', j, 'method'], 2);
  }
  try {
    return createEStep(kind, spec.method, spec.options);
  } catch (e) {
    throw reanchor(e, ['suite', 'esteps', j, 'options']);
  }
}

/**
 * The checks that need no data: data-set kinds, options and sizes; model types and the options the
 * suite gives; method names (registered for the structure kind of some model that may use them) and
 * options. Cheap: nothing is generated or read except small network files for size estimates.
 * @throws EmError naming `suite.…` paths
 * @internal
 */
export async function checkSuite(suite: Suite, baseDir: string): Promise<void> {
  for (let i = 0; i < suite.datasets.length; i++) await checkDataset(suite, i, baseDir);
  const regs = suite.models.map((_, m) => checkModelOptions(suite, m));
  for (let j = 0; j < suite.esteps.length; j++) {
    const spec = suite.esteps[j] as MethodSpec;
    const kinds = [...new Set(regs.filter((_, m) => (suite.models[m] as ModelSpec).esteps?.includes(spec.id) ?? true).map((r) => r.structureKind))];
    const known = kinds.filter((k) => listESteps(k).some((e) => e.method === spec.method));
    // Unknown everywhere: name it with what the first model's kind has registered.
    if (known.length === 0) makeMethod(suite, j, kinds[0] ?? regs[0]?.structureKind ?? '*');
    for (const k of known) makeMethod(suite, j, k);
  }
}

/**
 * Whether method `j` can run on a model and its training data: registered for the model's structure
 * kind (or for every kind) and accepted by the method's own `check`. Returns the reason when not.
 */
function availability(suite: Suite, j: number, model: AnyModel, data: MaterializedDataset): { ok: true } | { ok: false; code: string; reason: string } {
  const spec = suite.esteps[j] as MethodSpec;
  if (!listESteps(model.structureKind).some((e) => e.method === spec.method)) {
    return { ok: false, code: 'UNKNOWN_ESTEP', reason: `no method "${spec.method}" is registered for structure kind "${model.structureKind}"` };
  }
  try {
    const made = makeMethod(suite, j, model.structureKind);
    if (isMethod(made)) made.check?.(model, data.train);
    return { ok: true };
  } catch (e) {
    return { ok: false, code: e instanceof EmError ? e.code : 'INTERNAL', reason: (e as Error).message };
  }
}

function initOf(suite: Suite, m: number, model: AnyModel): { method: string; path: (string | number)[] } {
  const spec = suite.models[m] as ModelSpec;
  if (spec.init !== undefined) return { method: spec.init, path: ['suite', 'models', m, 'init'] };
  if (suite.init !== null) return { method: suite.init, path: ['suite', 'init'] };
  return { method: model.initMethods[0] ?? 'given', path: ['suite', 'init'] };
}

/**
 * Makes the data sets and plans every run. Methods a model lists must be methods of its kind and run
 * on at least one of its data sets (a data set one cannot take, such as VB on missing entries, is
 * skipped and listed with the reason); other methods that cannot run on a (data set, model) are
 * skipped and listed with the reason; a method that runs nowhere is an error.
 * @throws EmError naming `suite.…` paths
 * @internal
 */
export async function planSuite(suite: Suite, ctx: RunContext): Promise<Plan> {
  const tasks: RunTask[] = [];
  const groups: Plan['groups'] = [];
  const datasets: DatasetSummary[] = [];
  const models = new Map<string, ModelSummary>();
  const methods = new Map<string, MethodSummary>();
  const skipped: SkippedRun[] = [];
  const firstReason = new Map<number, EmError>();
  // Methods a model lists: why one could not run on a data set (`model/method` index), and which ran somewhere.
  const listedReason = new Map<string, EmError>();
  const listedRan = new Set<string>();
  for (let d = 0; d < suite.datasets.length; d++) datasets.push((await ctx.dataset(d)).summary);
  const used = new Set<number>();
  for (let d = 0; d < suite.datasets.length; d++) {
    const data = await ctx.dataset(d);
    for (let m = 0; m < suite.models.length; m++) {
      if (!modelApplies(suite, m, data)) continue;
      const mSpec = suite.models[m] as ModelSpec;
      const reg = modelRegistration(suite, m);
      if (mSpec.datasets !== undefined && dataFormatOf(reg) !== null && dataFormatOf(reg) !== data.format) {
        throw new EmError('INVALID_ARGUMENT', `suite.models[${m}].datasets: data set "${data.id}" has format "${data.format}" but model ${reg.name} reads "${dataFormatOf(reg)}". Remedy: list data sets of that format`, { path: ['suite', 'models', m, 'datasets'], value: data.id });
      }
      const model = buildModel(suite, m, data);
      if (!models.has(mSpec.id)) {
        models.set(mSpec.id, { id: mSpec.id, type: mSpec.type, name: reg.name, structureKind: model.structureKind, dataFormat: dataFormatOf(reg) ?? 'custom', map: model.logPrior !== undefined, options: model.options });
      }
      try {
        model.validate(data.train);
      } catch (e) {
        if (e instanceof EmError) throw new EmError(e.code, `suite.datasets[${d}] ("${data.id}") cannot be fitted by suite.models[${m}] ("${mSpec.id}"): ${e.message}`, { path: ['suite', 'datasets', d], cause: e });
        throw e;
      }
      const init = initOf(suite, m, model);
      if (!model.initMethods.includes(init.method)) {
        throw new EmError('INVALID_ARGUMENT', `${formatPath(init.path)} = "${init.method}": is not an initialization method of ${model.name} (known: ${model.initMethods.join(', ')}). Remedy: use one of those, or set "init" per model`, { path: init.path, value: init.method });
      }
      const methodIdx: number[] = [];
      for (let j = 0; j < suite.esteps.length; j++) {
        const spec = suite.esteps[j] as MethodSpec;
        if (mSpec.esteps !== undefined && !mSpec.esteps.includes(spec.id)) continue;
        const a = availability(suite, j, model, data);
        if (!a.ok) {
          if (mSpec.esteps !== undefined) {
            // Named by this model: it must be a method of the model's kind, and run on at least one of
            // its data sets (checked below); a data set it cannot take (VB with missing entries) is skipped.
            makeMethod(suite, j, model.structureKind);
            const error = new EmError(a.code === 'UNKNOWN_ESTEP' ? 'UNKNOWN_ESTEP' : 'INVALID_ARGUMENT', `suite.models[${m}].esteps lists "${spec.id}", which cannot run on data set "${data.id}": ${a.reason}`, { path: ['suite', 'models', m, 'esteps'], value: spec.id });
            if (a.code === 'UNKNOWN_ESTEP') throw error;
            const key = `${m}/${j}`;
            if (!listedReason.has(key)) listedReason.set(key, error);
          }
          skipped.push({ dataset: data.id, model: mSpec.id, method: spec.id, code: a.code, reason: a.reason });
          if (!firstReason.has(j)) {
            try {
              makeMethod(suite, j, model.structureKind);
              firstReason.set(j, new EmError(a.code === 'UNKNOWN_ESTEP' ? 'UNKNOWN_ESTEP' : 'INVALID_ARGUMENT', `suite.esteps[${j}].method = "${spec.method}": cannot run on any model and data set of the suite (on "${data.id}" × "${mSpec.id}": ${a.reason}). Remedy: drop it, or add a model and data set it applies to`, { path: ['suite', 'esteps', j, 'method'], value: spec.method }));
            } catch (e) {
              firstReason.set(j, e as EmError);
            }
          }
          continue;
        }
        used.add(j);
        listedRan.add(`${m}/${j}`);
        methodIdx.push(j);
        if (!methods.has(spec.id)) methods.set(spec.id, { id: spec.id, method: spec.method, family: findEStep(model.structureKind, spec.method).family, options: spec.options });
      }
      for (const seed of suite.seeds) {
        let start: unknown;
        try {
          // The start fit(model, data, { seed }) itself would make for restart 0.
          start = await initialParams(model, data.train, { init: init.method, seed, validate: false });
        } catch (e) {
          throw reanchor(e, init.path, 2);
        }
        const group = `${data.id}/${mSpec.id}/seed=${String(seed)}`;
        const initHash = hashJson(start);
        groups.push({ id: group, dataset: data.id, model: mSpec.id, seed, initHash });
        for (const j of methodIdx) {
          const spec = suite.esteps[j] as MethodSpec;
          tasks.push({ index: tasks.length, id: `${data.id}/${mSpec.id}/${spec.id}/seed=${String(seed)}`, group, datasetIndex: d, modelIndex: m, methodIndex: j, seed, init: start, initHash });
        }
      }
    }
  }
  for (const [key, error] of listedReason) if (!listedRan.has(key)) throw error;
  for (let j = 0; j < suite.esteps.length; j++) {
    const reason = firstReason.get(j);
    if (!used.has(j) && reason !== undefined) throw reason;
  }
  if (tasks.length === 0) {
    throw new EmError('INVALID_ARGUMENT', `suite.models: no model applies to any data set (data formats: ${[...new Set(datasets.map((d) => d.format))].join(', ')}). Remedy: check the models' "type" and "datasets" fields`, { path: ['suite', 'models'] });
  }
  return { tasks, groups, datasets, models: [...models.values()], methods: [...methods.values()], skipped };
}
