import { INPUT_NODE, type NetSpec } from '../net/spec.js';
import { ops } from '../ops/index.js';

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
  values: Record<BufferKind, number>;
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

/** A net's values (0 = the input, i + 1 = node i's output), with who reads them. */
export interface Liveness {
  /** For each node, the indices of the values it reads, in order. */
  inputIndices: number[][];
  /** For each value, the index of the last node that reads it, or -1 when none does. */
  lastReader: number[];
  /** For each value, whether a backward reads it (its producer's or a reader's), so training keeps it. */
  keptForBackward: boolean[];
}

/**
 * Wires a spec's nodes to value indices and finds each value's last reader; `Net` runs on this.
 * Inference frees a value right after its last reader ran, so on a DAG a skip input stays alive
 * until the join that reads it; training does the same for values no backward reads.
 */
export function liveness(spec: NetSpec): Liveness {
  const indexOf = new Map<string, number>([[INPUT_NODE, 0]]);
  const inputIndices = spec.nodes.map((node, i) => {
    const indices = node.inputs.map((name) => {
      const index = indexOf.get(name);
      if (index === undefined) throw new Error(`layer ${i} '${node.name}' reads '${name}', which no earlier layer produces`);
      return index;
    });
    indexOf.set(node.name, i + 1);
    return indices;
  });
  return { inputIndices, ...readers(inputIndices, spec.nodes.map((node) => ops[node.op].backwardReads)) };
}

/**
 * Each value's last reader, and whether some backward reads it, for steps that read `inputIndices`
 * and whose backward reads what `backwardReads` says. `Net` calls this on its own steps, which may
 * fuse a CONV and its RELU.
 */
export function readers(
  inputIndices: readonly (readonly number[])[],
  backwardReads: readonly { readonly inputs: boolean; readonly output: boolean }[],
): Omit<Liveness, 'inputIndices'> {
  const lastReader = Array.from({ length: inputIndices.length + 1 }, () => -1);
  const keptForBackward = [false, ...backwardReads.map((reads) => reads.output)];
  inputIndices.forEach((indices, i) =>
    indices.forEach((j) => {
      lastReader[j] = i;
      if (backwardReads[i]?.inputs) keptForBackward[j] = true;
    }),
  );
  return { lastReader, keptForBackward };
}
