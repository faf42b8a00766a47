import { formatShape, type Shape } from '../tensor/shape.js';

/** An op was given inputs whose shapes it cannot take; names the op and the shapes. */
export class ShapeError extends Error {
  override name = 'ShapeError';
  constructor(
    /** The op's name, as in the notation (`conv`, `fc`, ...). */
    readonly op: string,
    message: string,
    /** The shapes it was given, shown in the message. */
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
    /** The op's name (`conv`, `maxpool`, ...). */
    readonly op: string,
    /** The axis that does not work out. */
    readonly axis: 'height' | 'width',
    /** The output-size formula with the numbers filled in, as the message shows it. */
    readonly arithmetic: string,
  ) {
    super(`${op}: the ${axis} does not work out: ${arithmetic}`);
  }
}
