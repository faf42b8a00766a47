import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import { Net } from '../../src/net/net.js';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { hasReferenceFallback } from '../../src/backends/fallback.js';
import type { NetSpec, NodeSpec } from '../../src/net/spec.js';
import { ops } from '../../src/ops/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { testBackends } from '../helpers/backends.js';
import { checkNetGradients, gradError, randn } from '../helpers/gradcheck.js';
import { toNetSpec } from '../../src/notation/index.js';

// Whole nets built from NetSpec data: gradients, initialisation, shape errors, memory, BN statistics.

const TOLERANCE = 1e-6;

function conv(name: string, input: string, outChannels: number, size: number, padding: number, bias = true): NodeSpec {
  const attrs = { outChannels, kernel: [size, size], stride: [1, 1], padding: [padding, padding], rounding: 'exact', groups: 1, bias } as const;
  return { name, op: 'conv', attrs, inputs: [input] };
}
function maxpool(name: string, input: string, size: number, stride: number, padding = 0): NodeSpec {
  const attrs = { kernel: [size, size], stride: [stride, stride], padding: [padding, padding], rounding: 'floor' } as const;
  return { name, op: 'maxpool', attrs, inputs: [input] };
}
const relu = (name: string, input: string): NodeSpec => ({ name, op: 'relu', attrs: {}, inputs: [input] });
const bn = (name: string, input: string): NodeSpec => ({ name, op: 'bn', attrs: { eps: 1e-5, momentum: 0.1 }, inputs: [input] });
const fc = (name: string, input: string, outFeatures: number): NodeSpec => ({ name, op: 'fc', attrs: { outFeatures, bias: true }, inputs: [input] });

/** INPUT -> CONV -> RELU -> POOL -> FC, the notes' simplest ConvNet. */
const convReluPoolFc: NetSpec = {
  input: [2, 6, 6],
  nodes: [conv('conv', 'input', 4, 3, 1), relu('relu', 'conv'), maxpool('pool', 'relu', 2, 2), fc('fc', 'pool', 3)],
};

/** A ResNet basic block: conv-bn-relu-conv-bn, plus the identity, then relu. Convs before BN have no bias, as in ResNet. */
const residualBlock: NetSpec = {
  input: [3, 5, 5],
  nodes: [
    conv('conv1', 'input', 3, 3, 1, false),
    bn('bn1', 'conv1'),
    relu('relu1', 'bn1'),
    conv('conv2', 'relu1', 3, 3, 1, false),
    bn('bn2', 'conv2'),
    { name: 'add', op: 'add', attrs: {}, inputs: ['bn2', 'input'] },
    relu('out', 'add'),
  ],
};

/** An inception-style module (1x1, 1x1 -> 3x3, pool -> 1x1 branches joined by concat), then a small head with LRN and dropout. */
const inception: NetSpec = {
  input: [3, 5, 5],
  nodes: [
    conv('b1', 'input', 2, 1, 0),
    conv('b2_reduce', 'input', 2, 1, 0),
    relu('b2_relu', 'b2_reduce'),
    conv('b2', 'b2_relu', 3, 3, 1),
    maxpool('b3_pool', 'input', 3, 1, 1),
    conv('b3', 'b3_pool', 2, 1, 0),
    { name: 'concat', op: 'concat', attrs: {}, inputs: ['b1', 'b2', 'b3'] },
    { name: 'lrn', op: 'lrn', attrs: { size: 3, alpha: 0.3, beta: 0.75, k: 2 }, inputs: ['concat'] },
    { name: 'gap', op: 'globalavgpool', attrs: {}, inputs: ['lrn'] },
    { name: 'flat', op: 'flatten', attrs: {}, inputs: ['gap'] },
    { name: 'drop', op: 'dropout', attrs: { p: 0.25 }, inputs: ['flat'] },
    fc('fc', 'drop', 4),
    { name: 'prob', op: 'softmax', attrs: {}, inputs: ['fc'] },
  ],
};

function assertThrowsMentioning(fn: () => unknown, parts: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Error);
    for (const part of parts) assert.ok(error.message.includes(part), `'${error.message}' should mention '${part}'`);
    return true;
  });
}

function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += ((values[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

/** The nets whose every gradient is checked: plain, residual, and inception-style with LRN and dropout. */
const GRADIENT_NETS: [string, NetSpec, number][] = [
  ['conv-relu-pool-fc', convReluPoolFc, 2],
  ['residual block (conv-bn-relu-conv-bn + identity, relu)', residualBlock, 3],
  ['inception-style concat of branches, LRN, dropout, softmax', inception, 2],
  // MUL with an empty branch reads its input; MUL[ | ] reads one value twice, whose two gradients add
  // up. The divisor x^2 + 1 keeps the quotient, and so the central differences, ordinary.
  [
    'a gate, a square and a quotient (MUL and DIV joins)',
    toNetSpec('INPUT[4x4x2] -> CONV3-3 -> MUL[ | CONV1-3 -> RELU] -> DIV[CONV1-3 | MUL[ | ] -> AFFINE(scale=1x1x1, shift=1x1x1)] -> FC-4'),
    2,
  ],
];

/** Relative error allowed between a float32 training step and the float64 one. */
const FLOAT32_TOLERANCE = 1e-5;

/**
 * One training forward and backward of `spec` in float32 on `backend` and in float64 on the reference
 * backend, from the same weights, input, dropout masks and output gradient: the logits, the input
 * gradient and every parameter gradient agree within FLOAT32_TOLERANCE of their scale.
 */
function compareWithFloat64Reference(t: TestContext, backend: Backend, spec: NetSpec, batch: number): void {
  const exact = new Net(spec, { backend: referenceBackend, seed: 1, dtype: 'float64' });
  const single = new Net(spec, { backend, seed: 1 });
  single.loadState(new Map([...exact.params].map(([name, p]) => [name, Tensor.from(p.value.shape, p.value.data, 'float32')])));
  single.rngState = exact.rngState;
  const x = randn([batch, ...spec.input], new Rng(2));
  const step = (net: Net, input: Tensor): Map<string, Tensor> => {
    const y = net.forward(input, { training: true, inputGrad: true });
    const dy = Tensor.from(y.shape, randn(y.shape, new Rng(3)).data, net.dtype);
    const dx = net.backward(dy);
    return new Map([['output', y], ['input', dx as Tensor], ...net.trainableParams().map((p): [string, Tensor] => [p.name, p.grad as Tensor])]);
  };
  const expected = step(exact, x);
  const actual = step(single, Tensor.from(x.shape, x.data, 'float32'));
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  let worst = 0;
  for (const [what, e] of expected) {
    const a = actual.get(what) as Tensor;
    assert.equal(a.dtype, 'float32', `${what} is float32`);
    const error = gradError(a.data, e.data);
    assert.ok(error < FLOAT32_TOLERANCE, `${what}: relative error ${error.toExponential(2)}`);
    worst = Math.max(worst, error);
  }
  t.diagnostic(`max relative error ${worst.toExponential(2)} over ${expected.size} tensors`);
  single.dispose();
}

for (const backend of testBackends()) {
  describe(`whole nets on the ${backend.name} backend`, () => {
    if (hasReferenceFallback(backend)) {
      // NOTE: a float64 gradient check here would run the reference kernels again (float64 falls back).
      describe(`float32 ${backend.name} forward and backward against the reference backend's float64, same weights`, () => {
        for (const [name, spec, batch] of GRADIENT_NETS) it(name, (t) => compareWithFloat64Reference(t, backend, spec, batch));
      });
    } else {
      describe('float64 gradient check of every parameter and the input (central differences)', () => {
        for (const [name, spec, batch] of GRADIENT_NETS) {
          it(name, (t) => {
            const net = new Net(spec, { backend, seed: 1, dtype: 'float64' });
            const x = randn([batch, ...spec.input], new Rng(2));
            const errors = checkNetGradients(net, x);
            assert.deepEqual([...errors.keys()], ['input', ...net.trainableParams().map((p) => p.name)]);
            for (const [what, error] of errors) assert.ok(error < TOLERANCE, `${what}: relative error ${error.toExponential(2)}`);
            t.diagnostic(`max relative error ${Math.max(...errors.values()).toExponential(2)} over ${errors.size} tensors`);
          });
        }
      });
    }

    describe('initialisation', () => {
      it('the same seed gives identical weights, another seed different ones', () => {
        const weights = (seed: number) => [...new Net(inception, { backend, seed }).params.values()].map((p) => [...p.value.data]);
        assert.deepEqual(weights(7), weights(7));
        assert.notDeepEqual(weights(7), weights(8));
      });

      it('He init draws hidden weights with std sqrt(2/fanOut) (CONV) or sqrt(2/fanIn) (FC) and zero biases', () => {
        // The classifier after 'fc' starts smaller (test/net/init.test.ts).
        const spec: NetSpec = { input: [64, 8, 8], nodes: [conv('conv', 'input', 128, 3, 1), fc('fc', 'conv', 100), fc('classifier', 'fc', 10)] };
        const net = new Net(spec, { backend, seed: 3, init: 'he' });
        const convWeights = moments(net.params.get('conv.weight')?.value.data ?? []);
        const fcWeights = moments(net.params.get('fc.weight')?.value.data ?? []);
        // 73,728 and 819,200 draws: the sample std is within 1% of the target with overwhelming odds.
        assert.ok(Math.abs(convWeights.std / Math.sqrt(2 / (128 * 3 * 3)) - 1) < 0.01, `conv std ${convWeights.std}`);
        assert.ok(Math.abs(fcWeights.std / Math.sqrt(2 / (128 * 8 * 8)) - 1) < 0.01, `fc std ${fcWeights.std}`);
        assert.ok(Math.abs(convWeights.mean) < 0.01 * convWeights.std);
        assert.deepEqual([...(net.params.get('conv.bias')?.value.data ?? [1])], new Array<number>(128).fill(0));
      });
    });

    describe('shape errors name the op and the shapes', () => {
      it('add of volumes with different channels', () => {
        const spec: NetSpec = { input: [3, 6, 6], nodes: [conv('conv', 'input', 4, 3, 1), { name: 'sum', op: 'add', attrs: {}, inputs: ['conv', 'input'] }] };
        assertThrowsMentioning(() => new Net(spec, { backend }), ["layer 2 'sum'", 'add', '(4, 6, 6)', '(3, 6, 6)']);
      });

      it('concat of volumes with different heights', () => {
        const spec: NetSpec = {
          input: [3, 6, 6],
          nodes: [maxpool('pool', 'input', 2, 2), { name: 'join', op: 'concat', attrs: {}, inputs: ['input', 'pool'] }],
        };
        assertThrowsMentioning(() => new Net(spec, { backend }), ["'join'", 'concat', '(3, 6, 6)', '(3, 3, 3)']);
      });

      it('a pool window larger than its input', () => {
        const spec: NetSpec = { input: [3, 4, 4], nodes: [maxpool('pool', 'input', 5, 1)] };
        assertThrowsMentioning(() => new Net(spec, { backend }), ["layer 1 'pool'", 'maxpool', 'height', '(4 - 5 + 2*0)', '5-wide window is larger']);
      });

      it('an FC whose weights do not fit its input', () => {
        const ctx = { backend, training: false, rng: new Rng(0) };
        const x = Tensor.zeros([2, 3, 2, 2]);
        const weight = Tensor.zeros([5, 10]);
        assertThrowsMentioning(() => ops.fc.forward(ctx, [x], { weight }, { outFeatures: 5, bias: false }), ['fc', '12 features', '(2, 3, 2, 2)', '(5, 10)']);
      });

      it('FC weights of the wrong shape loaded into a net', () => {
        const net = new Net(convReluPoolFc, { backend });
        const state = new Map([...net.params].map(([name, p]) => [name, p.value]));
        state.set('fc.weight', Tensor.zeros([3, 40]));
        assertThrowsMentioning(() => net.loadState(state), ["'fc.weight'", '(3, 40)', '(3, 36)']);
      });

      it('a batch of images of the wrong shape', () => {
        const net = new Net(convReluPoolFc, { backend });
        assertThrowsMentioning(() => net.forward(Tensor.zeros([1, 3, 6, 6])), ['input', '[6x6x2]', '(1, 3, 6, 6)']);
      });
    });

    describe('memory', () => {
      it('inference frees every intermediate activation: only params, input and output stay alive', () => {
        const tracker = backend.allocator.tracker;
        const before = tracker.live;
        const net = new Net(inception, { backend, seed: 1 });
        const paramBytes = [...net.params.values()].reduce((sum, p) => sum + p.value.data.byteLength, 0);
        assert.equal(tracker.live - before, paramBytes, 'the net holds its parameters');
        const x = randn([2, ...inception.input], new Rng(4)).clone(backend.allocator);
        tracker.resetPeak();
        const y = net.forward(x);
        assert.equal(tracker.live - before, paramBytes + x.data.byteLength + y.data.byteLength);
        assert.ok(tracker.peak > tracker.live, 'intermediate activations existed during the pass');
        y.dispose();
        x.dispose();
      });

      it('training frees the tape in backward: params, their grads, input and output stay alive', () => {
        const tracker = backend.allocator.tracker;
        const before = tracker.live;
        const net = new Net(residualBlock, { backend, seed: 1 });
        const x = randn([2, ...residualBlock.input], new Rng(4)).clone(backend.allocator);
        const y = net.forward(x, { training: true });
        const dy = randn(y.shape, new Rng(5)).clone(backend.allocator);
        net.backward(dy);
        const bytes = [...net.params.values()].reduce((sum, p) => sum + p.value.data.byteLength + (p.grad?.data.byteLength ?? 0), 0);
        assert.equal(tracker.live - before, bytes + x.data.byteLength + y.data.byteLength + dy.data.byteLength);
        for (const t of [x, y, dy]) t.dispose();
      });
    });

    describe('batch norm statistics', () => {
      const spec: NetSpec = { input: [2, 3, 2], nodes: [bn('bn', 'input')] };

      it('training normalises with the biased batch variance and updates running stats as PyTorch does', () => {
        const net = new Net(spec, { backend, dtype: 'float64' });
        const x = randn([4, 2, 3, 2], new Rng(9), 3);
        for (let i = 0; i < x.size; i++) x.data[i] = (x.data[i] as number) + 1.5;
        const runningMean = net.params.get('bn.running_mean')?.value;
        const runningVar = net.params.get('bn.running_var')?.value;
        assert.ok(runningMean !== undefined && runningVar !== undefined);
        const oldMean = [0.2, -0.4];
        const oldVar = [2, 0.5];
        runningMean.data.set(oldMean);
        runningVar.data.set(oldVar);

        const y = net.forward(x, { training: true });
        net.clearTape();
        for (let c = 0; c < 2; c++) {
          const values: number[] = [];
          const outputs: number[] = [];
          for (let n = 0; n < 4; n++) {
            for (let p = 0; p < 6; p++) {
              values.push(x.data[(n * 2 + c) * 6 + p] as number);
              outputs.push(y.data[(n * 2 + c) * 6 + p] as number);
            }
          }
          const { mean, std: biasedStd } = moments(values);
          const biasedVar = biasedStd ** 2;
          const out = moments(outputs);
          assert.ok(Math.abs(out.mean) < 1e-12, `channel ${c}: output mean ${out.mean}`);
          assert.ok(Math.abs(out.std ** 2 - biasedVar / (biasedVar + 1e-5)) < 1e-12, `channel ${c}: output variance ${out.std ** 2}`);
          const unbiasedVar = (biasedVar * 24) / 23;
          const expectedMean = 0.9 * (oldMean[c] as number) + 0.1 * mean;
          const expectedVar = 0.9 * (oldVar[c] as number) + 0.1 * unbiasedVar;
          assert.ok(Math.abs((runningMean.data[c] as number) - expectedMean) < 1e-12, `channel ${c}: running mean`);
          assert.ok(Math.abs((runningVar.data[c] as number) - expectedVar) < 1e-12, `channel ${c}: running var`);
        }
      });

      it('inference uses the running statistics and leaves them alone', () => {
        const net = new Net(spec, { backend, dtype: 'float64' });
        const param = (name: string) => {
          const p = net.params.get(`bn.${name}`)?.value;
          assert.ok(p !== undefined);
          return p;
        };
        const [mean, variance, gamma, beta] = [[1, -2], [4, 0.25], [2, 3], [0.5, -1]] as const;
        param('running_mean').data.set(mean);
        param('running_var').data.set(variance);
        param('weight').data.set(gamma);
        param('bias').data.set(beta);
        const x = randn([3, 2, 3, 2], new Rng(10));
        const y = net.forward(x);
        for (let i = 0; i < x.size; i++) {
          const c = Math.floor(i / 6) % 2;
          const expected = (gamma[c] as number) * (((x.data[i] as number) - (mean[c] as number)) / Math.sqrt((variance[c] as number) + 1e-5)) + (beta[c] as number);
          assert.ok(Math.abs((y.data[i] as number) - expected) < 1e-12, `value ${i}`);
        }
        assert.deepEqual([...param('running_mean').data], mean);
        assert.deepEqual([...param('running_var').data], variance);
      });
    });
  });
}

describe('backward skips work nobody needs', () => {
  it('computes no gradient for the images unless asked', () => {
    let gradInputCalls = 0;
    for (const backend of testBackends()) {
      // A view of the backend that counts one kernel; Object.create keeps a class backend's methods.
      const counting: Backend = Object.assign(Object.create(backend) as Backend, {
        conv2dGradInput: (...args: Parameters<Backend['conv2dGradInput']>) => (gradInputCalls++, backend.conv2dGradInput(...args)),
      });
      const net = new Net(convReluPoolFc, { backend: counting, seed: 1 });
      const x = randn([2, 2, 6, 6], new Rng(2));
      const y = net.forward(x, { training: true });
      assert.equal(net.backward(y), null);
      assert.equal(gradInputCalls, 0, 'the first conv skipped dL/dimages');
      net.forward(x, { training: true, inputGrad: true });
      const dx = net.backward(y);
      assert.deepEqual(dx?.shape, [2, 2, 6, 6]);
      assert.equal(gradInputCalls, 1);
      gradInputCalls = 0;
    }
  });
});

describe('finding where values stop being finite', () => {
  it('names the first layer whose output is not finite and leaves BN statistics as they were', () => {
    const net = new Net(residualBlock, { seed: 3 });
    const x = randn([2, 3, 5, 5], new Rng(4));
    assert.equal(net.firstNonFiniteLayer(x), null);
    (net.params.get('conv2.weight') as { value: Tensor }).value.data[0] = Number.POSITIVE_INFINITY;
    const before = [...(net.params.get('bn1.running_mean') as { value: Tensor }).value.data];
    assert.equal(net.firstNonFiniteLayer(x)?.name, 'conv2');
    assert.deepEqual([...(net.params.get('bn1.running_mean') as { value: Tensor }).value.data], before);
  });
});

describe('a CONV whose only reader is a RELU runs as one fused kernel where the backend has it', () => {
  it('gives the unfused net\'s output and gradients, calling conv2dRelu instead of conv2d', () => {
    const fusing = testBackends().find((b) => b.conv2dRelu !== undefined);
    assert.ok(fusing, 'the wasm backend has conv2dRelu');
    const calls = { conv2d: 0, conv2dRelu: 0 };
    const counting: Backend = Object.assign(Object.create(fusing) as Backend, {
      conv2d: (...args: Parameters<Backend['conv2d']>) => (calls.conv2d++, fusing.conv2d(...args)),
      conv2dRelu: (...args: Parameters<Backend['conv2d']>) => (calls.conv2dRelu++, fusing.conv2dRelu?.(...args) as Tensor),
    });
    const toFloat32 = (t: Tensor): Tensor => Tensor.from(t.shape, t.data, 'float32');
    const x = toFloat32(randn([2, 2, 6, 6], new Rng(5)));
    const run = (backend: Backend): number[][] => {
      const net = new Net(convReluPoolFc, { backend, seed: 9 });
      const y = net.forward(x, { training: true });
      const dy = toFloat32(randn(y.shape, new Rng(6)));
      net.backward(dy);
      return [[...y.data], ...net.trainableParams().map((p) => [...(p.grad as Tensor).data])];
    };
    const fused = run(counting);
    assert.deepEqual(calls, { conv2d: 0, conv2dRelu: 1 });
    const unfused = run(referenceBackend);
    fused.forEach((values, k) => values.forEach((v, i) => assert.ok(Math.abs(v - (unfused[k]?.[i] as number)) <= 1e-5 * Math.max(1, Math.abs(v)), `tensor ${k}, value ${i}`)));
  });
});
