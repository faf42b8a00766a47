import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A labelled image set held in memory. Images are read one at a time into a caller's buffer as
 * [C, H, W] floats in [0, 1], so that byte-sized sources (CIFAR's 180 MB of pixels) stay bytes
 * until they are batched.
 */
export interface Dataset {
  /** Where the images came from, for messages: `mnist (train)`, `cifar10:/data (test)`. */
  readonly name: string;
  /** One image's shape, [C, H, W]. */
  readonly shape: readonly [number, number, number];
  /** Class names; labels index into this list. */
  readonly classes: readonly string[];
  /** How many images. */
  readonly length: number;
  /** The label of every image, in 0..classes.length - 1. */
  readonly labels: Uint8Array;
  /** Writes image `i` into `out` from `offset`, [C, H, W], values in [0, 1]. */
  read(i: number, out: Float32Array | Float64Array, offset: number): void;
}

/** A training set and the held-out set the loop evaluates on. */
export interface DataSplits {
  /** The images to train on. */
  train: Dataset;
  /** The held-out images, never trained on. */
  test: Dataset;
}

/**
 * A dataset over one pixel array: floats in [0, 1], or bytes in 0..255 (scaled on read). `indices`
 * selects and orders the images that belong to it, so splits share the pixels without copying.
 */
export class ArrayDataset implements Dataset {
  /** How many images (the length of `indices`). */
  readonly length: number;
  /** The label of each of this dataset's images, in its order. */
  readonly labels: Uint8Array;
  private readonly imageSize: number;
  private readonly scale: number;

  constructor(
    /** Where the images came from, for messages. */
    readonly name: string,
    /** One image's shape, [C, H, W]. */
    readonly shape: readonly [number, number, number],
    /** Class names; labels index into this list. */
    readonly classes: readonly string[],
    private readonly pixels: Float32Array | Uint8Array,
    private readonly allLabels: Uint8Array,
    private readonly indices: Uint32Array = Uint32Array.from(allLabels.keys()),
  ) {
    this.imageSize = shape[0] * shape[1] * shape[2];
    if (pixels.length !== allLabels.length * this.imageSize) {
      throw new RangeError(`${name}: ${pixels.length} pixel values for ${allLabels.length} images of ${this.imageSize}`);
    }
    this.scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
    this.length = indices.length;
    this.labels = Uint8Array.from(indices, (i) => allLabels[i] as number);
  }

  /** Writes image `i` into `out` from `offset`, [C, H, W], values in [0, 1]. */
  read(i: number, out: Float32Array | Float64Array, offset: number): void {
    const start = (this.indices[i] as number) * this.imageSize;
    for (let k = 0; k < this.imageSize; k++) out[offset + k] = (this.pixels[start + k] as number) * this.scale;
  }

  /** The images at `positions` (indices into this dataset), under a new name; the pixels are shared. */
  subset(name: string, positions: ArrayLike<number>): ArrayDataset {
    const indices = Uint32Array.from(positions, (j) => this.indices[j] as number);
    return new ArrayDataset(name, this.shape, this.classes, this.pixels, this.allLabels, indices);
  }
}

/**
 * Splits `dataset` into train and test so that each class keeps its share: each class gives
 * round(testSize * its share) images to the test split (largest remainders, so the total is exactly
 * `testSize`), chosen by a shuffle seeded with `seed`. Positions stay in dataset order within each split.
 */
export function stratifiedSplit(dataset: ArrayDataset, testSize: number, seed: number): DataSplits {
  if (!(Number.isInteger(testSize) && testSize > 0 && testSize < dataset.length)) {
    throw new RangeError(`${dataset.name}: cannot hold out ${testSize} of ${dataset.length} images`);
  }
  const byClass: number[][] = dataset.classes.map(() => []);
  dataset.labels.forEach((label, i) => byClass[label]?.push(i));
  const exact = byClass.map((members) => (members.length * testSize) / dataset.length);
  const quota = exact.map(Math.floor);
  let missing = testSize - quota.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => [e - Math.floor(e), c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of byRemainder) {
    if (missing-- <= 0) break;
    quota[c] = (quota[c] as number) + 1;
  }
  const rng = new Rng(seed);
  const isTest = new Uint8Array(dataset.length);
  byClass.forEach((members, c) => {
    for (const i of rng.shuffle([...members]).slice(0, quota[c])) isTest[i] = 1;
  });
  const train: number[] = [];
  const test: number[] = [];
  isTest.forEach((t, i) => (t ? test : train).push(i));
  const base = dataset.name;
  return { train: dataset.subset(`${base} (train)`, train), test: dataset.subset(`${base} (test)`, test) };
}

/** A batch of images (N, C, H, W), allocated with `Tensor.zeros` (the caller disposes it), and their labels. */
export interface Batch {
  /** The images, (N, C, H, W). */
  x: Tensor;
  /** The label of each image, N of them. */
  labels: Uint8Array;
}

/**
 * Both splits as one dataset, training images first: what `eval --split all` scores, e.g. a separate
 * folder of test images that was split like any flat folder. The splits must name the same classes.
 */
export function wholeDataset(splits: DataSplits, name: string): Dataset {
  const { train, test } = splits;
  if (train.classes.join('\n') !== test.classes.join('\n')) throw new RangeError(`${name}: the splits name different classes`);
  const labels = new Uint8Array(train.length + test.length);
  labels.set(train.labels);
  labels.set(test.labels, train.length);
  return {
    name,
    shape: train.shape,
    classes: train.classes,
    length: labels.length,
    labels,
    read: (i, out, offset) => (i < train.length ? train.read(i, out, offset) : test.read(i - train.length, out, offset)),
  };
}
