/**
 * Counts the bytes of every tensor buffer the engine allocates and frees, and the peak of what was
 * alive at once. Parameters, activations, gradients, optimizer state and kernel workspace all pass
 * through here, so the peak is comparable with the estimate of `src/memory/estimate.ts`.
 */
export class MemoryTracker {
  private liveBytes = 0;
  private peakBytes = 0;

  allocated(bytes: number): void {
    this.liveBytes += bytes;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
  }

  freed(bytes: number): void {
    this.liveBytes -= bytes;
  }

  get live(): number {
    return this.liveBytes;
  }

  get peak(): number {
    return this.peakBytes;
  }

  /** Starts a new measurement: the peak becomes what is alive now. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }
}

export const tracker = new MemoryTracker();
