/**
 * Redis connections for the BullMQ queues of distributed suites and fits: a
 * `redis://[user:password@]host[:port][/db]` URL (or `rediss://` for TLS)
 * checked before any work, and the queue names.
 * @module
 */
import { emError, type ErrorPath } from '@emlab/core';

/** Connection options BullMQ (ioredis) takes. @internal */
export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: Record<string, never>;
  /** BullMQ workers need blocking commands without a retry limit. */
  readonly maxRetriesPerRequest: null;
}

/** Queue names (one Redis can serve several emlab installations with different prefixes). @category Queue */
export const QUEUE_NAMES = { runs: 'emlab-runs', fits: 'emlab-fits' } as const;

/** Default BullMQ key prefix of emlab's queues. @category Queue */
export const QUEUE_PREFIX = 'emlab';

/**
 * Parses a Redis URL.
 * @throws EmError `INVALID_ARGUMENT` naming `path` (e.g. `['options', 'queue']` or `['--queue']`).
 * @category Queue
 */
export function parseRedisUrl(url: unknown, path: ErrorPath = ['options', 'queue']): RedisConnection {
  const remedy = 'pass a Redis URL such as redis://127.0.0.1:6379 (redis://[user:password@]host[:port][/db], rediss:// for TLS)';
  if (typeof url !== 'string' || url.length === 0) throw emError('INVALID_ARGUMENT', path, url, 'must be a Redis URL', remedy);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw emError('INVALID_ARGUMENT', path, url, 'is not a URL', remedy);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw emError('INVALID_ARGUMENT', path, url, `has scheme ${u.protocol.replace(':', '')}, not redis or rediss`, remedy);
  if (u.hostname === '') throw emError('INVALID_ARGUMENT', path, url, 'names no host', remedy);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw emError('INVALID_ARGUMENT', path, url, `names database ${JSON.stringify(dbText)}, not an integer in [0, 15]`, remedy);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(u.username === '' ? {} : { username: decodeURIComponent(u.username) }),
    ...(u.password === '' ? {} : { password: decodeURIComponent(u.password) }),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * Checks that something accepts connections at the Redis address within `ms`, before BullMQ opens
 * its connections: an unreachable Redis is then an `IO_ERROR` at once, and no reconnecting client is
 * left behind to keep the process alive.
 * @throws EmError `IO_ERROR` naming `path` with the URL.
 * @internal
 */
export async function reachRedis(connection: RedisConnection, url: string, path: ErrorPath, ms = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const why = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host: connection.host, port: connection.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer within ${ms} ms`);
    }, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve(undefined);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(e.code ?? e.message);
    });
  });
  if (why !== undefined) throw emError('IO_ERROR', path, url, `Redis cannot be reached (${why})`, 'start redis-server there, or check the host, port and password');
}
