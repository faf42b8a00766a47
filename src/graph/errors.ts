import type { NodeSpec } from '../net/spec.js';
import type { Shape } from '../tensor/shape.js';

/**
 * A layer could not be built: names the layer (1-based, as the notation's table numbers it; the
 * input is layer 0), where it was written, and why. `reason` is the op's ShapeError or SizingError,
 * or an Error for a spec that is not wired up (a name read before it is produced, or used twice).
 */
export class NetError extends Error {
  override name = 'NetError';
  constructor(
    /** The layer as the spec gives it, with its name and where it was written. */
    readonly node: NodeSpec,
    /** 1-based position of the layer in the spec. */
    readonly index: number,
    /** The op's ShapeError or SizingError, or an Error for a spec that is not wired up. */
    readonly reason: Error,
    /** The per-image shapes of the layer's inputs, when they were known. */
    readonly inputs: readonly Shape[] = [],
  ) {
    const where = node.source ? ` at line ${node.source.line}, column ${node.source.column} (${node.source.text})` : '';
    super(`layer ${index} '${node.name}'${where}: ${reason.message}`);
  }
}
