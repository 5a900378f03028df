/**
 * Log-space tensor helpers.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Row-wise log-sum-exp of `[n, k]`, guarded: a row that is all −∞ gives −∞, never NaN.
 * @returns `[n]`
 * @category Numerics
 */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const m = tf.max(x, 1, true);
    const safe = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
    const s = tf.log(tf.sum(tf.exp(tf.sub(x, safe)), 1, true));
    return tf.reshape(tf.add(s, safe), [x.shape[0]]) as tf.Tensor1D;
  });
}

/**
 * One-hot rows as float32, `[n, depth]`, from int32 indices `[n]`.
 *
 * Built as int32 and cast: tfjs-backend-wasm 4.22's `oneHot` with dtype
 * `'float32'` writes integer bit patterns (1 becomes 1.4e-45).
 * @category Numerics
 */
export function oneHotFloat(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  // tf.oneHot rejects depth 1 (a single component): every row is then [1].
  if (depth === 1) return tf.ones([indices.shape[0], 1]);
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(indices, 'int32') as tf.Tensor1D, depth), 'float32') as tf.Tensor2D);
}
