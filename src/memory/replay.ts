import type { BufferRole, BufferUse, KernelUse } from '../ops/op.js';
import {
  backwardAllocations,
  batchedShapes,
  forwardAllocations,
  type ForwardStep,
  type Schedule,
} from '../graph/schedule.js';
import type { KernelCall, KernelName, WorkspaceBuffer, WorkspaceModel } from '../graph/workspace.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { DType } from '../tensor/tensor.js';
import { AllocationLedger, type BufferId, type BufferKind } from './ledger.js';

/** The row of the breakdown each kind of op buffer counts in. */
const KIND_OF: Readonly<Record<BufferRole, BufferKind>> = {
  output: 'activations',
  saved: 'activations',
  inputGrad: 'activationGradients',
  paramGrad: 'paramGradients',
  temporary: 'activationGradients',
};

/** What a buffer counts as: a forward pass's temporaries (a dilated conv's dense filters, a fused BN's scale) are the op's scratch. */
function kindOf(role: BufferRole, pass: Pass): BufferKind {
  return role === 'temporary' && pass === 'forward' ? 'workspace' : KIND_OF[role];
}

type Pass = 'forward' | 'backward';

/** The buffers one kernel call (or an op's own allocation) returned, by role, in order. */
interface Returned {
  output: BufferId[];
  saved: BufferId[];
  inputGrads: (BufferId | null)[];
  temporary: BufferId[];
}

/** What a training forward leaves for backward: the live values and what each step saved. */
export interface ForwardState {
  /** Each value's buffer while it is alive (0: the input batch). */
  values: (BufferId | null)[];
  /** What each forward step saved, in order. */
  saved: BufferId[][];
}

/**
 * Replays a schedule's allocations and frees on an `AllocationLedger`, in the order `Net` makes
 * them, for `batch` images of `dtype` on a backend whose kernel scratch `workspace` describes.
 */
export class ScheduleReplay {
  /** The buffers alive, their totals by kind and the peak. */
  readonly ledger = new AllocationLedger();
  private readonly elementBytes: number;
  /** The scratch a backend keeps between kernel calls (`retained` workspace), and its size. */
  private retained: { id: BufferId; bytes: number } | null = null;

  constructor(
    /** Images per batch: every batched buffer is this many per-image shapes. */
    readonly batch: number,
    /** The tensors' type, which sets the width of each value (4 or 8 bytes). */
    readonly dtype: DType,
    private readonly workspace: WorkspaceModel,
  ) {
    this.elementBytes = dtype === 'float64' ? 8 : 4;
  }

  /** A tensor of `values` numbers of the dtype's width. */
  tensor(kind: BufferKind, values: number): BufferId {
    return this.ledger.alloc(kind, values, this.elementBytes);
  }

  /** A tensor of one batch of per-image `shape`. */
  batched(kind: BufferKind, shape: Shape): BufferId {
    return this.tensor(kind, this.batch * sizeOf(shape));
  }

  /** Frees the buffer `id` on the ledger. */
  free(id: BufferId): void {
    this.ledger.free(id);
  }

  /** The forward pass of `schedule` on an input batch already allocated as `input`. */
  forward(schedule: Schedule, input: BufferId): ForwardState {
    const values: (BufferId | null)[] = schedule.graph.shapes.map(() => null);
    values[0] = input;
    const saved = schedule.forward.map((step) => {
      const returned = this.calls(step, forwardAllocations(step, this.batch, schedule.training), 'forward');
      values[step.output] = returned.output[0] ?? null;
      // Scratch an op makes itself (a dilated conv's dense filters) is freed once its forward is done.
      returned.temporary.forEach((id) => this.free(id));
      // A step with no backward step (all of inference) keeps nothing for it.
      if (!step.backward) returned.saved.forEach((id) => this.free(id));
      for (const j of step.frees) {
        this.free(values[j] as BufferId);
        values[j] = null;
      }
      return step.backward ? returned.saved : [];
    });
    return { values, saved };
  }

  /**
   * The backward pass of a training `schedule` after `forward` left `state`: copies of the seeds'
   * gradients that are needed, the auxiliary outputs no step reads back freed, then each step's
   * kernels, frees and gradient sums.
   */
  backward(schedule: Schedule, state: ForwardState): void {
    const { values, saved } = state;
    const grads: (BufferId | null)[] = values.map(() => null);
    for (const j of schedule.seeds) if (schedule.needsGradient[j] === true) grads[j] = this.batched('activationGradients', schedule.graph.shapes[j] as Shape);
    const drop = (j: number): void => {
      this.free(values[j] as BufferId);
      values[j] = null;
    };
    schedule.freedBeforeBackward.forEach(drop);
    for (const back of schedule.backward) {
      const step = schedule.forward[back.step] as ForwardStep;
      const returned = this.calls(step, backwardAllocations(schedule, back, this.batch), 'backward');
      returned.temporary.forEach((id) => this.free(id));
      (saved[back.step] as BufferId[]).forEach((id) => this.free(id));
      this.free(grads[step.output] as BufferId);
      grads[step.output] = null;
      back.frees.forEach(drop);
      step.inputs.forEach((j, k) => {
        const g = returned.inputGrads[k] ?? null;
        if (g === null) return;
        const action = back.inputGrads[k];
        if (action === 'drop') return this.free(g);
        grads[j] = action === 'add' ? this.sum(grads[j] as BufferId, g, schedule.graph.shapes[j] as Shape) : g;
      });
    }
  }

  /** The backend's `add` of two gradients of one per-image `shape`, both freed after, as `Net` sums them. */
  private sum(a: BufferId, b: BufferId, shape: Shape): BufferId {
    const batched = [this.batch, ...shape];
    const call: KernelCall = { inputs: [batched, batched], output: batched, attrs: {}, dtype: this.dtype };
    const total = this.kernel('add', call, [{ role: 'inputGrad', values: sizeOf(batched) }], 'backward')[0] as BufferId;
    this.free(a);
    this.free(b);
    return total;
  }

  /** Replays a step's kernel calls in order; returns their buffers by role. */
  private calls(step: ForwardStep, uses: readonly KernelUse[], pass: Pass): Returned {
    const shapes = batchedShapes(step, this.batch);
    const returned: Returned = { output: [], saved: [], inputGrads: step.inputs.map(() => null), temporary: [] };
    for (const use of uses) {
      const call = { ...shapes, attrs: use.attrs ?? step.attrs, dtype: this.dtype };
      const ids = use.kernel === null ? use.buffers.map((b) => this.alloc(b, pass)) : this.kernel(use.kernel, call, use.buffers, pass);
      use.buffers.forEach((b, n) => {
        const id = ids[n] as BufferId;
        if (b.role === 'inputGrad') returned.inputGrads[b.input ?? 0] = id;
        else if (b.role === 'output' || b.role === 'saved' || b.role === 'temporary') returned[b.role].push(id);
      });
    }
    return returned;
  }

  /** One kernel call: its scratch around the buffers it returns, as the backend's workspace model says. */
  private kernel(kernel: KernelName, call: KernelCall, buffers: readonly BufferUse[], pass: Pass): BufferId[] {
    const scratch = this.workspace.workspace(kernel, call);
    const during: BufferId[] = [];
    for (const w of scratch) if (w.lifetime === 'beforeOutput') during.push(this.scratch(w));
    const ids = buffers.map((b) => this.alloc(b, pass));
    for (const w of scratch) {
      if (w.lifetime === 'afterOutput') during.push(this.scratch(w));
      if (w.lifetime === 'retained') this.retain(w);
    }
    during.forEach((id) => this.free(id));
    return ids;
  }

  /** Grows the scratch the backend keeps between calls to `bytes`, as a backend does: free the old, allocate the new. */
  private retain(w: WorkspaceBuffer): void {
    if (this.retained !== null && this.retained.bytes >= w.bytes) return;
    if (this.retained !== null) this.free(this.retained.id);
    this.retained = { id: this.scratch(w), bytes: w.bytes };
  }

  private scratch(w: WorkspaceBuffer): BufferId {
    const width = w.bytesPerValue ?? 1;
    return this.ledger.alloc('workspace', w.bytes / width, width);
  }

  private alloc(b: BufferUse, pass: Pass): BufferId {
    return this.ledger.alloc(kindOf(b.role, pass), b.values, b.bytesPerValue ?? this.elementBytes);
  }
}
