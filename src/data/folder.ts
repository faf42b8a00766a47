import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ArrayDataset, stratifiedSplit, type DataSplits } from './dataset.js';
import { DataError, printWarning } from './errors.js';
import { decodeImages, isImageName, resizeNote, skippedImageMessage, UnreadableImageError } from './images.js';

export { decodeImage, IMAGE_EXTENSIONS, UnreadableImageError } from './images.js';

/** The share of a flat folder's images held out for testing, per class, unless the caller says otherwise. */
export const DEFAULT_TEST_FRACTION = 0.2;
/** Folder names taken as the held-out split beside `train/`, in order of preference. */
const TEST_SPLITS = ['test', 'val', 'validation'];

/** How `imageFolder` reads a folder. */
export interface ImageFolderOptions {
  /** The net's input [C, H, W]; every image is resized to it. */
  shape: readonly [number, number, number];
  /** For a flat folder: the share of each class held out for testing (default 0.2). */
  testFraction?: number;
  /** For a flat folder: seeds the choice of held-out images (default 0, the same split every run). */
  splitSeed?: number;
  /** Receives each warning (a skipped image, resized images); default: printed on stderr. */
  onWarning?: (message: string) => void;
}

/**
 * An image folder: one sub-folder per class (named by it, sorted), holding PNG, JPEG, WebP, GIF or
 * TIFF files, decoded and resized to `shape`. A folder with `train/` and `test/` (or `val/` or
 * `validation/`) sub-folders, each laid out that way, gives those splits; otherwise `testFraction` of
 * each class is held out, chosen with `splitSeed`. Hidden folders and files (`.ipynb_checkpoints`)
 * are not classes or images; an image that does not decode is skipped with a warning naming it.
 */
export async function imageFolder(dir: string, options: ImageFolderOptions): Promise<DataSplits> {
  const { shape, testFraction = DEFAULT_TEST_FRACTION, splitSeed = 0, onWarning = printWarning } = options;
  if (!(testFraction > 0 && testFraction < 1)) throw new DataError(`${dir}: the held-out fraction must be between 0 and 1, got ${testFraction}`);
  const top = await subfolders(dir);
  const testName = TEST_SPLITS.find((name) => top.includes(name));
  if (top.includes('train')) {
    if (testName === undefined) throw new DataError(`${dir}: has train/ but no ${TEST_SPLITS.map((s) => `${s}/`).join(', ')} beside it to test on`);
    const train = await readClasses(path.join(dir, 'train'), shape, null, `folder:${dir} (train)`, onWarning);
    const test = await readClasses(path.join(dir, testName), shape, train.classes, `folder:${dir} (${testName})`, onWarning);
    return { train, test };
  }
  if (testName !== undefined) throw new DataError(`${dir}: has ${testName}/ but no train/ beside it`);
  const all = await readClasses(dir, shape, null, `folder:${dir}`, onWarning);
  const testSize = Math.max(1, Math.round(all.length * testFraction));
  if (testSize >= all.length) throw new DataError(`${dir}: ${all.length} images are too few to hold out a test split`);
  return stratifiedSplit(all, testSize, splitSeed);
}

/** The visible sub-folders of `dir`, sorted; a clear error if `dir` is not a readable folder. */
async function subfolders(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${dir}: no such folder` : code === 'ENOTDIR' ? `${dir}: not a folder` : `${dir}: cannot read (${code ?? String(error)})`);
  }
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/** Reads every class folder under `dir`; with `classes`, only those names are allowed (a test split). */
async function readClasses(
  dir: string,
  shape: readonly [number, number, number],
  classes: readonly string[] | null,
  name: string,
  onWarning: (message: string) => void,
): Promise<ArrayDataset> {
  const found = await subfolders(dir);
  if (found.length === 0) throw new DataError(`${dir}: no class folders (expected one sub-folder of images per class)`);
  const unknown = classes === null ? undefined : found.find((c) => !classes.includes(c));
  if (unknown !== undefined) throw new DataError(`${path.join(dir, unknown)}: class '${unknown}' is not among the training classes (${(classes ?? []).join(', ')})`);
  const files: { file: string; label: number }[] = [];
  const names = classes ?? found;
  for (const cls of found) {
    const classDir = path.join(dir, cls);
    const images = (await fs.readdir(classDir, { withFileTypes: true }))
      .filter((e) => e.isFile() && isImageName(e.name))
      .map((e) => e.name)
      .sort();
    if (images.length === 0) throw new DataError(`${classDir}: class folder has no PNG or JPEG images (nor WebP, GIF or TIFF)`);
    for (const image of images) files.push({ file: path.join(classDir, image), label: names.indexOf(cls) });
  }
  const skipped: UnreadableImageError[] = [];
  const decoded = await decodeImages(files.map((f) => f.file), shape, (error) => skipped.push(error));
  const kept = files.flatMap((f, i) => (decoded.pixels[i] === null ? [] : [{ ...f, pixels: decoded.pixels[i] as Uint8Array }]));
  // NOTE: when nothing decodes, one error says so (naming a file) rather than a warning per file.
  if (kept.length === 0) {
    throw new DataError(`${dir}: none of its ${files.length === 1 ? 'one image' : `${files.length} images`} could be decoded; ${(skipped[0] as UnreadableImageError).message}`);
  }
  for (const error of skipped) onWarning(skippedImageMessage(error));
  const note = resizeNote(name, decoded.sizes, shape);
  if (note !== null) onWarning(note);
  const size = shape[0] * shape[1] * shape[2];
  const pixels = new Uint8Array(kept.length * size);
  kept.forEach((image, k) => pixels.set(image.pixels, k * size));
  return new ArrayDataset(name, shape, names, pixels, Uint8Array.from(kept, (f) => f.label));
}
