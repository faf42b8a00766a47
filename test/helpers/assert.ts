import assert from 'node:assert/strict';
import { sameShape } from '../../src/tensor/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** How close `assertClose` asks two sets of values to be. */
export interface CloseOptions {
  /** The largest error allowed, relative to the scale; default 1e-4. */
  tolerance?: number;
  /**
   * The scale is at least this. Default 0: an all-zero expectation (a gradient no value reaches)
   * must then be met exactly.
   */
  floor?: number;
  /** Scale each value's error by that value's own magnitude rather than the largest one; default false. */
  perValue?: boolean;
}

type Values = Tensor | ArrayLike<number>;

const valuesOf = (v: Values): ArrayLike<number> => (v instanceof Tensor ? v.data : v);

/**
 * max|actual - expected| / max(max|expected|, floor): the error relative to the values' scale, so
 * that values near zero (sums that cancel) are held to the same absolute standard as the rest. With
 * `perValue`, the largest of |actual - expected| / max(|expected|, floor) instead. NaN counts as infinite.
 */
export function relativeError(actual: Values, expected: Values, options: CloseOptions = {}): number {
  const a = valuesOf(actual);
  const e = valuesOf(expected);
  const floor = options.floor ?? 0;
  let worst = 0;
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < e.length; i++) {
    const expectedValue = e[i] as number;
    const d = Number.isNaN(a[i]) ? Infinity : Math.abs((a[i] as number) - expectedValue);
    if (options.perValue) {
      const own = Math.max(Math.abs(expectedValue), floor);
      worst = Math.max(worst, own === 0 ? (d === 0 ? 0 : Infinity) : d / own);
    }
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(expectedValue));
  }
  if (options.perValue) return worst;
  return scale === 0 ? (diff === 0 ? 0 : Infinity) : diff / scale;
}

/**
 * Asserts equal shapes (or lengths) and a relative error (see `relativeError`) of at most the
 * tolerance; returns the error. A number for `options` is the tolerance.
 */
export function assertClose(actual: Values, expected: Values, what: string, options: CloseOptions | number = {}): number {
  const opts = typeof options === 'number' ? { tolerance: options } : options;
  const tolerance = opts.tolerance ?? 1e-4;
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.ok(sameShape(actual.shape, expected.shape), `${what}: shape (${actual.shape.join(', ')}), expected (${expected.shape.join(', ')})`);
  }
  assert.equal(valuesOf(actual).length, valuesOf(expected).length, `${what}: number of values`);
  const error = relativeError(actual, expected, opts);
  assert.ok(error <= tolerance, `${what}: relative error ${error.toExponential(2)} exceeds ${tolerance}`);
  return error;
}
