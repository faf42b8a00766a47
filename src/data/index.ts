import { cifar10 } from './cifar10.js';
import type { DataSplits } from './dataset.js';
import { DataError } from './errors.js';
import { imageFolder } from './folder.js';
import { mnist } from './mnist.js';

export { ArrayDataset, stratifiedSplit, type Batch, type DataSplits, type Dataset } from './dataset.js';
export { batches, type BatchOptions } from './batches.js';
export { augment, channelStats, normalize, type Augmentation, type Normalization } from './augment.js';
export { loadMnistDigits, mnist } from './mnist.js';
export { CIFAR10_CLASSES, cifar10 } from './cifar10.js';
export { decodeImage, imageFolder } from './folder.js';
export { DataError } from './errors.js';

/**
 * Opens the data a CLI `--data` names: `mnist`, `cifar10:<dir>` or `folder:<dir>`. `shape` is the
 * net's input [C, H, W], to which folder images are resized.
 */
export async function openData(source: string, shape: readonly [number, number, number]): Promise<DataSplits> {
  if (source === 'mnist') return mnist();
  const colon = source.indexOf(':');
  const kind = colon < 0 ? source : source.slice(0, colon);
  const dir = source.slice(colon + 1);
  if (colon > 0 && dir.length > 0 && kind === 'cifar10') return cifar10(dir);
  if (colon > 0 && dir.length > 0 && kind === 'folder') return imageFolder(dir, { shape });
  throw new DataError(`unknown data '${source}' (use mnist, cifar10:<dir> or folder:<dir>)`);
}
