/** What a buffer holds: the rows of the memory breakdown. */
export type BufferKind =
  | 'activations'
  | 'activationGradients'
  | 'params'
  | 'paramGradients'
  | 'optimizerState'
  | 'data'
  | 'workspace';

/** Every kind, in the order the breakdown lists them. */
export const BUFFER_KINDS: readonly BufferKind[] = [
  'activations',
  'activationGradients',
  'params',
  'paramGradients',
  'optimizerState',
  'data',
  'workspace',
];

/** Values (stored numbers) and bytes per kind of buffer. */
export interface KindTotals {
  /** Stored values per kind, whatever their width. */
  values: Record<BufferKind, number>;
  /** Bytes per kind. */
  bytes: Record<BufferKind, number>;
}

/** A handle on one simulated buffer. */
export type BufferId = number;

function emptyTotals(): KindTotals {
  const zero = (): Record<BufferKind, number> =>
    Object.fromEntries(BUFFER_KINDS.map((k) => [k, 0])) as Record<BufferKind, number>;
  return { values: zero(), bytes: zero() };
}

/**
 * Replays an allocation schedule without allocating: the same arithmetic as `MemoryTracker` (live
 * bytes, and their peak), plus what was alive at the peak, by kind. The estimate drives it with the
 * engine's own order of allocations and frees, so its peak is the tracker's.
 */
export class AllocationLedger {
  private readonly buffers = new Map<BufferId, { kind: BufferKind; values: number; bytes: number }>();
  private nextId = 0;
  private readonly live = emptyTotals();
  private liveBytes = 0;
  private peakBytes = 0;
  private atPeak = emptyTotals();

  /** Records a new buffer of `values` numbers of `bytesPerValue` bytes each. */
  alloc(kind: BufferKind, values: number, bytesPerValue: number): BufferId {
    const id = this.nextId++;
    const bytes = values * bytesPerValue;
    this.buffers.set(id, { kind, values, bytes });
    this.live.values[kind] += values;
    this.live.bytes[kind] += bytes;
    this.liveBytes += bytes;
    // NOTE: strictly greater, so the breakdown is that of the first moment the peak is reached.
    if (this.liveBytes > this.peakBytes) {
      this.peakBytes = this.liveBytes;
      this.atPeak = { values: { ...this.live.values }, bytes: { ...this.live.bytes } };
    }
    return id;
  }

  /** Records that a buffer was freed; freeing one twice is a bug in the schedule. */
  free(id: BufferId): void {
    const buffer = this.buffers.get(id);
    if (buffer === undefined) throw new Error(`memory schedule: buffer ${id} freed twice or never allocated`);
    this.buffers.delete(id);
    this.live.values[buffer.kind] -= buffer.values;
    this.live.bytes[buffer.kind] -= buffer.bytes;
    this.liveBytes -= buffer.bytes;
  }

  /** The most bytes alive at once so far. */
  get peak(): number {
    return this.peakBytes;
  }

  /** What was alive when the peak was first reached, by kind; the bytes sum to `peak`. */
  get peakBreakdown(): KindTotals {
    return { values: { ...this.atPeak.values }, bytes: { ...this.atPeak.bytes } };
  }
}
