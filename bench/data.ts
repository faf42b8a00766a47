import { mnist } from '../src/data/index.js';
import { Rng } from '../src/tensor/rng.js';
import type { Workload } from './workloads.js';

/** A workload's input batches as plain arrays, NCHW, shared by every peer. */
export interface Batches {
  images: Float32Array[];
  labels: Int32Array[];
  /** [N, C, H, W] */
  shape: [number, number, number, number];
}

/** Batches for a workload: MNIST digits in order for W4, seeded random values otherwise. */
export function makeBatches(w: Workload, count: number): Batches {
  const [c, h, wd] = w.spec.input as [number, number, number];
  const shape: [number, number, number, number] = [w.batch, c, h, wd];
  const size = w.batch * c * h * wd;
  const images: Float32Array[] = [];
  const labels: Int32Array[] = [];
  if (w.mnist) {
    const train = mnist().train;
    for (let b = 0; b < count; b++) {
      const x = new Float32Array(size);
      const y = new Int32Array(w.batch);
      for (let i = 0; i < w.batch; i++) {
        const index = (b * w.batch + i) % train.length;
        train.read(index, x, i * c * h * wd);
        y[i] = train.labels[index] as number;
      }
      images.push(x);
      labels.push(y);
    }
    return { images, labels, shape };
  }
  const rng = new Rng(7);
  for (let b = 0; b < count; b++) {
    images.push(Float32Array.from({ length: size }, () => rng.next()));
    labels.push(Int32Array.from({ length: w.batch }, () => rng.int(10)));
  }
  return { images, labels, shape };
}
