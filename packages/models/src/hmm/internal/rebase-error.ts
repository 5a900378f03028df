/**
 * Re-rooting the path of an error raised by shared code (the mixture's
 * parameter checks name `params.means[2]`; inside an HMM that is
 * `params.emission.means[2]`).
 * @module
 * @internal
 */
import { EmError, formatPath, type ErrorPath } from '@emlab/core';

/** Runs `f`; an `EmError` whose path starts with `from[0]` is rethrown with that head replaced by `to`. */
export function rebaseErrors<T>(from: string, to: ErrorPath, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof EmError) || e.path[0] !== from) throw e;
    const path = [...to, ...e.path.slice(1)];
    const old = formatPath(e.path);
    const message = e.message.startsWith(old) ? `${formatPath(path)}${e.message.slice(old.length)}` : e.message;
    throw new EmError(e.code, message, { path, value: e.value, ...(e.remedy === undefined ? {} : { remedy: e.remedy }), cause: e });
  }
}
