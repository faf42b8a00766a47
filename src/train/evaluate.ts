import type { Dataset } from '../data/dataset.js';
import type { Normalization } from '../data/augment.js';
import { batches } from '../data/batches.js';
import type { Net } from '../net/net.js';
import type { Tensor } from '../tensor/tensor.js';

/** Accuracy of a net on a dataset. */
export interface Evaluation {
  accuracy: number;
  correct: number;
  total: number;
}

/** The index of the largest score in each row of scores (N, K). */
export function argmaxRows(scores: Tensor): Int32Array {
  const [n, k] = scores.shape as [number, number];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if ((scores.data[i * k + j] as number) > (scores.data[i * k + best] as number)) best = j;
    out[i] = best;
  }
  return out;
}

/** Runs the net in inference mode over the whole dataset and counts top-1 hits. */
export function evaluate(net: Net, dataset: Dataset, { batchSize = 256, normalization }: { batchSize?: number; normalization?: Normalization }): Evaluation {
  let correct = 0;
  for (const { x, labels } of batches(dataset, { batchSize, dtype: net.dtype, allocator: net.backend.allocator, ...(normalization && { normalization }) })) {
    const scores = net.forward(x);
    argmaxRows(scores).forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
    scores.dispose();
    x.dispose();
  }
  return { accuracy: dataset.length === 0 ? 0 : correct / dataset.length, correct, total: dataset.length };
}
