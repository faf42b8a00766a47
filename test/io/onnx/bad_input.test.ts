import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxError } from '../../../src/io/onnx/errors.js';
import { importOnnxFile } from '../../../src/io/onnx/file.js';
import { importOnnx } from '../../../src/io/onnx/import.js';
import { TensorProto_DataLocation } from '../../../src/io/onnx/onnx_pb.js';
import { convstack } from '../../helpers/cli.js';
import { floatTensor, onnxModel, type TensorInit } from '../../helpers/onnx_model.js';

// Bad ONNX files (issue 13): a one-line OnnxError naming the file and what is wrong, no allocation the
// file's size does not justify, external data only inside the model's folder, and from the CLI exit 1
// with nothing written.

const dir = mkdtempSync(join(tmpdir(), 'convstack-onnx-'));

/** A Conv of a 2x4x4 image by one 2x3x3 filter; `weight` replaces the filter's initializer. */
function convModel(weight: TensorInit = {}, opType = 'Conv'): Uint8Array {
  const filter = { ...floatTensor('w', [1, 2, 3, 3], new Float32Array(18).fill(0.5)), ...weight };
  return onnxModel([{ opType, name: 'conv0', input: ['x', 'w'], output: ['y'] }], [filter], [1, 2, 4, 4], [1, 1, 2, 2]);
}

/** Asserts `f` throws one line of OnnxError containing every `parts`. */
function refuses(f: () => unknown, ...parts: string[]): void {
  assert.throws(f, (e: unknown) => e instanceof OnnxError && !e.message.includes('\n') && parts.every((p) => e.message.includes(p)), parts.join(' '));
}

test('a good model imports (the cases below differ from it in one thing)', () => {
  const { spec, weights } = importOnnx(convModel(), { file: 'good.onnx' });
  assert.deepEqual(spec.nodes.map((n) => n.op), ['conv']);
  assert.deepEqual([...weights.keys()], ['conv0.weight']);
});

test('truncated and bit-flipped files are one-line errors naming the file', () => {
  const good = convModel();
  for (const cut of [1, 7, 20, good.length - 3]) refuses(() => importOnnx(good.subarray(0, cut), { file: 'cut.onnx' }), 'cut.onnx');
  for (let i = 0; i < good.length; i += 5) {
    const flipped = good.slice();
    flipped[i] = (flipped[i] as number) ^ 0x5a;
    try {
      importOnnx(flipped, { file: 'flip.onnx' });
    } catch (error) {
      assert.ok(error instanceof OnnxError && error.message.startsWith('flip.onnx') && !error.message.includes('\n'), `byte ${i}: ${(error as Error).stack}`);
    }
  }
});

test('a tensor whose shape asks for more values than its bytes hold is refused before anything is allocated', () => {
  refuses(() => importOnnx(convModel({ dims: [1n << 40n, 1n << 40n] }), { file: 'huge.onnx' }), 'huge.onnx', "initializer 'w'", 'bytes of data for shape');
  refuses(() => importOnnx(convModel({ dims: [1n, 2n, 3n, 4n] }), { file: 'short.onnx' }), 'short.onnx', '72 bytes of data for shape [1, 2, 3, 4], which needs 96');
  refuses(() => importOnnx(convModel({ dims: [-1n, 2n, 3n, 3n] }), { file: 'neg.onnx' }), 'neg.onnx', 'invalid dimensions');
  refuses(() => importOnnx(convModel({ rawData: new Uint8Array(), floatData: [1, 2] }), { file: 'typed.onnx' }), 'typed.onnx', '2 values for shape [1, 2, 3, 3], which holds 18');
});

test('an op convstack does not import is an error naming the op type, the node and the opset', () => {
  refuses(() => importOnnx(convModel({}, 'ConvTranspose'), { file: 'op.onnx' }), "op.onnx: ConvTranspose node 'conv0' (opset 13): this op is not supported");
});

test('external data stays inside the model\'s folder: no .., no absolute path, no symlink out, no offset past the file', () => {
  const outside = mkdtempSync(join(tmpdir(), 'convstack-outside-'));
  writeFileSync(join(outside, 'w.bin'), new Uint8Array(72));
  const folder = join(dir, 'model');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'w.bin'), new Uint8Array(new Float32Array(18).fill(0.25).buffer));
  symlinkSync(join(outside, 'w.bin'), join(folder, 'link.bin'));
  const external = (location: string, extra: [string, string][] = []) =>
    convModel({ rawData: new Uint8Array(), dataLocation: TensorProto_DataLocation.EXTERNAL, externalData: [{ key: 'location', value: location }, ...extra.map(([key, value]) => ({ key, value }))] });
  const write = (name: string, bytes: Uint8Array): string => {
    const file = join(folder, name);
    writeFileSync(file, bytes);
    return file;
  };
  return (async () => {
    const ok = await importOnnxFile(write('ok.onnx', external('w.bin')));
    assert.equal(ok.weights.get('conv0.weight')?.data[0], 0.25);
    for (const [location, reason] of [
      ['../w.bin', "'..' leads out"],
      [join(outside, 'w.bin'), 'an absolute path'],
      ['link.bin', 'a symlink that leads out'],
      ['missing.bin', 'no such file'],
    ] as const) {
      const file = write('bad.onnx', external(location));
      await assert.rejects(importOnnxFile(file), (e: unknown) => e instanceof OnnxError && e.message.startsWith(file) && e.message.includes(reason), location);
    }
    const past = write('past.onnx', external('w.bin', [['offset', '8']]));
    await assert.rejects(importOnnxFile(past), /offset 8 and length 64 reach|64 bytes of data/);
    const long = write('long.onnx', external('w.bin', [['length', '1000']]));
    await assert.rejects(importOnnxFile(long), /reach past the file's 72 bytes/);
  })();
});

test('convstack import of a bad file: one line naming it, exit 1, nothing written', () => {
  const file = join(dir, 'bad.onnx');
  writeFileSync(file, convModel({ dims: [1n, 2n, 3n, 4n] }));
  const out = join(dir, 'out.safetensors');
  const result = convstack('import', file, '--out', out);
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`^convstack: ${file}: .*which needs 96\\n$`));
  assert.equal(existsSync(out), false);
});

test('a binary file is never parsed as notation: ONNX runs as its net, other binaries are named for what they are', () => {
  const file = join(dir, 'good.onnx');
  writeFileSync(file, convModel());
  const summary = convstack('summary', file);
  assert.equal(summary.status, 0, summary.stderr);
  assert.match(summary.stdout, /1  CONV3-1\(p=0, bias=no, floor\)  conv1  \[2x2x1\]/);
  const npy = join(dir, 'x.npy');
  writeFileSync(npy, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY\x01\x00')]));
  const zip = join(dir, 'w.pth');
  writeFileSync(zip, Buffer.from('PK\x03\x04rest'));
  for (const [path, kind] of [[npy, 'a .npy array'], [zip, "a zip archive \\(PyTorch's .pth\\)"]] as const) {
    const result = convstack('summary', path);
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`${path}: ${kind}, not notation text`));
  }
  assert.ok(readFileSync(file).length > 0);
});
