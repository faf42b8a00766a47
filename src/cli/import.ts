import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import { importOnnxFile } from '../io/onnx/file.js';
import { asNotation } from '../io/onnx/renamed.js';
import { Net } from '../net/net.js';
import { saveModel } from '../train/model_file.js';
import { fileKind } from './model.js';

interface ImportOptions {
  notation?: boolean;
  out?: string;
}

/**
 * `convstack import model.onnx [--notation] [--out model.safetensors]`: an ONNX model as notation
 * text, or as a convstack model file (the text and the weights) that train, eval, run and predict take.
 */
export function registerImport(program: Command): void {
  program
    .command('import <model>')
    .description('read an ONNX model: print it as notation text, or write it as a convstack model file')
    .option('--notation', 'print the net as notation text (the default without --out)')
    .option('--out <file>', 'write a convstack model file (.safetensors: notation text and weights)')
    .action(async (model: string, options: ImportOptions) => {
      const kind = fileKind(await fs.readFile(model));
      if (kind !== 'onnx') throw new Error(`${model}: not an ONNX model (its bytes read as ${kind})`);
      const notated = asNotation(await importOnnxFile(model), model);
      if (options.out !== undefined) {
        const net = new Net(notated.spec);
        net.loadState(notated.weights);
        const outputs = net.outputShape;
        const classes = Array.from({ length: outputs[0] ?? 0 }, (_, i) => String(i));
        const channels = notated.spec.input[0] ?? 1;
        // NOTE: an ONNX model takes its inputs as they are: no normalisation of its own.
        const normalization = { mean: Array<number>(channels).fill(0), std: Array<number>(channels).fill(1) };
        await saveModel(options.out, net, { spec: notated.spec, architecture: notated.text, classes, normalization });
        net.dispose();
        process.stderr.write(`wrote ${options.out}: ${notated.spec.nodes.length} layers, ${notated.weights.size} tensors\n`);
      }
      if (options.notation === true || options.out === undefined) process.stdout.write(`${notated.text}\n`);
    });
}
