import { measuredPeakLine } from '../memory/measure.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Backend } from '../backends/backend.js';
import { channelStats, type Normalization } from '../data/augment.js';
import type { DataSplits } from '../data/dataset.js';
import { openData } from '../data/index.js';
import { readSafetensors } from '../io/safetensors.js';
import { Net } from '../net/net.js';
import { renderSummary, summary, type CompileOptions } from '../notation/index.js';
import { formatVolume, sameShape } from '../tensor/shape.js';
import { DEFAULT_INIT, INIT_SCHEMES, parseInitScheme } from '../net/init.js';
import { loadCheckpoint, savedFileBytes, type Checkpoint } from '../train/checkpoint.js';
import { checkRoom } from '../io/files.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import { train, TrainingInterrupted, type LossName, type TrainConfig, type TrainResult } from '../train/loop.js';
import { checkOutputPaths, defaultCheckpointPath } from '../train/outputs.js';
import { netFromFile, saveModel, type ModelInfo } from '../train/model_file.js';
import { OPTIMIZER_NAMES, parseOptimizerName } from '../train/optimizers/index.js';
import { parseSchedule } from '../train/schedules.js';
import { Progress } from './train_progress.js';
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
  batch: String(TRAIN_DEFAULTS.batchSize),
  optimizer: TRAIN_DEFAULTS.optimizer,
  lr: String(TRAIN_DEFAULTS.lr),
  schedule: TRAIN_DEFAULTS.schedule,
  shift: String(TRAIN_DEFAULTS.augmentation.shift),
  loss: TRAIN_DEFAULTS.loss,
  seed: String(TRAIN_DEFAULTS.seed),
  init: DEFAULT_INIT,
  out: 'model.safetensors',
} as const;

/** Options that decide a run; a resumed run takes them from its checkpoint instead (`--epochs` extends it). */
const RUN_OPTIONS = ['model', 'batch', 'optimizer', 'lr', 'momentum', 'weightDecay', 'schedule', 'shift', 'flip', 'loss', 'seed', 'set', 'input', 'init'] as const;

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
  init: string;
  set?: string;
  input?: string;
  out: string;
  /** A file name, `false` for `--no-checkpoint`, or undefined for the default beside `--out`. */
  checkpoint?: string | false;
  checkpointEvery?: string;
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
    init: parseInitScheme(o.init),
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
      .option('--init <scheme>', `how the weights start: ${INIT_SCHEMES.join(', ')} (docs/training.md)`, DEFAULTS.init)
      .option('--set <vars>', "values for the spec's variables, e.g. N=2,M=3")
      .option('--input <HxWxC>', 'input volume for a spec, overriding its INPUT')
      .option('--out <file>', 'the model file to write', DEFAULTS.out)
      .option('--checkpoint <file>', 'checkpoint written after each epoch (default: <out>.checkpoint.safetensors; on --resume, the one resumed)')
      .option('--no-checkpoint', 'write no checkpoint')
      .option('--checkpoint-every <steps>', 'also write the checkpoint every this many steps within an epoch (a resume goes on from the exact step)')
      .option('--resume <checkpoint>', "continue the run saved in a checkpoint, with that run's settings and model file; --epochs extends it")
      .option('--json', 'print a JSON summary (other output goes to stderr)')
      .option('--memory', 'print the measured peak of tensor memory over the training steps'),
  ).action(async (options: TrainOptions, command: Command) => {
    const started = performance.now();
    const out = options.json ? process.stderr : process.stdout;
    const given = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
    let resume: Checkpoint | undefined;
    if (options.resume !== undefined) {
      rejectRunOptions(command, options.resume);
      resume = await loadCheckpoint(options.resume);
    }
    const outputs = runOutputs(options, resume, given('out'));
    const every = options.checkpointEvery === undefined ? 0 : parseNumber('checkpoint-every', options.checkpointEvery, 'int');
    await checkOutputPaths([{ option: '--out', file: outputs.model }, ...(outputs.checkpoint !== null ? [{ option: '--checkpoint', file: outputs.checkpoint }] : [])]);
    if (resume !== undefined && options.resume !== undefined && !given('epochs') && resume.state.epochsDone >= resume.config.epochs) {
      return reportFinished(resume, options.resume, given('out') ? outputs.model : null, options);
    }
    const { backend, description, close } = await openBackend(options);
    try {
      const { net, base, normalization, config } = await startRun(options, backend, resume, given);
      // The net comes first: its input shape decides how folder images are resized.
      const [c, h, w] = net.spec.input as [number, number, number];
      const data = await openData(config.data, [c, h, w]);
      checkInput(net, data);
      const model: ModelInfo = { ...base, classes: [...data.train.classes], normalization: normalization ?? channelStats(data.train) };
      await checkRoom([
        { label: `--out ${outputs.model}`, file: outputs.model, bytes: savedFileBytes(net) },
        ...(outputs.checkpoint !== null ? [{ label: `--checkpoint ${outputs.checkpoint}`, file: outputs.checkpoint, bytes: savedFileBytes(net, config.optimizer) }] : []),
      ]);
      out.write(`${table(model)}\n\n`);
      out.write(`data: ${config.data}: ${data.train.length} training and ${data.test.length} test images, ${model.classes.length} classes; backend: ${description}\n`);
      out.write(`${describeConfig(config, model)}\n`);
      const often = every > 0 ? ` and every ${plural(every, 'step')}` : '';
      out.write(`model file: ${outputs.model}; checkpoint after each epoch${often}: ${outputs.checkpoint ?? 'none (--no-checkpoint)'}\n`);
      const progress = new Progress(out, config.epochs);
      let lastCheckpoint = options.resume ?? null;
      const interrupt = new AbortController();
      const onInterrupt = (): void => interrupt.abort();
      process.once('SIGINT', onInterrupt);
      let result: TrainResult;
      backend.allocator.tracker.resetPeak();
      try {
        result = await train({
          net,
          data,
          config: { ...config, out: path.resolve(outputs.model) },
          info: model,
          ...(outputs.checkpoint !== null && { checkpoint: outputs.checkpoint, checkpointEvery: every }),
          ...(resume && { resume }),
          signal: interrupt.signal,
          onEvent: (e) => {
            progress.handle(e);
            if (e.kind === 'epoch' && outputs.checkpoint !== null) lastCheckpoint = outputs.checkpoint;
          },
        });
      } catch (error) {
        progress.stop();
        if (!(error instanceof TrainingInterrupted)) throw error;
        process.stderr.write(`${interruptedMessage(error, error.saved ? outputs.checkpoint : lastCheckpoint)}\n`);
        process.exitCode = 130;
        return;
      } finally {
        progress.stop();
        process.off('SIGINT', onInterrupt);
      }
      await saveModel(outputs.model, net, model, { data: config.data, test_accuracy: result.testAccuracy.toFixed(4) });
      const seconds = (performance.now() - started) / 1000;
      out.write(`wrote ${outputs.model} (checkpoint: ${outputs.checkpoint ?? 'none'}); ${Math.round(result.imagesPerSecond)} training images/s; ${seconds.toFixed(1)} s in all\n`);
      out.write(`test accuracy: ${result.testAccuracy.toFixed(4)}\n`);
      if (options.memory) out.write(`${measuredPeakLine(backend)}\n`);
      if (options.json) {
        const summary = { model: outputs.model, checkpoint: outputs.checkpoint, data: config.data, backend: description, config, ...result, seconds };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      }
    } finally {
      await close();
    }
  });
}

/** Where a run writes its model file and its checkpoint (null: `--no-checkpoint`). */
interface RunOutputs {
  model: string;
  checkpoint: string | null;
}

/**
 * A fresh run writes `--out` and, unless `--no-checkpoint`, `--checkpoint` or the default beside
 * `--out`. A resumed run writes the model file its checkpoint names (unless `--out` is given) and
 * goes on updating the checkpoint it resumed from (unless `--checkpoint` names another).
 */
function runOutputs(options: TrainOptions, resume: Checkpoint | undefined, outGiven: boolean): RunOutputs {
  const named = (fallback: string): string | null => (options.checkpoint === false ? null : (options.checkpoint ?? fallback));
  if (resume === undefined || options.resume === undefined) return { model: options.out, checkpoint: named(defaultCheckpointPath(options.out)) };
  const model = outGiven ? options.out : (resume.config.out ?? modelBesideCheckpoint(options.resume));
  return { model, checkpoint: named(options.resume) };
}

/** For checkpoints that do not record their model file: `x.checkpoint.safetensors` belongs to `x.safetensors`. */
function modelBesideCheckpoint(checkpoint: string): string {
  const suffix = '.checkpoint.safetensors';
  if (!checkpoint.endsWith(suffix)) throw new Error(`${checkpoint} does not say which model file its run writes; give --out`);
  return `${checkpoint.slice(0, -suffix.length)}.safetensors`;
}

/** A resume of a run that has done all its epochs trains nothing: says so, and how to go on. */
async function reportFinished(resume: Checkpoint, file: string, out: string | null, options: TrainOptions): Promise<void> {
  const done = resume.state.epochsDone;
  const last = resume.state.history.at(-1);
  const accuracy = last !== undefined ? `, test accuracy ${last.testAccuracy.toFixed(4)}` : '';
  const stream = options.json ? process.stderr : process.stdout;
  stream.write(`${file}: the run is finished (${plural(done, 'epoch')} of ${resume.config.epochs}${accuracy}); to train it further, give --epochs with more than ${done}\n`);
  if (out === null) return;
  const { backend, close } = await openBackend(options);
  try {
    const net = new Net(resume.info.spec, { backend });
    net.loadState(resume.params);
    await saveModel(out, net, resume.info, { data: resume.config.data, ...(last !== undefined && { test_accuracy: last.testAccuracy.toFixed(4) }) });
    stream.write(`wrote ${out} with its weights\n`);
  } finally {
    await close();
  }
}

/** What Ctrl-C leaves behind (the checkpoint of the step it stopped at, when the run has one), and how to go on from it. */
function interruptedMessage(error: TrainingInterrupted, checkpoint: string | null): string {
  const where = `interrupted in epoch ${error.epoch} at step ${error.step}`;
  if (error.saved && checkpoint !== null) return `${where}; saved the run up to this step in ${checkpoint}: go on with convstack train --resume ${checkpoint}`;
  if (checkpoint === null) return `${where}; no checkpoint was written (none finished an epoch)`;
  return `${where}; the last checkpoint is ${checkpoint} (after epoch ${error.epochsDone}): go on with convstack train --resume ${checkpoint}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
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
async function startRun(options: TrainOptions, backend: Backend, resume: Checkpoint | undefined, given: (name: string) => boolean): Promise<Start> {
  if (resume !== undefined) {
    return { net: new Net(resume.info.spec, { backend }), base: resume.info, normalization: resume.info.normalization, config: resumedConfig(resume, options, given) };
  }
  const config = configFromOptions(options);
  if (isModelFile(options.model)) {
    if (given('init')) throw new Error(`--init: the weights come from ${options.model}; --init is for a net that starts afresh`);
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
  const init = config.init ?? DEFAULT_INIT;
  return {
    net: new Net(compiled.spec, { backend, seed: config.seed, init }),
    base: { spec: compiled.spec, architecture: compiled.text, ...(Object.keys(compileOptions).length > 0 && { compileOptions }), init },
    config,
  };
}

/**
 * The checkpoint's settings, with what a resume may change: a moved data folder may be named again,
 * and `--epochs` extends (or shortens) the run; a cosine schedule is stretched to the new length.
 */
function resumedConfig(resume: Checkpoint, options: TrainOptions, given: (name: string) => boolean): TrainConfig {
  let config = given('data') ? { ...resume.config, data: options.data } : resume.config;
  if (given('epochs')) {
    const epochs = parseNumber('epochs', options.epochs, 'int');
    const done = resume.state.epochsDone;
    if (epochs <= done) throw new Error(`--epochs ${epochs}: the run in ${options.resume} has done ${plural(done, 'epoch')} already; give more than ${done} to extend it`);
    const schedule = config.schedule.kind === 'cosine' ? { ...config.schedule, tMax: epochs } : config.schedule;
    config = { ...config, epochs, schedule };
  }
  return config;
}

function describeConfig(c: TrainConfig, model: ModelInfo): string {
  const shift = c.augmentation.shift ?? 0;
  const augment = [shift > 0 ? `shifts of up to ${shift} px` : 'no shifts', ...(c.augmentation.flip ? ['flips'] : [])].join(', ');
  const init = model.init !== undefined ? `, ${model.init} initialisation` : '';
  return `${c.optimizer}, lr ${c.optimizerOptions.lr}, ${c.schedule.kind} schedule, batch ${c.batchSize}, ${plural(c.epochs, 'epoch')}, ${augment}, seed ${c.seed}${init}`;
}
