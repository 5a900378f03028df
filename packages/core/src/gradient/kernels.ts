/**
 * Gradients of the TensorFlow.js kernels emlab's objectives use.
 *
 * `@tensorflow/tfjs-core` ships its gradient functions only as ES modules
 * (`dist/register_all_gradients.js`, imported by the `@tensorflow/tfjs` union
 * package), which Node cannot load next to the CommonJS bundle that
 * `@tensorflow/tfjs-core` resolves to; with tfjs-core alone every `tf.grad`
 * fails ("gradient function not found for Sum"). The gradient registry is
 * global, so emlab registers the few it needs, each only when no gradient is
 * registered yet for that kernel (an application that loads the union package
 * keeps its own). They are backend-independent (written with ops) and are
 * checked against float64 finite differences in the tests.
 *
 * Differentiable ops, by kernel: `Add`, `Sub`, `Multiply` (with
 * broadcasting), `Exp`, `Square`, `Sum`, `Reshape`, `Transpose`, `Slice`,
 * `BatchMatMul` (`tf.matMul`, equal batch sizes or a batch of 1). Use
 * {@link logSumExpRowsDifferentiable} for a log-sum-exp (`tf.logSumExp` needs
 * `Max` and `Log`, which are not registered).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { EmError } from '../errors.js';

type Grads = Record<string, () => tf.Tensor>;

/** `dy` summed over the axes along which `shape` was broadcast, reshaped to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape as number[], dy.shape);
  const reduced = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(reduced, shape as number[]);
}

/** `x` (3-D batch) summed to `batch` rows when it was broadcast from a batch of 1. */
function unbatch(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (x.shape[0] === shape[0]) return x;
  if (shape[0] === 1) return tf.sum(x, 0, true);
  throw new EmError('INTERNAL', `BatchMatMul gradient: batch ${x.shape[0]} cannot reduce to ${shape[0]}`);
}

/** `x` with its last two axes swapped (explicit transpose: faster than transposeA on tfjs-backend-wasm). */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return tf.transpose(x, perm);
}

const CONFIGS: tf.GradConfig[] = [
  {
    kernelName: 'Add',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved): Grads => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape), b: () => unbroadcast(dy as tf.Tensor, b.shape) };
    },
  },
  {
    kernelName: 'Sub',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved): Grads => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape), b: () => tf.neg(unbroadcast(dy as tf.Tensor, b.shape)) };
    },
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved): Grads => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return {
        a: () => unbroadcast(tf.mul(dy as tf.Tensor, tf.cast(b, 'float32')), a.shape),
        b: () => unbroadcast(tf.mul(dy as tf.Tensor, tf.cast(a, 'float32')), b.shape),
      };
    },
  },
  {
    kernelName: 'Exp',
    outputsToSave: [true],
    gradFunc: (dy, saved): Grads => {
      const [y] = saved as [tf.Tensor];
      return { x: () => tf.mul(dy as tf.Tensor, y) };
    },
  },
  {
    kernelName: 'Square',
    inputsToSave: ['x'],
    gradFunc: (dy, saved): Grads => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.mul(dy as tf.Tensor, tf.mul(tf.cast(x, 'float32'), 2)) };
    },
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const [x] = saved as [tf.Tensor];
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const kept = x.shape.map((s, i) => (axes.includes(i) ? 1 : s));
      return { x: () => tf.mul(tf.reshape(dy as tf.Tensor, kept), tf.ones(x.shape, 'float32')) };
    },
  },
  {
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dy, saved): Grads => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.reshape(dy as tf.Tensor, x.shape) };
    },
  },
  {
    kernelName: 'Transpose',
    gradFunc: (dy, _saved, attrs): Grads => {
      const perm = (attrs as { perm: number[] }).perm;
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return { x: () => tf.transpose(dy as tf.Tensor, inverse) };
    },
  },
  {
    kernelName: 'Slice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const [x] = saved as [tf.Tensor];
      const { begin, size } = attrs as { begin: number | number[]; size: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
      const paddings = x.shape.map((n, i) => [b[i] as number, n - (b[i] as number) - (s[i] as number)] as [number, number]);
      return { x: () => tf.pad(dy as tf.Tensor, paddings) };
    },
  },
  {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs): Grads => {
      const [a, b] = saved as [tf.Tensor3D, tf.Tensor3D];
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor3D;
      const mm = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D);
      if (!transposeA && !transposeB) return { a: () => unbatch(mm(g, swapLast(b)), a.shape), b: () => unbatch(mm(swapLast(a), g), b.shape) };
      if (!transposeA && transposeB) return { a: () => unbatch(mm(g, b), a.shape), b: () => unbatch(mm(swapLast(g), a), b.shape) };
      if (transposeA && !transposeB) return { a: () => unbatch(mm(b, swapLast(g)), a.shape), b: () => unbatch(mm(a, g), b.shape) };
      return { a: () => unbatch(mm(swapLast(b), swapLast(g)), a.shape), b: () => unbatch(mm(swapLast(g), swapLast(a)), b.shape) };
    },
  },
];

/** Kernel names {@link ensureGradientKernels} provides gradients for. @category Gradient ascent */
export const DIFFERENTIABLE_KERNELS: readonly string[] = CONFIGS.map((c) => c.kernelName);

let registered = false;

/**
 * Registers the gradients of {@link DIFFERENTIABLE_KERNELS} that are not
 * registered yet (idempotent; `fitGradient` and `stationarity` call it).
 * @category Gradient ascent
 */
export function ensureGradientKernels(): void {
  if (registered) return;
  for (const config of CONFIGS) if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
  registered = true;
}

/**
 * Row-wise log-sum-exp `[n, k] → [n]` with a gradient (softmax rows), for
 * objectives differentiated with `tf.grad`. Rows must have a finite maximum.
 * @category Gradient ascent
 */
export function logSumExpRowsDifferentiable(x: tf.Tensor2D): tf.Tensor1D {
  const n = x.shape[0];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const m = tf.max(input, 1, true);
    const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(input, m)), 1, true)), m);
    save([input, lse]);
    return {
      value: tf.reshape(lse, [n]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, l] = saved as [tf.Tensor, tf.Tensor];
        return tf.mul(tf.reshape(dy, [n, 1]), tf.exp(tf.sub(xs, l)));
      },
    };
  });
  return f(x) as tf.Tensor1D;
}
