import { ops, type OpType } from '../ops/index.js';
import type { Op, ParamSpec } from '../ops/op.js';
import { ShapeError, SizingError } from '../ops/errors.js';
import { INPUT_NODE, type NetSpec, type NodeSpec } from '../net/spec.js';
import type { Shape } from '../tensor/shape.js';
import { NetError } from './errors.js';

/**
 * A NetSpec with every value wired up and every shape worked out, once, by the ops' own rules. The
 * notation's table, `Net` and the memory estimate all read this. Values are numbered: 0 is the
 * input images, i + 1 is node i's output; the last value is the net's output.
 */
export interface Graph {
  /** The spec the graph was built from. */
  spec: NetSpec;
  /** The layers, in the spec's order (a topological order). */
  nodes: GraphNode[];
  /** Each value's per-image shape, [C, H, W] or [F]. */
  shapes: Shape[];
  /** For each value, the nodes that read it, in order (a node reading it twice is listed twice). */
  readers: number[][];
  /** For each value, the last node that reads it, or -1 when none does. */
  lastReader: number[];
  /** For each value, whether some backward reads it (its producer's or a reader's), so training keeps it. */
  keptForBackward: boolean[];
  /** The auxiliary heads (GoogLeNet's classifiers): values nobody reads that are not the output, in order. */
  auxHeads: number[];
}

/** One layer: its op, what it reads and produces, per image. */
export interface GraphNode {
  /** Position in `spec.nodes`; its output is value `index + 1`. */
  index: number;
  /** The layer as the spec gives it: name, op, attrs, inputs and where it was written. */
  spec: NodeSpec;
  /** The op that computes it. */
  op: Op<unknown, unknown>;
  /** The op's attrs, typed by `op`. */
  attrs: unknown;
  /** The values it reads, in order. */
  inputs: number[];
  /** Per-image shapes of the values it reads, in order. */
  inShapes: Shape[];
  /** Per-image shape of its output. */
  outShape: Shape;
  /** Parameters and buffers it owns, state_dict-style. */
  params: ParamSpec[];
  /** Multiply-adds for one image. */
  macs: number;
}

/** What an op's backward reads of the forward pass (see `Op.backwardReads`). */
export type BackwardReads = Op<unknown>['backwardReads'];

/**
 * Builds the graph of `spec`. Throws NetError naming the layer (1-based) for a name read before
 * any layer produces it, a name used twice, or the op's ShapeError or SizingError.
 */
export function buildGraph(spec: NetSpec): Graph {
  const shapes: Shape[] = [spec.input];
  const indexOf = new Map<string, number>([[INPUT_NODE, 0]]);
  const nodes = spec.nodes.map((node, i): GraphNode => {
    const fail = (reason: Error, inputs: readonly Shape[] = []): NetError => new NetError(node, i + 1, reason, inputs);
    const inputs = node.inputs.map((name) => {
      const value = indexOf.get(name);
      if (value === undefined) throw fail(new Error(`reads '${name}', which no earlier layer produces`));
      return value;
    });
    if (indexOf.has(node.name)) throw fail(new Error(`the name '${node.name}' is used twice`));
    const op = ops[node.op as OpType] as Op<unknown, unknown> | undefined;
    if (op === undefined) throw fail(new Error(`unknown op '${node.op}'`));
    const inShapes = inputs.map((j) => shapes[j] as Shape);
    let outShape: Shape;
    let params: ParamSpec[];
    try {
      outShape = op.outputShape(inShapes, node.attrs);
      params = op.params(inShapes, node.attrs);
    } catch (error) {
      if (error instanceof ShapeError || error instanceof SizingError) throw fail(error, inShapes);
      throw error;
    }
    shapes.push(outShape);
    indexOf.set(node.name, i + 1);
    const macs = op.macs(inShapes, outShape, node.attrs);
    return { index: i, spec: node, op, attrs: node.attrs, inputs, inShapes, outShape, params, macs };
  });
  const readers = shapes.map((): number[] => []);
  nodes.forEach((node) => node.inputs.forEach((j) => readers[j]?.push(node.index)));
  const { lastReader, keptForBackward } = liveness(
    nodes.map((node) => ({ inputs: node.inputs, output: node.index + 1, backwardReads: node.op.backwardReads })),
    shapes.length,
  );
  const output = shapes.length - 1;
  const auxHeads = lastReader.flatMap((reader, j) => (reader === -1 && j > 0 && j < output ? [j] : []));
  return { spec, nodes, shapes, readers, lastReader, keptForBackward, auxHeads };
}

/** A step that reads some values and writes one, and what its backward reads of them. */
export interface ValueStep {
  /** The values the step reads. */
  inputs: readonly number[];
  /** The value the step writes. */
  output: number;
  /** Which of its inputs and output the step's backward reads. */
  backwardReads: BackwardReads;
}

/**
 * For `valueCount` values and the steps that read and write them (in run order): the index of the
 * last step that reads each value (-1: none does), and whether some backward reads it (its writer's
 * or a reader's), so that training keeps it after forward. Inference frees a value right after its
 * last reader ran, so on a DAG a skip input stays alive until the join that reads it.
 */
export function liveness(steps: readonly ValueStep[], valueCount: number): { lastReader: number[]; keptForBackward: boolean[] } {
  const lastReader = Array.from({ length: valueCount }, () => -1);
  const keptForBackward = Array.from({ length: valueCount }, () => false);
  steps.forEach((step, s) => {
    if (step.backwardReads.output) keptForBackward[step.output] = true;
    for (const j of step.inputs) {
      lastReader[j] = s;
      if (step.backwardReads.inputs) keptForBackward[j] = true;
    }
  });
  return { lastReader, keptForBackward };
}
