import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { DataError } from '../../src/data/errors.js';
import { decodeImage, imageFolder } from '../../src/data/folder.js';

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
  await assert.rejects(imageFolder(emptyClass, { shape }), new RegExp(`${path.join(emptyClass, 'dog')}: class folder has no PNG or JPEG images`));
  const broken = path.join(root, 'broken');
  await mkdir(path.join(broken, 'cat'), { recursive: true });
  await writeFile(path.join(broken, 'cat', 'bad.png'), 'this is not a PNG');
  await assert.rejects(imageFolder(broken, { shape }), new RegExp(`${path.join(broken, 'cat', 'bad.png')}: cannot decode image`));
});
