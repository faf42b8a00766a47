import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import { ops } from '../../src/ops/index.js';
import type { ForwardContext, Op } from '../../src/ops/op.js';
import { softmaxCrossEntropy } from '../../src/ops/softmax_cross_entropy.js';
import { Net } from '../../src/net/net.js';
import type { NetSpec } from '../../src/net/spec.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from './assert.js';
import type { Fixture, NetFixtureEntry, OpFixtureEntry } from './fixtures.js';

// Checks against PyTorch 1.13's golden values (test/fixtures/ops/): forward outputs, every gradient
// and BN's running statistics within 1e-4 relative. The torch code behind each fixture is in
// tools/make_fixtures.py; test/fixtures/README.md says how to regenerate them.

/** Reports the largest of a check's errors as a test diagnostic. */
export function report(t: TestContext, errors: number[]): void {
  t.diagnostic(`max relative error ${Math.max(...errors).toExponential(2)} over ${errors.length} tensors`);
}

/** The op's forward on the fixture's inputs and params, then backward from its dy. */
export function checkOp(backend: Backend, fixture: Fixture<OpFixtureEntry>): number[] {
  const { entry } = fixture;
  const op = ops[entry.op] as Op<unknown, unknown>;
  const ctx: ForwardContext = { backend, training: entry.training, rng: new Rng(0) };
  const inputs = Array.from({ length: entry.inputs }, (_, i) => fixture.tensor(`input.${i}`));
  const params: Record<string, Tensor> = {};
  for (const name of fixture.names) if (name.startsWith('param.')) params[name.slice('param.'.length)] = fixture.tensor(name);

  // The op declares exactly the parameters torch has, with the same shapes.
  const perImage = inputs.map((x) => x.shape.slice(1));
  const specs = op.params(perImage, entry.attrs);
  assert.deepEqual(
    specs.map((s) => [s.name, [...s.shape]]).sort(),
    Object.entries(params).map(([name, p]) => [name, [...p.shape]]).sort(),
  );

  const expected = fixture.tensor('output');
  assert.deepEqual(op.outputShape(perImage, entry.attrs), expected.shape.slice(1), 'shape rule');
  const { output, saved } = op.forward(ctx, inputs, params, entry.attrs);
  const errors = [assertClose(output, expected, 'output')];
  for (const name of fixture.names) {
    if (!name.startsWith('updated.')) continue;
    const buffer = name.slice('updated.'.length);
    errors.push(assertClose(params[buffer] as Tensor, fixture.tensor(name), buffer));
  }
  if (!entry.backward) {
    op.release(saved);
    return errors;
  }

  const grads = op.backward(ctx, saved, fixture.tensor('dy'), params, entry.attrs);
  op.release(saved);
  assert.equal(grads.inputs.length, entry.inputs, 'one gradient per input');
  grads.inputs.forEach((dx, i) => {
    assert.ok(dx !== null, `a gradient for input ${i}`);
    errors.push(assertClose(dx, fixture.tensor(`grad.input.${i}`), `grad of input ${i}`));
  });
  const trainable = specs.filter((s) => s.trainable).map((s) => s.name);
  assert.deepEqual(Object.keys(grads.params).sort(), trainable.sort(), 'a gradient for every trainable parameter');
  for (const name of trainable) errors.push(assertClose(grads.params[name] as Tensor, fixture.tensor(`grad.param.${name}`), `grad of ${name}`));
  return errors;
}

/**
 * The same net as SmallNet in tools/make_fixtures.py; node names are its module names, so the
 * parameters map one to one with its state_dict. (4, 3, 10, 8) in, (4, 5) logits out.
 */
const smallNet: NetSpec = {
  input: [3, 10, 8],
  nodes: [
    {
      name: 'conv1',
      op: 'conv',
      attrs: { outChannels: 6, kernel: [3, 3], stride: [1, 1], padding: [1, 1], rounding: 'exact', groups: 1, bias: false },
      inputs: ['input'],
    },
    { name: 'bn1', op: 'bn', attrs: { eps: 1e-5, momentum: 0.1 }, inputs: ['conv1'] },
    { name: 'relu1', op: 'relu', attrs: {}, inputs: ['bn1'] },
    { name: 'pool1', op: 'maxpool', attrs: { kernel: [2, 2], stride: [2, 2], padding: [0, 0], rounding: 'exact' }, inputs: ['relu1'] },
    {
      name: 'conv2',
      op: 'conv',
      attrs: { outChannels: 8, kernel: [3, 2], stride: [2, 2], padding: [1, 0], rounding: 'exact', groups: 1, bias: true },
      inputs: ['pool1'],
    },
    { name: 'relu2', op: 'relu', attrs: {}, inputs: ['conv2'] },
    { name: 'fc', op: 'fc', attrs: { outFeatures: 5, bias: true }, inputs: ['relu2'] },
  ],
};

/** One training step of smallNet on `backend`: logits, the cross-entropy loss, every parameter's gradient, BN's running stats. */
export function checkNet(backend: Backend, fixture: Fixture<NetFixtureEntry>): number[] {
  const net = new Net(smallNet, { backend, seed: 0 });
  const state = new Map<string, Tensor>();
  for (const name of fixture.names) if (name.startsWith('param.')) state.set(name.slice('param.'.length), fixture.tensor(name));
  assert.deepEqual([...net.params.keys()].sort(), [...state.keys()].sort(), 'parameter names match the state_dict');
  net.loadState(state);

  const logits = net.forward(fixture.tensor('input.0'), { training: true });
  const errors = [assertClose(logits, fixture.tensor('output'), 'logits')];
  const { loss, grad } = softmaxCrossEntropy(logits, fixture.entry.labels);
  errors.push(assertClose(Tensor.from([], [loss]), fixture.tensor('loss'), 'loss'));
  net.backward(grad);

  const trainable = net.trainableParams();
  assert.deepEqual(
    trainable.map((p) => `grad.param.${p.name}`).sort(),
    fixture.names.filter((n) => n.startsWith('grad.param.')).sort(),
    'a gradient for every trainable parameter',
  );
  for (const p of trainable) {
    assert.ok(p.grad !== null, `${p.name} has no gradient`);
    errors.push(assertClose(p.grad, fixture.tensor(`grad.param.${p.name}`), `grad of ${p.name}`));
  }
  for (const name of fixture.names) {
    if (!name.startsWith('updated.')) continue;
    const buffer = net.params.get(name.slice('updated.'.length));
    assert.ok(buffer !== undefined, `the net has no ${name.slice('updated.'.length)}`);
    errors.push(assertClose(buffer.value, fixture.tensor(name), buffer.name));
  }
  return errors;
}
