import type { Rng } from '../tensor/rng.js';
import { Tensor, type Allocator, type DType } from '../tensor/tensor.js';
import { augment, normalize, type Augmentation, type Normalization } from './augment.js';
import type { Batch, Dataset } from './dataset.js';

/** How `batches` assembles each batch. */
export interface BatchOptions {
  /** Images per batch; the last batch may be smaller. */
  batchSize: number;
  /**
   * Leave out the last batch when it is smaller than `batchSize` (PyTorch's DataLoader `drop_last`).
   * Training turns it on only when the last batch would hold one image and a BN layer would then see
   * one value per channel (src/train/last_batch.ts); evaluation never does.
   */
  dropLast?: boolean;
  /** The batch to start from (0-based): a run resumed within an epoch skips the batches it has trained on. */
  firstBatch?: number;
  /** The order to visit images in (positions in the dataset), e.g. a seeded shuffle; dataset order if absent. */
  order?: ArrayLike<number>;
  /** Training-time augmentation; needs `rng`. */
  augmentation?: Augmentation;
  /** The seeded generator augmentation draws from. */
  rng?: Rng;
  /** Applied to every image after augmentation. */
  normalization?: Normalization;
  /** The batches' element type (default float32). */
  dtype?: DType;
  /** Where each batch is allocated: the net's `backend.allocator`, so its kernels read it in place. Default: the JS heap. */
  allocator?: Allocator;
}

/** How many batches `batches` yields for `images` images. */
export function batchCount(images: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(images / batchSize) : Math.ceil(images / batchSize);
}

/**
 * Yields the dataset in batches of `batchSize` (the last one may be smaller, as PyTorch's
 * DataLoader without drop_last): each image is read, augmented, then normalised. Augmenting before
 * normalising makes the padding of a shift the images' own black. The caller disposes each `x`.
 * Skipped batches (`firstBatch`) are not read, so they draw nothing from the augmentation generator.
 */
export function* batches(dataset: Dataset, options: BatchOptions): Generator<Batch> {
  const { batchSize } = options;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`the batch size must be a positive integer, got ${batchSize}`);
  const order = options.order ?? Uint32Array.from({ length: dataset.length }, (_, i) => i);
  const firstBatch = options.firstBatch ?? 0;
  if (!(Number.isInteger(firstBatch) && firstBatch >= 0)) throw new RangeError(`the first batch must be a count, got ${firstBatch}`);
  const end = options.dropLast === true ? batchCount(order.length, batchSize, true) * batchSize : order.length;
  const aug = options.augmentation;
  const augmenting = aug !== undefined && ((aug.shift ?? 0) > 0 || aug.flip === true);
  if (augmenting && options.rng === undefined) throw new Error('augmentation needs a seeded generator');
  const [c, h, w] = dataset.shape;
  const size = c * h * w;
  const scratch = new Float64Array(size);
  for (let start = firstBatch * batchSize; start < end; start += batchSize) {
    const n = Math.min(batchSize, order.length - start);
    const x = Tensor.zeros([n, c, h, w], options.dtype ?? 'float32', options.allocator);
    const labels = new Uint8Array(n);
    for (let b = 0; b < n; b++) {
      const i = order[start + b] as number;
      dataset.read(i, x.data, b * size);
      labels[b] = dataset.labels[i] as number;
      if (augmenting) augment(x.data, b * size, dataset.shape, aug, options.rng as Rng, scratch);
      if (options.normalization) normalize(x.data, b * size, dataset.shape, options.normalization);
    }
    yield { x, labels };
  }
}
