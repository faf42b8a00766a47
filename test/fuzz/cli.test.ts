import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatNpy } from '../../src/io/npy.js';
import { formatSafetensors } from '../../src/io/safetensors.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { modelMetadata, netTensors } from '../../src/train/model_file.js';
import { convstack } from '../helpers/cli.js';

// Hostile files through the commands a user runs: exit code 1 and one line on stderr naming the
// file, no stack trace.
let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-fuzzcli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('run, eval and train --resume refuse hostile model files, checkpoints and .npy batches with one line naming the file, exit 1', async () => {
  const text = 'INPUT[4x4x1] -> FC-3';
  const good = formatSafetensors(netTensors(new Net(toNetSpec(text), { seed: 1 })), modelMetadata({ spec: toNetSpec(text), architecture: text, classes: ['a', 'b', 'c'], normalization: { mean: [0], std: [1] } }));
  const files: Record<string, Uint8Array> = {
    'truncated.safetensors': good.subarray(0, good.length - 7),
    'huge-header.safetensors': Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7b, 0x7d]),
    'bomb.safetensors': formatSafetensors(netTensors(new Net(toNetSpec(text), { seed: 1 })), modelMetadata({ spec: toNetSpec(text), architecture: 'INPUT[4x4x1] -> FC-30000000 -> FC-3', classes: ['a', 'b', 'c'], normalization: { mean: [0], std: [1] } })),
    'x.npy': formatNpy(Tensor.from([1, 1, 4, 4], new Float32Array(16))).subarray(0, 140),
  };
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(dir, name), bytes);
  await writeFile(path.join(dir, 'good.safetensors'), good);
  const at = (name: string): string => path.join(dir, name);
  const cases: [string[], RegExp][] = [
    [['run', at('truncated.safetensors'), at('x.npy'), '--json'], /truncated\.safetensors: tensor 'fc1\.bias': data_offsets \[192, 204\] lie outside the 197 data bytes/],
    [['eval', '--model', at('huge-header.safetensors')], /huge-header\.safetensors: header length 18446744073709551615 exceeds/],
    [['eval', '--model', at('bomb.safetensors')], /bomb\.safetensors: the net needs \d+ weights and buffers, the file holds 51/],
    [['run', at('good.safetensors'), at('x.npy'), '--json'], /x\.npy: shape \(1, 1, 4, 4\) needs 64 data bytes, the file has 12/],
    [['train', '--resume', at('good.safetensors')], /good\.safetensors: not a convstack checkpoint \(no 'train_config' in its metadata\)/],
  ];
  for (const [args, message] of cases) {
    const result = convstack(...args, '--backend', 'reference');
    assert.equal(result.status, 1, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
});
