/**
 * Tensor-leak assertions.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` and throws if `tf.memory().numTensors` differs afterwards (also
 * when `fn` throws: the count is checked, then the error is rethrown).
 * @returns what `fn` returned.
 * @category Testing
 */
export async function expectNoTensorLeak<T>(fn: () => T | Promise<T>, label = 'block'): Promise<T> {
  const before = tf.memory().numTensors;
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    const after = tf.memory().numTensors;
    if (after !== before) throw new Error(`${label} leaked ${after - before} tensors before throwing: ${(e as Error).message}`);
    throw e;
  }
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`${label} leaked ${after - before} tensors`);
  return result;
}
