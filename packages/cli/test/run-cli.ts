/**
 * Shared by the CLI tests: spawn the real, built `emlab` binary
 * (`packages/cli/dist/bin.js`; `npm test` builds first, by hand run
 * `npx tsc -b packages/cli`) and check a user error's shape.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node bin.js ...args` and collects its output (never rejects on a
 * non-zero exit); `onStderr` sees stderr so far and may send the child a signal.
 */
export function run(args: readonly string[], options: { cwd?: string; onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      options.onStderr?.(stderr, (s) => child.kill(s));
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Asserts a clean user error: exit 2, nothing on stdout, one `emlab: error [CODE]:` line, no stack, and every pattern. */
export function expectUserError(r: Run, ...patterns: RegExp[]): void {
  const context = `stderr: ${r.stderr}\nstdout: ${r.stdout}`;
  expect(r.code, context).toBe(2);
  expect(r.stdout, context).toBe('');
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(/^emlab: error \[[A-Z_]+\]: /);
  expect(r.stderr, context).not.toContain('    at ');
  for (const p of patterns) expect(r.stderr, context).toMatch(p);
}

/** Runs the commands at most `width` at a time (the machine is shared), in order of the results. */
export async function runAll(cases: readonly (readonly string[])[], width = 3, options: { cwd?: string } = {}): Promise<Run[]> {
  const out: Run[] = new Array(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await run(cases[i] as readonly string[], options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, cases.length) }, worker));
  return out;
}
