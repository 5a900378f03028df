/**
 * The few things core needs from its host, without `node:` imports, so
 * `@emlab/core` runs in Node and in a browser alike.
 * @module
 */

interface ProcessLike {
  readonly env?: Record<string, string | undefined>;
  emitWarning?(message: string, options?: { code?: string }): void;
}

const proc = (): ProcessLike | undefined => (globalThis as { process?: ProcessLike }).process;

/** A warning through Node's `process.emitWarning`, or `console.warn` in a browser. @internal */
export function emitWarning(message: string, code = 'EMLAB_WARNING'): void {
  const p = proc();
  if (typeof p?.emitWarning === 'function') p.emitWarning(message, { code });
  else console.warn(`${code}: ${message}`);
}

/** An environment variable (Node), or undefined (browser). @internal */
export function envVar(name: string): string | undefined {
  return proc()?.env?.[name];
}

/** Milliseconds from a monotonic clock. @internal */
export const nowMs = (): number => performance.now();

const immediate = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;

/** Lets timers, `signal` and I/O run (a macrotask turn: `setImmediate` in Node, `setTimeout` elsewhere). @internal */
export const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => {
    if (typeof immediate === 'function') immediate(resolve);
    else setTimeout(resolve, 0);
  });

/**
 * Yields to the event loop when at least `everyMs` passed since the last yield, so that long
 * computations stay responsive to `AbortSignal`s and progress output. @internal
 */
export function yielder(everyMs = 25): () => Promise<void> {
  let last = nowMs();
  return async () => {
    const t = nowMs();
    if (t - last < everyMs) return;
    await yieldToEventLoop();
    last = nowMs();
  };
}
