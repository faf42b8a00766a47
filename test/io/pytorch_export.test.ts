import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exportPytorch } from '../../src/io/pytorch/module.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec, type CompileOptions } from '../../src/notation/index.js';
import { zooNet } from '../../src/zoo/index.js';
import { compareWithTorch, haveTorch, scrambleRunningStats, testBatch } from './pytorch_export_helper.js';

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

const CASES = [
  { name: 'lenet5', ...zooCase('lenet5', (t) => t), batch: 3 },
  { name: 'resnet18 at 1/8 width', ...zooCase('resnet18', narrow, { input: [64, 64, 3], bindings: { CLASSES: 10 } }), batch: 2 },
  { name: 'googlenet_aux', ...zooCase('googlenet_aux', noDropout, { input: [80, 80, 3], bindings: { CLASSES: 10 } }), batch: 4 },
];

describe('an exported module gives convstack outputs in PyTorch', () => {
  for (const { name, source, batch } of CASES) {
    for (const training of [false, true]) {
      test(`${name}, ${training ? 'training' : 'eval'} mode`, async (t) => {
        if (!haveTorch(t)) return;
        const net = new Net(source.spec, { seed: 11 });
        scrambleRunningStats(net, 5);
        const x = testBatch([batch, ...source.spec.input]);
        t.diagnostic(`max relative error ${(await compareWithTorch(source, net, x, training)).toExponential(2)}`);
      });
    }
  }
});

test('the exported file reads like the net: torchvision names, the notation on top, one line per layer', () => {
  const entry = zooNet('resnet18') ?? assert.fail();
  const text = exportPytorch({ spec: toNetSpec(entry.source, { bindings: entry.bindings }), architecture: entry.source, compileOptions: { bindings: entry.bindings } });
  assert.match(text, /^# A torch\.nn\.Module written by convstack/);
  assert.match(text, /^#   -> layer1: \[basic\(64, 1, 0\) -> basic\(64, 1, 0\)\*B1\]$/m);
  assert.match(text, /^# compiled with CLASSES?=?.*B1=1, B2=1, B3=1, B4=1$|^# compiled with B1=1, B2=1, B3=1, B4=1$/m);
  assert.match(text, /^ {8}self\.layer1 = nn\.Sequential\($/m);
  assert.match(text, /^ {16}downsample=nn\.Sequential\($/m);
  assert.match(text, /^ {8}x = self\.layer1\[0\]\.relu_2\(x\)  # RELU$/m);
  assert.match(text, /^ {8}x = self\.fc\(x\)  # FC-1000$/m);
});
