import { ops, type Conv2dAttrs, type OpType } from '../ops/index.js';
import type { Op, ParamSpec } from '../ops/op.js';
import type { NetSpec, NodeSpec } from '../net/spec.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { DType } from '../tensor/tensor.js';
import type { OptimizerName } from '../train/optimizers/index.js';
import { AllocationLedger, liveness, type BufferId, type KindTotals } from './liveness.js';

/**
 * The memory a net needs in THIS engine, found by replaying the allocation schedule of `Net.forward`,
 * `Net.backward` and the reference kernels (every `Tensor.zeros` and `dispose`, in order) on an
 * `AllocationLedger` instead of summing layer sizes as the notes do. Its peak is what
 * `tracker.peak` measures for the same step; docs/memory.md walks through the schedule.
 */

/** Slot tensors per parameter each optimizer allocates (with the CLI's hyperparameters: RMSProp without momentum). */
export const OPTIMIZER_STATE_COPIES: Readonly<Record<OptimizerName, number>> = {
  sgd: 0,
  momentum: 1,
  nesterov: 1,
  adagrad: 1,
  rmsprop: 1,
  adam: 2,
  adamw: 2,
};

/** Reference kernels keep their scratch sums and im2row patches in float64, whatever the tensors' dtype. */
const WORKSPACE_BYTES = 8;
/** Max-pool argmax indices are an Int32Array. */
const INDEX_BYTES = 4;

/** What the estimate is for: the batch, and the choices that change the bytes. */
export interface EstimateOptions {
  /** Images per batch, >= 1. */
  batch: number;
  /** Default `sgd`. */
  optimizer?: OptimizerName;
  /** Default `float32`. */
  dtype?: DType;
  /** Random shifts and flips on: `batches` keeps one float64 image of scratch. Default off. */
  augment?: boolean;
}

/** A training step's memory at its peak, by what holds it. */
export interface TrainingMemory {
  /** Forward outputs kept for backward (the tape), plus what ops saved: max-pool indices, BN statistics, dropout masks, LRN scales. */
  activations: number;
  /** dLoss/d(activation) buffers alive at the peak, the loss gradient included. */
  activationGradients: number;
  /** Parameters and buffers (BN running statistics). */
  params: number;
  paramGradients: number;
  optimizerState: number;
  /** The input batch, and the augmentation scratch when on. */
  data: number;
  /** Kernel scratch: im2row patches and float64 sums. */
  workspace: number;
  total: number;
}

/** An inference pass's memory at its peak. */
export interface InferenceMemory {
  /** Live activations at the peak, the input batch included. */
  activations: number;
  params: number;
  workspace: number;
  total: number;
}

/** The estimate, in bytes, and the same rows in values (stored numbers, whatever their width). */
export interface MemoryEstimate {
  training: TrainingMemory;
  inference: InferenceMemory;
  values: { training: TrainingMemory; inference: InferenceMemory };
}

/** One node with what the schedule needs: its inputs' value indices and per-image shapes, and its parameters. */
interface Layer {
  node: NodeSpec;
  inputs: number[];
  inShapes: Shape[];
  outShape: Shape;
  params: ParamSpec[];
}

/** A spec with every shape and parameter worked out once, by the ops' own rules (as `Net` does). */
interface Model {
  spec: NetSpec;
  layers: Layer[];
  /** Per-image shape of each value: 0 = input, i + 1 = node i. */
  shapes: Shape[];
  lastReader: number[];
  keptForBackward: boolean[];
}

function prepare(spec: NetSpec): Model {
  const { inputIndices, lastReader, keptForBackward } = liveness(spec);
  const shapes: Shape[] = [spec.input];
  const layers = spec.nodes.map((node, i) => {
    const inputs = inputIndices[i] as number[];
    const inShapes = inputs.map((j) => shapes[j] as Shape);
    const op = ops[node.op as OpType] as Op<unknown, unknown>;
    const outShape = op.outputShape(inShapes, node.attrs);
    shapes.push(outShape);
    return { node, inputs, inShapes, outShape, params: op.params(inShapes, node.attrs) };
  });
  return { spec, layers, shapes, lastReader, keptForBackward };
}

/** The ledger with the batch size and element width of one simulated run. */
class Run {
  readonly ledger = new AllocationLedger();
  constructor(
    readonly batch: number,
    readonly elementBytes: number,
  ) {}

  /** A batch-sized tensor of `perImage` values per image. */
  batched(kind: 'activations' | 'activationGradients' | 'data', perImage: number): BufferId {
    return this.ledger.alloc(kind, this.batch * perImage, this.elementBytes);
  }

  tensor(kind: 'activations' | 'params' | 'paramGradients' | 'optimizerState', values: number): BufferId {
    return this.ledger.alloc(kind, values, this.elementBytes);
  }

  /** A kernel's float64 scratch, alive until `free`. */
  workspace(values: number): BufferId {
    return this.ledger.alloc('workspace', values, WORKSPACE_BYTES);
  }

  /** A scratch buffer allocated and freed within one kernel call. */
  scratch(values: number): void {
    this.ledger.free(this.workspace(values));
  }

  free(id: BufferId): void {
    this.ledger.free(id);
  }
}

/** im2row geometry of a conv layer: P = OH*OW patch rows of K = C/groups*KH*KW values. */
function convPatches(layer: Layer, { kernel, groups }: Conv2dAttrs): { p: number; k: number } {
  const [c] = layer.inShapes[0] as [number, number, number];
  const [, oh, ow] = layer.outShape as [number, number, number];
  return { p: oh * ow, k: (c / groups) * kernel[0] * kernel[1] };
}

/** What each op's forward and its reference kernel allocate: the output, then what backward keeps. */
function forward(run: Run, layer: Layer, training: boolean): { output: BufferId; saved: BufferId[] } {
  const node = layer.node;
  const out = sizeOf(layer.outShape);
  switch (node.op) {
    case 'conv': {
      const output = run.batched('activations', out);
      const { p, k } = convPatches(layer, node.attrs);
      run.scratch(p * k);
      return { output, saved: [] };
    }
    case 'maxpool': {
      const output = run.batched('activations', out);
      const argmax = run.ledger.alloc('activations', run.batch * out, INDEX_BYTES);
      return { output, saved: [argmax] };
    }
    case 'bn': {
      const output = run.batched('activations', out);
      if (!training) return { output, saved: [] };
      const channels = layer.outShape[0] as number;
      return { output, saved: [run.tensor('activations', channels), run.tensor('activations', channels)] };
    }
    case 'dropout': {
      // Inference (and p = 0) copies the input, so that every node owns its output.
      if (!training || node.attrs.p === 0) return { output: run.batched('activations', out), saved: [] };
      const mask = run.batched('activations', out);
      return { output: run.batched('activations', out), saved: [mask] };
    }
    case 'lrn': {
      const output = run.batched('activations', out);
      return { output, saved: [run.batched('activations', out)] };
    }
    default:
      return { output: run.batched('activations', out), saved: [] };
  }
}

/**
 * What each op's backward allocates, in the kernels' order: input gradients and scratch; parameter
 * gradients stay alive. `wanted[k]` is false for the images: CONV then skips their gradient.
 */
function backward(run: Run, layer: Layer, wanted: readonly boolean[]): (BufferId | null)[] {
  const node = layer.node;
  const inShape = layer.inShapes[0] as Shape;
  const inSize = sizeOf(inShape);
  switch (node.op) {
    case 'conv': {
      const { p, k } = convPatches(layer, node.attrs);
      const outChannels = node.attrs.outChannels;
      // conv2dGradWeight: patches and float64 sums, then the dweight copy, then both scratches go.
      const patches = run.workspace(p * k);
      const sums = run.workspace(outChannels * k);
      run.tensor('paramGradients', outChannels * k);
      run.free(patches);
      run.free(sums);
      if (node.attrs.bias) run.tensor('paramGradients', outChannels);
      if (wanted[0] === false) return [null];
      // conv2dGradInput: dx, then the patch gradients and one float64 image.
      const dx = run.batched('activationGradients', inSize);
      const dpatches = run.workspace(p * k);
      const image = run.workspace(inSize);
      run.free(dpatches);
      run.free(image);
      return [dx];
    }
    case 'fc': {
      const m = node.attrs.outFeatures;
      // linearGradWeight: dweight, then one float64 row of sums.
      run.tensor('paramGradients', m * inSize);
      run.scratch(inSize);
      if (node.attrs.bias) run.tensor('paramGradients', m);
      const dx = run.batched('activationGradients', inSize);
      run.scratch(inSize);
      return [dx];
    }
    case 'maxpool':
    case 'avgpool':
    case 'globalavgpool': {
      const dx = run.batched('activationGradients', inSize);
      // One float64 (H, W) plane of sums.
      run.scratch((inShape[1] as number) * (inShape[2] as number));
      return [dx];
    }
    case 'bn': {
      const dx = run.batched('activationGradients', inSize);
      const channels = inShape[0] as number;
      run.tensor('paramGradients', channels);
      run.tensor('paramGradients', channels);
      return [dx];
    }
    case 'add':
      return [run.batched('activationGradients', inSize), run.batched('activationGradients', inSize)];
    case 'concat':
      return layer.inShapes.map((s) => run.batched('activationGradients', sizeOf(s)));
    default:
      return [run.batched('activationGradients', inSize)];
  }
}

function allocParams(run: Run, model: Model): number {
  let trainable = 0;
  for (const layer of model.layers) {
    for (const p of layer.params) {
      run.tensor('params', sizeOf(p.shape));
      if (p.trainable) trainable += sizeOf(p.shape);
    }
  }
  return trainable;
}

/**
 * One training step as the engine runs it: parameters and optimizer slots exist already; the batch
 * arrives; `forward(x, { training: true })` keeps every output; the loss allocates dLoss/dscores;
 * `backward` clones it, then walks the nodes backwards, freeing each node's saved state, its output
 * gradient and its output as it goes, and summing gradients where a value has several readers.
 */
function simulateTraining(model: Model, run: Run, copies: number, augment: boolean): void {
  const trainable = allocParams(run, model);
  for (let c = 0; c < copies; c++) run.tensor('optimizerState', trainable);
  const imageSize = sizeOf(model.spec.input);
  // `batches` shifts and flips in place through one float64 image of scratch.
  if (augment) run.ledger.alloc('data', imageSize, WORKSPACE_BYTES);
  const values: (BufferId | null)[] = [run.batched('data', imageSize)];
  const saved: BufferId[][] = [];
  model.layers.forEach((layer, i) => {
    const result = forward(run, layer, true);
    values.push(result.output);
    saved.push(result.saved);
    // What no backward reads goes after its last reader's forward, as in inference.
    for (const j of new Set(layer.inputs)) {
      if (j > 0 && model.lastReader[j] === i && !model.keptForBackward[j]) {
        run.free(values[j] as BufferId);
        values[j] = null;
      }
    }
  });
  const last = values.length - 1;
  // Auxiliary heads (outputs nobody reads) stay for their own losses, as `stepLoss` computes them.
  const aux = model.lastReader.flatMap((reader, j) => (reader === -1 && j > 0 && j < last ? [j] : []));
  const sizeAt = (j: number): number => sizeOf(model.shapes[j] as Shape);
  // The losses' dLoss/dscores (the caller's), main head first; then backward's clones of them.
  for (const j of [last, ...aux]) run.batched('activationGradients', sizeAt(j));
  const grads: (BufferId | null)[] = values.map(() => null);
  for (const j of [last, ...aux]) grads[j] = run.batched('activationGradients', sizeAt(j));
  const drop = (j: number): void => {
    const value = values[j];
    if (j === last || value == null) return;
    run.free(value);
    values[j] = null;
  };
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i] as Layer;
    const gradOut = grads[i + 1] ?? null;
    if (gradOut === null) {
      (saved[i] as BufferId[]).forEach((id) => run.free(id));
      drop(i + 1);
      continue;
    }
    const wanted = layer.inputs.map((j) => j > 0);
    const inputGrads = backward(run, layer, wanted);
    (saved[i] as BufferId[]).forEach((id) => run.free(id));
    run.free(gradOut);
    grads[i + 1] = null;
    drop(i + 1);
    layer.inputs.forEach((j, k) => {
      const g = inputGrads[k] ?? null;
      if (g === null) return;
      // An op that ignores `wanted` computes the images' gradient anyway; it is dropped at once.
      if (!wanted[k]) return run.free(g);
      const sum = grads[j] ?? null;
      if (sum === null) {
        grads[j] = g;
        return;
      }
      grads[j] = run.batched('activationGradients', sizeOf(model.shapes[j] as Shape));
      run.free(sum);
      run.free(g);
    });
  }
}

/** One inference pass: each value is freed right after its last reader ran, and saved state at once. */
function simulateInference(model: Model, run: Run): void {
  allocParams(run, model);
  const values: BufferId[] = [run.batched('data', sizeOf(model.spec.input))];
  const n = model.layers.length;
  model.layers.forEach((layer, i) => {
    const { output, saved } = forward(run, layer, false);
    values.push(output);
    saved.forEach((id) => run.free(id));
    for (const j of new Set(layer.inputs)) if (j > 0 && model.lastReader[j] === i) run.free(values[j] as BufferId);
    if (model.lastReader[i + 1] === -1 && i < n - 1) run.free(output);
  });
}

function trainingRows(t: KindTotals['bytes']): TrainingMemory {
  const rows = {
    activations: t.activations,
    activationGradients: t.activationGradients,
    params: t.params,
    paramGradients: t.paramGradients,
    optimizerState: t.optimizerState,
    data: t.data,
    workspace: t.workspace,
  };
  return { ...rows, total: Object.values(rows).reduce((a, b) => a + b, 0) };
}

function inferenceRows(t: KindTotals['bytes']): InferenceMemory {
  // The input batch is value 0 of the DAG: it counts with the activations.
  const rows = { activations: t.activations + t.data, params: t.params, workspace: t.workspace };
  return { ...rows, total: rows.activations + rows.params + rows.workspace };
}

function checkBatch(batch: number): void {
  if (!(Number.isInteger(batch) && batch >= 1)) throw new RangeError(`the batch size must be a positive integer, got ${batch}`);
}

function elementBytes(dtype: DType | undefined): number {
  return dtype === 'float64' ? 8 : 4;
}

function trainingPeak(model: Model, options: EstimateOptions): KindTotals {
  const run = new Run(options.batch, elementBytes(options.dtype));
  simulateTraining(model, run, OPTIMIZER_STATE_COPIES[options.optimizer ?? 'sgd'], options.augment ?? false);
  return run.ledger.peakBreakdown;
}

function inferencePeak(model: Model, options: EstimateOptions): KindTotals {
  const run = new Run(options.batch, elementBytes(options.dtype));
  simulateInference(model, run);
  return run.ledger.peakBreakdown;
}

/**
 * The peak memory of a training step and of an inference pass for `spec`, with what is alive at
 * that peak, by kind. Throws the ops' ShapeError or SizingError for a spec whose volumes do not work out.
 */
export function estimateMemory(spec: NetSpec, options: EstimateOptions): MemoryEstimate {
  checkBatch(options.batch);
  const model = prepare(spec);
  const training = trainingPeak(model, options);
  const inference = inferencePeak(model, options);
  return {
    training: trainingRows(training.bytes),
    inference: inferenceRows(inference.bytes),
    values: { training: trainingRows(training.values), inference: inferenceRows(inference.values) },
  };
}

/** The largest batch whose training step, and whose inference pass, fit in `budget` bytes; 0 when not even one image does. */
export function maxBatch(spec: NetSpec, budget: number, options: Omit<EstimateOptions, 'batch'> = {}): { training: number; inference: number } {
  if (!(Number.isFinite(budget) && budget >= 0)) throw new RangeError(`the budget must be a finite number of bytes, got ${budget}`);
  const model = prepare(spec);
  const total = (peak: KindTotals): number => Object.values(peak.bytes).reduce((a, b) => a + b, 0);
  return {
    training: largestFitting((batch) => total(trainingPeak(model, { ...options, batch })) <= budget),
    inference: largestFitting((batch) => total(inferencePeak(model, { ...options, batch })) <= budget),
  };
}

/** The largest batch where `fits` holds, for a `fits` that turns false once and stays false (memory grows with the batch). */
function largestFitting(fits: (batch: number) => boolean): number {
  if (!fits(1)) return 0;
  let low = 1;
  let high = 2;
  // Every batch adds at least its input images, so the doubling ends.
  while (fits(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid;
  }
  return low;
}

/** The notes' "TOTAL memory": every layer's output for `batch` images, plus the input, in values. */
export function sumOfActivations(spec: NetSpec, batch = 1): number {
  return prepare(spec).shapes.reduce((sum, s) => sum + batch * sizeOf(s), 0);
}
