import { referenceWorkspace } from '../backends/reference/workspace.js';
import { buildGraph, type Graph } from '../graph/graph.js';
import { buildSchedule, NO_FUSIONS, type Fusions, type Schedule } from '../graph/schedule.js';
import type { WorkspaceModel } from '../graph/workspace.js';
import type { NetSpec } from '../net/spec.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { DType } from '../tensor/tensor.js';
import type { OptimizerName } from '../train/optimizers/index.js';
import type { KindTotals } from './ledger.js';
import { ScheduleReplay } from './replay.js';

/**
 * The memory a net needs in THIS engine, found by replaying the step schedule that `Net.forward` and
 * `Net.backward` execute (`graph/schedule.ts`), with what each op declares it allocates and what the
 * backend says its kernels' scratch is, on an `AllocationLedger`, instead of summing layer sizes as
 * the notes do. Its peak is what `tracker.peak` measures for the same step; docs/memory.md walks
 * through it.
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

/** Augmentation works on one image in float64. */
const AUGMENT_BYTES = 8;

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
  /** The kernels' scratch on the backend that will run the net. Default: the reference backend's. */
  workspace?: WorkspaceModel;
  /** The fused kernels that backend has. Default: none (the reference backend). */
  fusions?: Fusions;
  /**
   * Layers frozen for fine-tuning (`Net`'s `frozen`): no weight gradients, no optimizer state, and
   * their BN runs on its running statistics. Default: none.
   */
  frozen?: Iterable<string>;
}

/** A training step's memory at its peak, by what holds it. */
export interface TrainingMemory {
  /** Forward outputs kept for backward (the tape), plus what ops saved: max-pool indices, BN statistics, dropout masks, LRN scales. */
  activations: number;
  /** dLoss/d(activation) buffers alive at the peak, the loss gradient included. */
  activationGradients: number;
  /** Parameters and buffers (BN running statistics). */
  params: number;
  /** dLoss/d(parameter) buffers. */
  paramGradients: number;
  /** What the optimizer keeps per parameter (momentum buffers, Adam's moments). */
  optimizerState: number;
  /** The input batch, and the augmentation scratch when on. */
  data: number;
  /** Kernel scratch, as the backend's workspace model describes it (reference: im2row patches and float64 sums). */
  workspace: number;
  /** The peak: the sum of the rows above at that moment. */
  total: number;
}

/** An inference pass's memory at its peak. */
export interface InferenceMemory {
  /** Live activations at the peak, the input batch included. */
  activations: number;
  /** Parameters and buffers. */
  params: number;
  /** Kernel scratch alive at the peak. */
  workspace: number;
  /** The peak: the sum of the rows above at that moment. */
  total: number;
}

/** The estimate, in bytes, and the same rows in values (stored numbers, whatever their width). */
export interface MemoryEstimate {
  /** Bytes held at a training step's peak. */
  training: TrainingMemory;
  /** Bytes held at an inference pass's peak. */
  inference: InferenceMemory;
  /** The same rows counted in stored values rather than bytes. */
  values: { training: TrainingMemory; inference: InferenceMemory };
}

/** The schedules of a training step and of an inference pass on one backend. */
interface Plan {
  graph: Graph;
  training: Schedule;
  inference: Schedule;
  workspace: WorkspaceModel;
}

function plan(spec: NetSpec, options: Pick<EstimateOptions, 'workspace' | 'fusions' | 'frozen'>): Plan {
  const graph = buildGraph(spec);
  const fusions = options.fusions ?? NO_FUSIONS;
  const frozen = new Set(options.frozen ?? []);
  return {
    graph,
    training: buildSchedule(graph, { training: true, fusions, frozen }),
    inference: buildSchedule(graph, { training: false, fusions, frozen }),
    workspace: options.workspace ?? referenceWorkspace,
  };
}

/** Every parameter and buffer, in layer order, as `Net` creates them; returns the values the optimizer updates (trainable, in no frozen layer). */
function allocParams(run: ScheduleReplay, graph: Graph, frozen: ReadonlySet<string> = new Set()): number {
  let trainable = 0;
  for (const node of graph.nodes) {
    for (const p of node.params) {
      run.tensor('params', sizeOf(p.shape));
      if (p.trainable && !frozen.has(node.spec.name)) trainable += sizeOf(p.shape);
    }
  }
  return trainable;
}

/**
 * One training step as `measureTrainingPeak` and the training loop run it: parameters and optimizer
 * slots exist already; the batch arrives; the training schedule's forward; the losses allocate
 * dLoss/dscores (main head first, then each auxiliary head); the schedule's backward.
 */
function simulateTraining(plan: Plan, run: ScheduleReplay, copies: number, augment: boolean): void {
  const graph = plan.graph;
  const frozen = new Set(plan.training.forward.filter((step) => step.frozen).map((step) => step.layer.spec.name));
  const trainable = allocParams(run, graph, frozen);
  for (let c = 0; c < copies; c++) run.tensor('optimizerState', trainable);
  // `batches` shifts and flips in place through one float64 image of scratch.
  if (augment) run.ledger.alloc('data', sizeOf(graph.spec.input), AUGMENT_BYTES);
  const state = run.forward(plan.training, run.batched('data', graph.spec.input));
  for (const j of plan.training.seeds) run.batched('activationGradients', graph.shapes[j] as Shape);
  run.backward(plan.training, state);
}

/** One inference pass: the parameters, the batch, and the inference schedule. */
function simulateInference(plan: Plan, run: ScheduleReplay): void {
  allocParams(run, plan.graph);
  run.forward(plan.inference, run.batched('data', plan.graph.spec.input));
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

function trainingPeak(plan: Plan, options: EstimateOptions): KindTotals {
  const run = new ScheduleReplay(options.batch, options.dtype ?? 'float32', plan.workspace);
  simulateTraining(plan, run, OPTIMIZER_STATE_COPIES[options.optimizer ?? 'sgd'], options.augment ?? false);
  return run.ledger.peakBreakdown;
}

function inferencePeak(plan: Plan, options: EstimateOptions): KindTotals {
  const run = new ScheduleReplay(options.batch, options.dtype ?? 'float32', plan.workspace);
  simulateInference(plan, run);
  return run.ledger.peakBreakdown;
}

/**
 * The peak memory of a training step and of an inference pass for `spec`, with what is alive at
 * that peak, by kind. Throws the ops' ShapeError or SizingError for a spec whose volumes do not work out.
 */
export function estimateMemory(spec: NetSpec, options: EstimateOptions): MemoryEstimate {
  checkBatch(options.batch);
  const schedules = plan(spec, options);
  const training = trainingPeak(schedules, options);
  const inference = inferencePeak(schedules, options);
  return {
    training: trainingRows(training.bytes),
    inference: inferenceRows(inference.bytes),
    values: { training: trainingRows(training.values), inference: inferenceRows(inference.values) },
  };
}

/** The largest batch whose training step, and whose inference pass, fit in `budget` bytes; 0 when not even one image does. */
export function maxBatch(spec: NetSpec, budget: number, options: Omit<EstimateOptions, 'batch'> = {}): { training: number; inference: number } {
  if (!(Number.isFinite(budget) && budget >= 0)) throw new RangeError(`the budget must be a finite number of bytes, got ${budget}`);
  const schedules = plan(spec, options);
  const total = (peak: KindTotals): number => Object.values(peak.bytes).reduce((a, b) => a + b, 0);
  return {
    training: largestFitting((batch) => total(trainingPeak(schedules, { ...options, batch })) <= budget),
    inference: largestFitting((batch) => total(inferencePeak(schedules, { ...options, batch })) <= budget),
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
  return buildGraph(spec).shapes.reduce((sum, s) => sum + batch * sizeOf(s), 0);
}
