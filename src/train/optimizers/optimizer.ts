import type { Parameter } from '../../net/net.js';
import { formatShape, sameShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';

/**
 * Updates parameters from the gradients that `Net.backward` left in `param.grad`, following
 * torch.optim's update rules exactly (the tests compare with PyTorch 1.13 step by step). Each
 * parameter's state lives in tensors named `<param>.<slot>` (`conv1.weight.exp_avg`), allocated up
 * front beside the parameter (on its backend's allocator, whose tracker counts them), plus a step
 * count per parameter.
 */
export interface Optimizer {
  /** The name the CLI and checkpoints use, e.g. `adam`. */
  readonly name: string;
  /** The learning rate of the next step; a schedule sets it at each epoch. */
  lr: number;
  /** Applies one update to every parameter that has a gradient; parameters without one are skipped, as in torch. */
  step(): void;
  /** The state to save in a checkpoint: slot tensors by `<param>.<slot>`, and step counts by parameter. */
  state(): OptimizerState;
  /** Restores what `state()` returned (from a checkpoint), checking every name and shape. */
  loadState(state: OptimizerState): void;
  /** Frees the slot tensors. */
  dispose(): void;
}

/** An optimizer's saved state. */
export interface OptimizerState {
  /** Slot tensors by `<parameter>.<slot>` (`features.0.weight.momentum_buffer`). */
  tensors: Map<string, Tensor>;
  /** Steps taken per parameter name. */
  steps: Record<string, number>;
}

/** The per-parameter view that an update rule works on. */
export interface ParamState {
  /** Parameter values, updated in place. */
  value: Float32Array | Float64Array;
  /** dLoss/dvalue of this step. */
  grad: Float32Array | Float64Array;
  /** Slot arrays by slot name, the same size as the parameter. */
  slots: Record<string, Float32Array | Float64Array>;
  /** Steps taken so far, including this one (1 on the first step). */
  step: number;
  /** The tensors behind `value`, `grad` and `slots`, for rules that hand them to a backend kernel. */
  tensors: { value: Tensor; grad: Tensor; slots: Readonly<Record<string, Tensor>> };
}

/**
 * The bookkeeping shared by every optimizer: slot tensors, step counts, checkpoint state. Subclasses
 * give their slot names and `update`, the rule for one parameter.
 */
export abstract class SlotOptimizer implements Optimizer {
  /** The name `--optimizer` and checkpoints use. */
  abstract readonly name: string;
  /** Learning rate; the training loop sets it each epoch from the schedule. */
  lr: number;
  private readonly params: readonly Parameter[];
  private readonly slots: Map<string, Record<string, Tensor>> = new Map();
  private readonly steps: Map<string, number> = new Map();

  protected constructor(params: readonly Parameter[], lr: number, slotNames: readonly string[], initial = 0) {
    if (!(lr >= 0)) throw new RangeError(`the learning rate must be >= 0, got ${lr}`);
    this.lr = lr;
    this.params = params;
    for (const p of params) {
      const record: Record<string, Tensor> = {};
      for (const slot of slotNames) {
        const t = Tensor.zeros(p.value.shape, p.value.dtype, p.value.allocator);
        if (initial !== 0) t.data.fill(initial);
        record[slot] = t;
      }
      this.slots.set(p.name, record);
      this.steps.set(p.name, 0);
    }
  }

  /** The update rule for one parameter; reads `lr` and the subclass's hyperparameters. */
  protected abstract update(p: ParamState): void;

  /** Updates every parameter that has a gradient, in place. */
  step(): void {
    for (const p of this.params) {
      if (p.grad === null) continue;
      const step = (this.steps.get(p.name) ?? 0) + 1;
      this.steps.set(p.name, step);
      const slotTensors = this.slots.get(p.name) ?? {};
      const slots: Record<string, Float32Array | Float64Array> = {};
      for (const [slot, t] of Object.entries(slotTensors)) slots[slot] = t.data;
      this.update({ value: p.value.data, grad: p.grad.data, slots, step, tensors: { value: p.value, grad: p.grad, slots: slotTensors } });
    }
  }

  /** The slot tensors (the optimizer's own, not copies) and step counts, for a checkpoint. */
  state(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    for (const [name, record] of this.slots) for (const [slot, t] of Object.entries(record)) tensors.set(`${name}.${slot}`, t);
    return { tensors, steps: Object.fromEntries(this.steps) };
  }

  /** Copies slot tensors and step counts from a checkpoint; throws, naming it, on a missing or misshapen one. */
  loadState(state: OptimizerState): void {
    for (const [name, record] of this.slots) {
      const step = state.steps[name];
      if (step === undefined || !Number.isInteger(step) || step < 0) throw new Error(`optimizer state: no step count for '${name}'`);
      this.steps.set(name, step);
      for (const [slot, t] of Object.entries(record)) {
        const source = state.tensors.get(`${name}.${slot}`);
        if (source === undefined) throw new Error(`optimizer state: no tensor '${name}.${slot}' (${this.name})`);
        if (!sameShape(source.shape, t.shape)) {
          throw new Error(`optimizer state: '${name}.${slot}' has shape ${formatShape(source.shape)}, expected ${formatShape(t.shape)}`);
        }
        t.data.set(source.data);
      }
    }
  }

  /** Frees the slot tensors. */
  dispose(): void {
    for (const record of this.slots.values()) for (const t of Object.values(record)) t.dispose();
    this.slots.clear();
  }
}

/** Reads a slot the subclass declared (the record is built from its own slot names). */
export function slot(p: ParamState, name: string): Float32Array | Float64Array {
  const s = p.slots[name];
  if (s === undefined) throw new Error(`optimizer slot '${name}' missing`);
  return s;
}
