import type { Backend } from '../backends/backend.js';
import { conv2dBn, type Conv2dBnAttrs } from '../ops/conv2d_bn.js';
import { conv2dRelu } from '../ops/conv2d_relu.js';
import { maxPool2dValues, poolsValuesAlone, type PoolAttrs } from '../ops/maxpool2d.js';
import type { BatchedShapes, KernelUse, Op } from '../ops/op.js';
import { liveness, type BackwardReads, type Graph, type GraphNode } from './graph.js';

/** The optional kernels a backend offers that change the steps (fused ops, inference-only variants); the schedule uses each where the graph allows it. */
export interface Fusions {
  /** `conv2dRelu`: a CONV whose only reader is the RELU right after it runs with it as one step. */
  conv2dRelu: boolean;
  /** `conv2dAffine`, in inference: a CONV whose only reader is a BN (and its only reader a RELU, or a RES join's ADD and then a RELU) runs with them as one step. */
  conv2dAffine: boolean;
  /** `maxPool2dValues`, in inference: a max POOL computes no argmax. */
  maxPool2dValues: boolean;
}

/** No fused kernels: every layer runs as its own step. */
export const NO_FUSIONS: Fusions = { conv2dRelu: false, conv2dAffine: false, maxPool2dValues: false };

/** The fused kernels `backend` has. */
export function fusionsOf(backend: Pick<Backend, 'conv2dRelu' | 'conv2dAffine' | 'maxPool2dValues'>): Fusions {
  return { conv2dRelu: backend.conv2dRelu !== undefined, conv2dAffine: backend.conv2dAffine !== undefined, maxPool2dValues: backend.maxPool2dValues !== undefined };
}

/** What to schedule. */
export interface ScheduleOptions {
  /** Keep what backward reads, and schedule backward. */
  training: boolean;
  /** The fused kernels the backend offers (e.g. conv + ReLU). */
  fusions: Fusions;
  /** Training: backward also computes dLoss/dinput (the images' gradient), which it otherwise skips where it can. */
  inputGrad?: boolean;
  /** Names of frozen layers (fine-tuning): their steps run with `ForwardContext.frozen`. */
  frozen?: ReadonlySet<string>;
}

/** One op run in forward. */
export interface ForwardStep {
  /** The node whose output the step writes: the RELU of a fused CONV+RELU. */
  node: GraphNode;
  /** The node whose parameters the op runs with: the CONV of a fused step, else `node`. */
  layer: GraphNode;
  /** The BN a fused CONV+BN step computes too (its parameters join the step's as `bn.<name>`), else null. */
  folded: GraphNode | null;
  /** The op that runs: the node's own, `conv2dRelu` or `conv2dBn`. */
  op: Op<unknown, unknown>;
  /** The attrs the op runs with: the layer's, or a fused step's own. */
  attrs: unknown;
  /** The values read, in order. */
  inputs: number[];
  /** The value written. */
  output: number;
  /**
   * Values freed once the step has run, in order: inputs it was the last reader of (in training,
   * only those no backward reads), then, in inference, its own output when it is an auxiliary head.
   * In inference what the op saved is released before these.
   */
  frees: number[];
  /** The layer is frozen: its parameters get no gradient and its BN statistics stay fixed. */
  frozen: boolean;
  /**
   * Training runs the step's backward: some trainable parameter lies upstream of its output (its own
   * included), or the images' gradient is asked for. When false, what its forward saved is released
   * at once, as in inference, and backward skips it.
   */
  backward: boolean;
}

/** What happens to the gradient a backward step returns for one input. */
export type GradientAction =
  /** The value's first gradient: kept as it is. */
  | 'set'
  /** The value already has a gradient from a later reader: the backend's `add` sums them and both parts are freed. */
  | 'add'
  /** Not wanted (the images, without `inputGrad`): freed at once if the op computed it anyway. */
  | 'drop';

/**
 * One op's backward: consumes the forward step's tape entry and its output's gradient. After the
 * op's backward, what forward saved is released, the output gradient is freed, then the output
 * itself (unless `freesOutput` is false), and each input gradient is handled as `inputGrads` says.
 */
export interface BackwardStep {
  /** Index of the forward step in `Schedule.forward`. */
  step: number;
  /** For each input: whether the op is asked for its gradient. */
  wanted: boolean[];
  /** For each input, what happens to the gradient the op returns for it (`set`, `add` or `drop`). */
  inputGrads: GradientAction[];
  /**
   * Activations freed after the step: its own output (not the net's, which is the caller's, nor one
   * training freed in forward already), and values whose producer has no backward step and whose
   * last backward reader this step is.
   */
  frees: number[];
}

/**
 * The order a pass runs in and what it holds: `Net.forward` and `Net.backward` execute it, and the
 * memory estimate replays it on a ledger, so the two cannot drift apart.
 */
export interface Schedule {
  /** The graph the schedule runs. */
  graph: Graph;
  /** Whether backward is scheduled and what it reads is kept. */
  training: boolean;
  /** The forward steps, one per kernel call, in order. */
  forward: ForwardStep[];
  /**
   * The values whose gradients start backward, in order: the net's output, then each auxiliary head.
   * Backward copies the caller's gradients for those that `needsGradient`, before the first step.
   * Empty in inference.
   */
  seeds: number[];
  /**
   * For each value, whether backward computes its gradient: the value lies downstream of a trainable
   * parameter (or of the images, when their gradient is asked for). All false in inference.
   */
  needsGradient: boolean[];
  /**
   * Auxiliary outputs whose producer has no backward step (everything up to them frozen): forward
   * kept them only for the caller's loss; backward frees them before its first step.
   */
  freedBeforeBackward: number[];
  /** The steps whose `backward` is true, in reverse order of `forward`; empty in inference. */
  backward: BackwardStep[];
}

/**
 * The schedule of one pass over `graph`. Where `fusions.conv2dRelu` is on, a CONV whose only reader
 * is the RELU right after it becomes one `conv2dRelu` step that writes the RELU's value: one pass over
 * the output instead of three, and no buffer for the conv's output. Where `fusions.conv2dAffine` is
 * on, in inference, a CONV whose only reader is the BN right after it (and, when the BN's only reader
 * is the RES join's ADD after it, that ADD, its other input read as the step's second; and the RELU
 * that is the last one's only reader) becomes one `conv2dBn` step (ResNet's CONV-BN-RELU and
 * CONV-BN-ADD-RELU: one pass over the output instead of three or four). The spec and the parameter
 * names are unchanged. In training, backward stops where gradients stop being needed: a step none
 * of whose inputs needs a gradient and which trains no parameter has no backward step (a frozen
 * prefix), one that trains parameters but whose inputs need none asks its op for the parameters'
 * gradients only, and forward keeps only what the remaining backward steps read.
 */
export function buildSchedule(graph: Graph, options: ScheduleOptions): Schedule {
  const forward = forwardSteps(graph, options);
  const output = graph.shapes.length - 1;
  const needsGradient = options.training ? gradientFlow(graph, forward, options.inputGrad === true) : graph.shapes.map(() => false);
  forward.forEach((step) => (step.backward = needsGradient[step.output] === true));
  const { lastReader, keptForBackward } = liveness(
    forward.map((step) => ({ inputs: step.inputs, output: step.output, backwardReads: readsBack(step) })),
    graph.shapes.length,
  );
  const freedInForward = new Set<number>();
  forward.forEach((step, s) => {
    for (const j of new Set(step.inputs)) {
      if (j > 0 && lastReader[j] === s && !(options.training && keptForBackward[j])) step.frees.push(j);
    }
    // An output nobody reads is an auxiliary head's: training keeps it for its loss, inference frees it.
    if (!options.training && lastReader[step.output] === -1 && step.output !== output) step.frees.push(step.output);
    step.frees.forEach((j) => freedInForward.add(j));
  });
  if (!options.training) return { graph, training: false, forward, seeds: [], needsGradient, freedBeforeBackward: [], backward: [] };
  const seeds = [output, ...graph.auxHeads];
  const { freesAfter, freedBeforeBackward } = backwardFrees(forward, output, freedInForward);
  const hasGrad = new Set(seeds);
  // Walked from the last step back, as backward runs: a value's first gradient is set, later ones added.
  const backward = [...forward.entries()].reverse().flatMap(([s, step]): BackwardStep[] => {
    if (!step.backward) return [];
    const wanted = step.inputs.map((j) => needsGradient[j] === true);
    const inputGrads = step.inputs.map((j, k): GradientAction => {
      if (!wanted[k]) return 'drop';
      if (hasGrad.has(j)) return 'add';
      hasGrad.add(j);
      return 'set';
    });
    return [{ step: s, wanted, inputGrads, frees: freesAfter.get(s) ?? [] }];
  });
  return { graph, training: true, forward, seeds, needsGradient, freedBeforeBackward, backward };
}

/** What a step's backward reads of the forward pass: nothing without a backward step, less for some ops of a frozen layer. */
function readsBack(step: ForwardStep): BackwardReads {
  if (!step.backward) return { inputs: false, output: false };
  return step.frozen ? (step.op.frozenBackwardReads ?? step.op.backwardReads) : step.op.backwardReads;
}

/**
 * For each value, whether backward needs its gradient: the images' only when asked for; a step's
 * output when the step trains a parameter or one of its inputs needs a gradient. Gradients flow
 * on through frozen layers downstream of a trained one, so a residual join, a concat or an
 * auxiliary head gets them on every path a trained parameter reaches.
 */
function gradientFlow(graph: Graph, forward: readonly ForwardStep[], inputGrad: boolean): boolean[] {
  const needs = graph.shapes.map(() => false);
  needs[0] = inputGrad;
  for (const step of forward) needs[step.output] = trainsParameters(step) || step.inputs.some((j) => needs[j] === true);
  return needs;
}

/** The step's layer has parameters the optimizer updates: trainable and not frozen. */
function trainsParameters(step: ForwardStep): boolean {
  return !step.frozen && step.layer.params.some((p) => p.trainable);
}

/**
 * Where backward frees each activation training kept: after its producer's backward step; when the
 * producer has none (a frozen prefix), after the last backward step that reads it; an auxiliary
 * output that no backward step reads, before the first step. The net's output is the caller's.
 */
function backwardFrees(forward: readonly ForwardStep[], output: number, freedInForward: ReadonlySet<number>): { freesAfter: Map<number, number[]>; freedBeforeBackward: number[] } {
  const freesAfter = new Map<number, number[]>();
  const freedBeforeBackward: number[] = [];
  const freeAfter = (s: number, j: number): void => void freesAfter.set(s, [...(freesAfter.get(s) ?? []), j]);
  forward.forEach((producer, p) => {
    const j = producer.output;
    if (j === output || freedInForward.has(j)) return;
    if (producer.backward) return freeAfter(p, j);
    // Backward runs the steps in reverse, so the last to read j is the earliest reader in forward.
    const reader = forward.findIndex((step) => readsBack(step).inputs && step.inputs.includes(j));
    if (reader === -1) freedBeforeBackward.push(j);
    else freeAfter(reader, j);
  });
  return { freesAfter, freedBeforeBackward };
}

/** The ops to run in order, fused where the backend can, each with no frees yet. */
function forwardSteps(graph: Graph, { training, fusions, frozen = new Set() }: ScheduleOptions): ForwardStep[] {
  const steps: ForwardStep[] = [];
  for (let i = 0; i < graph.nodes.length; i++) {
    const node = graph.nodes[i] as GraphNode;
    const step = (last: GraphNode, op: Op<unknown, unknown>, attrs: unknown, folded: GraphNode | null = null, inputs = node.inputs): ForwardStep => ({
      node: last,
      layer: node,
      folded,
      op,
      attrs,
      inputs,
      output: last.index + 1,
      frees: [],
      frozen: frozen.has(node.spec.name),
      backward: false,
    });
    if (node.spec.op === 'conv' && !training && fusions.conv2dAffine && onlyReaderFollows(graph, i, 'bn')) {
      const bn = graph.nodes[i + 1] as GraphNode;
      const shortcut = shortcutOfAdd(graph, i + 1);
      const last = shortcut === null ? i + 1 : i + 2;
      const relu = onlyReaderFollows(graph, last, 'relu');
      const attrs: Conv2dBnAttrs = { ...(node.attrs as Conv2dBnAttrs), eps: (bn.attrs as { eps: number }).eps, residual: shortcut !== null, relu };
      const inputs = shortcut === null ? node.inputs : [...node.inputs, shortcut];
      steps.push(step(graph.nodes[relu ? last + 1 : last] as GraphNode, conv2dBn as Op<unknown, unknown>, attrs, bn, inputs));
      i = relu ? last + 1 : last;
      continue;
    }
    if (node.spec.op === 'conv' && fusions.conv2dRelu && onlyReaderFollows(graph, i, 'relu')) {
      steps.push(step(graph.nodes[i + 1] as GraphNode, conv2dRelu as Op<unknown, unknown>, node.attrs));
      i++;
      continue;
    }
    if (node.spec.op === 'maxpool' && !training && fusions.maxPool2dValues && poolsValuesAlone(node.attrs as PoolAttrs)) {
      steps.push(step(node, maxPool2dValues as Op<unknown, unknown>, node.attrs));
      continue;
    }
    steps.push(step(node, node.op, node.attrs));
  }
  return steps;
}

/**
 * The other input of the RES join's ADD right after node i when that ADD is node i's only reader
 * (the shortcut, computed before node i: nodes are in order), else null.
 */
function shortcutOfAdd(graph: Graph, i: number): number | null {
  const add = graph.nodes[i + 1];
  const value = (graph.nodes[i] as GraphNode).index + 1;
  if (add?.spec.op !== 'add' || add.inputs.length !== 2 || graph.readers[value]?.length !== 1) return null;
  const [a, b] = add.inputs as [number, number];
  if (a === b) return null;
  return a === value ? b : b === value ? a : null;
}

/** Whether node i's output is read only by the next node, a layer of `op`. */
function onlyReaderFollows(graph: Graph, i: number, op: string): boolean {
  const next = graph.nodes[i + 1];
  const value = (graph.nodes[i] as GraphNode).index + 1;
  return next?.spec.op === op && next.inputs[0] === value && graph.readers[value]?.length === 1;
}

/** A step's inputs and output for `batch` images. */
export function batchedShapes(step: ForwardStep, batch: number): BatchedShapes {
  return { inputs: step.layer.inShapes.map((shape) => [batch, ...shape]), output: [batch, ...step.node.outShape] };
}

/** What a step's forward allocates for `batch` images, in order (see `Op.forwardMemory`). */
export function forwardAllocations(step: ForwardStep, batch: number, training: boolean): KernelUse[] {
  return step.op.forwardMemory(batchedShapes(step, batch), step.attrs, training, step.frozen);
}

/** What a backward step allocates for `batch` images, in order (see `Op.backwardMemory`). */
export function backwardAllocations(schedule: Schedule, step: BackwardStep, batch: number): KernelUse[] {
  const forward = schedule.forward[step.step] as ForwardStep;
  return forward.op.backwardMemory(batchedShapes(forward, batch), forward.attrs, step.wanted, forward.frozen);
}
