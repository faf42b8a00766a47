// What the training worker shows of a trained net: its first layer's filters, a confusion matrix
// and the misclassified digits of the held-out set, and every layer's output for one digit.
import { Tensor, batches, normalize, type Dataset, type Net, type NodeSpec, type Normalization } from '../src/browser.js';
import type { LayerOutput, Misclassified } from './protocol.js';

/** At most this many misclassified digits are sent to the page. */
const MISCLASSIFIED_SHOWN = 24;

/** The first CONV's filters, [K, C, F, F], or null when the net has none. */
export function firstFilters(net: Net, layers: readonly { name: string; op: string }[]): { shape: number[]; data: Float32Array } | null {
  const conv = layers.find((node) => node.op === 'conv');
  const weight = conv === undefined ? undefined : net.params.get(`${conv.name}.weight`);
  if (weight === undefined) return null;
  return { shape: [...weight.value.shape], data: Float32Array.from(weight.value.data) };
}

/** The index of the largest of `k` scores from `at` in `values`. */
function argmaxAt(values: ArrayLike<number>, at: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if ((values[at + j] as number) > (values[at + best] as number)) best = j;
  return best;
}

/** The confusion matrix of `net` on `data` (rows: true class, columns: predicted) and its first mistakes with their pixels. */
export function confusion(net: Net, data: Dataset, normalization: Normalization): { confusion: number[][]; misclassified: Misclassified[] } {
  const classes = data.classes.length;
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const misclassified: Misclassified[] = [];
  let index = 0;
  for (const { x, labels } of batches(data, { batchSize: 256, normalization })) {
    const scores = net.forward(x);
    x.dispose();
    labels.forEach((label, i) => {
      const predicted = argmaxAt(scores.data, i * classes, classes);
      (matrix[label] as number[])[predicted] = ((matrix[label] as number[])[predicted] as number) + 1;
      if (predicted !== label && misclassified.length < MISCLASSIFIED_SHOWN) {
        const pixels = new Float32Array(data.shape.reduce((a, b) => a * b, 1));
        data.read(index + i, pixels, 0);
        misclassified.push({ index: index + i, label, predicted, pixels });
      }
    });
    index += labels.length;
    scores.dispose();
  }
  return { confusion: matrix, misclassified };
}

/** Every layer's output for one image of pixels in [0, 1] (its shape `shape`), as the net computes it. */
export function activations(net: Net, pixels: Float32Array, shape: readonly [number, number, number], normalization: Normalization): LayerOutput[] {
  const x = Tensor.zeros([1, ...shape]);
  x.data.set(pixels);
  normalize(x.data, 0, shape, normalization);
  const layers: LayerOutput[] = [];
  const byName = new Map(net.spec.nodes.map((node) => [node.name, node]));
  const shown = new Set<string>();
  const textOf = (node: NodeSpec): string => node.source?.text ?? node.op.toUpperCase();
  const scores = net.forward(x, {
    inspect: (node, output) => {
      // NOTE: a backend that fuses CONV and RELU never shows the CONV's own output: the RELU's
      // title names both.
      const before = node.inputs.length === 1 ? byName.get(node.inputs[0] as string) : undefined;
      const text = before !== undefined && !shown.has(before.name) ? `${textOf(before)} -> ${textOf(node)}` : textOf(node);
      shown.add(node.name);
      layers.push({ name: node.name, text, shape: output.shape.slice(1), data: Float32Array.from(output.data) });
    },
  });
  scores.dispose();
  x.dispose();
  return layers;
}
