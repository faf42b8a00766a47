import type { Backend } from '../../src/backends/backend.js';
import type { Net } from '../../src/net/net.js';
import type { LossResult } from '../../src/ops/softmax_cross_entropy.js';
import type { Op } from '../../src/ops/op.js';
import { Rng } from '../../src/tensor/rng.js';
import { sizeOf, type Shape } from '../../src/tensor/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';

/**
 * Central-difference gradient checks in float64. The scalar checked is L = sum(output * R) for a
 * fixed random R, so that backward is seeded with dL/doutput = R and every output value matters.
 * With a step of 1e-5 the difference's truncation error (~h^2) and rounding error (~1e-16/h) both
 * stay far below the 1e-6 the tests ask for.
 */
const STEP = 1e-5;

/** Standard-normal float64 values times `scale`. */
export function randn(shape: Shape, rng: Rng, scale = 1): Tensor {
  return Tensor.from(shape, Array.from({ length: sizeOf(shape) }, () => rng.normal() * scale), 'float64');
}

/**
 * Float64 values at least `gap` apart and at least gap/2 away from zero, in random order. Max pooling
 * then has no ties and ReLU no value near its kink, so a central difference never straddles one.
 */
export function distinct(shape: Shape, rng: Rng, gap = 0.05): Tensor {
  const n = sizeOf(shape);
  const ranks = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  return Tensor.from(shape, ranks.map((r) => (r - Math.floor(n / 2) + 0.5) * gap), 'float64');
}

/**
 * max |analytic - numeric| / max |numeric| over one tensor: the error relative to the gradient's
 * scale, so that entries that are nearly zero are held to the same absolute standard as the rest.
 * A gradient that is exactly zero everywhere is compared absolutely.
 */
export function gradError(analytic: ArrayLike<number>, numeric: ArrayLike<number>): number {
  if (analytic.length !== numeric.length) throw new RangeError(`gradient has ${analytic.length} values, expected ${numeric.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic[i] as number;
    const b = numeric[i] as number;
    diff = Math.max(diff, Number.isNaN(a) ? Infinity : Math.abs(a - b));
    scale = Math.max(scale, Math.abs(b));
  }
  return scale === 0 ? diff : diff / scale;
}

/** dloss/dt by central differences, nudging each value of `t` in place and restoring it. */
export function numericGradient(t: Tensor, loss: () => number): Float64Array {
  const grad = new Float64Array(t.size);
  for (let i = 0; i < t.size; i++) {
    const original = t.data[i] as number;
    t.data[i] = original + STEP;
    const plus = loss();
    t.data[i] = original - STEP;
    const minus = loss();
    t.data[i] = original;
    grad[i] = (plus - minus) / (2 * STEP);
  }
  return grad;
}

function weightedSum(y: Tensor, weights: Tensor): number {
  let sum = 0;
  for (let i = 0; i < y.size; i++) sum += (y.data[i] as number) * (weights.data[i] as number);
  return sum;
}

function requireFloat64(what: string, t: Tensor): void {
  if (t.dtype !== 'float64') throw new TypeError(`gradient check: ${what} must be float64, not ${t.dtype}`);
}

/** One op call to check: its inputs and params, all float64. */
export interface OpCheck<A> {
  op: Op<A, unknown>;
  attrs: A;
  inputs: readonly Tensor[];
  params?: Readonly<Record<string, Tensor>>;
  /** Training mode (BN batch statistics, dropout masks); default true. */
  training?: boolean;
  /** Seeds a fresh generator for every forward, so dropout draws the same mask each time. */
  seed?: number;
}

/**
 * Checks the op's backward against central differences for every input and every parameter that
 * backward returns a gradient for. Returns the error of each, keyed `input.<i>` and `param.<name>`.
 */
export function checkOpGradients<A>(backend: Backend, check: OpCheck<A>): Map<string, number> {
  const { op, attrs, inputs } = check;
  const params = check.params ?? {};
  inputs.forEach((x, i) => requireFloat64(`input ${i}`, x));
  for (const [name, p] of Object.entries(params)) requireFloat64(`param ${name}`, p);
  const context = () => ({ backend, training: check.training ?? true, rng: new Rng(check.seed ?? 0) });

  const ctx = context();
  const { output, saved } = op.forward(ctx, inputs, params, attrs);
  const weights = randn(output.shape, new Rng(7919));
  const grads = op.backward(ctx, saved, weights, params, attrs);
  op.release(saved);
  output.dispose();

  const loss = (): number => {
    const result = op.forward(context(), inputs, params, attrs);
    op.release(result.saved);
    const value = weightedSum(result.output, weights);
    result.output.dispose();
    return value;
  };
  const errors = new Map<string, number>();
  inputs.forEach((x, i) => {
    const g = grads.inputs[i];
    if (g == null) throw new Error(`${op.type}: backward returned no gradient for input ${i}`);
    errors.set(`input.${i}`, gradError(g.data, numericGradient(x, loss)));
  });
  for (const [name, g] of Object.entries(grads.params)) {
    const p = params[name];
    if (p === undefined) throw new Error(`${op.type}: backward returned a gradient for unknown param '${name}'`);
    errors.set(`param.${name}`, gradError(g.data, numericGradient(p, loss)));
  }
  return errors;
}

/**
 * Checks a whole net built in float64: every trainable parameter and the input, through a training
 * forward. The dropout generator is rewound before each forward so every pass draws the same masks.
 * Returns the error of each, keyed by state_dict name and `input`.
 */
export function checkNetGradients(net: Net, x: Tensor): Map<string, number> {
  requireFloat64('the input', x);
  if (net.dtype !== 'float64') throw new TypeError(`gradient check: the net must be built in float64, not ${net.dtype}`);
  const rngState = net.rngState;
  const output = net.forward(x, { training: true, inputGrad: true });
  const weights = randn(output.shape, new Rng(7919));
  const dx = net.backward(weights);
  output.dispose();
  if (dx === null) throw new Error('the net returned no input gradient');
  // Copied now: the numeric passes below are training forwards, which drop the net's gradients.
  const analytic = new Map<string, Float64Array>();
  for (const p of net.trainableParams()) {
    if (p.grad === null) throw new Error(`${p.name} has no gradient after backward`);
    analytic.set(p.name, Float64Array.from(p.grad.data));
  }

  const loss = (): number => {
    net.rngState = rngState;
    const y = net.forward(x, { training: true });
    net.clearTape();
    const value = weightedSum(y, weights);
    y.dispose();
    return value;
  };
  const errors = new Map<string, number>([['input', gradError(dx.data, numericGradient(x, loss))]]);
  dx.dispose();
  for (const p of net.trainableParams()) errors.set(p.name, gradError(analytic.get(p.name) as Float64Array, numericGradient(p.value, loss)));
  return errors;
}

/** Checks a loss's gradient with respect to the scores (float64), the labels held fixed. */
export function checkLossGradient(lossFn: (scores: Tensor) => LossResult, scores: Tensor): number {
  requireFloat64('the scores', scores);
  const { grad } = lossFn(scores);
  const loss = (): number => {
    const result = lossFn(scores);
    result.grad.dispose();
    return result.loss;
  };
  const error = gradError(grad.data, numericGradient(scores, loss));
  grad.dispose();
  return error;
}
