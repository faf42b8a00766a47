import type { Command } from 'commander';
import { openData } from '../data/index.js';
import { evaluate } from '../train/evaluate.js';
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

/** `convstack eval --model <file> --data <source>`: top-1 accuracy of a model file on a dataset's test split. */
export function registerEval(program: Command): void {
  withBackendOptions(
    program
      .command('eval')
      .description('evaluate a model file (or checkpoint) on a dataset: top-1 accuracy')
      .requiredOption('--model <file>', 'a .safetensors model file written by convstack train')
      .option('--data <source>', 'mnist, cifar10:<dir> or folder:<dir>', 'mnist')
      .option('--split <split>', 'test or train', 'test')
      .option('--batch <n>', 'batch size', '256')
      .option('--json', 'print the result as JSON'),
  ).action(async (options: EvalOptions) => {
    if (options.split !== 'test' && options.split !== 'train') throw new Error(`--split: expected test or train, got '${options.split}'`);
    const batchSize = parseNumber('batch', options.batch, 'int');
    const { backend, description, close } = await openBackend(options);
    try {
      const { net, info } = await loadModel(options.model, { backend });
      const [c, h, w] = net.spec.input as [number, number, number];
      const data = await openData(options.data, [c, h, w]);
      checkInput(net, data);
      if (data.train.classes.length !== info.classes.length) {
        throw new Error(`${options.model} names ${info.classes.length} classes but ${options.data} has ${data.train.classes.length}`);
      }
      const dataset = data[options.split];
      const result = evaluate(net, dataset, { batchSize, normalization: info.normalization });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ model: options.model, data: dataset.name, backend: description, ...result }, null, 2)}\n`);
      } else {
        process.stdout.write(`${dataset.name}: ${result.correct} of ${result.total} correct\n`);
        process.stdout.write(`test accuracy: ${result.accuracy.toFixed(4)}\n`);
      }
    } finally {
      await close();
    }
  });
}
