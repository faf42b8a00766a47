import type { Command } from 'commander';
import { formatNpy, parseNpy } from '../io/npy.js';
import { readUserFile, writeFileAtomic } from '../io/files.js';
import { readSafetensors } from '../io/safetensors.js';
import { Net } from '../net/net.js';
import { Tensor } from '../tensor/tensor.js';
import { tracker } from '../memory/tracker.js';
import { compileSpec, type SpecOptions } from './model.js';

interface RunOptions extends SpecOptions {
  input: string;
  output: string;
  seed: string;
  weights?: string;
  memory?: boolean;
}

/**
 * `convstack run <model> --input x.npy --output y.npy`: one forward pass in inference mode, keeping
 * only the activations still needed. x is (N, C, H, W) or one (C, H, W) image, float32.
 */
export function registerRun(program: Command): void {
  program
    .command('run <model>')
    .description('run a forward pass in inference mode on a .npy batch (N, C, H, W) and write the output as .npy')
    .requiredOption('--input <file>', 'input tensor, .npy float32, (N, C, H, W) or (C, H, W)')
    .requiredOption('--output <file>', 'where to write the output .npy')
    .option('--seed <n>', 'seed for the weights when no --weights are given', '0')
    .option('--weights <file>', 'safetensors file with a tensor for every parameter, by state_dict name')
    .option('--shape <HxWxC>', 'input volume for a spec whose INPUT has no size')
    .option('--set <vars>', 'values for the spec\'s variables, e.g. N=2,M=3')
    .option('--memory', 'print the measured peak of tensor memory')
    .action(async (model: string, options: RunOptions & { shape?: string }) => {
      const compiled = await compileSpec(model, {
        ...(options.shape !== undefined && { input: options.shape }),
        ...(options.set !== undefined && { set: options.set }),
      });
      const net = new Net(compiled.spec, { seed: parseSeed(options.seed) });
      if (options.weights !== undefined) net.loadState((await readSafetensors(options.weights)).tensors);
      let x = parseNpy(await readUserFile(options.input), options.input);
      if (x.dtype === 'float64') x = Tensor.from(x.shape, x.data, 'float32');
      if (x.shape.length === 3) x = x.reshape([1, ...x.shape]);
      tracker.resetPeak();
      const y = net.forward(x, { training: false });
      await writeFileAtomic(options.output, formatNpy(y));
      if (options.memory) process.stdout.write(`measured peak: ${tracker.peak} bytes\n`);
    });
}

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--seed: expected a non-negative integer, got '${value}'`);
  return Number(value);
}
