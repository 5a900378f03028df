/**
 * The gradient baseline's objective: value and gradient of the mean per-row
 * log-likelihood through TensorFlow.js autodiff, block by block, block sums in float64.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientProblem } from './adapters.js';

/** Value and gradient of the mean per-row log-likelihood at ϑ, block sums in float64. */
export interface Evaluation {
  /** (1/N) log p(x | θ(ϑ)). */
  readonly value: number;
  /** ∇ϑ of it. */
  readonly grad: Float64Array;
}

export function evaluate<P>(problem: GradientProblem<P>, theta: Float64Array): Evaluation {
  const n = problem.nRows;
  const grad = new Float64Array(problem.dim);
  let value = 0;
  const th = tf.tensor1d(Float32Array.from(theta));
  try {
    for (let b = 0; b < problem.nBlocks; b++) {
      const { value: v, grad: g } = tf.valueAndGrad((t: tf.Tensor) => tf.mul(problem.blockLogLikelihood(b, t as tf.Tensor1D), 1 / n) as tf.Scalar)(th);
      const gv = g.dataSync();
      value += (v.dataSync()[0] as number);
      for (let i = 0; i < gv.length; i++) grad[i] = (grad[i] as number) + (gv[i] as number);
      v.dispose();
      g.dispose();
    }
  } finally {
    th.dispose();
  }
  return { value, grad };
}

export function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

export function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] as number));
  return m;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

