/**
 * Network files: BIF (`.bif`) and emlab JSON (`.json`), chosen by extension.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { emError, type EmError } from '@emlab/core';
import type { BayesNet } from './bn-types.js';
import { parseBif, writeBif } from './bif.js';
import { parseBnJson, writeBnJson } from './bn-json.js';
import { validateNetwork, type ValidateNetworkOptions } from './bn-validate.js';

/** The network file formats. @category Bayesian networks */
export type NetworkFormat = 'bif' | 'json';

function ioError(path: string, action: 'read' | 'write', cause: unknown): EmError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return emError('IO_ERROR', [path], path, `could not ${action} the file (${reason})`, action === 'read' ? 'check the path: the file must exist and be readable' : 'check the path: the directory must exist and be writable', cause);
}

function checkPath(path: unknown, what: string): asserts path is string {
  if (typeof path !== 'string' || path === '') throw emError('INVALID_ARGUMENT', ['path'], path, 'must be a non-empty file path', `pass the path of ${what}`);
}

/**
 * The format of a network file from its extension (`.bif` or `.json`, case-insensitive).
 * @throws EmError `INVALID_ARGUMENT` for another extension.
 * @category Bayesian networks
 */
export function networkFormat(path: string): NetworkFormat {
  checkPath(path, 'a network file');
  const lower = path.toLowerCase();
  if (lower.endsWith('.bif')) return 'bif';
  if (lower.endsWith('.json')) return 'json';
  throw emError('INVALID_ARGUMENT', ['path'], path, 'has an unknown network file extension (known: .bif, .json)', 'name the file *.bif (BIF) or *.json (emlab JSON)');
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw ioError(path, 'read', e);
  }
}

/**
 * Reads a BIF file (syntax only, like {@link parseBif}; {@link readNetwork} also validates).
 * @throws EmError `IO_ERROR`, `PARSE_ERROR` (with the file, line and column).
 * @example
 * ```ts
 * const raw = await readBif('asia.bif');
 * ```
 * @category Bayesian networks
 */
export async function readBif(path: string): Promise<BayesNet> {
  checkPath(path, 'a BIF file');
  return parseBif(await readText(path), path);
}

/**
 * Reads and validates a network file, `.bif` or `.json` by extension: {@link parseBif} or
 * {@link parseBnJson}, then {@link validateNetwork} (rounded CPTs renormalized with a warning).
 *
 * @param path - The network file.
 * @param options - `onWarning` for renormalization warnings.
 * @throws EmError `INVALID_ARGUMENT` (extension, structure), `IO_ERROR`, `PARSE_ERROR`, `INVALID_PARAMS` (CPTs).
 * @example
 * ```ts
 * const alarm = await readNetwork('alarm.bif', { onWarning: (m) => console.warn(m) });
 * ```
 * @category Bayesian networks
 */
export async function readNetwork(path: string, options: ValidateNetworkOptions = {}): Promise<BayesNet> {
  const format = networkFormat(path);
  const text = await readText(path);
  const raw = format === 'bif' ? parseBif(text, path) : parseBnJson(text, path);
  return validateNetwork(raw, options);
}

/**
 * Writes a network file, `.bif` or `.json` by extension ({@link writeBif}, {@link writeBnJson}).
 * @throws EmError `INVALID_ARGUMENT` (extension, malformed network), `INVALID_PARAMS`, `IO_ERROR`.
 * @example
 * ```ts
 * await writeNetwork('fitted.json', networkWithParams(net, result.params));
 * ```
 * @category Bayesian networks
 */
export async function writeNetwork(path: string, net: BayesNet): Promise<void> {
  const format = networkFormat(path);
  const text = format === 'bif' ? writeBif(net) : writeBnJson(net);
  try {
    await writeFile(path, text);
  } catch (e) {
    throw ioError(path, 'write', e);
  }
}
