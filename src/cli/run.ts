import type { Command } from 'commander';
import { formatNpy, parseNpy } from '../io/npy.js';
import { readUserFile, writeFileAtomic } from '../io/files.js';
import { readSafetensors } from '../io/safetensors.js';
import { Net } from '../net/net.js';
import { Tensor } from '../tensor/tensor.js';
import { measuredPeakLine } from '../memory/measure.js';
import { loadModel } from '../train/model_file.js';
import type { Backend } from '../backends/backend.js';
import { compileSpec, type SpecOptions } from './model.js';
import { openBackend, withBackendOptions, type BackendOptions } from './options.js';

interface RunOptions extends BackendOptions {
  input: string;
  output: string;
  seed: string;
  weights?: string;
  shape?: string;
  set?: string;
  memory?: boolean;
}

/**
 * `convstack run <model> --input x.npy --output y.npy`: one forward pass in inference mode, keeping
 * only the activations still needed. x is (N, C, H, W) or one (C, H, W) image, float32.
 */
export function registerRun(program: Command): void {
  withBackendOptions(
    program
      .command('run <model>')
      .description('run a forward pass in inference mode on a .npy batch (N, C, H, W) and write the output as .npy')
      .requiredOption('--input <file>', 'input tensor, .npy float32, (N, C, H, W) or (C, H, W)')
      .requiredOption('--output <file>', 'where to write the output .npy')
      .option('--seed <n>', 'seed for the weights when no --weights are given', '0')
      .option('--weights <file>', 'safetensors file with a tensor for every parameter, by state_dict name')
      .option('--shape <HxWxC>', 'input volume for a spec whose INPUT has no size')
      .option('--set <vars>', "values for the spec's variables, e.g. N=2,M=3")
      .option('--memory', 'print the measured peak of tensor memory'),
  ).action(async (model: string, options: RunOptions) => {
    const { backend, close } = await openBackend(options);
    try {
      const net = await buildNet(model, options, backend);
      const read = parseNpy(await readUserFile(options.input), options.input);
      // The batch goes where the backend's kernels read it, float32, counted by its tracker.
      let x = Tensor.from(read.shape, read.data, 'float32', backend.allocator);
      if (x.shape.length === 3) x = x.reshape([1, ...x.shape]);
      backend.allocator.tracker.resetPeak();
      const y = net.forward(x, { training: false });
      await writeFileAtomic(options.output, formatNpy(y));
      if (options.memory) process.stdout.write(`${measuredPeakLine(backend)}\n`);
    } finally {
      await close();
    }
  });
}

/** A model file brings its own weights; a spec or zoo name gets seeded ones or --weights. */
async function buildNet(model: string, options: RunOptions, backend: Backend): Promise<Net> {
  if (model.endsWith('.safetensors')) return (await loadModel(model, { backend })).net;
  const specOptions: SpecOptions = {
    ...(options.shape !== undefined && { input: options.shape }),
    ...(options.set !== undefined && { set: options.set }),
  };
  const compiled = await compileSpec(model, specOptions);
  const net = new Net(compiled.spec, { seed: parseSeed(options.seed), backend });
  if (options.weights !== undefined) net.loadState((await readSafetensors(options.weights)).tensors);
  return net;
}

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--seed: expected a non-negative integer, got '${value}'`);
  return Number(value);
}
