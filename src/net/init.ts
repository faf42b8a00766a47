import type { Init } from '../ops/op.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/** Fills `t` as `init` says. He (Kaiming) normal: N(0, 2/fanIn), which keeps ReLU nets' activations at scale. */
export function initialise(t: Tensor, init: Init, rng: Rng): void {
  const data = t.data;
  switch (init.kind) {
    case 'zeros':
      data.fill(0);
      return;
    case 'ones':
      data.fill(1);
      return;
    case 'he':
      rng.fillNormal(data, Math.sqrt(2 / init.fanIn));
      return;
    case 'uniform':
      for (let i = 0; i < data.length; i++) data[i] = (rng.next() * 2 - 1) * init.bound;
      return;
  }
}
