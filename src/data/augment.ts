import type { Rng } from '../tensor/rng.js';
import type { Dataset } from './dataset.js';

/** Per-channel input normalisation, x' = (x - mean[c]) / std[c]; stored in model files. */
export interface Normalization {
  /** Per channel, subtracted first. */
  mean: number[];
  /** Per channel, divided by after. */
  std: number[];
}

/**
 * Training-time augmentation, drawn per image from a seeded generator. `shift` is torchvision's
 * RandomCrop(size, padding=shift) with zero fill: the image moves by up to `shift` pixels in each
 * direction (a random crop of the zero-padded image is exactly a random shift). `flip` mirrors half
 * the images left to right (not for digits).
 */
export interface Augmentation {
  /** The largest shift in pixels, in each direction (0 or absent: none). */
  shift?: number;
  /** Mirror half the images left to right. */
  flip?: boolean;
}

/** The mean and standard deviation of each channel over a whole dataset (its training split). */
export function channelStats(dataset: Dataset): Normalization {
  const [c, h, w] = dataset.shape;
  const plane = h * w;
  const image = new Float64Array(c * plane);
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let i = 0; i < dataset.length; i++) {
    dataset.read(i, image, 0);
    for (let ch = 0; ch < c; ch++) {
      for (let k = ch * plane; k < (ch + 1) * plane; k++) {
        const v = image[k] as number;
        sum[ch] = (sum[ch] as number) + v;
        sumSq[ch] = (sumSq[ch] as number) + v * v;
      }
    }
  }
  const n = dataset.length * plane;
  const mean = Array.from(sum, (s) => s / n);
  // A constant channel would divide by zero; 1 leaves it centred and unscaled.
  const std = Array.from(sumSq, (s, ch) => Math.sqrt(Math.max(s / n - (mean[ch] as number) ** 2, 0)) || 1);
  return { mean, std };
}

/** Normalises one [C, H, W] image in place at `offset`. */
export function normalize(data: Float32Array | Float64Array, offset: number, shape: readonly [number, number, number], norm: Normalization): void {
  const [c, h, w] = shape;
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    const mean = norm.mean[ch] ?? 0;
    const inv = 1 / (norm.std[ch] ?? 1);
    const start = offset + ch * plane;
    for (let k = start; k < start + plane; k++) data[k] = ((data[k] as number) - mean) * inv;
  }
}

/**
 * Applies a random shift and/or flip to one [C, H, W] image in place at `offset`. `scratch` holds a
 * copy of the image (at least C*H*W values). Draws, in this order: the vertical then horizontal shift
 * when `shift` > 0, then the flip when `flip`; so a run replays exactly from the generator's state.
 */
export function augment(
  data: Float32Array | Float64Array,
  offset: number,
  shape: readonly [number, number, number],
  aug: Augmentation,
  rng: Rng,
  scratch: Float32Array | Float64Array,
): void {
  const [c, h, w] = shape;
  const s = aug.shift ?? 0;
  const dy = s > 0 ? rng.int(2 * s + 1) - s : 0;
  const dx = s > 0 ? rng.int(2 * s + 1) - s : 0;
  const flip = aug.flip === true && rng.next() < 0.5;
  if (dy === 0 && dx === 0 && !flip) return;
  const size = c * h * w;
  scratch.set(data.subarray(offset, offset + size));
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      const row = offset + (ch * h + y) * w;
      for (let x = 0; x < w; x++) {
        // Output pixel x shows source pixel sx of the shifted (then mirrored) image; outside is padding.
        const sx = (flip ? w - 1 - x : x) - dx;
        data[row + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? (scratch[(ch * h + sy) * w + sx] as number) : 0;
      }
    }
  }
}
