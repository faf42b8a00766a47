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
import { assertClose } from '../helpers/assert.js';

/** [H, W, C] */
export type Input = [number, number, number];

/**
 * Each zoo net's reduced input [H, W, C]: the smallest whose sizes work out, and at which a training
 * batch of one (four for googlenet_aux) gives every BN layer at least 4 values. LeNet at its own size.
 */
/**
 * One zoo net of each structure (plain, grouped, BN, inception with side heads, bottleneck residual,
 * pre-activation) at a small input: what npm test runs where test:full runs every net.
 * 32x32 leaves ResNet-50's layer4 at 1x1, which inference (running statistics) allows.
 */
export const ONE_OF_EACH_STRUCTURE: readonly [string, Input][] = [
  ['lenet5', [32, 32, 1]],
  ['alexnet_grouped', [67, 67, 3]],
  ['vgg11_bn', [32, 32, 3]],
  ['googlenet_aux', [80, 80, 3]],
  ['resnet50', [32, 32, 3]],
  ['preact_resnet18', [32, 32, 3]],
];

export const REDUCED_INPUT: Readonly<Record<string, Input>> = {
  lenet5: [32, 32, 1],
  lenet5_mnist: [28, 28, 1],
  // 63 = 11 + 4*13 - 2*2: conv1 gives 15x15, the three pools 7, 3 and 1.
  alexnet: [63, 63, 3],
  // (67 - 11)/4 + 1 = 15: exact, as the paper's 227 is.
  alexnet_grouped: [67, 67, 3],
  // 71: conv1 34, pool1 17, conv2 7, pool2 3, pool5 1; every size works out.
  zfnet: [71, 71, 3],
  // 80 leaves 3x3 at inception5 (at 2x2 the 3x3 max pool of branch4 makes all four values equal, and BN zeroes them).
  googlenet: [80, 80, 3],
  // The auxiliary heads' adaptive pools take 5x5 to 4x4 at this input (windows 2 wide, one apart).
  googlenet_aux: [80, 80, 3],
  googlenet_imagenet: [80, 80, 3],
  ...Object.fromEntries(['vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn'].map((name) => [name, [32, 32, 3]])),
  // 64 leaves 2x2 at layer4.
  ...Object.fromEntries(['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'preact_resnet18'].map((name) => [name, [64, 64, 3]])),
};

/** A zoo net at its reduced input (REDUCED_INPUT). */
export interface TrainCase {
  name: string;
  batch: number;
}

/**
 * Builds the zoo net at the case's input, runs an inference forward and one SGD training step with
 * softmax cross-entropy, and checks that every trainable parameter got a finite, non-zero gradient
 * and that the step changed the weights.
 */
export function trainStep({ name, batch }: TrainCase, backend: Backend = referenceBackend): void {
  const entry = zooNet(name);
  const input = REDUCED_INPUT[name];
  if (entry === undefined || input === undefined) throw new Error(`no zoo net ${name} with a reduced input`);
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

/** A batch of one smooth, fixed image at `input`, allocated where `backend` keeps its tensors. */
function smoothImage([h, w, c]: Input, backend: Backend): Tensor {
  const x = Tensor.zeros([1, c, h, w], 'float32', backend.allocator);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i * 0.37) + 0.1 * Math.cos(i * 1.3);
  return x;
}

/** The inference scores of a zoo net at `input` on `backend`, from seed 3 or from `weights`. */
function zooScores(name: string, input: Input, backend: Backend, weights?: Net): { net: Net; scores: Tensor } {
  const entry = zooNet(name);
  if (entry === undefined) throw new Error(`no zoo net ${name}`);
  const net = new Net(toNetSpec(entry.source, { bindings: entry.bindings, input }), { backend, seed: 3 });
  if (weights !== undefined) net.loadState(new Map([...weights.params].map(([key, p]) => [key, p.value])));
  const scores = net.forward(smoothImage(input, backend));
  return { net, scores };
}

/**
 * One inference forward of a zoo net at `input` on `backend` and on the reference backend, with the
 * same weights: the scores agree within 1e-5 of their scale. Returns the relative error.
 */
export function compareWithReference(name: string, input: Input, backend: Backend): number {
  const expected = zooScores(name, input, referenceBackend);
  const actual = zooScores(name, input, backend, expected.net);
  const error = assertClose(actual.scores, expected.scores, `${name} scores at ${input.join('x')}`, 1e-5);
  actual.net.dispose();
  expected.net.dispose();
  return error;
}

/**
 * One inference forward of a zoo net at `input` on `backend` alone: the scores have the net's shape,
 * are finite and depend on the class. For nets at sizes where the reference backend takes minutes.
 */
export function forwardAlone(name: string, input: Input, backend: Backend): void {
  const { net, scores } = zooScores(name, input, backend);
  const classes = name.startsWith('lenet') ? 10 : 1000;
  assert.deepEqual(scores.shape, [1, classes]);
  assert.ok(scores.data.every(Number.isFinite), 'finite scores');
  assert.ok(new Set(scores.data).size > classes / 2, 'scores that depend on the class');
  scores.dispose();
  net.dispose();
}
