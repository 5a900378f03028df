// The size guard of Gaussian-mixture data: wide data are an INVALID_DATA error before any work,
// not a wasm crash ("table index is out of bounds") after minutes.
import { describe, expect, it } from 'vitest';
import { fit } from '@emlab/core';
import '@emlab/exact';
import { catchEmError } from '@emlab/testing';
import { BLOCK_ROWS, GMM_MAX_ALLOCATION_BYTES, checkGmmSize, featureCount, gaussianMixture } from '../src/index.js';

describe('checkGmmSize', () => {
  it('accepts what fits and names the columns and sizes of what does not', () => {
    expect(() => checkGmmSize(100_000, 16, 16, 'full')).not.toThrow();
    // 4096 × (250² + 251) × 4 bytes = 0.96 GiB: under the limit (measured to work on the wasm backend).
    expect(4096 * featureCount(250, 'full') * 4).toBeLessThan(GMM_MAX_ALLOCATION_BYTES);
    expect(() => checkGmmSize(BLOCK_ROWS, 250, 1, 'diag')).not.toThrow();
    // 4096 × (300² + 301) × 4 bytes = 1.38 GiB: over it (measured to crash the wasm backend).
    const e = catchEmError(() => checkGmmSize(BLOCK_ROWS, 300, 1, 'diag'));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/^data = "300 columns": is too wide: .*4096 × 90301 float32 table .*1\.4 GiB/);
    // The audit's case: 5 rows × 20,000 columns.
    expect(catchEmError(() => checkGmmSize(5, 20_000, 5, 'diag')).message).toMatch(/20000 columns/);
    // Full covariances: K × D × D float64.
    expect(catchEmError(() => checkGmmSize(3, 6000, 5, 'full')).message).toMatch(/too wide for full covariances: 5 6000 × 6000 float64 matrices/);
    expect(() => checkGmmSize(3, 6000, 5, 'spherical')).not.toThrow();
  });

  it('fit reports it before any work', async () => {
    const data = { values: new Float64Array(5 * 20_000), rows: 5, cols: 20_000 };
    const e = await fit(gaussianMixture({ nComponents: 1, covarianceType: 'diag' }), data).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe('INVALID_DATA');
  });
});
