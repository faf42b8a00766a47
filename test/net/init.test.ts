import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLASSIFIER_GAIN, classifierLayers, DEFAULT_INIT, parseInitScheme, type InitScheme } from '../../src/net/init.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { zooNet } from '../../src/zoo/index.js';

function moments(values: ArrayLike<number>): { mean: number; std: number; max: number } {
  const xs = Array.from(values);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return { mean, std, max: xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0) };
}

// A hidden CONV (fanIn 64*9 = 576, fanOut 128*9 = 1152), a hidden FC (fanIn 128*8*8 = 8192) and the classifier (fanIn 100).
const TEXT = 'INPUT[8x8x64] -> CONV3-128 -> RELU -> FC-100 -> RELU -> FC-10';
const net = (init: InitScheme): Net => new Net(toNetSpec(TEXT), { seed: 3, init });
const param = (n: Net, name: string): Float32Array | Float64Array => n.params.get(name)?.value.data ?? new Float32Array();

describe('which layer is the classifier', () => {
  const names = (text: string): string[] => [...classifierLayers(toNetSpec(text))].sort();
  it('the CONV or FC that makes each output, through layers without parameters', () => {
    assert.deepEqual(names(TEXT), ['fc2']);
    assert.deepEqual(names('INPUT[28x28x1] -> CONV3-8 -> RELU -> FC-10 -> SOFTMAX'), ['fc1']);
    assert.deepEqual(names('INPUT[28x28x1] -> [CONV3-32 -> RELU -> POOL2]*2 -> CONV1-10 -> GAP'), ['conv3']);
    assert.deepEqual(names('INPUT[28x28x1] -> CONV4-8(s=2, p=1) -> RELU -> AUX[POOL2 -> FC-10] -> POOL2 -> FC-32 -> RELU -> DROPOUT(0.5) -> FC-10'), ['fc1', 'fc3']);
    const resnet = zooNet('resnet18');
    assert.ok(resnet);
    assert.deepEqual([...classifierLayers(toNetSpec(resnet.source, { bindings: resnet.bindings }))], ['fc']);
  });
  it('none when the output comes out of a BN', () => {
    assert.deepEqual(names('INPUT[28x28x1] -> CONV3-8 -> RELU -> FC-10 -> BN'), []);
  });
});

describe('initialisation schemes', () => {
  // 73,728 and 819,200 draws: sample moments within 1-2% of the target with overwhelming odds.
  it('he: hidden CONV weights N(0, 2/fanOut), hidden FC weights N(0, 2/fanIn), the classifier N(0, (0.1)^2/fanIn), zero biases', () => {
    const n = net('he');
    const conv = moments(param(n, 'conv1.weight'));
    assert.ok(Math.abs(conv.std / Math.sqrt(2 / 1152) - 1) < 0.01, `conv std ${conv.std}`);
    assert.ok(Math.abs(conv.mean) < 0.01 * conv.std);
    assert.ok(Math.abs(moments(param(n, 'fc1.weight')).std / Math.sqrt(2 / 8192) - 1) < 0.01);
    assert.ok(Math.abs(moments(param(n, 'fc2.weight')).std / (CLASSIFIER_GAIN / Math.sqrt(100)) - 1) < 0.05);
    for (const bias of ['conv1.bias', 'fc1.bias', 'fc2.bias']) assert.ok(param(n, bias).every((v) => v === 0), bias);
  });
  it("pytorch: every weight and bias U(-1/sqrt(fanIn), 1/sqrt(fanIn)), the classifier's too", () => {
    const n = net('pytorch');
    for (const [layer, fanIn] of [['conv1', 576], ['fc1', 8192], ['fc2', 100]] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      const w = moments(param(n, `${layer}.weight`));
      assert.ok(w.max <= bound && w.max > 0.99 * bound, `${layer} max ${w.max} against ${bound}`);
      assert.ok(Math.abs(w.std / (bound / Math.sqrt(3)) - 1) < 0.05, `${layer} std ${w.std}`);
      assert.ok(moments(param(n, `${layer}.bias`)).max <= bound);
    }
    assert.ok(moments(param(n, 'fc1.bias')).std > 0, 'biases are drawn too');
  });
  it('xavier: hidden weights U(-sqrt(6/(fanIn + fanOut)), ...), the classifier as he, zero biases', () => {
    const n = net('xavier');
    const bound = Math.sqrt(6 / (576 + 1152));
    const w = moments(param(n, 'conv1.weight'));
    assert.ok(w.max <= bound && w.max > 0.99 * bound, `max ${w.max} against ${bound}`);
    assert.ok(Math.abs(moments(param(n, 'fc2.weight')).std / (CLASSIFIER_GAIN / Math.sqrt(100)) - 1) < 0.05);
    assert.ok(param(n, 'conv1.bias').every((v) => v === 0));
  });
  it(`a net built without a scheme gets the default, ${DEFAULT_INIT}; BN starts at 1 and 0`, () => {
    const plain = new Net(toNetSpec(TEXT), { seed: 3 });
    for (const [name, p] of net(DEFAULT_INIT).params) assert.deepEqual(param(plain, name), p.value.data, name);
    const bn = new Net(toNetSpec('INPUT[8x8x3] -> CONV3-4 -> BN -> RELU -> FC-2'), { init: 'pytorch' });
    assert.deepEqual([...param(bn, 'bn1.weight'), ...param(bn, 'bn1.bias')], [1, 1, 1, 1, 0, 0, 0, 0]);
  });
  it('--init names a scheme or says which there are', () => {
    assert.equal(parseInitScheme('xavier'), 'xavier');
    assert.throws(() => parseInitScheme('kaiming'), /^Error: --init: expected he, pytorch, xavier, got 'kaiming'$/);
  });
});
