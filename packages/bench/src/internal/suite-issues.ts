/**
 * valibot issues → `EmError`s that name the JSON path in the suite file, the
 * value, the problem and a remedy.
 * @module
 */
import type * as v from 'valibot';
import { EmError, describeValue, formatPath, type ErrorPath } from '@emlab/core';

/** The keys an object schema at `path` accepts (walking objects, arrays, optional, nullable and unions). */
function knownKeys(schema: unknown, path: readonly (string | number)[]): string[] {
  let s = schema as Record<string, unknown> | undefined;
  const unwrap = (x: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
    let cur = x;
    while (cur !== undefined && (cur['type'] === 'optional' || cur['type'] === 'nullable' || cur['type'] === 'nullish') && cur['wrapped'] !== undefined) cur = cur['wrapped'] as Record<string, unknown>;
    return cur;
  };
  const objectOf = (x: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
    const u = unwrap(x);
    if (u === undefined) return undefined;
    if (u['entries'] !== undefined) return u;
    if (u['type'] === 'union') return (u['options'] as Record<string, unknown>[]).map((o) => unwrap(o)).find((o) => o?.['entries'] !== undefined);
    return undefined;
  };
  for (const key of path) {
    s = unwrap(s);
    if (s === undefined) return [];
    if (typeof key === 'number') s = s['item'] as Record<string, unknown> | undefined;
    else s = (objectOf(s)?.['entries'] as Record<string, Record<string, unknown>> | undefined)?.[key];
  }
  return Object.keys((objectOf(s)?.['entries'] as Record<string, unknown> | undefined) ?? {});
}

/**
 * The first issue of a failed parse as an `EmError` (`INVALID_ARGUMENT`) at `[root, ...issue path]`.
 * @param mapPath - turns the issue's path into the path reported (shorthand forms).
 * @internal
 */
export function issueToError(issues: readonly v.BaseIssue<unknown>[], schema: unknown, root: ErrorPath, mapPath: (p: (string | number)[]) => (string | number)[] = (p) => p): EmError {
  // The deepest issue names the most specific place; unions report their branches' issues below them.
  let issue = issues[0] as v.BaseIssue<unknown>;
  const raw = (issue.path ?? []).map((p) => p.key as string | number);
  const unknownKey = issue.expected === 'never' && raw.length > 0;
  const inner = issue.issues?.filter((i) => (i.path?.length ?? 0) > raw.length)[0];
  if (inner !== undefined && !issue.message.includes('\u0000')) issue = inner;
  const keys = (issue.path ?? []).map((p) => p.key as string | number);
  const value = issue.input;
  let problem: string;
  let remedy: string;
  if (unknownKey) {
    const known = knownKeys(schema, keys.slice(0, -1));
    problem = 'is not a known field here';
    remedy = known.length > 0 ? `use only: ${known.join(', ')} (docs/bench.md lists what each means)` : 'remove it';
  } else if (value === undefined && issue.kind === 'schema') {
    problem = 'is required';
    const [p, r] = issue.message.split('\u0000');
    remedy = r ?? `add it (${p ?? 'see docs/bench.md'})`;
  } else {
    const [p, r] = issue.message.split('\u0000');
    problem = r === undefined ? `is invalid (${issue.message})` : (p as string);
    remedy = r ?? 'see docs/bench.md and benchmarks/suite.schema.json for the suite format';
  }
  const path = [...root, ...mapPath(keys)];
  return new EmError('INVALID_ARGUMENT', `${formatPath(path)} = ${describeValue(value)}: ${problem}. Remedy: ${remedy}`, { path, value, remedy });
}
