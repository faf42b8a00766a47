import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { exportPytorch } from '../../src/io/pytorch/module.js';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { availableBackends } from '../../src/backends/registry.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec, type CompileOptions } from '../../src/notation/index.js';
import { zoo, zooNet } from '../../src/zoo/index.js';
import { convstack } from '../helpers/cli.js';
import { checkZooNames, compareWithTorch, haveTorch, scrambleBuffers, testBatch } from './pytorch_export_helper.js';

/**
 * `convstack export --pytorch`: the module PyTorch 1.13 builds from the exported file, given the net's
 * weights by name (strictly), computes what convstack computes, within 1e-4 relative: in eval mode
 * (BN's running statistics, set away from their start), and in training mode (batch statistics, the
 * running statistics' update, and GoogLeNet's auxiliary heads, with dropout at p = 0 so that both
 * sides compute the same function).
 */

/** A zoo net's text, edited, compiled with its bindings and `options`. */
function zooCase(name: string, edit: (text: string) => string, options: CompileOptions = {}): { source: { spec: ReturnType<typeof toNetSpec>; architecture: string; compileOptions: CompileOptions } } {
  const entry = zooNet(name) ?? assert.fail(name);
  const architecture = edit(entry.source);
  const compileOptions = { ...options, bindings: { ...entry.bindings, ...options.bindings } };
  return { source: { spec: toNetSpec(architecture, compileOptions), architecture, compileOptions } };
}

// ResNet-18 at an eighth of its width: 8, 16, 32 and 64 channels.
const narrow = (text: string): string => text.replace(/\b(64|128|256|512)\b/g, (c) => String(Number(c) / 8));
// GoogLeNet with its dropouts at p = 0: training mode is then the same function on both sides.
const noDropout = (text: string): string => text.replace(/DROPOUT\(0\.\d+\)/g, 'DROPOUT(0)');

// Every layer keyword, the imported ones (PAD in its three forms, AFFINE, LEAKYRELU) and a ceil CONV
// included, and the joins: MUL with its input, a square and a quotient (x / (x^2 + 1)).
const EVERY_LAYER = [
  'INPUT[13x12x3] -> DIV[ | MUL[ | ] -> AFFINE(scale=1x1x1, shift=1x1x1)] -> PAD(t=1, l=0, b=2, r=1) -> CONV3-6(s=2, ceil) -> BN -> LEAKYRELU(0.1) -> AFFINE -> PAD(t=0, l=1, b=1, r=0, max=1) -> POOL3(s=2, floor)',
  '-> LRN -> AVGPOOL2(p=1, countpad=0, floor) -> CONCAT[CONV1-4 -> RELU | CONV3-4 -> RELU] -> MUL[CONV1-8 | ] -> PAD(t=1, l=1, b=1, r=1, value=0.5) -> AVGPOOL3(s=1) -> GAP -> FLATTEN -> DROPOUT(0) -> FC-5 -> SOFTMAX',
].join(' ');

// The keywords the ONNX importer added: AFFINE with written values, dilated CONV and POOL (a ceil
// one too), adaptive average pooling with uneven windows, a softmax over the channels of a volume.
const IMPORTED_LAYERS =
  'INPUT[12x12x3] -> AFFINE(scale=0.5x2x-1, shift=0.1x-0.2x0.3) -> CONV3-4(d=2, p=2) -> RELU -> POOL3(s=1, d=2) -> CONV3-5(d=2, s=2, ceil) -> ADAPTIVEPOOL-3 -> SOFTMAX(over=c) -> FC-4';

// NOTE: GoogLeNet runs on the wasm backend (0.7 s against 12 s on the reference one), whose kernels
// test/backends holds to the reference backend's; the other nets run on the reference backend.
const wasm = (await availableBackends().find((entry) => entry.name === 'wasm')?.create()) ?? referenceBackend;

const CASES = [
  { name: 'every layer keyword', source: { spec: toNetSpec(EVERY_LAYER), architecture: EVERY_LAYER }, batch: 2, backend: referenceBackend },
  { name: 'the imported keywords', source: { spec: toNetSpec(IMPORTED_LAYERS), architecture: IMPORTED_LAYERS }, batch: 2, backend: referenceBackend },
  { name: 'lenet5', ...zooCase('lenet5', (t) => t), batch: 3, backend: referenceBackend },
  { name: 'resnet18 at 1/8 width', ...zooCase('resnet18', narrow, { input: [64, 64, 3], bindings: { CLASSES: 10 } }), batch: 2, backend: referenceBackend },
  { name: 'googlenet_aux', ...zooCase('googlenet_aux', noDropout, { input: [80, 80, 3], bindings: { CLASSES: 10 } }), batch: 4, backend: wasm },
];

describe('an exported module gives convstack outputs in PyTorch', () => {
  for (const { name, source, batch, backend } of CASES) {
    test(`${name} (${backend.name} backend)`, async (t) => {
      if (!haveTorch(t)) return;
      const net = new Net(source.spec, { seed: 11, backend });
      scrambleBuffers(net, 5);
      const errors = await compareWithTorch(source, net, testBatch([batch, ...source.spec.input]));
      t.diagnostic(`max relative error: eval mode ${errors.eval.toExponential(2)}, training mode ${errors.train.toExponential(2)}`);
    });
  }
});

test('the exported file reads like the net: torchvision names, the notation on top, one line per layer', () => {
  const entry = zooNet('resnet18') ?? assert.fail();
  const text = exportPytorch({ spec: toNetSpec(entry.source, { bindings: entry.bindings }), architecture: entry.source, compileOptions: { bindings: entry.bindings } });
  assert.match(text, /^# A torch\.nn\.Module written by convstack/);
  assert.match(text, /^#   -> layer1: \[basic\(64, 1, 0\) -> basic\(64, 1, 0\)\*B1\]$/m);
  assert.match(text, /^# compiled with B1=1, B2=1, B3=1, B4=1$/m);
  assert.match(text, /^ {8}self\.layer1 = nn\.Sequential\($/m);
  assert.match(text, /^ {16}downsample=nn\.Sequential\($/m);
  assert.match(text, /^ {8}x = self\.layer1\[0\]\.relu_2\(x\)  # RELU$/m);
  assert.match(text, /^ {8}x = self\.fc\(x\)  # FC-1000$/m);
});

test('a layer name that torch.nn.Module uses itself is an error naming the layer', () => {
  const spec = toNetSpec('INPUT[8x8x3] -> train: CONV3-4 -> FC-2');
  assert.throws(() => exportPytorch({ spec }), /layer 'train': 'train' is a name torch\.nn\.Module uses itself/);
});

test('convstack export --pytorch: the module and the training script, --train-script only with --pytorch', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-export-'));
  const result = convstack('export', 'lenet5', '--pytorch', path.join(dir, 'net.py'), '--train-script', path.join(dir, 'train_ddp.py'));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /net\.py: a torch\.nn\.Module of 11 layers \(class Net\)\n.*train_ddp\.py: trains it under torchrun/);
  const script = readFileSync(path.join(dir, 'train_ddp.py'), 'utf8');
  assert.match(script, /^NET_FILE = os\.path\.join\(os\.path\.dirname\(os\.path\.abspath\(__file__\)\), "net\.py"\)$/m);
  assert.match(script, /^ {4}"format": "convstack-model\/1",$/m);
  assert.match(script, /^CLASSIFIERS = \{"output"\}$/m);
  const alone = convstack('export', 'lenet5', '--train-script', path.join(dir, 't.py'));
  assert.equal(alone.status, 1);
  assert.equal(alone.stderr, 'convstack: export: --train-script trains the module of --pytorch net.py; give both\n');
});

test("one zoo net of each torchvision family gets torchvision's state_dict names and shapes", (t) => {
  const family = zoo.filter((entry) => ['alexnet', 'googlenet_aux', 'vgg11_bn', 'resnet50'].includes(entry.name));
  const checked = checkZooNames(t, family);
  if (checked !== null) t.diagnostic(`torchvision's names for ${checked.join(', ')} (every zoo net in pytorch_export_zoo.full.test.ts)`);
});
