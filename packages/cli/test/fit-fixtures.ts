/**
 * Data and checks shared by the binary's fit tests (`cli.test.ts`, `cli-features.test.ts`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { createRng, type FitResult } from '@emlab/core';
import type { GmmParams } from '@emlab/models';
import type { Run } from './run-cli.js';

// ---------------------------------------------------------------- data

export const K = 3;
export const D = 3;
export const N = 300;
const SHIFT = 1000; // added to column "y": fitted means must show it (original units)
const CENTRES = [
  [0, 0, 0],
  [10, 0, 10],
  [0, 10, 10],
] as const;

/** 300 rows × 3 columns from 3 unit-variance clusters, deterministic (core's seeded stream). */
export function clusterRows(): number[][] {
  const rng = createRng(12345).child('cli-test');
  return Array.from({ length: N }, (_, i) => (CENTRES[i % K] as readonly number[]).map((m, j) => Number((m + rng.normal() + (j === 1 ? SHIFT : 0)).toFixed(6))));
}

export const csv = (header: string, rows: readonly (readonly (number | string)[])[]): string => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

export const CORE_DIST = pathToFileURL(fileURLToPath(new URL('../../core/dist/index.js', import.meta.url))).href;
export const MODELS_DIST = pathToFileURL(fileURLToPath(new URL('../../models/dist/index.js', import.meta.url))).href;
export const ASIA = fileURLToPath(new URL('../../../data/bn/asia.bif', import.meta.url));

// A plug-in model: the Gaussian mixture under another name, with its own flag --k.
export const PLUGIN = `import { registerModel } from '${CORE_DIST}';
import { gaussianMixture } from '${MODELS_DIST}';
registerModel({ name: 'gmm-k', description: 'a Gaussian mixture registered by a plug-in', structureKind: 'finite',
  options: { k: { type: 'integer', min: 1, required: true, flag: 'k', description: 'components' } },
  create: (o) => gaussianMixture({ nComponents: o.k }) });
`;

/** A temp directory with the data files of the fit tests; returns it and a cleanup. */
export async function makeFixtures(): Promise<{ dir: string; file: (name: string) => string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'emlab-cli-'));
  const file = (name: string): string => join(dir, name);
  const rows = clusterRows();
  // Weight 2 on every third row = those rows duplicated.
  const weighted = rows.map((r, i) => [...r, i % 3 === 0 ? 2 : 1]);
  const duplicated = rows.flatMap((r, i) => (i % 3 === 0 ? [r, r] : [r]));
  await Promise.all([
    writeFile(file('good.csv'), csv('x,y,z', rows)),
    writeFile(file('weighted.csv'), csv('x,w,y,z', weighted.map(([x, y, z, w]) => [x as number, w as number, y as number, z as number]))),
    writeFile(file('duplicated.csv'), csv('x,y,z', duplicated)),
    // RFC 4180: a quoted header with a line break, quoted cells; and the same table in UTF-16 LE with a BOM.
    writeFile(file('quoted.csv'), `x,"y\nsecond line",z\n${rows.map((r) => `"${r[0]}",${r[1]},"${r[2]}"`).join('\r\n')}\r\n`),
    writeFile(file('utf16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv('x,y,z', rows), 'utf16le')])),
    writeFile(file('plugin.mjs'), PLUGIN),
  ]);
  return { dir, file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- result checks

export const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks the documented `--json` schema; returns the result typed. */
export function checkResult(r: Run, want: { estep: string; seed: number | string; covariance: string }): FitResult<GmmParams> & { columns: string[] } {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/error|    at /i);
  const res = JSON.parse(r.stdout) as FitResult<GmmParams> & { columns: string[] };
  const p = res.params;
  expect(res.columns).toEqual(['x', 'y', 'z']);
  expect(res.nRows).toBe(N);
  expect(p.weights).toHaveLength(K);
  expect(p.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  expect(p.means.every((m) => m.length === D && m.every(isNum))).toBe(true);
  // covariances: K full D × D symmetric matrices with a positive diagonal, whatever --covariance says
  for (const cov of p.covariances) {
    for (let i = 0; i < D; i++) {
      expect((cov[i] as number[])[i] as number).toBeGreaterThan(0);
      for (let j = 0; j < D; j++) expect((cov[i] as number[])[j]).toBeCloseTo((cov[j] as number[])[i] as number, 9);
    }
  }
  if (want.covariance === 'tied') for (const cov of p.covariances) expect(cov).toEqual(p.covariances[0]);
  expect(isNum(res.bound) && isNum(res.logLikelihood)).toBe(true);
  // the total log-likelihood (natural log), not a per-row mean: ~ -5.5 per row for these clusters
  expect(res.logLikelihood as number).toBeLessThan(-4 * N);
  expect(res.logLikelihood as number).toBeGreaterThan(-7 * N);
  expect(res.method.name).toBe(want.estep);
  expect(res.seed).toBe(want.seed);
  expect(res.trace).toHaveLength(res.nIter);
  return res;
}

/** Each fitted mean lies near a distinct true centre, in original units (column y shifted by +1000). */
export function expectMeansNearTruth(means: readonly (readonly number[])[]): void {
  const truth = CENTRES.map((c) => c.map((v, j) => v + (j === 1 ? SHIFT : 0)));
  const used = new Set<number>();
  for (const m of means) {
    const dist = truth.map((t) => Math.hypot(...t.map((v, j) => v - (m[j] as number))));
    const best = dist.indexOf(Math.min(...dist));
    expect(dist[best], `mean ${JSON.stringify(m)}`).toBeLessThan(0.6);
    used.add(best);
  }
  expect(used.size).toBe(K);
}

