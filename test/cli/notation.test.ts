import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convstack } from '../helpers/cli.js';

test("convstack summary vgg16 prints the notes' table rows and the computed totals", () => {
  const r = convstack('summary', 'vgg16');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines.find((l) => l.includes('features.0 ')) ?? '', /CONV3-64\s+features\.0\s+\[224x224x64\]\s+3,211,264\s+1,728\s+64\s+86,704,128\s+3\/1/);
  assert.match(lines.find((l) => l.includes('classifier.0 ')) ?? '', /FC-4096\s+classifier\.0\s+\[1x1x4096\]\s+4,096\s+102,760,448/);
  assert.match(r.stdout, /params: 138,357,544 \(weights 138,344,128, biases 13,416\)/);
  assert.match(r.stdout, /activations: 15,237,608 values per image = 58\.13 MiB forward, 116\.25 MiB forward \+ backward/);
  assert.match(r.stdout, /multiply-adds: 15,470,264,320 \(15\.47G\)/);
});

test('convstack summary --json has layers[] and totals as issue 3 specifies', () => {
  const r = convstack('summary', 'INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC', '--set', 'N=1,M=2,K=0,POOL=1', '--input', '16x16x3', '--json');
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { layers: Record<string, unknown>[]; totals: Record<string, number> };
  assert.deepEqual(json.layers.map((l) => l['name']), ['input', 'conv1', 'pool1', 'conv2', 'pool2', 'fc1']);
  assert.deepEqual(json.layers[1], {
    name: 'conv1',
    text: 'CONV3-32',
    output: [16, 16, 32],
    activations: 8192,
    weights: 864,
    biases: 32,
    params: 896,
    macs: 221184,
    receptiveField: { size: [3, 3], stride: [1, 1] },
  });
  // params 896 + (9*32*32 + 32) + (4*4*32*10 + 10); activations 16*16*3 + 16*16*32 + 8*8*32 + 8*8*32 + 4*4*32 + 10;
  // multiply-adds 16*16*32*27 + 8*8*32*288 + 512*10.
  assert.deepEqual(json.totals, { params: 15_274, weights: 15_200, biases: 74, activations: 13_578, activationBytes: 54_312, macs: 816_128 });
});

test('a sizing error exits 1 with the layer and the arithmetic', () => {
  const r = convstack('summary', 'INPUT -> CONV5-64(s=2) -> FC');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /convstack: <spec>: line 1, column 10: layer 1 CONV5-64\(s=2\) \('conv1'\): the height does not work out: \(32 - 5 \+ 2\*2\)\/2 \+ 1 = 31\/2 \+ 1 = 16\.5, not a whole number/);
  assert.match(r.stderr, /\n\s+\^{13}\n/);
});

test('convstack lint warns citing the notes and exits 0; exits 1 on an invalid spec', () => {
  const ok = convstack('lint', 'INPUT[64x64x3] -> CONV7-32(s=2, floor) -> CONV7-32 -> POOL2 -> FC');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /warning \[small-filters\] layer 2 CONV7-32 'conv2' \(line 1, column 43\)/);
  assert.match(ok.stdout, /notes: "If you must use bigger filter sizes/);
  assert.match(ok.stdout, /0 errors, 1 warning$/m);
  const bad = convstack('lint', 'INPUT -> [CONV -> RELU]*N');
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /error: line 1, column 25: the variable 'N' is not set/);
});

test('convstack compare puts 49C^2 against 27C^2', () => {
  const r = convstack('compare', 'CONV7-C', '[CONV3-C -> RELU]*3', '--set', 'C=64');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /weights\s+200,704\s+110,592/);
  assert.match(r.stdout, /receptive field\s+7\/1\s+7\/1/);
  assert.match(r.stdout, /non-linearities\s+0\s+3/);
});

test('convstack zoo lists every net with its figures', () => {
  const r = convstack('zoo');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /resnet50\s+224x224x3\s+25,557,032\s+4\.09G/);
  assert.match(r.stdout, /googlenet\s+224x224x3\s+6,624,904\s+1\.50G/);
  // transform_input's AFFINE has its values in the text: no parameters, no multiply-adds.
  assert.match(r.stdout, /googlenet_imagenet\s+224x224x3\s+6,624,904\s+1\.50G/);
  assert.equal(r.stdout.trim().split('\n').length, 23);
});

test('a syntax error exits 1 with a caret and what was expected', () => {
  const r = convstack('summary', 'INPUT -> CONV3 64');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /line 1, column 16: expected '->' or end of input, found '64'\n  INPUT -> CONV3 64\n {17}\^\^/);
});

test("convstack lint warns about an FC on a large volume with the figures and the notes' reasoning", () => {
  const r = convstack('lint', 'INPUT[224x224x3] -> CONV3-64 -> RELU -> FC-4096');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /warning \[fc-after-volume\] layer 3 FC-4096 'fc1' \(line 1, column 41\): an FC layer straight after the \[224x224x64\] volume: 13,153,341,440 parameters \(49\.00 GiB of float32\)/);
  assert.match(r.stdout, /notes: "The most common form of a ConvNet architecture .* merged spatially to a small size/);
  assert.match(r.stdout, /0 errors, 1 warning/);
});

test('a near miss of a keyword says what was meant; a --set of a variable the spec does not have is an error', () => {
  const typo = convstack('summary', 'INPUT -> conv3-16 -> FC');
  assert.equal(typo.status, 1);
  assert.match(typo.stderr, /line 1, column 15: expected '->' or end of input, found '-'; did you mean CONV3-16\?/);
  const unknown = convstack('summary', 'INPUT -> [CONV -> RELU]*N -> FC', '--set', 'N=2,M=3');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /<spec>: line 1, column 1: 'M' is set \(--set M=\.\.\., API \{ M: \.\.\. \}\) but the spec has no variable 'M'; its variables are N/);
  const zooNet = convstack('summary', 'vgg16', '--set', 'N=2');
  assert.equal(zooNet.status, 1);
  assert.match(zooNet.stderr, /vgg16: line 11, column 1: .*the spec has no variable 'N'; its variables are BN, CLASSES, N1, N2, N3, N4, N5/);
});
