/** A tensor's dimensions, outermost first. Images are NCHW; one image's volume is [C, H, W]. */
export type Shape = readonly number[];

/** Number of values a tensor of this shape holds. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether `a` and `b` have the same rank and sizes. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Formats a shape the way the notes print volumes: `[224x224x64]` for a [C, H, W] volume,
 * `[1x1x4096]` for a flat vector. A leading batch dimension is shown as `8 x [...]`.
 */
export function formatVolume(shape: Shape, hasBatch = false): string {
  const dims = hasBatch ? shape.slice(1) : shape;
  const prefix = hasBatch ? `${shape[0]} x ` : '';
  if (dims.length === 3) return `${prefix}[${dims[1]}x${dims[2]}x${dims[0]}]`;
  if (dims.length === 1) return `${prefix}[1x1x${dims[0]}]`;
  return `${prefix}[${dims.join('x')}]`;
}

/** Formats a shape literally, e.g. `(8, 64, 56, 56)`, for error messages about engine tensors. */
export function formatShape(shape: Shape): string {
  return `(${shape.join(', ')})`;
}
