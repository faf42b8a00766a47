import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import type { Conv2dAttrs } from '../../src/ops/conv2d.js';
import type { AvgPoolAttrs } from '../../src/ops/avgpool2d.js';
import type { PoolAttrs } from '../../src/ops/maxpool2d.js';
import type { Rounding } from '../../src/ops/window.js';
import type { Parameter } from '../../src/net/net.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Shape } from '../../src/tensor/shape.js';
import { Tensor, heapAllocator, type Allocator, type DType } from '../../src/tensor/tensor.js';
import { Sgd, type SgdOptions } from '../../src/train/optimizers/index.js';

/**
 * Kernel cases for comparing a fast backend with the reference one: every kernel on random inputs
 * with odd sizes, strides, padding, groups and ceil rounding (`runAll`), batch norm training, and
 * SGD steps. The conformance suite runs them on every backend; the wasm tests across thread counts.
 */

/** Uniform values in [-1, 1) from `rng`, allocated by the active allocator. */
export function random(shape: Shape, rng: Rng, dtype: DType = 'float32', allocator: Allocator = heapAllocator): Tensor {
  const t = Tensor.zeros(shape, dtype, allocator);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.next() * 2 - 1;
  return t;
}

/** Float32 against the reference: 1e-5 of the output's scale, or of 1e-3 if it is all smaller. */
export const CLOSE = { tolerance: 1e-5, floor: 1e-3 };

/** Asserts equal shapes and bit-identical values (Object.is: -0 and NaN count). */
export function assertSameBits(a: Tensor, b: Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  assert.ok(a.data.every((v, i) => Object.is(v, b.data[i])), `${what}: values differ`);
}

/** One convolution case: input shape, output channels and window; `rounding` defaults to floor. */
export interface ConvCase {
  name: string;
  x: Shape;
  out: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  groups: number;
  rounding?: Rounding;
}

/** Convolutions that reach every path of a fast conv: odd sizes, strides, groups, packed and direct. */
export const CONV_CASES: ConvCase[] = [
  { name: '3x3 pad 1, odd sizes', x: [2, 3, 7, 9], out: 5, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 1 },
  { name: '3x3 stride 2', x: [3, 8, 11, 11], out: 12, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 1 },
  { name: '5x5 pad 2, 2 groups', x: [2, 16, 9, 10], out: 6, kernel: [5, 5], stride: [1, 1], padding: [2, 2], groups: 2 },
  { name: 'LeNet C1 shape', x: [3, 1, 28, 28], out: 6, kernel: [5, 5], stride: [1, 1], padding: [2, 2], groups: 1 },
  { name: '64 channels, several K blocks', x: [1, 64, 14, 14], out: 64, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 1 },
  { name: '1x1 depthwise', x: [2, 4, 6, 5], out: 4, kernel: [1, 1], stride: [1, 1], padding: [0, 0], groups: 4 },
  { name: '7x7 stride 2 pad 3', x: [1, 3, 19, 17], out: 8, kernel: [7, 3], stride: [2, 1], padding: [3, 1], groups: 1 },
  // K above one packed block (KC = 256), stride 1 and 2.
  { name: 'K = 1152', x: [1, 128, 6, 5], out: 8, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 1 },
  { name: 'K = 288 stride 2', x: [2, 32, 9, 9], out: 8, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 1 },
  // Shrinking stride-1 convolutions: conv2dGradInput by col2im, its vector path and the edges.
  { name: 'LeNet C3 shape', x: [2, 6, 14, 14], out: 16, kernel: [5, 5], stride: [1, 1], padding: [0, 0], groups: 1 },
  { name: '5x5 pad 1 (shrinks)', x: [2, 3, 12, 13], out: 5, kernel: [5, 5], stride: [1, 1], padding: [1, 1], groups: 1 },
  // A window over the whole input runs as a fully-connected layer (both batch paths of linear).
  { name: 'LeNet C5 shape (window = input)', x: [3, 16, 5, 5], out: 12, kernel: [5, 5], stride: [1, 1], padding: [0, 0], groups: 1 },
  { name: 'window = input, batch 17', x: [17, 4, 3, 2], out: 5, kernel: [3, 2], stride: [1, 1], padding: [0, 0], groups: 1 },
  { name: 'ceil rounding, stride 3', x: [2, 5, 10, 10], out: 7, kernel: [3, 3], stride: [3, 3], padding: [0, 0], groups: 1, rounding: 'ceil' },
  // The last window reads past the image by more than a stride: its taps must see zeros.
  { name: 'ceil rounding, 3x3 stride 2', x: [2, 4, 10, 9], out: 9, kernel: [3, 3], stride: [2, 2], padding: [0, 0], groups: 1, rounding: 'ceil' },
  // 1x1 at stride 2 (ResNet's projection shortcut): one phase of the image.
  { name: '1x1 stride 2', x: [2, 16, 14, 13], out: 16, kernel: [1, 1], stride: [2, 2], padding: [0, 0], groups: 1 },
  // Rows of 3 outputs go two at a time into the AVX2 channel tile (6 positions), as rows of 7 or fewer do on AVX-512.
  { name: '3x3 stride 2 on 5x5, K = 144', x: [3, 16, 5, 5], out: 20, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 1 },
  // Reductions below 64 run on the native position panels (positions along the vectors), the rest on its channel
  // tile (filters along the vectors): these have more output positions, strided and grouped.
  { name: '3x3 stride 2, many positions', x: [2, 5, 67, 70], out: 6, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 1 },
  { name: '1x1 stride 2, many positions', x: [1, 8, 80, 77], out: 9, kernel: [1, 1], stride: [2, 2], padding: [0, 0], groups: 1 },
  { name: '3x3 2 groups, many positions', x: [1, 8, 41, 40], out: 10, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 2 },
  // The channel tile's chunks and bands: K = 1152 summed in chunks of 256 (the last 128); 8 groups of 16 filters,
  // so that each job sweeps every row, 66 tiles on AVX-512 (2 bands of up to 64), 165 on AVX2.
  { name: 'channel tile, K = 1152 in five chunks', x: [1, 128, 5, 6], out: 16, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 1 },
  { name: 'channel tile, tiles in two bands', x: [1, 64, 33, 28], out: 128, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 8 },
];

/** The case's Conv2dAttrs, with a bias. */
export function convAttrs(c: ConvCase): Conv2dAttrs {
  return { outChannels: c.out, groups: c.groups, bias: true, kernel: c.kernel, stride: c.stride, padding: c.padding, rounding: c.rounding ?? 'floor' };
}

/** One call of every kernel of the contract a fast backend may implement, on fixed random inputs: the outputs, by a name. */
export function runAll(backend: Backend, seed: number, allocator: Allocator = heapAllocator): Map<string, Tensor> {
  const rng = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const c of CONV_CASES) {
    const attrs = convAttrs(c);
    const x = random(c.x, rng, 'float32', allocator);
    const w = random([c.out, (c.x[1] as number) / c.groups, ...c.kernel], rng, 'float32', allocator);
    const bias = random([c.out], rng, 'float32', allocator);
    const y = backend.conv2d(x, w, bias, attrs);
    const dy = random(y.shape, rng, 'float32', allocator);
    out.set(`conv2d ${c.name}`, y);
    out.set(`conv2dGradInput ${c.name}`, backend.conv2dGradInput(dy, w, x.shape, attrs));
    out.set(`conv2dGradWeight ${c.name}`, backend.conv2dGradWeight(dy, x, attrs));
    out.set(`biasGrad ${c.name}`, backend.biasGrad(dy));
  }
  // Batches up to a dot tile's columns run the forward as dot products (1 x 9 x 3: all tail; 5 x 203 x 131: vector body, tail, 3 jobs).
  for (const [n, k, m] of [[13, 37, 11], [64, 400, 120], [1, 9, 3], [5, 203, 131]] as const) {
    const x = random([n, k], rng, 'float32', allocator);
    const w = random([m, k], rng, 'float32', allocator);
    const dy = random([n, m], rng, 'float32', allocator);
    out.set(`linear ${n}x${k}x${m}`, backend.linear(x, w, random([m], rng, 'float32', allocator)));
    out.set(`linear no bias ${n}x${k}x${m}`, backend.linear(x, w, null));
    out.set(`linearGradInput ${n}x${k}x${m}`, backend.linearGradInput(dy, w));
    out.set(`linearGradWeight ${n}x${k}x${m}`, backend.linearGradWeight(dy, x));
    out.set(`biasGrad fc ${n}x${m}`, backend.biasGrad(dy));
  }
  const pools: [string, PoolAttrs, Shape][] = [
    ['2x2', { kernel: [2, 2], stride: [2, 2], padding: [0, 0], rounding: 'floor' }, [2, 3, 9, 7]],
    // Wide enough for the 4-outputs-at-a-time path, with ties (the first maximum must win).
    ['2x2 wide, ties', { kernel: [2, 2], stride: [2, 2], padding: [0, 0], rounding: 'floor' }, [2, 3, 10, 21]],
    // 2x2 windows that tile the input exactly: avgPool2dGrad writes every value (no zero-fill).
    ['2x2 tiling', { kernel: [2, 2], stride: [2, 2], padding: [0, 0], rounding: 'floor' }, [2, 3, 8, 12]],
    ['3x3 stride 2 pad 1 ceil', { kernel: [3, 3], stride: [2, 2], padding: [1, 1], rounding: 'ceil' }, [2, 3, 9, 7]],
    // ResNet's pool, rows wide enough for vectors, with ties between overlapping windows' taps.
    ['3x3 stride 2 pad 1 wide, ties', { kernel: [3, 3], stride: [2, 2], padding: [1, 1], rounding: 'floor' }, [2, 3, 12, 41]],
  ];
  for (const [name, attrs, shape] of pools) {
    const x = random(shape, rng, 'float32', allocator);
    if (name.includes('ties')) for (let i = 0; i < x.size; i += 3) x.data[i + 1] = x.data[i] as number;
    const { y, argmax } = backend.maxPool2d(x, attrs);
    out.set(`maxPool2d ${name}`, y);
    out.set(`maxPool2d argmax ${name}`, Tensor.from([argmax.length], argmax));
    out.set(`maxPool2dGrad ${name}`, backend.maxPool2dGrad(random(y.shape, rng, 'float32', allocator), argmax, x.shape));
    for (const countIncludePad of [true, false]) {
      const avg: AvgPoolAttrs = { ...attrs, countIncludePad };
      const ya = backend.avgPool2d(x, avg);
      out.set(`avgPool2d ${name} ${countIncludePad}`, ya);
      out.set(`avgPool2dGrad ${name} ${countIncludePad}`, backend.avgPool2dGrad(random(ya.shape, rng, 'float32', allocator), x.shape, avg));
    }
  }
  const v = random([3, 5, 7, 3], rng, 'float32', allocator);
  const dv = random(v.shape, rng, 'float32', allocator);
  const relu = backend.relu(v);
  out.set('relu', relu);
  out.set('reluGrad', backend.reluGrad(dv, relu));
  out.set('add', backend.add(v, dv));
  const gamma = random([5], rng, 'float32', allocator);
  const beta = random([5], rng, 'float32', allocator);
  const mean = random([5], rng, 'float32', allocator);
  const variance = random([5], rng, 'float32', allocator);
  variance.data.forEach((x, i) => (variance.data[i] = Math.abs(x) + 0.1));
  out.set('batchNormInfer', backend.batchNormInfer(v, gamma, beta, mean, variance, 1e-5));
  out.set('batchNormInfer (N, C)', backend.batchNormInfer(random([4, 5], rng, 'float32', allocator), gamma, beta, mean, variance, 1e-5));
  for (const [name, t] of batchNormTraining(backend, rng, allocator)) out.set(name, t);
  return out;
}

/** (N, C, H, W) with odd sizes (vectors and a tail), batch 1, H = W = 1 with N = 4, and (N, C). */
const BN_SHAPES: Shape[] = [[3, 5, 7, 9], [1, 6, 5, 3], [4, 7, 1, 1], [13, 6]];

/** batchNormTrain and, from its statistics, batchNormGrad; one channel offset by 3 (the two-pass variance). */
export function batchNormTraining(backend: Backend, rng: Rng, allocator: Allocator = heapAllocator): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const shape of BN_SHAPES) {
    const c = shape[1] as number;
    const x = random(shape, rng, 'float32', allocator);
    const rest = x.size / ((shape[0] as number) * c);
    for (let i = 0; i < x.size; i++) if (Math.floor(i / rest) % c === 1) x.data[i] = (x.data[i] as number) + 3;
    const gamma = random([c], rng, 'float32', allocator);
    const beta = random([c], rng, 'float32', allocator);
    const dy = random(shape, rng, 'float32', allocator);
    const { y, mean, invStd } = backend.batchNormTrain(x, gamma, beta, 1e-5);
    const { dx, dgamma, dbeta } = backend.batchNormGrad(dy, x, gamma, mean, invStd);
    const name = shape.join('x');
    for (const [what, t] of Object.entries({ y, mean, invStd, dx, dgamma, dbeta })) out.set(`batchNorm${what === 'y' || what === 'mean' || what === 'invStd' ? 'Train' : 'Grad'} ${what} ${name}`, t);
  }
  return out;
}

/**
 * SGD settings for comparing a backend's sgdUpdate with the Sgd optimizer's TypeScript loop (which
 * computes each value in double and rounds once; a kernel may round each f32 operation).
 */
export const SGD_CASES: { name: string; options: SgdOptions }[] = [
  { name: 'plain', options: { lr: 0.1 } },
  { name: 'plain, weight decay', options: { lr: 0.05, weightDecay: 0.01 } },
  { name: 'momentum', options: { lr: 0.01, momentum: 0.9 } },
  { name: 'momentum, dampening', options: { lr: 0.02, momentum: 0.8, dampening: 0.3 } },
  { name: 'nesterov, weight decay', options: { lr: 0.03, momentum: 0.9, nesterov: true, weightDecay: 5e-4 } },
];

/** Parameter sizes: vector runs and scalar tails. */
export const SGD_SIZES = [1037, 3, 64];

/**
 * Takes `steps` SGD steps from fixed random weights and gradients, through `backend`'s sgdUpdate (or
 * the TypeScript loop without one); the weights and buffers after each.
 */
export function sgdRun(options: SgdOptions, backend: Backend | undefined, allocator: Allocator, steps = 3, dtype: DType = 'float32'): Tensor[][] {
  const rng = new Rng(7);
  const params: Parameter[] = SGD_SIZES.map((n, i) => ({ name: `p${i}`, value: random([n], rng, dtype, allocator), grad: Tensor.zeros([n], dtype, allocator), trainable: true }));
  const sgd = new Sgd(params, backend === undefined ? options : { ...options, backend });
  const out: Tensor[][] = [];
  for (let s = 0; s < steps; s++) {
    for (const p of params) {
      const g = p.grad as Tensor;
      for (let i = 0; i < g.size; i++) g.data[i] = rng.next() * 2 - 1;
    }
    sgd.step();
    const state = [...sgd.state().tensors.values()];
    out.push([...params.map((p) => p.value), ...state].map((t) => Tensor.from(t.shape, t.data, t.dtype)));
  }
  return out;
}

/** A max-pool case: its input, window and name. */
export interface MaxPoolCase {
  name: string;
  x: Tensor;
  attrs: PoolAttrs;
}

/**
 * Max-pool inputs for the reference's rules (the first maximum of a window wins, a NaN wins, a later
 * NaN over an earlier one): 3x3/2 padded (ResNet's, a vector path where windows are inside), 2x2/2
 * (a vector path) and 3x3/1 (the general path), with ties between taps, NaNs alone and two in one
 * window, and -0 against 0.
 */
export function maxPoolEdgeCases(rng: Rng): MaxPoolCase[] {
  const cases = [[3, 2, 1, [2, 3, 13, 37]], [2, 2, 0, [1, 4, 10, 34]], [3, 1, 1, [1, 2, 7, 20]]] as const;
  return cases.map(([kernel, stride, padding, shape]) => {
    const x = random([...shape], rng);
    for (let i = 0; i + 1 < x.size; i += 5) x.data[i + 1] = x.data[i] as number;
    for (const i of [7, 40, 41, 300, 301, 302]) x.data[i] = Number.NaN;
    x.data[100] = -0;
    x.data[101] = 0;
    const attrs: PoolAttrs = { kernel: [kernel, kernel], stride: [stride, stride], padding: [padding, padding], rounding: 'floor' };
    return { name: `${kernel}x${kernel}/${stride}`, x, attrs };
  });
}
