import type { Parameter } from '../../net/net.js';
import { SlotOptimizer, slot, type ParamState } from './optimizer.js';

/** torch.optim.RMSprop's hyperparameters (not centered). */
export interface RmspropOptions {
  /** Learning rate. */
  lr: number;
  /** Smoothing of the squared-gradient average; torch's default 0.99. */
  alpha?: number;
  /** Added outside the square root; torch's default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay?: number;
  /** Momentum of the step; default 0 (none). */
  momentum?: number;
}

/**
 * RMSProp, as torch.optim.RMSprop: g += wd * w; sq = alpha * sq + (1 - alpha) * g^2;
 * d = g / (sqrt(sq) + eps); with momentum, buf = momentum * buf + d and w -= lr * buf, else w -= lr * d.
 */
export class Rmsprop extends SlotOptimizer {
  /** The name `--optimizer` and checkpoints use. */
  readonly name = 'rmsprop';
  /** See RmspropOptions. */
  readonly alpha: number;
  /** See RmspropOptions. */
  readonly eps: number;
  /** See RmspropOptions. */
  readonly weightDecay: number;
  /** See RmspropOptions. */
  readonly momentum: number;

  constructor(params: readonly Parameter[], options: RmspropOptions) {
    const momentum = options.momentum ?? 0;
    super(params, options.lr, momentum > 0 ? ['square_avg', 'momentum_buffer'] : ['square_avg']);
    this.alpha = options.alpha ?? 0.99;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.momentum = momentum;
  }

  protected update(p: ParamState): void {
    const { value: w, grad: g } = p;
    const sq = slot(p, 'square_avg');
    const buf = this.momentum > 0 ? slot(p, 'momentum_buffer') : null;
    for (let i = 0; i < w.length; i++) {
      const wi = w[i] as number;
      const gi = (g[i] as number) + this.weightDecay * wi;
      sq[i] = this.alpha * (sq[i] as number) + (1 - this.alpha) * gi * gi;
      const d = gi / (Math.sqrt(sq[i] as number) + this.eps);
      if (buf === null) {
        w[i] = wi - this.lr * d;
      } else {
        buf[i] = this.momentum * (buf[i] as number) + d;
        w[i] = wi - this.lr * (buf[i] as number);
      }
    }
  }
}
