import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Net } from '../../src/net/net.js';
import { StateMismatchError } from '../../src/net/state.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { zooNet, zooNotation } from '../../src/zoo/index.js';

const SPEC = 'INPUT[8x8x3] -> conv: CONV3-4 -> bn: BN -> RELU -> fc: FC-5';

const stateOf = (net: Net): Map<string, Tensor> => new Map([...net.params].map(([name, p]) => [name, Tensor.from(p.value.shape, p.value.data)]));
const values = (net: Net): number[][] => [...net.params.values()].map((p) => Array.from(p.value.data));

test('strict loading lists the missing, unexpected and wrongly shaped names, in that order, and loads nothing', () => {
  const source = stateOf(new Net(toNetSpec(SPEC), { seed: 1 }));
  source.delete('bn.running_var');
  source.set('fc.weight', Tensor.zeros([5, 7]));
  source.set('head.bias', Tensor.zeros([2]));
  const net = new Net(toNetSpec(SPEC), { seed: 2 });
  const before = values(net);
  assert.throws(
    () => net.loadState(source),
    (e: Error) => {
      assert.ok(e instanceof StateMismatchError);
      assert.equal(
        e.message,
        [
          'weights do not match the net:',
          '1 missing (the net has them, the weights do not):',
          "  'bn.running_var' (4)",
          '1 unexpected (the weights have them, the net does not):',
          "  'head.bias' (2)",
          '1 wrongly shaped:',
          "  'fc.weight' has shape (5, 7), the net expects (5, 256)",
          '(--partial, or { partial: true } in the API, loads the tensors that match)',
        ].join('\n'),
      );
      return true;
    },
  );
  assert.deepEqual(values(net), before, 'a failed strict load changes nothing');

  const match = net.loadState(source, { partial: true });
  assert.deepEqual(match.matching, ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'fc.bias']);
  assert.deepEqual((net.params.get('conv.weight') as { value: Tensor }).value.data, (source.get('conv.weight') as Tensor).data);
  assert.deepEqual((net.params.get('fc.weight') as { value: Tensor }).value.data, new Float32Array(before[6] as number[]), 'a wrongly shaped tensor is left as it was');
});

test("PyTorch's num_batches_tracked (int64, read as float64) is accepted beside a BN layer's running_mean, and only there", () => {
  const net = new Net(toNetSpec(SPEC), { seed: 2 });
  const state = stateOf(new Net(toNetSpec(SPEC), { seed: 1 }));
  state.set('bn.num_batches_tracked', Tensor.from([], [300], 'float64'));
  const match = net.loadState(state);
  assert.equal(match.matching.length, net.params.size);
  state.set('conv.num_batches_tracked', Tensor.from([], [300], 'float64'));
  assert.throws(() => net.loadState(state), /1 unexpected \(the weights have them, the net does not\):\n {2}'conv\.num_batches_tracked' \(\)/);
});

test('ResNet-34 weights do not load into resnet18: its 80 extra tensors are named, and --partial loads the 18-layer part', () => {
  const build = (name: string, seed: number): Net => new Net(toNetSpec(zooNotation(zooNet(name) ?? assert.fail(name))), { seed });
  const resnet34 = stateOf(build('resnet34', 1));
  const resnet18 = build('resnet18', 2);
  assert.throws(() => resnet18.loadState(resnet34), (e: Error) => {
    assert.ok(e instanceof StateMismatchError);
    assert.deepEqual([e.match.missing.length, e.match.unexpected.length, e.match.misshapen.length], [0, 80, 0]);
    assert.match(e.message, /^weights do not match the net:\n80 unexpected \(the weights have them, the net does not\):\n {2}'layer1\.2\.conv1\.weight' \(64, 64, 3, 3\)\n/);
    assert.match(e.message, /'layer4\.2\.bn2\.running_var' \(512\)\n\(--partial/);
    return true;
  });
  const match = resnet18.loadState(resnet34, { partial: true });
  assert.equal(match.matching.length, resnet18.params.size);
  for (const [name, p] of resnet18.params) assert.deepEqual(p.value.data, (resnet34.get(name) as Tensor).data, name);
});
