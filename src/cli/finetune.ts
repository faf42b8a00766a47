import type { Command } from 'commander';
import { channelStats, type Normalization } from '../data/augment.js';
import { openData } from '../data/index.js';
import { readSafetensors, type Safetensors } from '../io/safetensors.js';
import { DEFAULT_INIT } from '../net/init.js';
import type { CompileOptions } from '../notation/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { TRAIN_DEFAULTS, defaultConfig } from '../train/defaults.js';
import { prepareFinetune, type FreezeChoice, type Pretrained } from '../train/finetune.js';
import { train } from '../train/loop.js';
import { CHECKPOINT_MARKER, CHECKPOINT_MODEL_PREFIX, modelInfoFromMetadata, saveModel, type ModelInfo } from '../train/model_file.js';
import { checkOutputPaths } from '../train/outputs.js';
import { Progress } from './train_progress.js';
import { compileSpec, isOnnxFile } from './model.js';
import { importOnnxFile } from '../io/onnx/file.js';
import { asNotation } from '../io/onnx/renamed.js';
import { isZip, readPth } from '../io/pth/pth.js';
import { promises as fs } from 'node:fs';
import { openBackend, parseNumber, withBackendOptions, type BackendOptions } from './options.js';
import { checkInput, isModelFile } from './train.js';

interface FinetuneOptions extends BackendOptions {
  from: string;
  weights?: string;
  data: string;
  classes: string;
  freeze: string;
  epochs: string;
  batch: string;
  lr: string;
  shift: string;
  seed: string;
  out: string;
  json?: boolean;
}

/** `--freeze backbone`, `none`, or layer names joined by commas. */
export function parseFreeze(text: string): FreezeChoice {
  if (text === 'backbone' || text === 'none') return text;
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new Error(`--freeze: expected backbone, none or layer names joined by commas (c1,c3), got '${text}'`);
  return names;
}

/** The tensors of a model file or a weights file; a checkpoint's are those under `model.`. */
function weightsOf(contents: Safetensors): Map<string, Tensor> {
  const prefix = contents.metadata[CHECKPOINT_MARKER] !== undefined ? CHECKPOINT_MODEL_PREFIX : '';
  return new Map([...contents.tensors].filter(([name]) => name.startsWith(prefix)).map(([name, t]) => [name.slice(prefix.length), t]));
}

/** A pretrained net whose normalisation may be unknown (null): weights alone do not say it. */
type Loaded = Omit<Pretrained, 'info'> & { info: Omit<ModelInfo, 'normalization'>; normalization: Normalization | null };

/** The tensors of a weights file: safetensors (a model file's, a checkpoint's) or PyTorch's .pth (a state_dict), told apart by their bytes. */
async function readWeights(file: string): Promise<{ weights: Map<string, Tensor>; metadata: Record<string, string> }> {
  if (isZip(await fs.readFile(file))) return { weights: (await readPth(file)).tensors, metadata: {} };
  const contents = await readSafetensors(file);
  return { weights: weightsOf(contents), metadata: contents.metadata };
}

/**
 * The pretrained net `--from` names: a model file (weights and normalisation in it), an ONNX model
 * (its graph as notation, its weights), or a zoo name or notation text whose weights `--weights`
 * gives (.safetensors or PyTorch's .pth); those carry a normalisation only when their file is a model file.
 */
async function loadPretrained(options: FinetuneOptions): Promise<Loaded> {
  if (await isOnnxFile(options.from)) {
    if (options.weights !== undefined) throw new Error(`--weights: ${options.from} is an ONNX model, which holds its own weights`);
    const notated = asNotation(await importOnnxFile(options.from), options.from);
    const info = { spec: notated.spec, architecture: notated.text, compileOptions: {}, classes: [], init: DEFAULT_INIT };
    return { info, normalization: null, weights: notated.weights };
  }
  if (isModelFile(options.from)) {
    if (options.weights !== undefined) throw new Error(`--weights: ${options.from} holds its own weights; --weights goes with a zoo name or a spec`);
    const contents = await readSafetensors(options.from);
    const info = modelInfoFromMetadata(contents.metadata, options.from);
    return { info, normalization: info.normalization, weights: weightsOf(contents) };
  }
  if (options.weights === undefined) throw new Error(`--from ${options.from}: give the pretrained weights with --weights <file.safetensors|file.pth> (or --from a model file or an ONNX model)`);
  const compiled = await compileSpec(options.from);
  const { weights, metadata } = await readWeights(options.weights);
  const normalization = metadata['normalization'] !== undefined ? modelInfoFromMetadata(metadata, options.weights).normalization : null;
  const compileOptions: CompileOptions = Object.keys(compiled.bindings).length > 0 ? { bindings: compiled.bindings } : {};
  const info = { spec: compiled.spec, architecture: compiled.text, compileOptions, classes: [], init: DEFAULT_INIT };
  return { info, normalization, weights };
}

/** `convstack finetune`: a pretrained net with a new classifier for new classes, trained with its backbone frozen. */
export function registerFinetune(program: Command): void {
  withBackendOptions(
    program
      .command('finetune')
      .description("fine-tune a pretrained net on new classes: replace its last FC layer, freeze the rest (\"don't be a hero\"), train, write a model file")
      .requiredOption('--from <model file|onnx|zoo name|spec>', 'the pretrained net: a .safetensors model file, an ONNX model, or a zoo name or spec with --weights')
      .option('--weights <file>', 'the pretrained weights (.safetensors, or PyTorch\'s .pth) for a zoo name or spec')
      .requiredOption('--data <source>', 'mnist, cifar10:<dir> or folder:<dir>, optionally ,classes=<list>,per-class=<n>')
      .option('--classes <auto>', "the new classes: auto (the data's)", 'auto')
      .option('--freeze <layers>', 'backbone (all but the new classifier), none, or layer names joined by commas', 'backbone')
      .option('--epochs <n>', 'epochs', '10')
      .option('--batch <n>', 'batch size', String(TRAIN_DEFAULTS.batchSize))
      .option('--lr <rate>', 'base learning rate', String(TRAIN_DEFAULTS.lr))
      .option('--shift <pixels>', 'random shifts of up to this many pixels; 0 for none', String(TRAIN_DEFAULTS.augmentation.shift))
      .option('--seed <n>', 'seeds the new classifier, shuffling and augmentation', String(TRAIN_DEFAULTS.seed))
      .option('--out <file>', 'the model file to write', 'model.safetensors')
      .option('--json', 'print a JSON summary (other output goes to stderr)'),
  ).action(async (options: FinetuneOptions) => {
    const started = performance.now();
    const out = options.json ? process.stderr : process.stdout;
    if (options.classes !== 'auto') throw new Error(`--classes: only auto is supported (the classes are the data's), got '${options.classes}'`);
    const freeze = parseFreeze(options.freeze);
    const epochs = parseNumber('epochs', options.epochs, 'int');
    const config = {
      ...defaultConfig(epochs, options.data, parseNumber('seed', options.seed, 'int', 0)),
      batchSize: parseNumber('batch', options.batch, 'int'),
      optimizerOptions: { lr: parseNumber('lr', options.lr, 'float') },
      augmentation: { shift: parseNumber('shift', options.shift, 'int', 0), flip: false },
    };
    await checkOutputPaths([{ option: '--out', file: options.out }]);
    const { backend, description, close } = await openBackend(options);
    try {
      const loaded = await loadPretrained(options);
      // The net comes first: its input shape decides how folder images are resized.
      const [c, h, w] = loaded.info.spec.input as [number, number, number];
      const data = await openData(options.data, [c, h, w]);
      const pretrained: Pretrained = { info: { ...loaded.info, normalization: loaded.normalization ?? channelStats(data.train) }, weights: loaded.weights };
      const start = prepareFinetune(pretrained, { classes: data.train.classes, freeze, backend, seed: config.seed });
      checkInput(start.net, data);
      const { trained, frozen } = start.parameters;
      out.write(`data: ${options.data}: ${data.train.length} training and ${data.test.length} test images, ${start.info.classes.length} classes; backend: ${description}\n`);
      out.write(`new classifier '${start.head}' with ${start.info.classes.length} outputs; frozen: ${start.frozen.length > 0 ? start.frozen.join(', ') : 'nothing'}\n`);
      if (start.unused.length > 0) out.write(`unused: ${start.unused.length} tensors of the pretrained weights that the net has no place for (${start.unused.slice(0, 3).join(', ')}${start.unused.length > 3 ? ', ...' : ''})\n`);
      out.write(`training ${trained.toLocaleString('en-US')} parameters (${frozen.toLocaleString('en-US')} frozen)\n`);
      const progress = new Progress(out, config.epochs);
      const result = await train({ net: start.net, data, config, info: start.info, onEvent: (e) => progress.handle(e) }).finally(() => progress.stop());
      await saveModel(options.out, start.net, start.info, { data: options.data, test_accuracy: result.testAccuracy.toFixed(4), finetuned_from: options.from });
      const seconds = (performance.now() - started) / 1000;
      out.write(`wrote ${options.out}; ${seconds.toFixed(1)} s in all\ntest accuracy: ${result.testAccuracy.toFixed(4)}\n`);
      if (options.json) {
        const summary = { model: options.out, from: options.from, data: options.data, backend: description, head: start.head, frozen: start.frozen, parameters: start.parameters, config, ...result, seconds };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      }
    } finally {
      await close();
    }
  });
}
