import { formatShape, sizeOf, type Shape } from './shape.js';
import { MemoryTracker } from '../memory/tracker.js';

/** The element types of a tensor. */
export type DType = 'float32' | 'float64';
/** A tensor's storage. */
export type FloatArray = Float32Array | Float64Array;

/**
 * Allocates the storage of tensors and counts it. Each backend owns one: the reference backend
 * hands out plain typed arrays, the WebAssembly backend views on its own memory so that its kernels
 * read tensors without copying. Kernels allocate their outputs and workspaces through their
 * backend's allocator, so its tracker sees everything a net on that backend holds.
 */
export interface Allocator {
  /** The bytes handed out and not yet freed, and their peak. */
  readonly tracker: MemoryTracker;
  /** Storage for `size` values of `dtype`, counted until freed; its contents are unspecified. */
  allocate(size: number, dtype: DType): FloatArray;
  /** Takes back storage this allocator handed out. */
  free(data: FloatArray): void;
}

/** Typed arrays on the JS heap, counted by a tracker of its own. */
export class HeapAllocator implements Allocator {
  /** Bytes handed out and not yet freed, and their high-water mark. */
  readonly tracker = new MemoryTracker();

  /** A new zeroed typed array of `size` values, counted. */
  allocate(size: number, dtype: DType): FloatArray {
    const data = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    this.tracker.allocated(data.byteLength);
    return data;
  }

  /** Stops counting `data`; the garbage collector reclaims it. */
  free(data: FloatArray): void {
    this.tracker.freed(data.byteLength);
  }
}

/**
 * Where a tensor made without an allocator lives: the JS heap, counted by no backend. Every
 * backend accepts such tensors as inputs (the WebAssembly one copies them in for the call).
 */
export const heapAllocator: Allocator = new HeapAllocator();

/** A dense float tensor, row-major (NCHW for images). */
export class Tensor {
  /** Sizes per axis, e.g. (N, C, H, W) for a batch of images; `data.length` is their product. */
  readonly shape: Shape;
  /** The values, row-major; owned by the tensor's allocator until `dispose`. */
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

  /**
   * A new zero-filled tensor from `allocator` (a backend's, to place it where that backend's kernels
   * read it and count it in its tracker until disposed), by default a plain tensor on the JS heap.
   */
  static zeros(shape: Shape, dtype: DType = 'float32', allocator: Allocator = heapAllocator): Tensor {
    const t = Tensor.empty(shape, dtype, allocator);
    t.data.fill(0);
    return t;
  }

  /**
   * A new tensor whose values are whatever its storage held: for a kernel that writes every value
   * of its output, which saves the pass that zero-filling costs. Counted like `zeros`.
   */
  static empty(shape: Shape, dtype: DType = 'float32', allocator: Allocator = heapAllocator): Tensor {
    return new Tensor(shape, allocator.allocate(sizeOf(shape), dtype), allocator);
  }

  /** A tensor holding a copy of `values`, from `allocator` as for `zeros`. */
  static from(shape: Shape, values: ArrayLike<number>, dtype: DType = 'float32', allocator: Allocator = heapAllocator): Tensor {
    const t = Tensor.zeros(shape, dtype, allocator);
    t.data.set(values);
    return t;
  }

  /** Wraps caller-owned data without copying; no tracker counts it and `dispose` leaves it. */
  static wrap(shape: Shape, data: FloatArray): Tensor {
    return new Tensor(shape, data, null);
  }

  /** Where this tensor's storage came from (`heapAllocator` for wrapped data): the place for tensors like it. */
  get allocator(): Allocator {
    return this.owner ?? heapAllocator;
  }

  /** The number of values. */
  get size(): number {
    return this.data.length;
  }

  /** float64 for Float64Array storage, else float32. */
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

  /** A copy, from `allocator` (default: this tensor's). */
  clone(allocator: Allocator = this.allocator): Tensor {
    return Tensor.from(this.shape, this.data, this.dtype, allocator);
  }

  /** Returns the storage to its allocator. The tensor must not be used afterwards. */
  dispose(): void {
    this.owner?.free(this.data);
  }
}
