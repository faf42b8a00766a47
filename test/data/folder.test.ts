import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { DataError } from '../../src/data/errors.js';
import { decodeImage, imageFolder } from '../../src/data/folder.js';
import { openData } from '../../src/data/index.js';

/** A solid w x h image of one colour, written as PNG or JPEG. */
async function writeImage(file: string, colour: { r: number; g: number; b: number }, w = 12, h = 8): Promise<void> {
  const image = sharp({ create: { width: w, height: h, channels: 3, background: colour } });
  await (file.endsWith('.png') ? image.png() : image.jpeg({ quality: 100 })).toFile(file);
}

let root = '';
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'convstack-folder-'));
  const flat = path.join(root, 'flat');
  for (const [cls, colour] of [['red', { r: 255, g: 0, b: 0 }], ['blue', { r: 0, g: 0, b: 255 }]] as const) {
    await mkdir(path.join(flat, cls), { recursive: true });
    for (let i = 0; i < 5; i++) await writeImage(path.join(flat, cls, `${i}.${i % 2 ? 'png' : 'jpg'}`), colour);
    await writeFile(path.join(flat, cls, 'notes.txt'), 'not an image');
  }
  for (const split of ['train', 'test']) {
    await mkdir(path.join(root, 'split', split, 'a'), { recursive: true });
    await mkdir(path.join(root, 'split', split, 'b'), { recursive: true });
    await writeImage(path.join(root, 'split', split, 'a', 'x.png'), { r: 10, g: 10, b: 10 });
    await writeImage(path.join(root, 'split', split, 'b', 'y.png'), { r: 200, g: 200, b: 200 });
  }
});
after(() => rm(root, { recursive: true, force: true }));

test('decodes PNG and JPEG, resized to the net input, as [C, H, W] planes', async () => {
  const rgb = await decodeImage(path.join(root, 'flat', 'red', '0.jpg'), [3, 4, 4]);
  assert.equal(rgb.length, 48);
  assert.ok(rgb.subarray(0, 16).every((v) => v > 250), 'the red plane is full');
  assert.ok(rgb.subarray(16).every((v) => v < 5), 'green and blue are empty');
  const grey = await decodeImage(path.join(root, 'flat', 'blue', '1.png'), [1, 6, 6]);
  assert.equal(grey.length, 36);
  assert.ok(grey.every((v) => v === grey[0] && v > 0 && v < 128), `blue is a dark grey (${grey[0]})`);
});

test('a flat folder: classes from sub-folders (sorted), a stratified held-out split, non-images ignored', async () => {
  const { train, test: held } = await imageFolder(path.join(root, 'flat'), { shape: [3, 8, 8] });
  assert.deepEqual(train.classes, ['blue', 'red']);
  assert.equal(train.length + held.length, 10);
  assert.deepEqual([...held.labels].sort(), [0, 1]);
  const image = new Float32Array(192);
  for (let i = 0; i < train.length; i++) {
    train.read(i, image, 0);
    const redOn = (image[0] as number) > 0.9;
    assert.equal(redOn, train.labels[i] === 1, `image ${i} matches its label`);
  }
});

test('a folder with train/ and test/ uses them', async () => {
  const { train, test: held } = await imageFolder(path.join(root, 'split'), { shape: [1, 4, 4] });
  assert.deepEqual([...train.labels], [0, 1]);
  assert.deepEqual([...held.labels], [0, 1]);
  assert.deepEqual(held.classes, ['a', 'b']);
});

test('errors name the folder or file: missing folder, no classes, empty class, unreadable image', async () => {
  const shape = [3, 8, 8] as const;
  const missing = path.join(root, 'nope');
  await assert.rejects(imageFolder(missing, { shape }), (e: unknown) => e instanceof DataError && e.message === `${missing}: no such folder`);
  const noClasses = path.join(root, 'empty');
  await mkdir(noClasses);
  await assert.rejects(imageFolder(noClasses, { shape }), new RegExp(`${noClasses}: no class folders`));
  const emptyClass = path.join(root, 'emptyclass');
  await mkdir(path.join(emptyClass, 'cat'), { recursive: true });
  await mkdir(path.join(emptyClass, 'dog'), { recursive: true });
  await writeImage(path.join(emptyClass, 'cat', 'a.png'), { r: 1, g: 2, b: 3 });
  await writeFile(path.join(emptyClass, 'dog', 'readme.md'), '');
  await assert.rejects(imageFolder(emptyClass, { shape }), new RegExp(`${path.join(emptyClass, 'dog')}: class folder has no PNG or JPEG images \\(nor WebP, GIF or TIFF\\)`));
  const broken = path.join(root, 'broken');
  await mkdir(path.join(broken, 'cat'), { recursive: true });
  await writeFile(path.join(broken, 'cat', 'bad.png'), 'this is not a PNG');
  const warnings: string[] = [];
  await assert.rejects(
    imageFolder(broken, { shape, onWarning: (m) => warnings.push(m) }),
    (e: unknown) => e instanceof DataError && e.message.startsWith(`${broken}: none of its one image could be decoded; ${path.join(broken, 'cat', 'bad.png')}: cannot decode image (`),
  );
  assert.deepEqual(warnings, [], 'one error, not a warning as well');
});

/** A solid image in any format sharp writes: the extension picks it. */
async function writeAny(file: string, colour: { r: number; g: number; b: number }, w = 8, h = 8): Promise<void> {
  const image = sharp({ create: { width: w, height: h, channels: 3, background: colour } });
  const ext = path.extname(file);
  await (ext === '.webp' ? image.webp({ lossless: true }) : ext === '.gif' ? image.gif() : ext === '.tif' ? image.tiff() : image.png()).toFile(file);
}

test('training reads every format predict reads (WebP, GIF, TIFF); hidden folders and files are not classes or images', async () => {
  const dir = path.join(root, 'formats');
  for (const [cls, colour] of [['dark', { r: 0, g: 0, b: 0 }], ['light', { r: 255, g: 255, b: 255 }]] as const) {
    await mkdir(path.join(dir, cls), { recursive: true });
    for (const ext of ['.png', '.webp', '.gif', '.tif']) await writeAny(path.join(dir, cls, `a${ext}`), colour);
    await writeAny(path.join(dir, cls, '._a.png'), { r: 128, g: 128, b: 128 });
  }
  await mkdir(path.join(dir, '.ipynb_checkpoints'), { recursive: true });
  await writeAny(path.join(dir, '.ipynb_checkpoints', 'x.png'), { r: 1, g: 1, b: 1 });
  const { train, test: held } = await imageFolder(dir, { shape: [1, 8, 8], testFraction: 0.25 });
  assert.deepEqual(train.classes, ['dark', 'light']);
  assert.equal(train.length + held.length, 8, 'four formats in each of two classes, hidden files left out');
  const image = new Float32Array(64);
  for (const set of [train, held]) {
    for (let i = 0; i < set.length; i++) {
      set.read(i, image, 0);
      assert.equal(image[0], set.labels[i] === 0 ? 0 : 1, `${set.name} image ${i} is its class's colour`);
    }
  }
});

test('a corrupt image is skipped with a warning naming it; the others are read', async () => {
  const dir = path.join(root, 'corrupt');
  for (const cls of ['a', 'b']) {
    await mkdir(path.join(dir, cls), { recursive: true });
    for (let i = 0; i < 3; i++) await writeAny(path.join(dir, cls, `${i}.png`), { r: 9, g: 9, b: 9 });
  }
  const truncated = path.join(dir, 'b', 'truncated.jpg');
  await writeFile(truncated, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
  const warnings: string[] = [];
  const { train, test: held } = await imageFolder(dir, { shape: [3, 8, 8], onWarning: (m) => warnings.push(m) });
  assert.equal(train.length + held.length, 6);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, new RegExp(`^skipped ${truncated}: cannot decode image \\(.+\\)$`));
});

test('splits: validation/ is a test split; train/ alone is an error; a flat folder holds out the fraction asked for', async () => {
  const dir = path.join(root, 'validation');
  for (const split of ['train', 'validation']) {
    for (const cls of ['x', 'y']) {
      await mkdir(path.join(dir, split, cls), { recursive: true });
      await writeAny(path.join(dir, split, cls, '0.png'), { r: 0, g: 0, b: 0 });
    }
  }
  const splits = await imageFolder(dir, { shape: [1, 8, 8] });
  assert.equal(splits.test.name, `folder:${dir} (validation)`);
  assert.deepEqual([splits.train.length, splits.test.length], [2, 2]);
  const lonely = path.join(root, 'lonely');
  await mkdir(path.join(lonely, 'train', 'x'), { recursive: true });
  await assert.rejects(imageFolder(lonely, { shape: [1, 8, 8] }), /has train\/ but no test\/, val\/, validation\/ beside it/);
  const flat = path.join(root, 'flat');
  const tenth = await openData(`folder:${flat},holdout=0.1`, [3, 8, 8], { onWarning: () => {} });
  assert.deepEqual([tenth.train.length, tenth.test.length], [9, 1]);
  const half = await openData(`folder:${flat},holdout=0.5`, [3, 8, 8], { onWarning: () => {} });
  assert.deepEqual([half.train.length, half.test.length], [5, 5]);
  await assert.rejects(openData(`folder:${flat},holdout=1.5`, [3, 8, 8]), /holdout must be a fraction between 0 and 1/);
});

test('images resized to the net input are reported, with the INPUT that would keep their size', async () => {
  const dir = path.join(root, 'big');
  for (const cls of ['p', 'q']) {
    await mkdir(path.join(dir, cls), { recursive: true });
    for (let i = 0; i < 3; i++) await writeAny(path.join(dir, cls, `${i}.png`), { r: 50, g: 50, b: 50 }, 64, 64);
  }
  const warnings: string[] = [];
  await imageFolder(dir, { shape: [3, 32, 32], onWarning: (m) => warnings.push(m) });
  assert.deepEqual(warnings, [
    `folder:${dir}: 6 images resized to the net's 32x32 input (HxW: 6 of 64x64); a net with INPUT[64x64x3] (or --input 64x64x3) would take them at their size`,
  ]);
  const wide: string[] = [];
  await imageFolder(path.join(root, 'flat'), { shape: [3, 8, 8], onWarning: (m) => wide.push(m) });
  assert.match(wide[0] ?? '', /10 images resized to the net's 8x8 input \(HxW: 10 of 8x12\), centre-cropped where their shape differs/);
  const none: string[] = [];
  await imageFolder(path.join(root, 'flat'), { shape: [3, 8, 12], onWarning: (m) => none.push(m) });
  assert.deepEqual(none, [], 'images of the input size are not mentioned');
});
