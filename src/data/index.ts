import { cifar10 } from './cifar10.js';
import type { DataSplits } from './dataset.js';
import { DataError, printWarning } from './errors.js';
import { imageFolder } from './folder.js';
import { mnist } from './mnist.js';
import { parseSubset, subsetData } from './subset.js';

export { ArrayDataset, stratifiedSplit, wholeDataset, type Batch, type DataSplits, type Dataset } from './dataset.js';
export { batches, type BatchOptions } from './batches.js';
export { augment, channelStats, normalize, type Augmentation, type Normalization } from './augment.js';
export { loadMnistDigits, mnist } from './mnist.js';
export { CIFAR10_CLASSES, cifar10 } from './cifar10.js';
export { DEFAULT_TEST_FRACTION, imageFolder, type ImageFolderOptions } from './folder.js';
export { decodeImage, decodeImages, IMAGE_EXTENSIONS, resizeNote, skippedImageMessage, UnreadableImageError, type DecodedImages } from './images.js';
export { DataError, printWarning } from './errors.js';
export { parseSubset, resolveClasses, subsetData, type SubsetOptions } from './subset.js';

/**
 * Opens the data a CLI `--data` names: `mnist`, `cifar10:<dir>` or `folder:<dir>`, where a flat
 * folder may say how much of each class to hold out: `folder:<dir>,holdout=0.1` (default 0.2).
 * `shape` is the net's input [C, H, W], to which folder images are resized; warnings (skipped or
 * resized images) go to `onWarning`, by default stderr. Any source may end with subset options
 * (`mnist,classes=5-9,per-class=20`: some classes, a few training images of each; see subset.ts).
 */
export async function openData(
  source: string,
  shape: readonly [number, number, number],
  { onWarning = printWarning }: { onWarning?: (message: string) => void } = {},
): Promise<DataSplits> {
  const { source: whole, subset } = parseSubset(source);
  const splits = await openWhole(whole, shape, onWarning);
  return subset === null ? splits : subsetData(splits, subset);
}

async function openWhole(source: string, shape: readonly [number, number, number], onWarning: (message: string) => void): Promise<DataSplits> {
  if (source === 'mnist') return mnist();
  const colon = source.indexOf(':');
  const kind = colon < 0 ? source : source.slice(0, colon);
  const dir = source.slice(colon + 1);
  if (colon > 0 && dir.length > 0 && kind === 'cifar10') return cifar10(dir);
  if (colon > 0 && dir.length > 0 && kind === 'folder') {
    const holdout = /^(.*),holdout=([^,]*)$/.exec(dir);
    if (holdout === null) return imageFolder(dir, { shape, onWarning });
    const fraction = Number(holdout[2]);
    if (!(holdout[2] !== '' && fraction > 0 && fraction < 1)) throw new DataError(`${source}: holdout must be a fraction between 0 and 1, such as 0.1`);
    return imageFolder(holdout[1] as string, { shape, testFraction: fraction, onWarning });
  }
  throw new DataError(`unknown data '${source}' (use mnist, cifar10:<dir> or folder:<dir>)`);
}
