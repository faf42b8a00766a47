import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { readSafetensors } from '../../src/io/safetensors.js';
import { convstack } from '../helpers/cli.js';

type Shape = 'tl' | 'br' | 'tr';

// A bright 6x6 square in one corner of a 16x16 image: the corner is the class.
async function writeImage(file: string, corner: Shape, jitter: number): Promise<void> {
  const pixels = Buffer.alloc(16 * 16);
  const top = corner === 'br' ? 9 - jitter : jitter;
  const left = corner === 'tl' ? jitter : 9 - jitter;
  for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) pixels[(top + y) * 16 + left + x] = 255;
  await sharp(pixels, { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(file);
}

async function writeFolder(root: string, classes: readonly Shape[]): Promise<void> {
  for (const cls of classes) {
    await mkdir(path.join(root, cls), { recursive: true });
    for (let i = 0; i < 10; i++) await writeImage(path.join(root, cls, `${i}.png`), cls, i % 3);
  }
}

const NET = 'INPUT[16x16x1] -> c: CONV3-4 -> RELU -> POOL2 -> head: FC-2';
let dir = '';
let pretrained = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-finetune-'));
  await writeFolder(path.join(dir, 'two'), ['tl', 'br']);
  await writeFolder(path.join(dir, 'three'), ['tl', 'br', 'tr']);
  pretrained = path.join(dir, 'two.safetensors');
  const trained = convstack('train', '--model', NET, '--data', `folder:${path.join(dir, 'two')}`, '--epochs', '1', '--batch', '8', '--backend', 'reference', '--no-checkpoint', '--out', pretrained);
  assert.equal(trained.status, 0, trained.stderr);
});
after(() => rm(dir, { recursive: true, force: true }));

test('finetune a model file on a folder of three classes: a new 3-way head, the backbone frozen, a model file eval takes', async () => {
  const out = path.join(dir, 'three.safetensors');
  const run = convstack('finetune', '--from', pretrained, '--data', `folder:${path.join(dir, 'three')}`, '--epochs', '2', '--batch', '8', '--backend', 'reference', '--out', out);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /new classifier 'head' with 3 outputs; frozen: c\n/);
  // head: 3 x (4*8*8) + 3 = 771 trained; c: 4*9 + 4 = 40 frozen.
  assert.match(run.stdout, /training 771 parameters \(40 frozen\)\n/);
  const before = await readSafetensors(pretrained);
  const after = await readSafetensors(out);
  assert.deepEqual(after.tensors.get('c.weight')?.data, before.tensors.get('c.weight')?.data);
  assert.deepEqual(after.tensors.get('c.bias')?.data, before.tensors.get('c.bias')?.data);
  assert.deepEqual(after.tensors.get('head.weight')?.shape, [3, 256]);
  assert.equal(after.metadata['architecture'], NET.replace('FC-2', 'FC-3'));
  assert.deepEqual(JSON.parse(after.metadata['classes'] as string), ['br', 'tl', 'tr']);
  assert.equal(after.metadata['normalization'], before.metadata['normalization']);
  const evaluated = convstack('eval', '--model', out, '--data', `folder:${path.join(dir, 'three')}`, '--backend', 'reference');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /test accuracy: \d\.\d{4}/);
});

test('finetune --freeze none trains every weight; a zoo-style spec takes --weights', () => {
  const out = path.join(dir, 'spec.safetensors');
  const run = convstack('finetune', '--from', NET, '--weights', pretrained, '--data', `folder:${path.join(dir, 'three')}`, '--freeze', 'none', '--epochs', '1', '--batch', '8', '--backend', 'reference', '--out', out, '--json');
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { parameters: { trained: number; frozen: number }; frozen: string[]; head: string };
  assert.deepEqual(summary.parameters, { trained: 811, frozen: 0 });
  assert.deepEqual(summary.frozen, []);
  assert.equal(summary.head, 'head');
  assert.ok(existsSync(out));
});

test('finetune --from an ONNX model: its graph as notation, a new head, the backbone frozen', async () => {
  const onnx = path.join(dir, 'two.onnx');
  const exported = convstack('export', pretrained, '--onnx', onnx);
  assert.equal(exported.status, 0, exported.stderr);
  const out = path.join(dir, 'from_onnx.safetensors');
  const run = convstack('finetune', '--from', onnx, '--data', `folder:${path.join(dir, 'three')}`, '--epochs', '1', '--batch', '8', '--backend', 'reference', '--out', out, '--json');
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { parameters: { trained: number; frozen: number }; frozen: string[]; head: string };
  // The notation names the layers: conv1 (4*9 + 4 = 40, frozen) and the new head fc1 (3*256 + 3 = 771).
  assert.deepEqual([summary.head, summary.frozen, summary.parameters], ['fc1', ['conv1'], { trained: 771, frozen: 40 }]);
  const before = await readSafetensors(pretrained);
  const after = await readSafetensors(out);
  assert.deepEqual(after.tensors.get('conv1.weight')?.data, before.tensors.get('c.weight')?.data);
  assert.deepEqual(after.tensors.get('fc1.weight')?.shape, [3, 256]);
  assert.equal(after.metadata['architecture'], 'INPUT[16x16x1]\n-> CONV3-4\n-> RELU\n-> POOL2\n-> FC-3');
});

test("finetune a zoo net from PyTorch's .pth weights (a state_dict as torch.save writes it)", () => {
  const out = path.join(dir, 'from_pth.safetensors');
  const weights = new URL('../fixtures/pth/lenet5.pth', import.meta.url).pathname;
  const run = convstack('finetune', '--from', 'lenet5', '--weights', weights, '--data', `folder:${path.join(dir, 'three')}`, '--epochs', '1', '--batch', '8', '--backend', 'reference', '--out', out, '--json');
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { parameters: { trained: number; frozen: number }; head: string };
  // LeNet-5's classifier 'output' (84 -> 3, 255 weights) is new; c1, c3, c5 and f6 (61,706 - 850 = 60,856) are frozen.
  assert.deepEqual([summary.head, summary.parameters], ['output', { trained: 255, frozen: 60_856 }]);
  assert.ok(existsSync(out));
});

test('finetune refuses bad requests with a clear error, exit 1 and no file', () => {
  const out = path.join(dir, 'bad.safetensors');
  const data = ['--data', `folder:${path.join(dir, 'three')}`, '--backend', 'reference', '--out', out];
  const cases: [string[], RegExp][] = [
    [['--from', pretrained, '--freeze', 'c9'], /--freeze: no layer with parameters named 'c9' \(they are c, head\)/],
    [['--from', pretrained, '--freeze', 'head'], /--freeze: 'head' is the new classifier/],
    [['--from', pretrained, '--weights', pretrained], /holds its own weights/],
    [['--from', 'lenet5_mnist'], /--from lenet5_mnist: give the pretrained weights with --weights/],
    [['--from', 'lenet5_mnist', '--weights', pretrained], /the pretrained weights do not fit the net's layers but its classifier:/],
    [['--from', pretrained, '--classes', '3'], /--classes: only auto/],
  ];
  for (const [args, message] of cases) {
    const run = convstack('finetune', ...args, ...data);
    assert.equal(run.status, 1, args.join(' '));
    assert.match(run.stderr, new RegExp(`^convstack: .*${message.source}`, 'm'));
    assert.ok(!existsSync(out));
  }
});
