import type { Parameter } from '../../net/net.js';
import { SlotOptimizer, slot, type ParamState } from './optimizer.js';

/** torch.optim.SGD's hyperparameters; `momentum: 0` is plain SGD. */
export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (torch's `weight_decay`). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent, as torch.optim.SGD: g += wd * w; with momentum, buf = g on the first
 * step and buf = momentum * buf + (1 - dampening) * g after; Nesterov uses g + momentum * buf, else
 * buf; w -= lr * g.
 */
export class Sgd extends SlotOptimizer {
  readonly name: string;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: readonly Parameter[], options: SgdOptions) {
    const momentum = options.momentum ?? 0;
    super(params, options.lr, momentum !== 0 ? ['momentum_buffer'] : []);
    this.momentum = momentum;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (this.nesterov && (momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('Nesterov momentum needs momentum > 0 and dampening 0 (as in torch)');
    }
    this.name = this.nesterov ? 'nesterov' : momentum !== 0 ? 'momentum' : 'sgd';
  }

  protected update(p: ParamState): void {
    const { value: w, grad: g } = p;
    const buf = this.momentum !== 0 ? slot(p, 'momentum_buffer') : null;
    for (let i = 0; i < w.length; i++) {
      const wi = w[i] as number;
      let d = (g[i] as number) + this.weightDecay * wi;
      if (buf !== null) {
        const b = p.step === 1 ? d : this.momentum * (buf[i] as number) + (1 - this.dampening) * d;
        buf[i] = b;
        d = this.nesterov ? d + this.momentum * (buf[i] as number) : (buf[i] as number);
      }
      w[i] = wi - this.lr * d;
    }
  }
}
