import { ops, type OpType } from '../ops/index.js';
import type { Op, ParamSpec } from '../ops/op.js';
import { ShapeError, SizingError } from '../ops/errors.js';
import { INPUT_NODE, type NetSpec, type NodeSpec } from '../net/spec.js';
import { formatVolume, sizeOf, type Shape } from '../tensor/shape.js';
import { NotationError, type Location } from './errors.js';
import { layerText } from './format.js';

/** What one output value sees of the input image: a window of `size` pixels, moving `stride` pixels per step. */
export interface ReceptiveField {
  size: [number, number];
  stride: [number, number];
}

/** One layer with everything the table needs, all computed by the ops' own rules. */
export interface LayerInfo {
  /** 1-based position in the table; INPUT is 0. */
  index: number;
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
  receptiveField: ReceptiveField;
}

/** A net whose every volume is known. */
export interface InferredNet {
  spec: NetSpec;
  layers: LayerInfo[];
}

/**
 * Infers every layer's output volume, parameters, multiply-adds and receptive field by calling the
 * ops' own `outputShape`, `params` and `macs`, so that the table and the engine never disagree.
 * A window that does not tile its input is an error naming the layer (index and text) with the
 * arithmetic filled in; `source` (the notation text) adds a caret excerpt.
 */
export function infer(spec: NetSpec, source?: string): InferredNet {
  const shapes = new Map<string, Shape>([[INPUT_NODE, spec.input]]);
  const fields = new Map<string, ReceptiveField>([[INPUT_NODE, { size: [1, 1], stride: [1, 1] }]]);
  const layers = spec.nodes.map((node, i): LayerInfo => {
    const index = i + 1;
    const inputs = node.inputs.map((name) => {
      const shape = shapes.get(name);
      if (shape === undefined) throw layerError(node, index, 'shape', `reads '${name}', which no earlier layer produces`, source);
      return shape;
    });
    const op = ops[node.op as OpType] as Op<unknown, unknown>;
    let output: Shape;
    let params: ParamSpec[];
    try {
      output = op.outputShape(inputs, node.attrs);
      params = op.params(inputs, node.attrs);
    } catch (error) {
      if (error instanceof SizingError) throw layerError(node, index, 'sizing', sizingReason(node, error), source);
      if (error instanceof ShapeError) throw layerError(node, index, 'shape', `${error.message}; its input is ${inputs.map((s) => formatVolume(s)).join(' and ')}`, source);
      throw error;
    }
    const count = (name: string): number => params.filter((p) => p.trainable && p.name === name).reduce((n, p) => n + sizeOf(p.shape), 0);
    const receptiveField = nextField(node, inputs, node.inputs.map((name) => fields.get(name) as ReceptiveField));
    shapes.set(node.name, output);
    fields.set(node.name, receptiveField);
    return {
      index,
      node,
      text: layerText(node),
      output,
      params,
      weights: count('weight'),
      biases: count('bias'),
      macs: op.macs(inputs, output, node.attrs),
      receptiveField,
    };
  });
  return { spec, layers };
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
    case 'avgpool':
      return grow(node.attrs.kernel, node.attrs.stride);
    case 'globalavgpool':
    case 'fc': {
      const x = inputs[0] as Shape;
      if (x.length !== 3) return first;
      const whole = [x[1] as number, x[2] as number] as const;
      return grow(whole, whole);
    }
    case 'add':
    case 'concat':
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
