import type { FloatArray } from '../../tensor/tensor.js';

/**
 * The two inner loops every matrix product here reduces to, on contiguous runs of typed arrays.
 * NOTE: unrolled by four, with four partial sums in `dot`: the loop-carried dependency of a single
 * sum and the per-element loop test otherwise cost V8 about half the speed. Sums stay in doubles.
 */

/** sum over i < length of a[aStart + i] * b[bStart + i]. */
export function dot(a: FloatArray, aStart: number, b: FloatArray, bStart: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += (a[aStart + i] as number) * (b[bStart + i] as number);
    s1 += (a[aStart + i + 1] as number) * (b[bStart + i + 1] as number);
    s2 += (a[aStart + i + 2] as number) * (b[bStart + i + 2] as number);
    s3 += (a[aStart + i + 3] as number) * (b[bStart + i + 3] as number);
  }
  for (; i < length; i++) s0 += (a[aStart + i] as number) * (b[bStart + i] as number);
  return s0 + s1 + s2 + s3;
}

/** y[yStart + i] += alpha * x[xStart + i] for i < length; y is a float64 accumulator. */
export function axpy(alpha: number, x: FloatArray, xStart: number, y: Float64Array, yStart: number, length: number): void {
  let i = 0;
  for (; i + 3 < length; i += 4) {
    y[yStart + i] = (y[yStart + i] as number) + alpha * (x[xStart + i] as number);
    y[yStart + i + 1] = (y[yStart + i + 1] as number) + alpha * (x[xStart + i + 1] as number);
    y[yStart + i + 2] = (y[yStart + i + 2] as number) + alpha * (x[xStart + i + 2] as number);
    y[yStart + i + 3] = (y[yStart + i + 3] as number) + alpha * (x[xStart + i + 3] as number);
  }
  for (; i < length; i++) y[yStart + i] = (y[yStart + i] as number) + alpha * (x[xStart + i] as number);
}
