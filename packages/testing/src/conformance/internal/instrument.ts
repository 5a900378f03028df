/**
 * Instrumented wrappers: a model whose hooks count their calls, and an E-step
 * whose `start`/`run`/`dispose` are counted with every state tracked, so the
 * kit can check "before any work" and "dispose once per start".
 * @module
 */
import type { EStep, EStepContext, LatentStructure, Model, PreparedData } from '@emlab/core';

/** Model hooks whose calls are counted. */
export const COUNTED_HOOKS = ['validate', 'validateParams', 'prepare', 'init', 'structure', 'mStep', 'expectedLogJoint', 'logLikelihood'] as const;
export type CountedHook = (typeof COUNTED_HOOKS)[number];

/** A model that counts its hook calls (a Proxy: getters and `this` behave as on the original). */
export function instrumentModel<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>): { model: Model<D, P, S, PD>; calls: Record<CountedHook, number>; reset(): void } {
  const calls = Object.fromEntries(COUNTED_HOOKS.map((h) => [h, 0])) as Record<CountedHook, number>;
  const proxy = new Proxy(model, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof prop === 'string' && (COUNTED_HOOKS as readonly string[]).includes(prop) && typeof v === 'function') {
        return (...args: unknown[]) => {
          calls[prop as CountedHook]++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' && prop !== 'constructor' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { model: proxy, calls, reset: () => COUNTED_HOOKS.forEach((h) => (calls[h] = 0)) };
}

/** The state the instrumented E-step hands around: the inner state in a box with an id. */
interface Box {
  readonly id: number;
  readonly inner: unknown;
  disposed: number;
  runs: number;
}

/** What an instrumented E-step saw. */
export interface LifecycleLog {
  starts: number;
  runs: number;
  disposes: number;
  /** Boxes created by `start`, in order. */
  readonly boxes: Box[];
  /** Problems found on the fly (a run with a disposed or foreign state, a second dispose). */
  readonly problems: string[];
}

/**
 * Wraps an E-step so every `start` creates a tracked box around the inner state, `run` checks that it
 * gets a live box (and passes the inner state on), and `dispose` records each box's disposal.
 */
export function instrumentEStep<L extends LatentStructure, St>(eStep: EStep<L, St>): { eStep: EStep<L, Box>; log: LifecycleLog } {
  const log: LifecycleLog = { starts: 0, runs: 0, disposes: 0, boxes: [], problems: [] };
  const wrapped: EStep<L, Box> = {
    name: eStep.name,
    kind: eStep.kind,
    family: eStep.family,
    options: eStep.options,
    ...(eStep.precisions === undefined ? {} : { precisions: eStep.precisions }),
    ...(eStep.convergence === undefined ? {} : { convergence: eStep.convergence }),
    start(ctx) {
      log.starts++;
      const inner = eStep.start?.(ctx);
      const box: Box = { id: log.boxes.length, inner, disposed: 0, runs: 0 };
      log.boxes.push(box);
      return box;
    },
    run(structure, ctx: EStepContext<Box>) {
      log.runs++;
      const box = ctx.state;
      if (box === undefined || !log.boxes.includes(box)) log.problems.push(`run ${log.runs} got a state that no start created`);
      else {
        if (box.disposed > 0) log.problems.push(`run ${log.runs} got the state of start ${box.id + 1} after it was disposed`);
        box.runs++;
      }
      return eStep.run(structure, { ...ctx, state: box?.inner as St });
    },
    dispose(box) {
      log.disposes++;
      if (!log.boxes.includes(box)) {
        log.problems.push('dispose got a state that no start created');
        return;
      }
      box.disposed++;
      if (box.disposed > 1) log.problems.push(`the state of start ${box.id + 1} was disposed ${box.disposed} times`);
      if (eStep.start !== undefined) eStep.dispose?.(box.inner as St);
    },
  };
  return { eStep: wrapped, log };
}

/** Throws when an instrumented E-step's log shows a start without exactly one dispose, or another problem. */
export function checkLifecycle(log: LifecycleLog, what: string): void {
  const problems = [...log.problems];
  for (const b of log.boxes) if (b.disposed !== 1) problems.push(`the state of start ${b.id + 1} was disposed ${b.disposed} times (expected once)`);
  if (problems.length > 0) throw new Error(`${what}: E-step lifecycle: ${problems.join('; ')} (${log.starts} starts, ${log.runs} runs, ${log.disposes} disposes)`);
}
