import { MemoryTracker } from '../../memory/tracker.js';
import type { Allocator, DType, FloatArray } from '../../tensor/tensor.js';

/** Byte alignment of every block: a cache line, so kernels' vector loads never straddle two blocks' lines. */
const ALIGN = 64;
const PAGE = 65536;
/** The wasm32 limit, which the memory declares as its maximum. */
export const MAXIMUM_PAGES = 65536;

/**
 * Hands out float32 tensors as views on a shared WebAssembly.Memory, so kernels read and write
 * them in place. Float64 tensors (gradient checks) stay on the JS heap: the wasm kernels are
 * float32 only and the backend sends float64 work to the reference kernels.
 *
 * Freed blocks are kept in exact-size lists: a training loop allocates the same sizes every step, so
 * after the first step nothing grows. A miss takes the smallest larger free block, else grows memory.
 * NOTE: growing a shared memory never detaches old views (their buffer keeps its old length over
 * the same bytes), so tensors made before a grow stay valid; new views are made on the new buffer.
 *
 * The tracker counts every byte handed out and not yet freed: tensors (float64 ones on the heap
 * too) and the kernels' scratch (`allocBytes`), as requested; the alignment padding of a block (under
 * 64 bytes) and free blocks kept for reuse are not counted.
 */
export class WasmAllocator implements Allocator {
  /** Bytes handed out and not yet freed, and their high-water mark. */
  readonly tracker = new MemoryTracker();
  private top: number;
  private readonly free_: Map<number, number[]> = new Map();
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(
    /** The instance's memory; float32 tensors are views into its buffer. */
    readonly memory: WebAssembly.Memory,
    heapBase: number,
  ) {
    this.top = heapBase;
    this.buffers.add(memory.buffer);
  }

  /** A block of `size` values, not zeroed when reused: float32 in wasm memory, float64 on the JS heap. */
  allocate(size: number, dtype: DType): FloatArray {
    if (dtype === 'float64') {
      this.tracker.allocated(size * 8);
      return new Float64Array(size);
    }
    // The offset first: allocating may grow the memory, and only the new buffer covers the block.
    const offset = this.allocBytes(size * 4);
    return new Float32Array(this.buffer(), offset, size);
  }

  /** Returns `data`'s block for reuse (float32) or stops counting it (float64). */
  free(data: FloatArray): void {
    if (this.owns(data)) this.freeBytes(data.byteOffset, data.byteLength);
    else this.tracker.freed(data.byteLength);
  }

  /** True when `data` lives in this memory, so a kernel can use it without copying. */
  owns(data: ArrayBufferView): boolean {
    return this.buffers.has(data.buffer);
  }

  /** The memory's current buffer, registered so that views made on it are recognised as ours. */
  buffer(): SharedArrayBuffer {
    const buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.buffers.add(buffer);
    return buffer;
  }

  /** A block of at least `bytes` bytes, ALIGN-aligned, counted as `bytes`; returns its byte offset. */
  allocBytes(bytes: number): number {
    this.tracker.allocated(bytes);
    return this.take(blockSize(bytes));
  }

  /** Returns a block of `bytes` bytes (as given to `allocBytes`) at `offset`. */
  freeBytes(offset: number, bytes: number): void {
    this.tracker.freed(bytes);
    this.putBack(offset, blockSize(bytes));
  }

  private take(size: number): number {
    const exact = this.free_.get(size);
    if (exact !== undefined && exact.length > 0) return exact.pop() as number;
    let best = 0;
    for (const [blockBytes, list] of this.free_) {
      if (blockBytes > size && list.length > 0 && (best === 0 || blockBytes < best)) best = blockBytes;
    }
    if (best !== 0) {
      const offset = (this.free_.get(best) as number[]).pop() as number;
      this.putBack(offset + size, best - size);
      return offset;
    }
    const offset = this.top;
    this.top += size;
    const needed = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
    // Grow by at least a quarter of the current size so that a growing net grows memory rarely.
    if (needed > 0) {
      const pages = this.memory.buffer.byteLength / PAGE;
      this.memory.grow(Math.min(Math.max(needed, Math.ceil(pages / 4)), MAXIMUM_PAGES - pages));
    }
    return offset;
  }

  private putBack(offset: number, size: number): void {
    let list = this.free_.get(size);
    if (list === undefined) {
      list = [];
      this.free_.set(size, list);
    }
    list.push(offset);
  }
}

function blockSize(bytes: number): number {
  return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
}
