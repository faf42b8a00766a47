import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { cifar10 } from '../../src/data/cifar10.js';
import { ArrayDataset } from '../../src/data/dataset.js';
import { DataError } from '../../src/data/errors.js';
import { decodeImage } from '../../src/data/images.js';
import { SafetensorsError, formatSafetensors, parseSafetensors } from '../../src/io/safetensors.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { CheckpointError, loadCheckpoint } from '../../src/train/checkpoint.js';
import { train, type TrainConfig } from '../../src/train/loop.js';
import { ModelFileError, type ModelInfo } from '../../src/train/model_file.js';
import { checkReaderError, FUZZ_SEED, fuzzRuns, generator, mutateBytes, mutateText } from './mutate.js';

/**
 * Fuzzing the readers that take a path: checkpoints, CIFAR-10 batch files and images (through
 * sharp). Each mutant is written to a file and read back; the reader either accepts it or throws its
 * own error, on one line, naming the file. FUZZ_RUNS raises the counts (`npm run fuzz`).
 */
type ErrorType = abstract new (...args: never[]) => Error;

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-fuzz-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Writes each case to `file`, runs `reader` on it, and checks any error; returns the counts. */
async function fuzzFile(file: string, cases: Iterable<[string, Uint8Array]>, reader: () => Promise<unknown>, types: readonly ErrorType[]): Promise<{ tried: number; refused: number; slowestMs: number }> {
  let tried = 0;
  let refused = 0;
  let slowestMs = 0;
  for (const [what, bytes] of cases) {
    await writeFile(file, bytes);
    const started = performance.now();
    try {
      await reader();
    } catch (error) {
      checkReaderError(error, file, types, what);
      if (process.env['FUZZ_VERBOSE']) console.log(what, '->', (error as Error).message);
      refused++;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    tried++;
  }
  return { tried, refused, slowestMs };
}

function* byteMutants(seed: Uint8Array, runs: number, random: () => number, head = seed.length): Generator<[string, Uint8Array]> {
  for (let i = 0; i < runs; i++) yield [`mutant ${i}`, mutateBytes(seed, random, head)];
}

const TEXT = 'INPUT[4x4x1] -> CONV3-2(p=1) -> RELU -> FC-2';

test('checkpoints: mutated bytes and metadata (configuration, position, optimizer steps) are loaded or refused naming the file', async (t) => {
  const images = 8;
  const data = new ArrayDataset('tiny', [1, 4, 4], ['a', 'b'], Uint8Array.from({ length: images * 16 }, (_, i) => (i * 37) % 256), Uint8Array.from({ length: images }, (_, i) => i % 2));
  const info: ModelInfo = { spec: toNetSpec(TEXT), architecture: TEXT, classes: ['a', 'b'], normalization: { mean: [0.5], std: [0.25] } };
  const config: TrainConfig = { epochs: 1, batchSize: 4, optimizer: 'adam', optimizerOptions: { lr: 0.01 }, schedule: { kind: 'constant' }, loss: 'softmax', seed: 1, augmentation: {}, data: 'tiny' };
  const seedFile = path.join(dir, 'seed.checkpoint.safetensors');
  await train({ net: new Net(info.spec, { seed: 1 }), data: { train: data, test: data }, config, info, checkpoint: seedFile });
  const seed = new Uint8Array(await readFile(seedFile));
  const { tensors, metadata } = parseSafetensors(seed, seedFile);
  const random = generator(FUZZ_SEED + 10);
  const runs = fuzzRuns(150);
  function* metadataMutants(): Generator<[string, Uint8Array]> {
    const keys = ['train_config', 'train_state', 'optimizer_steps', 'architecture', 'classes'];
    for (let i = 0; i < runs; i++) {
      const key = keys[i % keys.length] as string;
      const changed = { ...metadata, [key]: mutateText(metadata[key] as string, random) };
      yield [`metadata mutant ${i}: ${key} = ${changed[key]}`, formatSafetensors(tensors, changed)];
    }
  }
  function* handMade(): Generator<[string, Uint8Array]> {
    const config = JSON.parse(metadata['train_config'] as string) as Record<string, unknown>;
    const state = JSON.parse(metadata['train_state'] as string) as Record<string, unknown>;
    const with_ = (key: string, value: unknown): Uint8Array => formatSafetensors(tensors, { ...metadata, [key]: JSON.stringify(value) });
    yield ['a batch size of 0', with_('train_config', { ...config, batchSize: 0 })];
    yield ['an unknown optimizer', with_('train_config', { ...config, optimizer: 'magic' })];
    yield ['a learning rate that is a string', with_('train_config', { ...config, optimizerOptions: { lr: '0.1' } })];
    yield ['a configuration that is a number', with_('train_config', 5)];
    yield ['a negative step', with_('train_state', { ...state, step: -1 })];
    yield ['generators missing', with_('train_state', { ...state, rng: {} })];
    yield ['a history that is not a list', with_('train_state', { ...state, history: 'none' })];
    yield ['optimizer steps that are not counts', with_('optimizer_steps', { 'conv1.weight': 'many' })];
    const { train_state: _, ...modelOnly } = metadata;
    yield ['a model file given as a checkpoint', formatSafetensors(tensors, modelOnly)];
  }
  const file = path.join(dir, 'fuzzed.checkpoint.safetensors');
  const types = [SafetensorsError, ModelFileError, CheckpointError];
  const hand = await fuzzFile(file, handMade(), () => loadCheckpoint(file), types);
  assert.equal(hand.refused, hand.tried, 'every hand-made checkpoint is refused');
  const byMetadata = await fuzzFile(file, metadataMutants(), () => loadCheckpoint(file), types);
  const headerEnd = 8 + Number(new DataView(seed.buffer, seed.byteOffset).getBigUint64(0, true));
  const byBytes = await fuzzFile(file, byteMutants(seed, fuzzRuns(150), random, headerEnd), () => loadCheckpoint(file), types);
  assert.ok(byMetadata.refused > byMetadata.tried / 3, `${byMetadata.refused} of ${byMetadata.tried} metadata mutants refused`);
  t.diagnostic(`checkpoints: ${hand.tried} hand-made, ${byMetadata.tried} metadata mutants (${byMetadata.refused} refused), ${byBytes.tried} byte mutants (${byBytes.refused} refused); slowest ${Math.max(hand.slowestMs, byMetadata.slowestMs, byBytes.slowestMs).toFixed(1)} ms`);
});

test('CIFAR-10 batch files: truncated, grown and bit-flipped files are read or refused naming the file', async (t) => {
  const folder = path.join(dir, 'cifar');
  await rm(folder, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(folder));
  const record = 3073;
  const batch = (n: number, label: number): Uint8Array => Uint8Array.from({ length: n * record }, (_, i) => (i % record === 0 ? label : (i * 7) % 256));
  for (let b = 1; b <= 5; b++) await writeFile(path.join(folder, `data_batch_${b}.bin`), batch(2, b));
  await writeFile(path.join(folder, 'test_batch.bin'), batch(2, 0));
  const target = path.join(folder, 'data_batch_3.bin');
  const seed = batch(3, 9);
  const random = generator(FUZZ_SEED + 11);
  function* cases(): Generator<[string, Uint8Array]> {
    yield ['an empty file', new Uint8Array(0)];
    yield ['one byte short', seed.subarray(0, seed.length - 1)];
    yield ['one byte more', Uint8Array.from([...seed, 0])];
    yield ['a label of 255', Uint8Array.from(seed, (b, i) => (i === record ? 255 : b))];
    yield* byteMutants(seed, fuzzRuns(120), random, 1);
  }
  const result = await fuzzFile(target, cases(), async () => {
    const { train } = await cifar10(folder);
    assert.equal(train.length, 11, 'a file that reads holds its three records');
  }, [DataError]);
  assert.ok(result.refused >= 4, `${result.refused} refused`);
  t.diagnostic(`CIFAR-10: ${result.tried} files (${result.refused} refused); slowest ${result.slowestMs.toFixed(1)} ms`);
});

/** A PNG's IHDR with another width and height, its CRC made right unless `badCrc`. */
function withPngSize(png: Uint8Array, width: number, height: number, badCrc = false): Uint8Array {
  const out = Uint8Array.from(png);
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  if (!badCrc) view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

test('images: truncated, bit-flipped and hand-made PNG and JPEG files decode or are refused naming the file', async (t) => {
  const raw = Buffer.from(Uint8Array.from({ length: 16 * 12 * 3 }, (_, i) => (i * 13) % 256));
  const image = () => sharp(raw, { raw: { width: 16, height: 12, channels: 3 } });
  const png = new Uint8Array(await image().png().toBuffer());
  const jpeg = new Uint8Array(await image().jpeg().toBuffer());
  const random = generator(FUZZ_SEED + 12);
  function* cases(): Generator<[string, Uint8Array]> {
    yield ['an empty file', new Uint8Array(0)];
    yield ['text named as an image', new TextEncoder().encode('not an image')];
    yield ['a PNG claiming 2^31 - 1 x 2^31 - 1 pixels', withPngSize(png, 0x7fffffff, 0x7fffffff)];
    yield ['a PNG claiming 60000 x 4000 pixels', withPngSize(png, 60000, 4000)];
    yield ['a PNG claiming 16000 x 16000 pixels, its CRC wrong', withPngSize(png, 16000, 16000, true)];
    yield ['a PNG claiming 0 x 0 pixels', withPngSize(png, 0, 0)];
    yield ['a JPEG cut after its header', jpeg.subarray(0, 200)];
    const runs = fuzzRuns(40);
    for (let i = 0; i < runs; i++) yield [`mutant ${i}`, mutateBytes(i % 2 === 0 ? png : jpeg, random, 64)];
  }
  const file = path.join(dir, 'fuzzed.png');
  const result = await fuzzFile(file, cases(), () => decodeImage(file, [3, 8, 8]), [DataError]);
  assert.ok(result.refused >= 5, `${result.refused} refused`);
  t.diagnostic(`images: ${result.tried} files (${result.refused} refused); slowest ${result.slowestMs.toFixed(1)} ms`);
});
