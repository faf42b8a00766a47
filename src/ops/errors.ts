import { formatShape, type Shape } from '../tensor/shape.js';

/** An op was given inputs whose shapes it cannot take; names the op and the shapes. */
export class ShapeError extends Error {
  override name = 'ShapeError';
  constructor(
    readonly op: string,
    message: string,
    readonly shapes: readonly Shape[] = [],
  ) {
    super(`${op}: ${message}${shapes.length ? ` (shapes ${shapes.map((s) => formatShape(s)).join(' and ')})` : ''}`);
  }
}

/**
 * A window does not tile its input: (W - F + 2P)/S + 1 is not a whole number. Carries the numbers
 * so the notation can show the arithmetic under the layer that caused it.
 */
export class SizingError extends Error {
  override name = 'SizingError';
  constructor(
    readonly op: string,
    readonly axis: 'height' | 'width',
    readonly arithmetic: string,
  ) {
    super(`${op}: the ${axis} does not work out: ${arithmetic}`);
  }
}
