/**
 * The TensorFlow.js backend in the page: wasm (its three binaries are emitted by Vite as assets
 * and located with `setWasmPaths`), with the cpu backend as the fallback when wasm cannot start.
 * The choice is made through `initBackend(prefer)`, which `fit` then keeps.
 * @module
 */
import { initBackend, type BackendName } from '@emlab/core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { describeError } from './race.js';

let pathsSet = false;

/** Starts `prefer` (wasm by default); falls back to cpu when wasm fails, saying why in `note`. */
export async function startBackend(prefer: 'wasm' | 'cpu' = 'wasm'): Promise<{ name: BackendName; note: string | null }> {
  if (!pathsSet) {
    setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });
    pathsSet = true;
  }
  if (prefer === 'cpu') return { name: await initBackend('cpu'), note: null };
  try {
    return { name: await initBackend('wasm'), note: null };
  } catch (e) {
    return { name: await initBackend('cpu'), note: `The wasm backend did not start (${describeError(e)}); using the cpu backend.` };
  }
}
