import type { Command } from 'commander';
import { writeFileAtomic } from '../io/files.js';
import { DEFAULT_OPSET, exportOnnx, MAX_OPSET, MIN_OPSET } from '../io/onnx/export.js';
import { writePytorch } from './export_pytorch.js';
import { Net } from '../net/net.js';
import { loadModel } from '../train/model_file.js';
import type { PytorchSource } from '../io/pytorch/module.js';
import { compileSpec, parseInputOption, specBindings } from './model.js';
import { parseSeed } from './run.js';
import { loadWeightsOption, PARTIAL_HELP, WEIGHTS_HELP } from './weights.js';

interface ExportOptions {
  onnx?: string;
  pytorch?: string;
  trainScript?: string;
  opset: string;
  input?: string;
  set?: string;
  classes?: string;
  weights?: string;
  partial?: boolean;
  seed: string;
}

/**
 * `convstack export <model> --onnx out.onnx [--opset 13]`: a zoo net, a spec or a model file as an
 * ONNX model with its weights (a model file's own, `--weights`, or the seeded ones), for
 * onnxruntime and every tool that reads ONNX. The input is `input` (N, C, H, W), N free.
 * `--pytorch net.py [--train-script train_ddp.py]`: the net as a torch.nn.Module, and a script that
 * trains it under torchrun (export_pytorch.ts).
 */
export function registerExport(program: Command): void {
  program
    .command('export <model>')
    .description('write a net (zoo name, spec, or model file) with its weights as ONNX')
    .option('--onnx <file>', 'the ONNX file to write')
    .option('--pytorch <file>', 'a torch.nn.Module (Python) to write, with state_dict names as convstack\'s')
    .option('--train-script <file>', 'with --pytorch: also a torchrun training script (DDP) that writes a convstack model file')
    .option('--opset <n>', `the ONNX opset, ${MIN_OPSET} to ${MAX_OPSET}`, String(DEFAULT_OPSET))
    .option('--input <HxWxC>', "input volume for a spec, overriding its INPUT")
    .option('--set <vars>', "values for the spec's variables, e.g. N=2,M=3")
    .option('--classes <n>', 'class count of a zoo net (sets CLASSES)')
    .option('--weights <file>', WEIGHTS_HELP)
    .option('--partial', PARTIAL_HELP)
    .option('--seed <n>', 'seed for the weights when no --weights are given', '0')
    .action(async (model: string, options: ExportOptions) => {
      if (options.trainScript !== undefined && options.pytorch === undefined) throw new Error('export: --train-script trains the module of --pytorch net.py; give both');
      if (options.onnx === undefined && options.pytorch === undefined) throw new Error('export: say where the model goes with --onnx out.onnx (or --pytorch net.py)');
      if (!/^\d+$/.test(options.opset)) throw new Error(`--opset: expected a whole number from ${MIN_OPSET} to ${MAX_OPSET}, got '${options.opset}'`);
      const { net, metadata, source } = await buildNet(model, options);
      if (options.onnx !== undefined) {
        await writeFileAtomic(options.onnx, exportOnnx(net, { opset: Number(options.opset), metadata }));
        process.stdout.write(`${options.onnx}: opset ${options.opset}, ${net.spec.nodes.length} layers, ${net.params.size} weight tensors\n`);
      }
      if (options.pytorch !== undefined) await writePytorch(source, options.pytorch, options.trainScript);
    });
}

/**
 * A model file's net and what it says about its inputs and outputs, or a spec's net with --weights or
 * seeded weights; and the text the net comes from, for --pytorch.
 */
async function buildNet(model: string, options: ExportOptions): Promise<{ net: Net; metadata: Record<string, string>; source: PytorchSource }> {
  if (model.endsWith('.safetensors')) {
    if (options.weights !== undefined) throw new Error('export: a model file brings its own weights; --weights is for a zoo name or a spec');
    const { net, info } = await loadModel(model);
    const source = { spec: info.spec, ...(info.architecture !== undefined && { architecture: info.architecture }), ...(info.compileOptions !== undefined && { compileOptions: info.compileOptions }) };
    return { net, metadata: { classes: JSON.stringify(info.classes), normalization: JSON.stringify(info.normalization) }, source };
  }
  const compiled = await compileSpec(
    model,
    {
      ...(options.input !== undefined && { input: options.input }),
      ...(options.set !== undefined && { set: options.set }),
      ...(options.classes !== undefined && { classes: options.classes }),
    },
    { runnable: true },
  );
  const net = new Net(compiled.spec, { seed: parseSeed(options.seed) });
  await loadWeightsOption(net, 'export', options.weights, options.partial === true);
  const bindings = specBindings(compiled, options);
  const compileOptions = {
    ...(Object.keys(bindings).length > 0 && { bindings }),
    ...(options.input !== undefined && { input: parseInputOption(options.input) }),
  };
  return { net, metadata: {}, source: { spec: compiled.spec, architecture: compiled.text, ...(Object.keys(compileOptions).length > 0 && { compileOptions }) } };
}
