import { it } from 'vitest';
import { createRng } from '@emlab/core';
import '@emlab/exact';
import { selectModel, formatSelection } from '../src/index.js';

it('smoke select', async () => {
  const rng = createRng(5);
  const N = 400, D = 2;
  const values = new Float64Array(N * D);
  // EEE truth: common covariance [[1, .6],[.6, 1]]
  for (let i = 0; i < N; i++) { const k = i % 3; const a = rng.normal(), b = rng.normal(); values[i * D] = a + 4 * k; values[i * D + 1] = 0.6 * a + 0.8 * b + (k === 1 ? 4 : 0); }
  const t0 = performance.now();
  const sel = await selectModel({ values, rows: N, cols: D }, { components: [1, 2, 3, 4] });
  console.log(formatSelection(sel), (performance.now() - t0).toFixed(0), 'ms');
  console.log(sel.rows.filter(r => r.note).map(r => `${r.model},${r.nComponents}: ${r.note}`).join('\n'));
});
