/**
 * Vitest global set-up: the report's browser test drives Debian's chromium
 * (`/usr/bin/chromium`). When it is missing, install it with apt (as root, or
 * with passwordless sudo), so `npm ci && npm test` works on a fresh machine.
 * If that is impossible the browser test fails with a message saying so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

export default function setup(): void {
  if (existsSync(CHROMIUM) || process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) return;
  const root = process.getuid?.() === 0;
  const run = (args: string[]): boolean => {
    const [cmd, ...rest] = root ? args : ['sudo', '-n', ...args];
    const r = spawnSync(cmd as string, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return r.status === 0;
  };
  process.stderr.write(`emlab tests: ${CHROMIUM} is missing; installing Debian's chromium for the report's browser test\n`);
  if (!run(['apt-get', 'update']) || !run(['apt-get', 'install', '-y', '--no-install-recommends', 'chromium', 'fonts-liberation'])) {
    process.stderr.write('emlab tests: could not install chromium (needs root or passwordless sudo); the browser test will fail\n');
  }
}
