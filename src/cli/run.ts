import { Option, type Command } from 'commander';
import { normalize } from '../data/augment.js';
import { formatNpy, parseNpy } from '../io/npy.js';
import { readUserFile, writeFileAtomic } from '../io/files.js';
import { Net } from '../net/net.js';
import { Tensor } from '../tensor/tensor.js';
import { measuredPeakLine } from '../memory/measure.js';
import { loadModel, type ModelInfo } from '../train/model_file.js';
import type { Backend } from '../backends/backend.js';
import { loadWeightsOption, PARTIAL_HELP, WEIGHTS_HELP } from './weights.js';
import { compileSpec, isOnnxFile, isVolume, onnxNet, type SpecOptions } from './model.js';
import { openBackend, withBackendOptions, type BackendOptions } from './options.js';

interface RunOptions extends BackendOptions {
  input?: string;
  output?: string;
  seed: string;
  weights?: string;
  partial?: boolean;
  shape?: string;
  set?: string;
  classes?: string;
  raw?: boolean;
  json?: boolean;
  memory?: boolean;
}

/**
 * `convstack run <model> x.npy --output y.npy`: one forward pass in inference mode, keeping only the
 * activations still needed. x is (N, C, H, W) or one (C, H, W) image, float32. A model file's inputs
 * are pixels scaled as its training data was (in [0, 1]); run applies the file's normalisation to
 * them, as `predict` and `eval` do, unless `--raw` says the batch is normalised already.
 */
export function registerRun(program: Command): void {
  withBackendOptions(
    program
      .command('run <model> [batch]')
      .description("run a forward pass in inference mode on a .npy batch (N, C, H, W); a model file's batch is pixels in [0, 1], normalised as the file says")
      .option('--input <HxWxC|file>', 'input volume for a spec, overriding its INPUT; a .npy file here is the batch (as the second argument)')
      .option('--output <file>', 'where to write the output .npy (needed unless --json)')
      .option('--raw', "a model file's batch is already normalised: do not apply the file's normalisation")
      .option('--seed <n>', 'seed for the weights when no --weights are given', '0')
      .option('--weights <file>', WEIGHTS_HELP)
      .option('--partial', PARTIAL_HELP)
      .addOption(new Option('--shape <HxWxC>', 'the same as --input HxWxC').hideHelp())
      .option('--set <vars>', "values for the spec's variables, e.g. N=2,M=3")
      .option('--classes <n>', 'class count of a zoo net (sets CLASSES)')
      .option('--json', 'print the output as JSON ({ shape, data }) on stdout')
      .option('--memory', 'print the measured peak of tensor memory'),
  ).action(async (model: string, batch: string | undefined, options: RunOptions) => {
    const { batchFile, volume } = runInputs(batch, options);
    if (options.output === undefined && options.json !== true) throw new Error('run: say where the output goes with --output y.npy, or print it with --json');
    const { backend, close } = await openBackend(options);
    try {
      const { net, info } = await buildNet(model, options, volume, backend);
      const read = parseNpy(await readUserFile(batchFile), batchFile);
      // The batch goes where the backend's kernels read it, float32, counted by its tracker.
      let x = Tensor.from(read.shape, read.data, 'float32', backend.allocator);
      if (x.shape.length === 3) x = x.reshape([1, ...x.shape]);
      if (info !== undefined && options.raw !== true) normalizeBatch(x, info);
      backend.allocator.tracker.resetPeak();
      const y = net.forward(x, { training: false });
      if (options.output !== undefined) await writeFileAtomic(options.output, formatNpy(y));
      if (options.json) process.stdout.write(`${JSON.stringify({ shape: y.shape, data: Array.from(y.data) })}\n`);
      if (options.memory) process.stdout.write(`${measuredPeakLine(backend)}\n`);
    } finally {
      await close();
    }
  });
}

/** The batch file (second argument, or `--input x.npy` as before) and the input volume (`--input HxWxC` or `--shape`). */
function runInputs(batch: string | undefined, options: RunOptions): { batchFile: string; volume: string | undefined } {
  const inputIsVolume = options.input !== undefined && isVolume(options.input);
  const fromInput = options.input !== undefined && !inputIsVolume ? options.input : undefined;
  if (batch !== undefined && fromInput !== undefined) throw new Error(`run: two batches given ('${batch}' and --input '${fromInput}'); give one`);
  const batchFile = batch ?? fromInput;
  if (batchFile === undefined) throw new Error('run: give the input batch, a .npy file: convstack run <model> x.npy --output y.npy');
  if (inputIsVolume && options.shape !== undefined) throw new Error('run: --input and --shape both give the input volume; give one');
  return { batchFile, volume: inputIsVolume ? options.input : options.shape };
}

/** Normalises every image of x (N, C, H, W) in place as the model file says its training data was. */
function normalizeBatch(x: Tensor, info: ModelInfo): void {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  for (let i = 0; i < n; i++) normalize(x.data, i * c * h * w, [c, h, w], info.normalization);
}

/** A model file brings its own weights and normalisation; a spec or zoo name gets seeded weights or --weights. */
async function buildNet(model: string, options: RunOptions, volume: string | undefined, backend: Backend): Promise<{ net: Net; info?: ModelInfo }> {
  if (model.endsWith('.safetensors')) return loadModel(model, { backend });
  if (await isOnnxFile(model)) return { net: await onnxNet(model, backend) };
  const specOptions: SpecOptions = {
    ...(volume !== undefined && { input: volume }),
    ...(options.set !== undefined && { set: options.set }),
    ...(options.classes !== undefined && { classes: options.classes }),
  };
  const compiled = await compileSpec(model, specOptions, { runnable: true });
  const net = new Net(compiled.spec, { seed: parseSeed(options.seed), backend });
  await loadWeightsOption(net, 'run', options.weights, options.partial === true);
  return { net };
}

/** `--seed`: a non-negative integer. */
export function parseSeed(value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--seed: expected a non-negative integer, got '${value}'`);
  return Number(value);
}
