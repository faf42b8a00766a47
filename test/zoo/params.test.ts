import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, lint } from '../../src/notation/index.js';
import { summarize } from '../../src/notation/summary.js';
import { zoo, zooNet } from '../../src/zoo/index.js';

/**
 * Parameter counts. torchvision's figures are those of its docs (sum of p.numel() over
 * parameters(), buffers excluded). The others are worked out by hand in the comments.
 */
const PARAMS: Record<string, number> = {
  // C1 6*1*25+6 = 156, C3 16*6*25+16 = 2,416, C5 120*16*25+120 = 48,120, F6 84*120+84 = 10,164, out 84*10+10 = 850.
  lenet5: 61_706,
  lenet5_mnist: 61_706,
  alexnet: 61_100_840,
  // conv1 96*3*121+96 = 34,944; conv2 256*48*25+256 = 307,456; conv3 384*256*9+384 = 885,120;
  // conv4 384*192*9+384 = 663,936; conv5 256*192*9+256 = 442,624; fc6 9216*4096+4096 = 37,752,832;
  // fc7 4096*4096+4096 = 16,781,312; fc8 4096*1000+1000 = 4,097,000 (Caffe's bvlc_alexnet count).
  alexnet_grouped: 60_965_224,
  // conv1 96*3*49+96 = 14,208; conv2 256*96*25+256 = 614,656; conv3 885,120; conv4 384*384*9+384 =
  // 1,327,488; conv5 256*384*9+256 = 884,992; fc6, fc7, fc8 as AlexNet's.
  zfnet: 62_357_608,
  googlenet: 6_624_904,
  // + aux1 (conv 512*128 + BN 256 = 65,792; fc1 2048*1024+1024 = 2,098,176; fc2 1,025,000)
  // + aux2 (conv 528*128 + 256 = 67,840; fc1, fc2 the same) = 6,379,984 more.
  googlenet_aux: 13_004_888,
  // transform_input is an AFFINE whose values are written in the text: no parameters.
  googlenet_imagenet: 6_624_904,
  vgg11: 132_863_336,
  vgg11_bn: 132_868_840,
  vgg13: 133_047_848,
  vgg13_bn: 133_053_736,
  vgg16: 138_357_544,
  vgg16_bn: 138_365_992,
  vgg19: 143_667_240,
  vgg19_bn: 143_678_248,
  resnet18: 11_689_512,
  resnet34: 21_797_672,
  resnet50: 25_557_032,
  resnet101: 44_549_160,
  resnet152: 60_192_808,
  // ResNet-18's convs and fc, minus its stem BN (128) and the 3 projection BNs (2*(128+256+512) =
  // 1,792), with each stage's first bn1 on the input channels (-128, -256, -512 against ResNet-18),
  // plus the final BN(512) (1,024): 11,689,512 - 1,792 = 11,687,720.
  preact_resnet18: 11_687_720,
};

const MACS: Record<string, number> = {
  alexnet: 714_188_480,
  vgg16: 15_470_264_320,
  googlenet: 1_498_376_192,
  resnet18: 1_814_073_344,
  resnet50: 4_089_184_256,
};

test('the zoo has every net issue 4 lists, and each has a parameter count asserted here', () => {
  const required = ['lenet5', 'alexnet', 'zfnet', 'vgg11', 'vgg13', 'vgg16', 'vgg19', 'vgg11_bn', 'vgg13_bn', 'vgg16_bn', 'vgg19_bn', 'googlenet', 'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'preact_resnet18'];
  for (const name of required) assert.ok(zooNet(name), name);
  assert.deepEqual(zoo.map((n) => n.name).sort(), Object.keys(PARAMS).sort());
});

for (const net of zoo) {
  test(`${net.name}: ${PARAMS[net.name]?.toLocaleString('en-US')} parameters`, () => {
    const { totals } = summarize(compile(net.source, { bindings: net.bindings }).net);
    assert.equal(totals.params, PARAMS[net.name]);
    const macs = MACS[net.name];
    if (macs !== undefined) assert.equal(totals.macs, macs);
    assert.ok(lint(net.source, { bindings: net.bindings }).every((d) => d.severity === 'warning'));
  });
}

test("parameter names and order follow torchvision's state_dict", () => {
  const names = (zoo: string): string[] => {
    const net = zooNet(zoo);
    if (net === undefined) throw new Error(zoo);
    const { net: inferred } = compile(net.source, { bindings: net.bindings });
    return inferred.layers.flatMap((l) => l.params.map((p) => `${l.node.name}.${p.name}`));
  };
  const vgg = names('vgg16');
  assert.deepEqual(vgg.slice(0, 4), ['features.0.weight', 'features.0.bias', 'features.2.weight', 'features.2.bias']);
  assert.deepEqual(vgg.slice(-2), ['classifier.6.weight', 'classifier.6.bias']);
  assert.ok(vgg.includes('features.28.weight') && vgg.includes('classifier.3.weight'));
  assert.deepEqual(names('vgg16_bn').slice(0, 8), [
    'features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias', 'features.1.running_mean', 'features.1.running_var', 'features.3.weight', 'features.3.bias',
  ]);
  assert.ok(names('vgg16_bn').includes('features.41.weight'));
  assert.deepEqual(names('alexnet').filter((n) => n.endsWith('weight')), [
    'features.0.weight', 'features.3.weight', 'features.6.weight', 'features.8.weight', 'features.10.weight', 'classifier.1.weight', 'classifier.4.weight', 'classifier.6.weight',
  ]);
  const resnet = names('resnet50');
  assert.deepEqual(resnet.slice(0, 3), ['conv1.weight', 'bn1.weight', 'bn1.bias']);
  for (const n of ['layer1.0.downsample.0.weight', 'layer1.0.downsample.1.running_var', 'layer2.0.conv2.weight', 'layer4.2.bn3.bias', 'fc.weight', 'fc.bias']) assert.ok(resnet.includes(n), n);
  assert.ok(!names('resnet18').includes('layer1.0.downsample.0.weight'));
  assert.ok(names('resnet152').includes('layer3.35.conv3.weight'));
  const googlenet = names('googlenet');
  assert.deepEqual(googlenet.slice(0, 3), ['conv1.conv.weight', 'conv1.bn.weight', 'conv1.bn.bias']);
  for (const n of ['inception3a.branch1.conv.weight', 'inception3a.branch2.0.conv.weight', 'inception3a.branch2.1.bn.running_mean', 'inception5b.branch4.1.conv.weight', 'fc.weight']) assert.ok(googlenet.includes(n), n);
  const aux = names('googlenet_aux');
  for (const n of ['aux1.conv.conv.weight', 'aux1.fc1.weight', 'aux2.fc2.bias']) assert.ok(aux.includes(n), n);
});

test('GoogLeNet follows torchvision: a 3x3 "5x5" branch, ceil pools, 7x7x1024 before the pool', () => {
  const net = zooNet('googlenet');
  if (net === undefined) throw new Error('googlenet');
  const { net: inferred } = compile(net.source);
  const at = (name: string): readonly number[] | undefined => inferred.layers.find((l) => l.node.name === name)?.output;
  assert.deepEqual(at('inception3a.branch3.1.conv'), [32, 28, 28]);
  const conv = inferred.layers.find((l) => l.node.name === 'inception3a.branch3.1.conv')?.node;
  assert.deepEqual(conv?.op === 'conv' && conv.attrs.kernel, [3, 3]);
  assert.deepEqual(at('maxpool1'), [64, 56, 56]);
  assert.deepEqual(at('inception3a.concat1'), [256, 28, 28]);
  assert.deepEqual(at('inception5b.concat1'), [1024, 7, 7]);
});
