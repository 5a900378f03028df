/**
 * The version `emlab --version` prints: the CLI package's own (read from its
 * package.json, so printing it loads nothing else).
 * @module
 */
import { readFileSync } from 'node:fs';

/** The `version` field of `@emlab/cli`'s package.json. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
