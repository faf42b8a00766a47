import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ArrayDataset, stratifiedSplit, type DataSplits } from './dataset.js';
import { DataError } from './errors.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
/** Images decoded at once; sharp decodes on libuv's thread pool, so a few in flight keep it busy. */
const PARALLEL_DECODES = 8;

/**
 * Decodes a PNG or JPEG to [C, H, W] bytes: resized to cover H x W (aspect kept, centre cropped),
 * transparency flattened onto black, converted to grey (C = 1) or sRGB (C = 3).
 */
export async function decodeImage(file: string, shape: readonly [number, number, number]): Promise<Uint8Array> {
  const [c, h, w] = shape;
  if (c !== 1 && c !== 3) throw new DataError(`${file}: images can be read for 1 or 3 input channels, the net takes ${c}`);
  let raw: { data: Uint8Array; info: { width: number; height: number; channels: number } };
  try {
    raw = await sharp(file)
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .resize(w, h, { fit: 'cover' })
      .toColourspace(c === 1 ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new DataError(`${file}: cannot decode image (${(error as Error).message})`);
  }
  if (raw.info.channels !== c || raw.info.width !== w || raw.info.height !== h) {
    throw new DataError(`${file}: decoded to ${raw.info.width}x${raw.info.height}x${raw.info.channels}, expected ${w}x${h}x${c}`);
  }
  // sharp gives interleaved (H, W, C); the engine wants planes (C, H, W).
  const out = new Uint8Array(c * h * w);
  for (let i = 0; i < h * w; i++) for (let ch = 0; ch < c; ch++) out[ch * h * w + i] = raw.data[i * c + ch] as number;
  return out;
}

/**
 * An image folder: one sub-folder per class (named by it, sorted), holding PNG or JPEG files,
 * decoded and resized to `shape`. A folder with `train/` and `test/` (or `val/`) sub-folders,
 * each laid out that way, gives those splits; otherwise `testFraction` of each class is held out,
 * chosen with `splitSeed`.
 */
export async function imageFolder(
  dir: string,
  { shape, testFraction = 0.2, splitSeed = 0 }: { shape: readonly [number, number, number]; testFraction?: number; splitSeed?: number },
): Promise<DataSplits> {
  const top = await subfolders(dir);
  const testName = top.includes('test') ? 'test' : top.includes('val') ? 'val' : null;
  if (top.includes('train') && testName !== null) {
    const train = await readClasses(path.join(dir, 'train'), shape, null, `folder:${dir} (train)`);
    const test = await readClasses(path.join(dir, testName), shape, train.classes, `folder:${dir} (${testName})`);
    return { train, test };
  }
  const all = await readClasses(dir, shape, null, `folder:${dir}`);
  const testSize = Math.max(1, Math.round(all.length * testFraction));
  if (testSize >= all.length) throw new DataError(`${dir}: ${all.length} images are too few to hold out a test split`);
  return stratifiedSplit(all, testSize, splitSeed);
}

/** The sub-folders of `dir`, sorted; a clear error if `dir` is not a readable folder. */
async function subfolders(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${dir}: no such folder` : code === 'ENOTDIR' ? `${dir}: not a folder` : `${dir}: cannot read (${code ?? String(error)})`);
  }
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Reads every class folder under `dir`; with `classes`, only those names are allowed (a test split). */
async function readClasses(dir: string, shape: readonly [number, number, number], classes: readonly string[] | null, name: string): Promise<ArrayDataset> {
  const found = await subfolders(dir);
  if (found.length === 0) throw new DataError(`${dir}: no class folders (expected one sub-folder of PNG or JPEG images per class)`);
  const unknown = classes === null ? undefined : found.find((c) => !classes.includes(c));
  if (unknown !== undefined) throw new DataError(`${path.join(dir, unknown)}: class '${unknown}' is not among the training classes (${(classes ?? []).join(', ')})`);
  const files: { file: string; label: number }[] = [];
  const names = classes ?? found;
  for (const cls of found) {
    const classDir = path.join(dir, cls);
    const images = (await fs.readdir(classDir, { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    if (images.length === 0) throw new DataError(`${classDir}: class folder has no PNG or JPEG images`);
    for (const image of images) files.push({ file: path.join(classDir, image), label: names.indexOf(cls) });
  }
  const size = shape[0] * shape[1] * shape[2];
  const pixels = new Uint8Array(files.length * size);
  for (let start = 0; start < files.length; start += PARALLEL_DECODES) {
    const chunk = files.slice(start, start + PARALLEL_DECODES);
    const decoded = await Promise.all(chunk.map(({ file }) => decodeImage(file, shape)));
    decoded.forEach((image, k) => pixels.set(image, (start + k) * size));
  }
  return new ArrayDataset(name, shape, names, pixels, Uint8Array.from(files, (f) => f.label));
}
