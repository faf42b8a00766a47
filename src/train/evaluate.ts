import type { Dataset } from '../data/dataset.js';
import type { Normalization } from '../data/augment.js';
import { batches } from '../data/batches.js';
import type { Net } from '../net/net.js';
import type { Tensor } from '../tensor/tensor.js';

/** Accuracy of a net on a dataset. */
export interface Evaluation {
  /** correct / total; 0 for an empty dataset. */
  accuracy: number;
  /** Images whose top-scoring class is their label. */
  correct: number;
  /** Images scored. */
  total: number;
}

/** How `evaluate` scores a dataset. */
export interface EvaluateOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /** The normalisation the net was trained with; applied to every image. */
  normalization?: Normalization;
  /**
   * The net's class names, in score order. When given, an image counts as correct when the name of
   * the top class is the name of its label, so a dataset whose classes are ordered differently, or
   * are a subset, scores right (see `classIndices`); without it, labels are taken as score positions.
   */
  classes?: readonly string[];
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

/**
 * Where each of the dataset's classes is among the net's, by name: `result[label]` is the score
 * position of that label's class. A class the net does not know is an error listing both sets.
 */
export function classIndices(netClasses: readonly string[], dataClasses: readonly string[], dataName: string): Int32Array {
  const unknown = dataClasses.filter((name) => !netClasses.includes(name));
  if (unknown.length > 0) {
    throw new RangeError(
      `${dataName} has ${unknown.length === 1 ? 'a class' : 'classes'} the model does not know (${unknown.join(', ')}); ` +
        `the model's classes: ${netClasses.join(', ')}; the data's: ${dataClasses.join(', ')}`,
    );
  }
  return Int32Array.from(dataClasses, (name) => netClasses.indexOf(name));
}

/** Runs the net in inference mode over the whole dataset and counts top-1 hits. */
export function evaluate(net: Net, dataset: Dataset, { batchSize = 256, normalization, classes }: EvaluateOptions): Evaluation {
  const position = classes === undefined ? null : classIndices(classes, dataset.classes, dataset.name);
  let correct = 0;
  for (const { x, labels } of batches(dataset, { batchSize, dtype: net.dtype, allocator: net.backend.allocator, ...(normalization && { normalization }) })) {
    const scores = net.forward(x);
    argmaxRows(scores).forEach((p, i) => {
      const label = labels[i] as number;
      correct += p === (position === null ? label : position[label]) ? 1 : 0;
    });
    scores.dispose();
    x.dispose();
  }
  return { accuracy: dataset.length === 0 ? 0 : correct / dataset.length, correct, total: dataset.length };
}
