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

/** The remedy written into the schema of the entry at `path` (for a missing required entry). */
function entryRemedy(schema: unknown, path: readonly (string | number)[]): string | undefined {
  const key = path.at(-1);
  if (typeof key !== 'string') return undefined;
  const parent = path.slice(0, -1);
  let s = schema as Record<string, unknown> | undefined;
  for (const k of parent) {
    while (s !== undefined && s['wrapped'] !== undefined) s = s['wrapped'] as Record<string, unknown>;
    s = (typeof k === 'number' ? s?.['item'] : (s?.['entries'] as Record<string, unknown> | undefined)?.[k]) as Record<string, unknown> | undefined;
  }
  while (s !== undefined && s['wrapped'] !== undefined) s = s['wrapped'] as Record<string, unknown>;
  const entry = (s?.['entries'] as Record<string, Record<string, unknown>> | undefined)?.[key];
  const messages = [entry?.['message'], ...((entry?.['pipe'] as Record<string, unknown>[] | undefined) ?? []).map((a) => a['message'])];
  const m = messages.find((x): x is string => typeof x === 'string' && x.includes('\u0000'));
  return m?.split('\u0000')[1];
}

/**
 * The first issue of a failed parse as an `EmError` (`INVALID_ARGUMENT`) at `[root, ...issue path]`.
 * @param mapPath - turns the issue's path into the path reported (shorthand forms).
 * @internal
 */
export function issueToError(issues: readonly v.BaseIssue<unknown>[], schema: unknown, root: ErrorPath, mapPath: (p: (string | number)[]) => (string | number)[] = (p) => p): EmError {
  // The deepest issue names the most specific place: a union (a method given as a string or an object)
  // reports its branches' issues below its own; take the branch issue that reaches deepest.
  let issue = issues[0] as v.BaseIssue<unknown>;
  let prefix: v.IssuePathItem[] = [];
  for (;;) {
    // Branch issues' paths are relative to the union.
    const deeper = (issue.issues ?? []).filter((i) => (i.path?.length ?? 0) > 0).sort((a, b) => (b.path?.length ?? 0) - (a.path?.length ?? 0))[0];
    if (deeper === undefined) break;
    prefix = [...prefix, ...(issue.path ?? [])];
    issue = deeper;
  }
  const path = [...prefix, ...(issue.path ?? [])];
  const unknownKey = issue.expected === 'never' && path.length > 0;
  const keys = path.map((p) => p.key as string | number);
  // An unknown key's issue carries the key as its input; the value is on the path.
  const value = unknownKey ? (path.at(-1) as { value?: unknown } | undefined)?.value : issue.input;
  let problem: string;
  let remedy: string;
  if (unknownKey) {
    const known = knownKeys(schema, keys.slice(0, -1));
    problem = 'is not a known field here';
    remedy = known.length > 0 ? `use only: ${known.join(', ')} (docs/bench.md lists what each means)` : 'remove it';
  } else if (value === undefined && issue.kind === 'schema') {
    problem = 'is required';
    remedy = entryRemedy(schema, keys) ?? 'add it (docs/bench.md and benchmarks/suite.schema.json describe the suite format)';
  } else {
    const [p, r] = issue.message.split('\u0000');
    problem = r === undefined ? `is invalid (${issue.message})` : (p as string);
    remedy = r ?? 'see docs/bench.md and benchmarks/suite.schema.json for the suite format';
  }
  const at = [...root, ...mapPath(keys)];
  return new EmError('INVALID_ARGUMENT', `${formatPath(at)} = ${describeValue(value)}: ${problem}. Remedy: ${remedy}`, { path: at, value, remedy });
}
