import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { formatNpy, parseNpy } from '../../../src/io/npy.js';
import { readPth } from '../../../src/io/pth/pth.js';
import { parseSafetensors } from '../../../src/io/safetensors.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { assertClose } from '../../helpers/assert.js';
import { convstack } from '../../helpers/cli.js';

const fixture = (name: string): string => new URL(`../../fixtures/pth/${name}`, import.meta.url).pathname;
/** The BN variant of LeNet-5 at half width that tools/pth_fixtures.py saves, in the notation. */
const LENET5_BN_HALF =
  'INPUT[32x32x1] -> c1: CONV5-3(p=0) -> bn1: BN -> RELU -> s2: AVGPOOL2 -> c3: CONV5-8(p=0) -> bn3: BN -> RELU -> s4: AVGPOOL2 -> c5: CONV5-60(p=0) -> RELU -> f6: FC-42 -> RELU -> output: FC-10';
const dir = mkdtempSync(path.join(tmpdir(), 'convstack-convert-'));
/** The input tools/pth_fixtures.py ran PyTorch on: sin(i), float32. */
const input = path.join(dir, 'x.npy');
writeFileSync(input, formatNpy(Tensor.from([2, 1, 32, 32], Array.from({ length: 2048 }, (_, i) => Math.sin(i)))));

test('convert writes the state_dict as safetensors, num_batches_tracked kept as I64', async () => {
  const out = path.join(dir, 'bn.safetensors');
  const result = convstack('convert', fixture('lenet5_bn_half.pth'), '--out', out);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `${out}: 20 tensors, 15,784 values\n`);
  const bytes = readFileSync(out);
  const { tensors } = parseSafetensors(bytes);
  const original = (await readPth(fixture('lenet5_bn_half.pth'))).tensors;
  assert.deepEqual([...tensors.keys()], [...original.keys()]);
  for (const [name, t] of original) assert.deepEqual((tensors.get(name) as Tensor).data, t.data, name);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()) as Record<string, { dtype: string }>;
  assert.equal(header['bn1.num_batches_tracked']?.dtype, 'I64');
  assert.equal(header['c1.weight']?.dtype, 'F32');
});

test('run --weights takes the .pth and its conversion alike, and computes what PyTorch computed', () => {
  const expected = (JSON.parse(readFileSync(fixture('lenet5_bn_half.output.json'), 'utf8')) as { output: number[] }).output;
  for (const weights of [fixture('lenet5_bn_half.pth'), path.join(dir, 'bn.safetensors')]) {
    const result = convstack('run', LENET5_BN_HALF, input, '--weights', weights, '--output', path.join(dir, 'y.npy'));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '', 'num_batches_tracked is no mismatch');
    assertClose(parseNpy(readFileSync(path.join(dir, 'y.npy'))).data, expected, weights);
  }
});

test('run --weights is strict: mismatched weights are listed and exit 1; --partial loads what matches and lists the rest', () => {
  const strict = convstack('run', 'lenet5', input, '--weights', fixture('lenet5_bn_half.pth'), '--json');
  assert.equal(strict.status, 1);
  assert.equal(strict.stdout, '');
  assert.match(strict.stderr, /^convstack: \S+lenet5_bn_half\.pth: the weights do not match the net:\n10 unexpected \(the weights have them, the net does not\):\n {2}'bn1\.weight' \(3\)\n/);
  assert.match(strict.stderr, /\n9 wrongly shaped:\n {2}'c1\.weight' has shape \(3, 1, 5, 5\), the net expects \(6, 1, 5, 5\)\n/);
  const partial = convstack('run', 'lenet5', input, '--weights', fixture('lenet5_bn_half.pth'), '--partial', '--json');
  assert.equal(partial.status, 0, partial.stderr);
  assert.match(partial.stderr, /^convstack: warning: \S+lenet5_bn_half\.pth: loaded 1 of the net's 10 tensors; left out:\n10 unexpected/);
  assert.deepEqual((JSON.parse(partial.stdout) as { shape: number[] }).shape, [2, 10]);
  const exact = convstack('run', 'lenet5', input, '--weights', fixture('lenet5.pth'), '--json');
  assert.equal(exact.status, 0, exact.stderr);
  assert.equal(exact.stderr, '');
});

test('convert refuses a pickle that names os.system: exit 1, one line naming it, nothing written', () => {
  const command = 'touch pwned';
  const pickle = new Uint8Array([0x80, 2, ...Buffer.from('cos\nsystem\nX'), command.length, 0, 0, 0, ...Buffer.from(command), 0x85, ...Buffer.from('R.')]);
  const evil = path.join(dir, 'evil.pth');
  writeFileSync(evil, zipSync({ 'evil/data.pkl': pickle, 'evil/version': new Uint8Array([0x33, 0x0a]) }, { level: 0 }));
  const outDir = mkdtempSync(path.join(tmpdir(), 'convstack-convert-out-'));
  const result = convstack('convert', evil, '--out', path.join(outDir, 'w.safetensors'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^convstack: \S+evil\.pth: evil\/data\.pkl: refuses the global 'os\.system': a state_dict names only [^\n]+\(pickle byte 2\)\n$/);
  assert.deepEqual(readdirSync(outDir), []);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('pwned')), []);
});
