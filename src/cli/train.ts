import { measuredPeakLine } from '../memory/measure.js';
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Backend } from '../backends/backend.js';
import { channelStats, type Normalization } from '../data/augment.js';
import type { DataSplits } from '../data/dataset.js';
import { openData } from '../data/index.js';
import { readSafetensors } from '../io/safetensors.js';
import { Net } from '../net/net.js';
import { renderSummary, summary, type CompileOptions } from '../notation/index.js';
import { formatVolume, sameShape } from '../tensor/shape.js';
import { loadCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { train, type EpochResult, type LossName, type TrainConfig, type TrainEvent, type TrainResult } from '../train/loop.js';
import { netFromFile, saveModel, type ModelInfo } from '../train/model_file.js';
import { OPTIMIZER_NAMES, parseOptimizerName } from '../train/optimizers/index.js';
import { parseSchedule } from '../train/schedules.js';
import { compileSpec, parseInputOption, parseSetOption } from './model.js';
import { openBackend, parseNumber, withBackendOptions, type BackendOptions } from './options.js';

/**
 * The defaults are the default job (`npm start`): LeNet-5 on the MNIST digits, 98.50-98.80% on the
 * 2,000 held-out digits over seeds 0-2, in about 20 s on two cores with the wasm backend. Random
 * shifts of up to two pixels and a cosine schedule lift LeNet-5 above its ~97% plateau.
 * NOTE: 20 epochs, not 12: 12 gave 98.1-98.85% over the same seeds, too close to the 98% target.
 */
const DEFAULTS = {
  model: 'lenet5_mnist',
  data: 'mnist',
  epochs: '20',
  batch: '64',
  optimizer: 'nesterov',
  lr: '0.05',
  schedule: 'cosine',
  shift: '2',
  loss: 'softmax',
  seed: '0',
  out: 'model.safetensors',
} as const;

/** Options that decide a run; a resumed run takes them from its checkpoint instead. */
const RUN_OPTIONS = ['model', 'epochs', 'batch', 'optimizer', 'lr', 'momentum', 'weightDecay', 'schedule', 'shift', 'flip', 'loss', 'seed', 'set', 'input'] as const;

interface TrainOptions extends BackendOptions {
  model: string;
  data: string;
  epochs: string;
  batch: string;
  optimizer: string;
  lr: string;
  momentum?: string;
  weightDecay?: string;
  schedule: string;
  shift: string;
  flip?: boolean;
  loss: string;
  seed: string;
  set?: string;
  input?: string;
  out: string;
  checkpoint?: string;
  resume?: string;
  json?: boolean;
  memory?: boolean;
}

/** True when `arg` names a safetensors file (a model file or a checkpoint) rather than a spec. */
export function isModelFile(arg: string): boolean {
  return arg.endsWith('.safetensors') && existsSync(arg);
}

/** The net's input shape must be the data's: says which is which, in the notes' HxWxC. */
export function checkInput(net: Net, data: DataSplits): void {
  if (!sameShape(net.spec.input, data.train.shape)) {
    throw new Error(`the net takes ${formatVolume(net.spec.input)} images but ${data.train.name} holds ${formatVolume(data.train.shape)}; choose a --model for that input`);
  }
}

/** The notes' table for a net written in the notation, or a line saying there is none. */
function table(info: ModelInfo): string {
  if (info.architecture === undefined) return `(the net has no notation text: ${info.spec.nodes.length} layers)`;
  return renderSummary(summary(info.architecture, info.compileOptions ?? {}));
}

/** Shows progress: a bar per epoch on a terminal, one line per epoch otherwise. */
class Progress {
  private bar: cliProgress.SingleBar | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly epochs: number,
  ) {}

  handle(event: TrainEvent): void {
    if (event.kind === 'epoch') {
      this.bar?.stop();
      this.bar = null;
      this.out.write(`${epochLine(event.result, this.epochs)}\n`);
      return;
    }
    if (!this.out.isTTY) return;
    const payload = { epoch: event.epoch, loss: event.loss.toFixed(4), acc: event.accuracy.toFixed(4), ips: Math.round(event.imagesPerSecond) };
    if (this.bar === null) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `epoch {epoch}/${this.epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | ETA {eta_formatted}`,
          stream: this.out,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(event.steps, event.step, payload);
    } else {
      this.bar.update(event.step, payload);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

function epochLine(r: EpochResult, epochs: number): string {
  return [
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}`,
    `loss ${r.loss.toFixed(4)}`,
    `train ${r.trainAccuracy.toFixed(4)}`,
    `test ${r.testAccuracy.toFixed(4)}`,
    `lr ${r.lr.toPrecision(3)}`,
    `${Math.round(r.imagesPerSecond)} img/s`,
    `${r.seconds.toFixed(1)} s`,
  ].join('  ');
}

/** The run a resume continues: the checkpoint's settings; a flag that would change them is an error. */
function rejectRunOptions(command: Command, checkpoint: string): void {
  const given = RUN_OPTIONS.filter((name) => command.getOptionValueSource(name) === 'cli');
  if (given.length > 0) {
    const flags = given.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new Error(`--resume continues the run saved in ${checkpoint} with its own settings; drop ${flags.join(', ')}`);
  }
}

function configFromOptions(o: TrainOptions): TrainConfig {
  const epochs = parseNumber('epochs', o.epochs, 'int');
  if (o.loss !== 'softmax' && o.loss !== 'svm') throw new Error(`--loss: expected softmax or svm, got '${o.loss}'`);
  const loss: LossName = o.loss;
  return {
    epochs,
    batchSize: parseNumber('batch', o.batch, 'int'),
    optimizer: parseOptimizerName(o.optimizer),
    optimizerOptions: {
      lr: parseNumber('lr', o.lr, 'float'),
      ...(o.momentum !== undefined && { momentum: parseNumber('momentum', o.momentum, 'float') }),
      ...(o.weightDecay !== undefined && { weightDecay: parseNumber('weight-decay', o.weightDecay, 'float') }),
    },
    schedule: parseSchedule(o.schedule, epochs),
    loss,
    seed: parseNumber('seed', o.seed, 'int', 0),
    augmentation: { shift: parseNumber('shift', o.shift, 'int', 0), flip: o.flip === true },
    data: o.data,
  };
}

/** `convstack train`: trains a net (a spec, a zoo name or a model file to fine-tune) and writes a model file. */
export function registerTrain(program: Command): void {
  withBackendOptions(
    program
      .command('train')
      .description('train a net on MNIST, CIFAR-10 or an image folder and write a model file (defaults: LeNet-5 on the MNIST digits)')
      .option('--model <spec|zoo name|file>', 'notation text, a file of it, a zoo name, or a .safetensors model file to fine-tune', DEFAULTS.model)
      .option('--data <source>', 'mnist, cifar10:<dir> or folder:<dir>', DEFAULTS.data)
      .option('--epochs <n>', 'epochs', DEFAULTS.epochs)
      .option('--batch <n>', 'batch size', DEFAULTS.batch)
      .option('--optimizer <name>', OPTIMIZER_NAMES.join(', '), DEFAULTS.optimizer)
      .option('--lr <rate>', 'base learning rate', DEFAULTS.lr)
      .option('--momentum <m>', 'momentum (momentum, nesterov: 0.9; rmsprop: 0)')
      .option('--weight-decay <wd>', 'weight decay (L2; decoupled for adamw)')
      .option('--schedule <schedule>', 'constant, cosine[:<etaMin>], step:<stepSize>[:<gamma>]', DEFAULTS.schedule)
      .option('--shift <pixels>', 'random shifts of up to this many pixels (random crop with that padding); 0 for none', DEFAULTS.shift)
      .option('--flip', 'random horizontal flips (not for digits)')
      .option('--loss <loss>', 'softmax (cross-entropy) or svm', DEFAULTS.loss)
      .option('--seed <n>', 'seeds the weights, shuffling, augmentation and dropout', DEFAULTS.seed)
      .option('--set <vars>', "values for the spec's variables, e.g. N=2,M=3")
      .option('--input <HxWxC>', 'input volume for a spec, overriding its INPUT')
      .option('--out <file>', 'the model file to write', DEFAULTS.out)
      .option('--checkpoint <file>', 'checkpoint written after each epoch (default: <out>.checkpoint.safetensors)')
      .option('--resume <checkpoint>', "continue the run saved in a checkpoint, with that run's settings")
      .option('--json', 'print a JSON summary (other output goes to stderr)')
      .option('--memory', 'print the measured peak of tensor memory over the training steps'),
  ).action(async (options: TrainOptions, command: Command) => {
    const started = performance.now();
    const out = options.json ? process.stderr : process.stdout;
    let resume: Checkpoint | undefined;
    if (options.resume !== undefined) {
      rejectRunOptions(command, options.resume);
      resume = await loadCheckpoint(options.resume);
    }
    const { backend, description, close } = await openBackend(options);
    try {
      const dataGiven = command.getOptionValueSource('data') === 'cli';
      const { net, base, normalization, config } = await startRun(options, backend, resume, dataGiven);
      // The net comes first: its input shape decides how folder images are resized.
      const [c, h, w] = net.spec.input as [number, number, number];
      const data = await openData(config.data, [c, h, w]);
      checkInput(net, data);
      const model: ModelInfo = { ...base, classes: [...data.train.classes], normalization: normalization ?? channelStats(data.train) };
      out.write(`${table(model)}\n\n`);
      out.write(`data: ${config.data}: ${data.train.length} training and ${data.test.length} test images, ${model.classes.length} classes; backend: ${description}\n`);
      out.write(`${describeConfig(config)}\n`);
      const checkpoint = options.checkpoint ?? `${options.out.replace(/\.safetensors$/, '')}.checkpoint.safetensors`;
      const progress = new Progress(out, config.epochs);
      let result: TrainResult;
      backend.allocator.tracker.resetPeak();
      try {
        result = await train({ net, data, config, info: model, checkpoint, ...(resume && { resume }), onEvent: (e) => progress.handle(e) });
      } finally {
        progress.stop();
      }
      await saveModel(options.out, net, model, { data: config.data, test_accuracy: result.testAccuracy.toFixed(4) });
      const seconds = (performance.now() - started) / 1000;
      out.write(`wrote ${options.out} (checkpoint: ${checkpoint}); ${Math.round(result.imagesPerSecond)} training images/s; ${seconds.toFixed(1)} s in all\n`);
      out.write(`test accuracy: ${result.testAccuracy.toFixed(4)}\n`);
      if (options.memory) out.write(`${measuredPeakLine(backend)}\n`);
      if (options.json) {
        const summary = { model: options.out, checkpoint, data: config.data, backend: description, config, ...result, seconds };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      }
    } finally {
      await close();
    }
  });
}

/** What a run starts from: the net, how to describe it, and its settings. */
interface Start {
  net: Net;
  base: Omit<ModelInfo, 'classes' | 'normalization'>;
  /** Fixed when the weights come from a file (they were trained with it); else measured on the data. */
  normalization?: Normalization;
  config: TrainConfig;
}

/** Builds the net from a checkpoint (resume), a model file (fine-tune) or a spec (a fresh run). */
async function startRun(options: TrainOptions, backend: Backend, resume: Checkpoint | undefined, dataGiven: boolean): Promise<Start> {
  if (resume !== undefined) {
    // A moved data folder may be named again; everything else is the checkpoint's.
    const config = dataGiven ? { ...resume.config, data: options.data } : resume.config;
    return { net: new Net(resume.info.spec, { backend }), base: resume.info, normalization: resume.info.normalization, config };
  }
  const config = configFromOptions(options);
  if (isModelFile(options.model)) {
    const { net, info } = netFromFile(await readSafetensors(options.model), options.model, { backend });
    return { net, base: info, normalization: info.normalization, config };
  }
  const compiled = await compileSpec(options.model, {
    ...(options.set !== undefined && { set: options.set }),
    ...(options.input !== undefined && { input: options.input }),
  });
  // Stored with the text, so that the model file compiles to the same net.
  const bindings = { ...compiled.bindings, ...(options.set !== undefined && parseSetOption(options.set)) };
  const compileOptions: CompileOptions = {
    ...(Object.keys(bindings).length > 0 && { bindings }),
    ...(options.input !== undefined && { input: parseInputOption(options.input) }),
  };
  return {
    net: new Net(compiled.spec, { backend, seed: config.seed }),
    base: { spec: compiled.spec, architecture: compiled.text, ...(Object.keys(compileOptions).length > 0 && { compileOptions }) },
    config,
  };
}

function describeConfig(c: TrainConfig): string {
  const shift = c.augmentation.shift ?? 0;
  const augment = [shift > 0 ? `shifts of up to ${shift} px` : 'no shifts', ...(c.augmentation.flip ? ['flips'] : [])].join(', ');
  return `${c.optimizer}, lr ${c.optimizerOptions.lr}, ${c.schedule.kind} schedule, batch ${c.batchSize}, ${c.epochs} epochs, ${augment}, seed ${c.seed}`;
}
