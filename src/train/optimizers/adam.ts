import type { Parameter } from '../../net/net.js';
import { SlotOptimizer, slot, type ParamState } from './optimizer.js';

/** torch.optim.Adam's (and AdamW's) hyperparameters. */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** Decay rates of the first and second moment averages; torch's default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the square root of the second moment; torch's default 1e-8. */
  eps?: number;
  /** Adam: an L2 penalty added to the gradient. AdamW: decoupled decay, w *= 1 - lr * weightDecay. */
  weightDecay?: number;
}

/**
 * Adam, as torch.optim.Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). With `decoupled` it is torch.optim.AdamW,
 * whose weight decay shrinks the weights instead of adding to the gradient.
 */
export class Adam extends SlotOptimizer {
  /** `adam`, or `adamw` when decoupled. */
  readonly name: string;
  /** Decay rate of the first moment (mean of gradients). */
  readonly beta1: number;
  /** Decay rate of the second moment (mean of squared gradients). */
  readonly beta2: number;
  /** See AdamOptions. */
  readonly eps: number;
  /** See AdamOptions: added to the gradient (Adam) or shrinking the weights (AdamW). */
  readonly weightDecay: number;
  /** True for AdamW's decoupled weight decay. */
  readonly decoupled: boolean;

  constructor(params: readonly Parameter[], options: AdamOptions, { decoupled = false }: { decoupled?: boolean } = {}) {
    super(params, options.lr, ['exp_avg', 'exp_avg_sq']);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    // NOTE: torch.optim.AdamW defaults weight_decay to 0.01, Adam to 0.
    this.weightDecay = options.weightDecay ?? (decoupled ? 0.01 : 0);
    this.decoupled = decoupled;
    this.name = decoupled ? 'adamw' : 'adam';
  }

  protected update(p: ParamState): void {
    const { value: w, grad: g } = p;
    const m = slot(p, 'exp_avg');
    const v = slot(p, 'exp_avg_sq');
    const stepSize = this.lr / (1 - this.beta1 ** p.step);
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** p.step);
    const shrink = this.decoupled ? 1 - this.lr * this.weightDecay : 1;
    const l2 = this.decoupled ? 0 : this.weightDecay;
    for (let i = 0; i < w.length; i++) {
      const wi = (w[i] as number) * shrink;
      const gi = (g[i] as number) + l2 * wi;
      m[i] = this.beta1 * (m[i] as number) + (1 - this.beta1) * gi;
      v[i] = this.beta2 * (v[i] as number) + (1 - this.beta2) * gi * gi;
      w[i] = wi - (stepSize * (m[i] as number)) / (Math.sqrt(v[i] as number) / bc2Sqrt + this.eps);
    }
  }
}
