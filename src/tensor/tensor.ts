import { formatShape, sizeOf, type Shape } from './shape.js';
import { tracker } from '../memory/tracker.js';

export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/**
 * Allocates the storage of tensors. The reference backend uses plain typed arrays; a WebAssembly
 * backend hands out views on its own memory so that its kernels read tensors without copying.
 */
export interface Allocator {
  allocate(size: number, dtype: DType): FloatArray;
  free(data: FloatArray): void;
}

export const heapAllocator: Allocator = {
  allocate: (size, dtype) => (dtype === 'float64' ? new Float64Array(size) : new Float32Array(size)),
  free: () => {},
};

let currentAllocator: Allocator = heapAllocator;

/** Routes new tensors to `allocator` (a backend calls this when it becomes active). */
export function setAllocator(allocator: Allocator): void {
  currentAllocator = allocator;
}

/** A dense float tensor, row-major (NCHW for images). */
export class Tensor {
  readonly shape: Shape;
  readonly data: FloatArray;
  private readonly owner: Allocator | null;

  private constructor(shape: Shape, data: FloatArray, owner: Allocator | null) {
    if (data.length !== sizeOf(shape)) {
      throw new RangeError(`tensor of shape ${formatShape(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
    }
    this.shape = Object.freeze([...shape]);
    this.data = data;
    this.owner = owner;
  }

  /** A new zero-filled tensor, counted by the memory tracker until disposed. */
  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    const t = Tensor.empty(shape, dtype);
    t.data.fill(0);
    return t;
  }

  /**
   * A new tensor whose values are whatever its storage held: for a kernel that writes every value
   * of its output, which saves the pass that zero-filling costs. Counted like `zeros`.
   */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    const data = currentAllocator.allocate(sizeOf(shape), dtype);
    tracker.allocated(data.byteLength);
    return new Tensor(shape, data, currentAllocator);
  }

  /** A tensor holding a copy of `values`. */
  static from(shape: Shape, values: ArrayLike<number>, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.set(values);
    return t;
  }

  /** Wraps caller-owned data without copying; the tracker does not count it. */
  static wrap(shape: Shape, data: FloatArray): Tensor {
    return new Tensor(shape, data, null);
  }

  get size(): number {
    return this.data.length;
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? 'float64' : 'float32';
  }

  /**
   * The same values seen with another shape of equal size. The view shares the storage and its
   * ownership: dispose the view or the original, not both.
   */
  reshape(shape: Shape): Tensor {
    return new Tensor(shape, this.data, this.owner);
  }

  clone(): Tensor {
    return Tensor.from(this.shape, this.data, this.dtype);
  }

  /** Returns the storage to its allocator. The tensor must not be used afterwards. */
  dispose(): void {
    if (this.owner === null) return;
    tracker.freed(this.data.byteLength);
    this.owner.free(this.data);
  }
}
