/**
 * File I/O for Node (the `@emlab/core/node` entry; the main entry has no
 * `node:` imports and runs in browsers): atomic writes, text files in any
 * Unicode encoding with a byte-order mark, streamed lines, output-path checks,
 * and saving and loading results and parameters.
 *
 * Every write is atomic: the content goes to a temporary file beside the
 * target, every write call's byte count is checked, the file is flushed to
 * disk, and only then renamed over the target. A failed write (full disk,
 * permissions, a crash) leaves the previous file untouched and no partial
 * file behind.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EmError, emError, type ErrorPath } from '../errors.js';
import { fromJson, paramsDocument, parseParams, parseResult, toJson, type FitResult, type ParamsValidator } from '../result.js';

const ioError = (path: ErrorPath, file: string, what: string, e: unknown, remedy: string): EmError =>
  emError('IO_ERROR', path, file, `${what} (${(e as NodeJS.ErrnoException)?.code ?? (e instanceof Error ? e.message : String(e))})`, remedy, e);

/** What {@link writeFileAtomic} writes: one string or byte array, or chunks of them (written in order, never joined in memory). @category Files */
export type FileContent = string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

/** Writes every byte of `bytes` (a write call may write fewer bytes than asked: the rest follows; 0 bytes is an error). */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<number> {
  let off = 0;
  while (off < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, off, bytes.length - off);
    if (bytesWritten <= 0) throw new Error(`short write: ${off} of ${bytes.length} bytes`);
    off += bytesWritten;
  }
  return off;
}

async function* chunksOf(data: FileContent): AsyncIterable<Uint8Array> {
  if (typeof data === 'string') yield Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) yield data;
  else for await (const c of data) yield typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
}

/**
 * Writes `data` to `path` atomically (temporary file, checked writes, fsync, rename). `data` may be
 * chunks (an iterable or async iterable of strings or bytes), so an output larger than a string can
 * hold is written without building it in memory.
 * @param errorPath - how errors name the destination (a CLI flag, e.g. `['--out']`). Default `['path']`.
 * @throws EmError `IO_ERROR` naming the path; the previous file (if any) is left as it was. An error
 *   thrown while producing the chunks passes through, with the same guarantee.
 * @example
 * ```ts
 * await writeFileAtomic('out.csv', (function* () { yield 'x,y\n'; yield '1,2\n'; })(), ['--out']);
 * ```
 * @category Files
 */
export async function writeFileAtomic(path: string, data: FileContent, errorPath: ErrorPath = ['path']): Promise<void> {
  const dir = dirname(resolve(path));
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.floor(performance.now() * 1000).toString(36)}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'wx');
  } catch (e) {
    throw ioError(errorPath, path, 'cannot be written: its directory does not accept a new file', e, 'check that the directory exists and is writable');
  }
  let producerError: { error: unknown } | undefined;
  try {
    const it = chunksOf(data)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await it.next();
      } catch (e) {
        producerError = { error: e };
        throw e;
      }
      if (next.done === true) break;
      await writeAll(handle, next.value);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (producerError !== undefined) throw producerError.error;
    throw ioError(errorPath, path, `could not be written completely; the previous file, if any, is unchanged`, e, 'free disk space or choose another location');
  }
}

/**
 * Checks, before any work, that `path` can be written: its directory exists and is writable and
 * `path` is not a directory. Does not create or change anything.
 * @throws EmError `IO_ERROR` naming `errorPath`.
 * @category Files
 */
export async function checkWritable(path: string, errorPath: ErrorPath = ['path']): Promise<void> {
  const abs = resolve(path);
  try {
    const s = await stat(abs);
    if (s.isDirectory()) throw emError('IO_ERROR', errorPath, path, 'is a directory, not a file', 'name a file inside it');
  } catch (e) {
    if (e instanceof EmError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(errorPath, path, 'cannot be inspected', e, 'check the path and permissions');
  }
  // Probe the directory with a temporary directory, removed at once (works on every filesystem).
  let probe: string | undefined;
  try {
    probe = await mkdtemp(join(dirname(abs), '.emlab-probe-'));
  } catch (e) {
    throw ioError(errorPath, path, 'cannot be written: its directory does not exist or is not writable', e, 'create the directory or choose another location');
  } finally {
    if (probe !== undefined) await rm(probe, { recursive: true, force: true });
  }
}

/**
 * Checks that several outputs name different files (after resolving), before any work.
 * @param outputs - pairs of (flag or argument name, path); undefined paths are skipped.
 * @throws EmError `INVALID_ARGUMENT` naming both flags.
 * @category Files
 */
export function checkDistinctOutputs(outputs: readonly (readonly [string, string | undefined])[]): void {
  const seen = new Map<string, string>();
  for (const [name, path] of outputs) {
    if (path === undefined) continue;
    const abs = resolve(path);
    const other = seen.get(abs);
    if (other !== undefined) throw emError('INVALID_ARGUMENT', [name], path, `names the same file as ${other}, so one output would overwrite the other`, `give ${name} and ${other} different paths`);
    seen.set(abs, name);
  }
}

type Encoding = 'utf8' | 'utf16le' | 'utf16be';

/** The encoding a byte-order mark announces (UTF-8 without one). */
function encodingOf(head: Uint8Array): { encoding: Encoding; bom: number } {
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', bom: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', bom: 2 };
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', bom: 3 };
  return { encoding: 'utf8', bom: 0 };
}

function decode(bytes: Uint8Array, encoding: Encoding, path: string): string {
  try {
    return new TextDecoder(encoding === 'utf8' ? 'utf-8' : encoding === 'utf16le' ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(bytes);
  } catch (e) {
    throw emError('PARSE_ERROR', [path], path, `is not valid ${encoding === 'utf8' ? 'UTF-8 (and has no UTF-16 byte-order mark)' : encoding.toUpperCase()} text`, 'save the file as UTF-8 (or UTF-16 with a byte-order mark)', e);
  }
}

/**
 * Reads a whole text file: UTF-8, or UTF-16 LE/BE when it starts with a byte-order mark (the mark is dropped).
 * @throws EmError `IO_ERROR` (unreadable), `PARSE_ERROR` (invalid encoding, with what to do).
 * @category Files
 */
export async function readTextFile(path: string, errorPath: ErrorPath = ['path']): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw ioError(errorPath, path, 'cannot be read', e, 'check the path: the file must exist and be readable');
  }
  const { encoding, bom } = encodingOf(bytes);
  return decode(bytes.subarray(bom), encoding, path);
}

/**
 * Streams the lines of a text file into `sink` (never the whole file in one string), then calls
 * `sink.end()` when it has one. UTF-8, or UTF-16 with a byte-order mark; invalid UTF-8 is an error
 * naming the encoding (not garbled text).
 * @throws EmError `IO_ERROR` naming the path when the file cannot be read, `PARSE_ERROR` for an
 *   invalid encoding; errors `sink` throws pass through.
 * @category Files
 */
export async function streamLines(path: string, sink: { line(text: string): void; end?(): void }): Promise<void> {
  let head: Buffer;
  try {
    const h = await open(path, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await h.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  } catch (e) {
    throw ioError([path], path, 'could not read the file', e, 'check the path: the file must exist and be readable');
  }
  const { encoding, bom } = encodingOf(head);
  const stream = createReadStream(path, { start: bom, highWaterMark: 1 << 16 });
  const decoder = new TextDecoder(encoding === 'utf8' ? 'utf-8' : encoding === 'utf16le' ? 'utf-16le' : 'utf-16be', { fatal: true });
  const badEncoding = (e: unknown): EmError =>
    emError('PARSE_ERROR', [path], path, `is not valid ${encoding === 'utf8' ? 'UTF-8 (and has no UTF-16 byte-order mark)' : encoding.toUpperCase()} text`, 'save the file as UTF-8 (or UTF-16 with a byte-order mark)', e);
  const emit = (line: string): void => sink.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  let rest = '';
  try {
    for await (const chunk of stream) {
      let text: string;
      try {
        text = rest + decoder.decode(chunk as Buffer, { stream: true });
      } catch (e) {
        throw badEncoding(e);
      }
      const lines = text.split('\n');
      rest = lines.pop() as string;
      for (const line of lines) emit(line);
    }
    try {
      rest += decoder.decode();
    } catch (e) {
      throw badEncoding(e);
    }
    if (rest.length > 0) emit(rest);
    sink.end?.();
  } catch (e) {
    if (e instanceof EmError) throw e;
    throw ioError([path], path, 'could not read the file', e, 'check the path: the file must exist and be readable');
  } finally {
    stream.destroy();
  }
}

/**
 * Writes a result as JSON (atomically).
 * @example
 * ```ts
 * await saveResult('gmm.json', result);
 * const again = await loadResult<GmmParams>('gmm.json', gmm);
 * ```
 * @throws EmError `IO_ERROR`
 * @category Files
 */
export async function saveResult(path: string, result: FitResult, errorPath: ErrorPath = ['path']): Promise<void> {
  await writeFileAtomic(path, `${toJson(result)}\n`, errorPath);
}

/** Reads a result written by {@link saveResult}. @throws EmError `IO_ERROR`, `PARSE_ERROR`, `INVALID_PARAMS` @category Files */
export async function loadResult<P>(path: string, model?: ParamsValidator): Promise<FitResult<P>> {
  return parseResult<P>(await readTextFile(path), model, path);
}

/** Writes parameters alone (atomically), in the format `loadParams` and `emlab fit --init-params` read. @throws EmError `IO_ERROR` @category Files */
export async function saveParams<P>(path: string, modelName: string, params: P, errorPath: ErrorPath = ['path']): Promise<void> {
  await writeFileAtomic(path, `${toJson(paramsDocument(modelName, params))}\n`, errorPath);
}

/** Reads parameters written by {@link saveParams} (or the `params` of a saved result); with `model`, validates them. @throws EmError `IO_ERROR`, `PARSE_ERROR`, `INVALID_PARAMS` @category Files */
export async function loadParams<P>(path: string, model?: ParamsValidator): Promise<P> {
  return parseParams<P>(await readTextFile(path), model, path);
}

/** Reads and parses a JSON file written by emlab (non-finite numbers encoded as strings). @throws EmError `IO_ERROR`, `PARSE_ERROR` @category Files */
export async function readJsonFile(path: string, errorPath: ErrorPath = ['path']): Promise<unknown> {
  return fromJson(await readTextFile(path, errorPath), path);
}
