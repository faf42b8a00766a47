import { SizingError } from './errors.js';

/** How an output size that is not a whole number is treated. */
export type Rounding = 'exact' | 'floor' | 'ceil';

/** A sliding window over H and W: filter size F, stride S, zero padding P, each as [h, w]. */
export interface WindowAttrs {
  /** Window height and width [FH, FW]. */
  kernel: readonly [number, number];
  /** Steps between windows [SH, SW]. */
  stride: readonly [number, number];
  /** Zeros added on each side [PH, PW]. */
  padding: readonly [number, number];
  /** What an output size that is not a whole number does: an error (`exact`), or rounded. */
  rounding: Rounding;
}

/**
 * The output length of a window sliding over `size` values: (W - F + 2P)/S + 1, the notes' rule.
 * `exact` refuses a fraction; `floor` drops the last partial window, as frameworks do; `ceil` keeps
 * it when it starts inside the input or left padding (PyTorch's ceil_mode, which GoogLeNet needs).
 */
export function windowOutput(
  op: string,
  axis: 'height' | 'width',
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  rounding: Rounding,
): number {
  const span = size - kernel + 2 * padding;
  const arithmetic = `(${size} - ${kernel} + 2*${padding})/${stride} + 1 = ${span}/${stride} + 1 = ${span / stride + 1}`;
  if (span < 0) throw new SizingError(op, axis, `${arithmetic}: the ${kernel}-wide window is larger than the padded input`);
  if (rounding === 'exact' && span % stride !== 0) throw new SizingError(op, axis, `${arithmetic}, not a whole number`);
  if (rounding === 'ceil') {
    let out = Math.ceil(span / stride) + 1;
    if ((out - 1) * stride >= size + padding) out--;
    return out;
  }
  return Math.floor(span / stride) + 1;
}

/** Window `i` of `out` adaptive windows over `size` values: [floor(i*size/out), ceil((i+1)*size/out)), PyTorch's rule. */
export function adaptiveWindow(i: number, size: number, out: number): [number, number] {
  return [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)];
}

/**
 * Adaptive average pooling of one axis of `size` values to `out` as a matrix: (size, out), row-major,
 * column o holding 1/width over window o and 0 elsewhere. Pooling a plane adaptively is its rows times
 * this matrix for the width, then this matrix of the height, transposed, times the result.
 */
export function adaptiveMeans(size: number, out: number): number[] {
  const m = new Array<number>(size * out).fill(0);
  for (let o = 0; o < out; o++) {
    const [start, end] = adaptiveWindow(o, size, out);
    for (let i = start; i < end; i++) m[i * out + o] = 1 / (end - start);
  }
  return m;
}
