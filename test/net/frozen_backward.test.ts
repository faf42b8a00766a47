import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { Net } from '../../src/net/net.js';
import { compile } from '../../src/notation/index.js';
import { softmaxCrossEntropy } from '../../src/ops/softmax_cross_entropy.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { stepLoss } from '../../src/train/auxiliary.js';
import { createOptimizer } from '../../src/train/optimizers/index.js';
import { testBackends } from '../helpers/backends.js';

// A fine-tune's backward stops at the first trained layer. Its reference is the whole backward, which
// the same net runs when the images' gradient is asked for (forward's `inputGrad`): every trained
// layer's gradients must be bit-identical to that one's, on every backend.

/** A concat of a conv and a pool of the images, a residual join, an auxiliary head, a conv after it, then the main head. */
const DAG = 'INPUT[8x8x3] -> CONCAT[ CONV1-4 | POOL3(s=1, p=1) ] -> RES[ CONV3-7 -> BN ] -> AUX[ GAP -> FC-5 ] -> RELU -> CONV3-6 -> RELU -> GAP -> FC-3';
const spec = compile(DAG).spec;

/**
 * All but the heads; all but the last conv and the heads; the first conv trained under frozen
 * layers (gradients pass through them); a frozen layer on each path of the residual and the aux head.
 */
const FROZEN_SETS: readonly string[][] = [
  ['conv1', 'conv2', 'bn1', 'conv3'],
  ['conv1', 'conv2', 'bn1'],
  ['conv2', 'bn1', 'conv3', 'fc1'],
  ['conv1', 'fc1'],
];

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return Tensor.from(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1));
}

/** A view of `backend` that records the name of every kernel called while `recording` is on. */
function recordingBackend(backend: Backend): { backend: Backend; calls: string[]; recording: { on: boolean } } {
  const calls: string[] = [];
  const recording = { on: false };
  const view = new Proxy(backend, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        if (recording.on) calls.push(key);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { backend: view, calls, recording };
}

/** One training forward and backward of `net`; `full` asks for the images' gradient, so backward runs to the input. */
function gradients(net: Net, full: boolean): Map<string, Float32Array | Float64Array> {
  const x = randomTensor([2, 3, 8, 8], 11);
  const scores = net.forward(x, { training: true, inputGrad: full });
  const dy = randomTensor(scores.shape as number[], 12);
  const auxGrad = randomTensor([2, 5], 13);
  net.backward(dy, { auxGrads: [auxGrad] })?.dispose();
  const grads = new Map(net.trainableParams().map((p) => [p.name, (p.grad as Tensor).data.slice()]));
  [x, scores, dy, auxGrad].forEach((t) => t.dispose());
  return grads;
}

for (const backend of testBackends()) {
  describe(`${backend.name}: a frozen fine-tune's backward gives the whole backward's gradients`, () => {
    for (const frozen of FROZEN_SETS) {
      it(`frozen [${frozen.join(', ')}]: every trained parameter's gradient bit-identical, with fewer kernel calls`, () => {
        const short = recordingBackend(backend);
        const full = recordingBackend(backend);
        const shortNet = new Net(spec, { backend: short.backend, seed: 1, frozen });
        const fullNet = new Net(spec, { backend: full.backend, seed: 1, frozen });
        short.recording.on = full.recording.on = true;
        const expected = gradients(fullNet, true);
        const actual = gradients(shortNet, false);
        assert.deepEqual([...actual.keys()], [...expected.keys()]);
        assert.ok(actual.size > 0);
        for (const [name, grad] of expected) assert.deepEqual(actual.get(name), grad, name);
        assert.ok(short.calls.length < full.calls.length, `${short.calls.length} kernel calls, the whole backward ${full.calls.length}`);
        [shortNet, fullNet].forEach((net) => net.dispose());
      });
    }

    it('a fine-tune\'s training curve and weights are those of the whole backward, step by step', () => {
      const frozen = ['conv1', 'conv2', 'bn1'];
      const nets = [true, false].map((full) => {
        const net = new Net(spec, { backend, seed: 3, frozen });
        return { net, full, optimizer: createOptimizer('momentum', net.trainableParams(), { lr: 0.1, backend }), losses: [] as number[] };
      });
      const labels = Uint8Array.from([0, 2]);
      for (let step = 0; step < 4; step++) {
        const x = randomTensor([2, 3, 8, 8], 20 + step);
        for (const run of nets) {
          const scores = run.net.forward(x, { training: true, inputGrad: run.full });
          const { loss, grad, auxGrads } = stepLoss(run.net, scores, labels, softmaxCrossEntropy);
          run.losses.push(loss);
          run.net.backward(grad, { auxGrads })?.dispose();
          [scores, grad, ...auxGrads].forEach((t) => t.dispose());
          run.optimizer.step();
        }
        x.dispose();
      }
      const [full, short] = nets as [(typeof nets)[0], (typeof nets)[0]];
      assert.deepEqual(short.losses, full.losses);
      assert.notEqual(full.losses[0], full.losses[3], 'the heads trained');
      for (const [name, p] of full.net.params) assert.deepEqual(short.net.params.get(name)?.value.data, p.value.data, name);
      nets.forEach((run) => {
        run.optimizer.dispose();
        run.net.dispose();
      });
    });
  });
}

describe('a frozen prefix is not back-propagated through', () => {
  it('with the convs and BN frozen, backward calls only the heads\' kernels and the last conv\'s weight gradients', () => {
    const recorded = recordingBackend(referenceBackend);
    const net = new Net(spec, { backend: recorded.backend, seed: 1, frozen: ['conv1', 'conv2', 'bn1'] });
    const x = randomTensor([2, 3, 8, 8], 11);
    const scores = net.forward(x, { training: true });
    recorded.recording.on = true;
    net.backward(randomTensor([2, 3], 12), { auxGrads: [randomTensor([2, 5], 13)] });
    // Main head: the FC, the GAP, the RELU, then conv3's weight and bias gradients (no gradient of its
    // input, which only frozen layers produce); the auxiliary head: its FC's weight and bias.
    assert.deepEqual(recorded.calls, ['linearGradWeight', 'biasGrad', 'linearGradInput', 'avgPool2dGrad', 'reluGrad', 'conv2dGradWeight', 'biasGrad', 'linearGradWeight', 'biasGrad']);
    [x, scores].forEach((t) => t.dispose());
    net.dispose();
  });

  it('with everything but the heads frozen, no conv, BN, pool, concat or add kernel runs in backward', () => {
    const recorded = recordingBackend(referenceBackend);
    const net = new Net(spec, { backend: recorded.backend, seed: 1, frozen: ['conv1', 'conv2', 'bn1', 'conv3'] });
    const x = randomTensor([2, 3, 8, 8], 11);
    const scores = net.forward(x, { training: true });
    recorded.recording.on = true;
    net.backward(randomTensor([2, 3], 12), { auxGrads: [randomTensor([2, 5], 13)] });
    assert.deepEqual(recorded.calls, ['linearGradWeight', 'biasGrad', 'linearGradWeight', 'biasGrad']);
    [x, scores].forEach((t) => t.dispose());
    net.dispose();
  });
});
