import { MemoryTracker } from '../../memory/tracker.js';
import type { Allocator, DType, FloatArray } from '../../tensor/tensor.js';
import type { NativeAddon } from './addon.js';

/** Blocks are whole cache lines: the addon's vector loads never straddle two blocks' lines. */
const ALIGN = 64;

/**
 * Float32 tensors as Float32Arrays over memory the addon allocates (64-byte aligned), which its
 * kernels read and write in place: no copies at the boundary. Float64 tensors (gradient checks) stay
 * on the JS heap; the backend sends float64 work to the reference kernels.
 *
 * Freed blocks are kept in exact-size lists: a training loop allocates the same sizes every step, so
 * after the first step nothing is allocated. The tracker counts every byte handed out and not yet
 * freed (as requested: a block's padding to 64 bytes and the free lists are not counted), and the
 * backend adds each kernel's workspace while the kernel runs.
 */
export class NativeAllocator implements Allocator {
  /** Bytes handed out and not yet freed, and their high-water mark. */
  readonly tracker = new MemoryTracker();
  private readonly free_ = new Map<number, ArrayBuffer[]>();
  private readonly ours = new WeakSet<ArrayBufferLike>();

  constructor(private readonly addon: NativeAddon) {}

  /** A block of `size` values, not zeroed when reused: float32 in C memory, float64 on the JS heap. */
  allocate(size: number, dtype: DType): FloatArray {
    if (dtype === 'float64') {
      this.tracker.allocated(size * 8);
      return new Float64Array(size);
    }
    this.tracker.allocated(size * 4);
    const bytes = Math.max(ALIGN, Math.ceil((size * 4) / ALIGN) * ALIGN);
    let buffer = this.free_.get(bytes)?.pop();
    if (buffer === undefined) {
      buffer = this.addon.alloc(bytes);
      this.ours.add(buffer);
    }
    return new Float32Array(buffer, 0, size);
  }

  /** Returns `data`'s block for reuse (float32 from this allocator) or stops counting it. */
  free(data: FloatArray): void {
    this.tracker.freed(data.byteLength);
    if (!this.ours.has(data.buffer)) return;
    const buffer = data.buffer as ArrayBuffer;
    let list = this.free_.get(buffer.byteLength);
    if (list === undefined) {
      list = [];
      this.free_.set(buffer.byteLength, list);
    }
    list.push(buffer);
  }

  /** Drops the free blocks; the garbage collector returns their memory to C. */
  trim(): void {
    this.free_.clear();
  }
}
