import type { Command } from 'commander';
import { normalize } from '../data/augment.js';
import { printWarning } from '../data/errors.js';
import { decodeImages, resizeNote, skippedImageMessage } from '../data/images.js';
import { Tensor } from '../tensor/tensor.js';
import { loadModel } from '../train/model_file.js';
import { openBackend, parseNumber, withBackendOptions, type BackendOptions } from './options.js';

interface PredictOptions extends BackendOptions {
  model: string;
  top: string;
  json?: boolean;
}

/** One image's most likely classes, best first. */
interface Prediction {
  file: string;
  top: { class: string; probability: number }[];
}

/**
 * `convstack predict --model <file> <images...>`: the top classes of each image, with probabilities.
 * Images are read as in training (resized to the net's input, normalised as the model file says);
 * one that does not decode is skipped with the same warning `train` and `eval` give.
 */
export function registerPredict(program: Command): void {
  withBackendOptions(
    program
      .command('predict <images...>')
      .description('classify images (PNG, JPEG, WebP, GIF, TIFF) with a model file: the top classes with their probabilities')
      .requiredOption('--model <file>', 'a .safetensors model file written by convstack train')
      .option('--top <k>', 'how many classes to show per image', '3')
      .option('--json', 'print the predictions as JSON'),
  ).action(async (files: string[], options: PredictOptions) => {
    const k = parseNumber('top', options.top, 'int');
    const { backend, close } = await openBackend(options);
    try {
      const { net, info } = await loadModel(options.model, { backend });
      const shape = net.spec.input as [number, number, number];
      const size = shape[0] * shape[1] * shape[2];
      const decoded = await decodeImages(files, shape, (error) => printWarning(skippedImageMessage(error)));
      const note = resizeNote('predict', decoded.sizes, shape, false);
      if (note !== null) printWarning(note);
      const images = files.filter((_, i) => decoded.pixels[i] !== null);
      if (images.length === 0) throw new Error('predict: none of the images could be decoded');
      const x = Tensor.zeros([images.length, ...shape], net.dtype);
      decoded.pixels.filter((p) => p !== null).forEach((pixels, i) => {
        for (let j = 0; j < size; j++) x.data[i * size + j] = (pixels[j] as number) / 255;
        normalize(x.data, i * size, shape, info.normalization);
      });
      const scores = net.forward(x);
      const probabilities = backend.softmax(scores);
      const classes = info.classes.length;
      const predictions: Prediction[] = images.map((file, i) => {
        const row = Array.from(probabilities.data.subarray(i * classes, (i + 1) * classes));
        const order = row.map((p, c) => [p, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        return { file, top: order.slice(0, k).map(([p, c]) => ({ class: info.classes[c] ?? String(c), probability: p })) };
      });
      [x, scores, probabilities].forEach((t) => t.dispose());
      if (options.json) {
        process.stdout.write(`${JSON.stringify(predictions, null, 2)}\n`);
        return;
      }
      for (const p of predictions) process.stdout.write(`${p.file}: ${p.top.map((t) => `${t.class} (${t.probability.toFixed(4)})`).join(', ')}\n`);
    } finally {
      await close();
    }
  });
}
