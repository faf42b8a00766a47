import type { Backend, SgdParameterUpdate } from '../../backends/backend.js';
import type { Parameter } from '../../net/net.js';
import { SlotOptimizer, slot, type ParamState } from './optimizer.js';

/** torch.optim.SGD's hyperparameters; `momentum: 0` is plain SGD. */
export interface SgdOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor; default 0 (plain SGD). */
  momentum?: number;
  /** Dampening of the gradient added to the momentum buffer; default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0, as torch requires). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (torch's `weight_decay`). */
  weightDecay?: number;
  /**
   * The backend the parameters live on (normally `net.backend`): when it has `sgdUpdate`, float32
   * parameters are updated by it (the wasm backend: a SIMD kernel on every thread) rather than by
   * the TypeScript loop; float64 parameters always take the TypeScript loop.
   */
  backend?: Backend;
}

/**
 * Stochastic gradient descent, as torch.optim.SGD: g += wd * w; with momentum, buf = g on the first
 * step and buf = momentum * buf + (1 - dampening) * g after; Nesterov uses g + momentum * buf, else
 * buf; w -= lr * g.
 */
export class Sgd extends SlotOptimizer {
  /** `sgd`, `momentum` or `nesterov`, as `--optimizer` names it. */
  readonly name: string;
  /** See SgdOptions. */
  readonly momentum: number;
  /** See SgdOptions. */
  readonly dampening: number;
  /** See SgdOptions. */
  readonly nesterov: boolean;
  /** See SgdOptions. */
  readonly weightDecay: number;
  private readonly backend: Backend | undefined;
  /** Float32 updates of the current step, for the backend's sgdUpdateMany. */
  private readonly pending: SgdParameterUpdate[] = [];

  constructor(params: readonly Parameter[], options: SgdOptions) {
    const momentum = options.momentum ?? 0;
    super(params, options.lr, momentum !== 0 ? ['momentum_buffer'] : []);
    this.momentum = momentum;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    this.backend = options.backend?.sgdUpdate !== undefined ? options.backend : undefined;
    if (this.nesterov && (momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('Nesterov momentum needs momentum > 0 and dampening 0 (as in torch)');
    }
    this.name = this.nesterov ? 'nesterov' : momentum !== 0 ? 'momentum' : 'sgd';
  }

  /** Updates every parameter that has a gradient; float32 ones in one backend call where it has `sgdUpdateMany`. */
  override step(): void {
    this.pending.length = 0;
    super.step();
    const pending = this.pending.splice(0);
    if (pending.length > 0) {
      const options = { lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
      this.backend?.sgdUpdateMany?.(pending, options);
    }
  }

  // NOTE: fields are read into locals and the cases split into their own loops: this runs over
  // every parameter each step (17-19 ms of a 105 ms CIFAR-net step before, in plain TypeScript).
  // The arithmetic is the same, in the same order, so results are unchanged to the bit.
  protected update(p: ParamState): void {
    const backend = this.backend;
    if (backend?.sgdUpdate !== undefined && p.value instanceof Float32Array && p.grad instanceof Float32Array) {
      const { value, grad, slots } = p.tensors;
      const momentumBuffer = this.momentum === 0 ? null : (slots['momentum_buffer'] ?? null);
      // Queued for step()'s one sgdUpdateMany call: the parameters are independent, so the order of updates does not matter.
      if (backend.sgdUpdateMany !== undefined) {
        this.pending.push({ weight: value, grad, momentumBuffer, firstStep: p.step === 1 });
        return;
      }
      backend.sgdUpdate(value, grad, momentumBuffer, {
        lr: this.lr,
        momentum: this.momentum,
        dampening: this.dampening,
        nesterov: this.nesterov,
        weightDecay: this.weightDecay,
        firstStep: p.step === 1,
      });
      return;
    }
    const { value: w, grad: g } = p;
    const n = w.length;
    const lr = this.lr;
    const wd = this.weightDecay;
    const m = this.momentum;
    if (m === 0) {
      for (let i = 0; i < n; i++) {
        const wi = w[i] as number;
        w[i] = wi - lr * ((g[i] as number) + wd * wi);
      }
      return;
    }
    const buf = slot(p, 'momentum_buffer');
    const first = p.step === 1;
    const keep = 1 - this.dampening;
    const nesterov = this.nesterov;
    for (let i = 0; i < n; i++) {
      const wi = w[i] as number;
      const d = (g[i] as number) + wd * wi;
      buf[i] = first ? d : m * (buf[i] as number) + keep * d;
      // The stored (rounded) buffer value, as torch reads it back.
      const b = buf[i] as number;
      w[i] = wi - lr * (nesterov ? d + m * b : b);
    }
  }
}
