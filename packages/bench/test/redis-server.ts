/**
 * A real redis-server for the queue tests, on a free localhost port, started and stopped by the test
 * file. Absent redis-server: the tests skip with a message, unless EMLAB_REQUIRE_REDIS is set (CI
 * installs redis-server and sets it), where its absence fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** The redis-server binary, or undefined. */
export function redisServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p !== '' ? p : undefined;
}

/** Why the queue tests cannot run here, or undefined when they can. */
export function redisMissing(): string | undefined {
  if (redisServerPath() !== undefined) return undefined;
  const why = 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';
  if (process.env['EMLAB_REQUIRE_REDIS']) throw new Error(`${why}, and EMLAB_REQUIRE_REDIS is set`);
  return why;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.end();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** A running redis-server without persistence. */
export interface RedisInstance {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisInstance> {
  const bin = redisServerPath() as string;
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await reachable(port)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
