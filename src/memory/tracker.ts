/**
 * Counts the bytes an allocator has handed out and not taken back, and the peak of what was alive
 * at once. Each backend's allocator owns one, so every tensor buffer a net on that backend holds
 * (parameters, activations, gradients, optimizer state, the batch) and every kernel workspace
 * passes through it, and its peak is comparable with the estimate of `src/memory/estimate.ts`.
 */
export class MemoryTracker {
  private liveBytes = 0;
  private peakBytes = 0;

  /** Records `bytes` more alive. */
  allocated(bytes: number): void {
    this.liveBytes += bytes;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
  }

  /** Records `bytes` taken back. */
  freed(bytes: number): void {
    this.liveBytes -= bytes;
  }

  /** Bytes alive now. */
  get live(): number {
    return this.liveBytes;
  }

  /** The most bytes alive at once since the tracker was made or `resetPeak` was called. */
  get peak(): number {
    return this.peakBytes;
  }

  /** Starts a new measurement: the peak becomes what is alive now. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }
}
