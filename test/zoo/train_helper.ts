import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { stepLoss } from '../../src/train/auxiliary.js';
import { softmaxCrossEntropy } from '../../src/ops/softmax_cross_entropy.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Sgd } from '../../src/train/optimizers/index.js';
import { zooNet } from '../../src/zoo/index.js';

/** A zoo net at a reduced input: the smallest whose sizes work out and whose BN layers see 4+ values. */
export interface TrainCase {
  name: string;
  /** [H, W, C] */
  input: [number, number, number];
  batch: number;
}

/**
 * Builds the zoo net at the case's input, runs an inference forward and one SGD training step with
 * softmax cross-entropy, and checks that every trainable parameter got a finite, non-zero gradient
 * and that the step changed the weights.
 */
export function trainStep({ name, input, batch }: TrainCase, backend: Backend = referenceBackend): void {
  const entry = zooNet(name);
  if (entry === undefined) throw new Error(`no zoo net ${name}`);
  const net = new Net(toNetSpec(entry.source, { bindings: entry.bindings, input }), { seed: 7, backend });
  const [h, w, c] = input;
  const x = Tensor.zeros([batch, c, h, w]);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i * 0.37) + 0.1 * Math.cos(i * 1.3);

  const scores = net.forward(x);
  assert.deepEqual(scores.shape, [batch, entry.name.startsWith('lenet') ? 10 : 1000]);
  assert.ok(scores.data.every(Number.isFinite), `${name}: inference scores are finite`);
  scores.dispose();

  const params = net.trainableParams();
  const y = net.forward(x, { training: true });
  const { loss, grad, auxGrads } = stepLoss(net, y, Array.from({ length: batch }, (_, i) => (i * 3) % (y.shape[1] as number)), softmaxCrossEntropy);
  assert.ok(Number.isFinite(loss) && loss > 0, `${name}: loss ${loss}`);
  net.backward(grad, { auxGrads });
  auxGrads.forEach((g) => g.dispose());
  const dead = params.filter((p) => {
    const g = p.grad;
    return g === null || !g.data.every(Number.isFinite) || g.data.every((v) => v === 0);
  });
  assert.deepEqual(dead.map((p) => p.name), [], `${name}: parameters without a finite, non-zero gradient`);
  // Where each gradient is largest, the SGD step must move the weight.
  const watched = params.map((p) => {
    let at = -1;
    p.grad?.data.forEach((v, i) => {
      if (v !== 0 && (at === -1 || Math.abs(v) > Math.abs(p.grad?.data[at] as number))) at = i;
    });
    return { p, at, before: p.value.data[at] };
  });
  const sgd = new Sgd(params, { lr: 0.01 });
  sgd.step();
  const still = watched.filter(({ p, at, before }) => at !== -1 && p.value.data[at] === before).map(({ p }) => p.name);
  assert.deepEqual(still, [], `${name}: parameters the SGD step did not move`);
  sgd.dispose();
  grad.dispose();
  y.dispose();
}
