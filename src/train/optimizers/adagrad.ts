import type { Parameter } from '../../net/net.js';
import { SlotOptimizer, slot, type ParamState } from './optimizer.js';

/** torch.optim.Adagrad's hyperparameters. */
export interface AdagradOptions {
  /** Learning rate. */
  lr: number;
  /** Decay of the learning rate per step; torch's default 0. */
  lrDecay?: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay?: number;
  /** Starting value of every sum of squared gradients; default 0. */
  initialAccumulatorValue?: number;
  /** Added to sqrt(sum); torch's default is 1e-10. */
  eps?: number;
}

/**
 * Adagrad, as torch.optim.Adagrad: g += wd * w; sum += g^2; w -= clr * g / (sqrt(sum) + eps) with
 * clr = lr / (1 + (step - 1) * lrDecay).
 */
export class Adagrad extends SlotOptimizer {
  /** The name `--optimizer` and checkpoints use. */
  readonly name = 'adagrad';
  /** See AdagradOptions. */
  readonly lrDecay: number;
  /** See AdagradOptions. */
  readonly weightDecay: number;
  /** See AdagradOptions. */
  readonly eps: number;

  constructor(params: readonly Parameter[], options: AdagradOptions) {
    super(params, options.lr, ['sum'], options.initialAccumulatorValue ?? 0);
    this.lrDecay = options.lrDecay ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.eps = options.eps ?? 1e-10;
  }

  protected update(p: ParamState): void {
    const { value: w, grad: g } = p;
    const sum = slot(p, 'sum');
    const clr = this.lr / (1 + (p.step - 1) * this.lrDecay);
    for (let i = 0; i < w.length; i++) {
      const wi = w[i] as number;
      const d = (g[i] as number) + this.weightDecay * wi;
      sum[i] = (sum[i] as number) + d * d;
      w[i] = wi - (clr * d) / (Math.sqrt(sum[i] as number) + this.eps);
    }
  }
}
