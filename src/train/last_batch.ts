import type { Net } from '../net/net.js';
import type { NodeSpec } from '../net/spec.js';
import { sizeOf } from '../tensor/shape.js';

/**
 * The first batch-norm layer that trains on one value per channel per image (a BN after an FC
 * layer, or after a 1x1 volume), or null. Such a layer cannot train on a batch of one image (its
 * batch variance is 0; src/ops/batchnorm.ts refuses it). Frozen layers normalise as in inference.
 */
export function bnNeedingTwoImages(net: Net): NodeSpec | null {
  for (const node of net.graph.nodes) {
    const input = node.inShapes[0];
    if (node.spec.op !== 'bn' || net.frozen.has(node.spec.name) || input === undefined) continue;
    if (sizeOf(input) === input[0]) return node.spec;
  }
  return null;
}

/** Whether an epoch drops its last batch, and the one-line note that says so (null when it keeps every image). */
export interface LastBatch {
  /** Leave out each epoch's last batch (it would hold one image). */
  dropLast: boolean;
  /** The line to print when it does, naming the BN layer; null when every batch is kept. */
  note: string | null;
}

/**
 * Drops the last batch of an epoch only where it is needed: when it would hold a single image and a
 * BN layer would then see one value per channel, which fails in training (as in PyTorch, where the
 * fix is `drop_last=True`). The image left out is a different one each epoch, as the shuffle falls.
 * NOTE: dropping, not merging into the previous batch, so that no step exceeds `--batch` images and
 * the memory estimate holds. Evaluation is not affected: it runs in inference mode over every image.
 */
export function lastBatchPolicy(net: Net, images: number, batchSize: number): LastBatch {
  const layer = bnNeedingTwoImages(net);
  // A set of one image has nothing else to train on: BN's own error says what to do.
  if (layer === null || images <= batchSize || images % batchSize !== 1) return { dropLast: false, note: null };
  const where = layer.source ? ` at line ${layer.source.line}, column ${layer.source.column}` : '';
  return {
    dropLast: true,
    note:
      `each epoch leaves out 1 of its ${images} training images (the last batch of ${batchSize}, a different image each epoch): ` +
      `a batch of 1 gives layer '${layer.name}'${where} (BN) one value per channel, which it cannot train on (PyTorch's drop_last)`,
  };
}
