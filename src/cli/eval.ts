import type { Command } from 'commander';
import { openData, wholeDataset } from '../data/index.js';
import { classIndices, evaluate } from '../train/evaluate.js';
import { loadModel } from '../train/model_file.js';
import { openBackend, parseNumber, withBackendOptions, type BackendOptions } from './options.js';
import { checkInput } from './train.js';

interface EvalOptions extends BackendOptions {
  model: string;
  data: string;
  split: string;
  batch: string;
  json?: boolean;
}

const SPLITS = ['test', 'train', 'all'] as const;

/**
 * `convstack eval --model <file> --data <source>`: top-1 accuracy of a model file on a dataset's test
 * split (or its training split, or all of it). Classes are matched by name: the data may order its
 * classes differently or hold a subset of them; a class the model does not know is an error.
 */
export function registerEval(program: Command): void {
  withBackendOptions(
    program
      .command('eval')
      .description('evaluate a model file (or checkpoint) on a dataset: top-1 accuracy, classes matched by name')
      .requiredOption('--model <file>', 'a .safetensors model file written by convstack train')
      .option('--data <source>', 'mnist, cifar10:<dir> or folder:<dir>[,holdout=0.2]', 'mnist')
      .option('--split <split>', 'test (the held-out images), train, or all', 'test')
      .option('--batch <n>', 'batch size', '256')
      .option('--json', 'print the result as JSON'),
  ).action(async (options: EvalOptions) => {
    const split = SPLITS.find((s) => s === options.split);
    if (split === undefined) throw new Error(`--split: expected ${SPLITS.join(', ')}, got '${options.split}'`);
    const batchSize = parseNumber('batch', options.batch, 'int');
    const { backend, description, close } = await openBackend(options);
    try {
      const { net, info } = await loadModel(options.model, { backend });
      const [c, h, w] = net.spec.input as [number, number, number];
      const data = await openData(options.data, [c, h, w]);
      checkInput(net, data);
      const dataset = split === 'all' ? wholeDataset(data, `${options.data} (all)`) : data[split];
      // Checked before the first batch, so that a wrong folder fails at once.
      classIndices(info.classes, dataset.classes, dataset.name);
      const result = evaluate(net, dataset, { batchSize, normalization: info.normalization, classes: info.classes });
      const label = split === 'all' ? 'accuracy' : `${split} accuracy`;
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ model: options.model, data: dataset.name, split, classes: dataset.classes, backend: description, ...result }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${dataset.name}: ${result.correct} of ${result.total} correct\n`);
      if (dataset.classes.length < info.classes.length) {
        process.stdout.write(`on ${dataset.classes.length} of the model's ${info.classes.length} classes: ${dataset.classes.join(', ')}\n`);
      }
      process.stdout.write(`${label}: ${result.accuracy.toFixed(4)}\n`);
    } finally {
      await close();
    }
  });
}
