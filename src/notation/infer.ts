import { dilatedExtent } from '../ops/dilation.js';
import { adaptiveWindow } from '../ops/window.js';
import type { ParamSpec } from '../ops/op.js';
import { ShapeError, SizingError } from '../ops/errors.js';
import { NetError } from '../graph/errors.js';
import { buildGraph, type Graph } from '../graph/graph.js';
import type { NetSpec, NodeSpec } from '../net/spec.js';
import { formatVolume, sizeOf, type Shape } from '../tensor/shape.js';
import { NotationError, type Location } from './errors.js';
import { layerText } from './format.js';

/** What one output value sees of the input image: a window of `size` pixels, moving `stride` pixels per step. */
export interface ReceptiveField {
  /** Height and width of the window, in input pixels. */
  size: [number, number];
  /** Vertical and horizontal step between neighbouring outputs' windows, in input pixels. */
  stride: [number, number];
}

/** One layer with everything the table needs, all computed by the ops' own rules. */
export interface LayerInfo {
  /** 1-based position in the table; INPUT is 0. */
  index: number;
  /** The layer as the spec gives it. */
  node: NodeSpec;
  /** The layer as notation with its defaults explicit, e.g. `CONV3-32` for a bare `CONV`. */
  text: string;
  /** One image's output, [C, H, W] or [F]. */
  output: Shape;
  /** Parameters and buffers the layer owns, state_dict-style. */
  params: ParamSpec[];
  /** Trainable values named `weight` (filters, FC matrices, BN scales). */
  weights: number;
  /** Trainable values named `bias`. */
  biases: number;
  /** Multiply-adds for one image. */
  macs: number;
  /** What one of its output values sees of the input image. */
  receptiveField: ReceptiveField;
}

/** A net whose every volume is known. */
export interface InferredNet {
  /** The spec, its INPUT and nodes. */
  spec: NetSpec;
  /** One row per layer, in the spec's order (INPUT not included). */
  layers: LayerInfo[];
}

/**
 * Every layer's output volume, parameters, multiply-adds and receptive field, read from the graph
 * the engine builds (`graph/graph.ts`, the ops' own rules), so that the table and the engine never disagree.
 * A window that does not tile its input is an error naming the layer (index and text) with the
 * arithmetic filled in; `source` (the notation text) adds a caret excerpt.
 */
export function infer(spec: NetSpec, source?: string): InferredNet {
  const graph = buildGraphOrExplain(spec, source);
  // Each value's receptive field: 0 is the input, i + 1 is node i's output.
  const fields: ReceptiveField[] = [{ size: [1, 1], stride: [1, 1] }];
  const layers = graph.nodes.map((node): LayerInfo => {
    const count = (name: string): number => node.params.filter((p) => p.trainable && p.name === name).reduce((n, p) => n + sizeOf(p.shape), 0);
    const receptiveField = nextField(node.spec, node.inShapes, node.inputs.map((j) => fields[j] as ReceptiveField));
    fields.push(receptiveField);
    return {
      index: node.index + 1,
      node: node.spec,
      text: layerText(node.spec),
      output: node.outShape,
      params: node.params,
      weights: count('weight'),
      biases: count('bias'),
      macs: node.macs,
      receptiveField,
    };
  });
  return { spec, layers };
}

/** The graph of `spec`, or its NetError told as the notation tells errors: the arithmetic, the input volumes, a caret. */
function buildGraphOrExplain(spec: NetSpec, source: string | undefined): Graph {
  try {
    return buildGraph(spec);
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    const { node, index, reason, inputs } = error;
    if (reason instanceof SizingError) throw layerError(node, index, 'sizing', sizingReason(node, reason), source);
    if (reason instanceof ShapeError) throw layerError(node, index, 'shape', `${reason.message}; its input is ${inputs.map((s) => formatVolume(s)).join(' and ')}`, source);
    throw layerError(node, index, 'shape', reason.message, source);
  }
}

/**
 * r_out = r_in + (F - 1) * j_in and j_out = j_in * S, per axis. A global pool or an FC on a volume is
 * a window as large as the volume; joins take the largest field of their inputs.
 */
function nextField(node: NodeSpec, inputs: readonly Shape[], fields: readonly ReceptiveField[]): ReceptiveField {
  const first = fields[0] as ReceptiveField;
  const grow = (kernel: readonly [number, number], stride: readonly [number, number]): ReceptiveField => ({
    size: [first.size[0] + (kernel[0] - 1) * first.stride[0], first.size[1] + (kernel[1] - 1) * first.stride[1]],
    stride: [first.stride[0] * stride[0], first.stride[1] * stride[1]],
  });
  switch (node.op) {
    case 'conv':
    case 'maxpool':
      return grow(dilatedExtent(node.attrs), node.attrs.stride);
    case 'avgpool':
      return grow(node.attrs.kernel, node.attrs.stride);
    case 'adaptiveavgpool': {
      // The widest window, and the windows' average step.
      const x = inputs[0] as Shape;
      const widest = (size: number, out: number): number => Math.max(...Array.from({ length: out }, (_, i) => adaptiveWindow(i, size, out)).map(([a, b]) => b - a));
      const [h, w] = [x[1] as number, x[2] as number];
      const [oh, ow] = node.attrs.output;
      return grow([widest(h, oh), widest(w, ow)], [Math.max(1, Math.floor(h / oh)), Math.max(1, Math.floor(w / ow))]);
    }
    case 'globalavgpool':
    case 'fc': {
      const x = inputs[0] as Shape;
      if (x.length !== 3) return first;
      const whole = [x[1] as number, x[2] as number] as const;
      return grow(whole, whole);
    }
    case 'add':
    case 'concat':
    case 'mul':
    case 'div':
      return {
        size: [Math.max(...fields.map((f) => f.size[0])), Math.max(...fields.map((f) => f.size[1]))],
        stride: [Math.max(...fields.map((f) => f.stride[0])), Math.max(...fields.map((f) => f.stride[1]))],
      };
    default:
      return first;
  }
}

function sizingReason(node: NodeSpec, error: SizingError): string {
  const written = node.source?.text ?? layerText(node);
  const fractional = error.arithmetic.endsWith('not a whole number');
  const hint = fractional
    ? `; to round as frameworks do, write ${withFlag(written, 'floor')} (drop the partial window) or ${withFlag(written, 'ceil')} (keep it), or change the filter size, stride or padding`
    : '';
  return `the ${error.axis} does not work out: ${error.arithmetic}${hint}`;
}

/** `CONV5-64(s=2)` with `floor` added: `CONV5-64(s=2, floor)`. */
function withFlag(text: string, flag: string): string {
  return text.endsWith(')') ? `${text.slice(0, -1)}, ${flag})` : `${text}(${flag})`;
}

function layerError(node: NodeSpec, index: number, kind: 'sizing' | 'shape', reason: string, source: string | undefined): Error {
  const what = `layer ${index} ${node.source?.text ?? layerText(node)} ('${node.name}')`;
  const loc = source !== undefined && node.source !== undefined ? locationOf(source, node.source) : null;
  if (loc === null) return new Error(`${what}: ${reason}`);
  return new NotationError(kind, `${what}: ${reason}`, loc, source as string, index);
}

function locationOf(source: string, span: NonNullable<NodeSpec['source']>): Location {
  let offset = 0;
  for (let line = 1; line < span.line; line++) offset = source.indexOf('\n', offset) + 1;
  offset += span.column - 1;
  return { offset, line: span.line, column: span.column, end: offset + span.text.length };
}
