import { ops, type OpAttrs, type OpType } from '../../ops/index.js';
import type { NodeSpec } from '../../net/spec.js';
import { sizeOf, type Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { AttributeProto_AttributeType, type AttributeProto, type NodeProto } from './onnx_pb.js';
import { OnnxError } from './errors.js';
import { readTensor, type ConstTensor, type ExternalReader } from './tensor.js';
import { writtenLayer } from './written.js';

/**
 * What an ONNX value is at import: a tensor known now (folded), the output of a net node (its
 * per-image shape), one channel of a net value with a scale and shift still to apply (GoogLeNet's
 * `transform_input` slices the image's channels apart and concatenates them back), or a value
 * convstack does not compute (a Dropout mask), an error only if something reads it.
 */
export type Value =
  | { kind: 'const'; tensor: ConstTensor }
  | { kind: 'net'; node: string; shape: Shape }
  | { kind: 'channel'; source: Extract<Value, { kind: 'net' }>; channel: number; keepsAxis: boolean; scale: number; shift: number }
  | { kind: 'absent'; why: string };

/** A net value: a node's output (or the images, `input`) and its per-image shape. */
export type NetValue = Extract<Value, { kind: 'net' }>;

/** Values an import may make whatever the file's size (shape arithmetic of a small model). */
const ROOM_FLOOR = 1 << 20;
/** And per byte of the file and of the external data read. */
const ROOM_PER_BYTE = 2;

/** The state of one import: the values by ONNX name, the nodes and weights made so far. */
export class ImportContext {
  /** Every value computed so far, by its ONNX name (an initializer, a graph input or a node output). */
  readonly values = new Map<string, Value>();
  /** The net nodes made so far, in graph order: the imported NetSpec's `nodes`. */
  readonly nodes: NodeSpec[] = [];
  /** The notation convstack's export wrote for a node (its ONNX doc_string), by net node name, where there was one. */
  readonly docs = new Map<string, string>();
  /** The imported weights by state_dict name, `<node>.<param>` (`layer1_conv1_Conv.weight`). */
  readonly weights = new Map<string, Tensor>();
  /** Each net node's per-image output shape by name, and the images' (`input`). */
  readonly shapes = new Map<string, Shape>();
  private readonly names = new Set<string>(['input']);
  /** Reads tensors whose data lies outside the model file; null when none may (such a tensor is then an error). */
  readonly external: ExternalReader | null;
  /** Values that folds and weights may still create: what the file's bytes justify (see `reserve`). */
  private room: number;

  constructor(
    /** The model file's name, which starts every error message. */
    readonly file: string,
    /** The opset version of the default ONNX domain the model imports, which picks each op's attributes and inputs. */
    readonly opset: number,
    /** The batch size the graph declares (1 when symbolic), for folding Shape. */
    readonly batch: number,
    external: ExternalReader | null,
    /** The model file's size in bytes. */
    fileBytes: number,
  ) {
    this.room = ROOM_FLOOR + ROOM_PER_BYTE * fileBytes;
    this.external = external && ((location, offset, length) => {
      const bytes = external(location, offset, length);
      this.room += ROOM_PER_BYTE * bytes.length;
      return bytes;
    });
  }

  /**
   * Counts `values` new values a fold or a layer's weights are about to hold. Every value an import
   * makes stays alive until it ends, and a few bytes of nodes can copy a tensor over and over
   * (a Concat of one tensor with itself, thirty times; a thousand layers sharing one initializer):
   * the values made may not exceed twice the bytes read, file and external data, plus a floor.
   */
  reserve(node: NodeView, values: number): void {
    this.room -= values;
    if (!(this.room >= 0)) node.fail(`would make ${values} values, more than the bytes of the model and its data justify (a tensor copied over and over)`);
  }

  /** Adds a net node of `op` reading `inputs`, with its parameters, and returns its value. */
  add<K extends OpType>(onnx: NodeView, op: K, attrs: OpAttrs[K], inputs: readonly NetValue[], params: Record<string, Tensor> = {}): NetValue {
    const name = this.uniqueName(onnx.name);
    const shapes = inputs.map((v) => v.shape);
    let shape: Shape;
    try {
      shape = (ops[op] as (typeof ops)[K]).outputShape(shapes, attrs as never);
    } catch (error) {
      return onnx.fail((error as Error).message);
    }
    this.reserve(onnx, Object.values(params).reduce((n, t) => n + t.size, 0));
    const kept = onnx.proto.docString === '' ? { op, attrs } : writtenLayer(onnx.proto.docString, op, attrs, shapes, shape);
    if (onnx.proto.docString !== '') this.docs.set(name, onnx.proto.docString);
    this.nodes.push({ name, op: kept.op, attrs: kept.attrs, inputs: inputs.map((v) => v.node) } as NodeSpec);
    this.shapes.set(name, shape);
    for (const [param, tensor] of Object.entries(params)) this.weights.set(`${name}.${param}`, tensor);
    return { kind: 'net', node: name, shape };
  }

  /**
   * A state_dict-friendly node name from the ONNX one: `/layer1/conv1/Conv` -> `layer1_conv1_Conv`;
   * a dotted name as convstack writes them (`layer1.0.conv1`) is kept.
   */
  private uniqueName(onnxName: string): string {
    const dotted = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(onnxName);
    const base = dotted ? onnxName : onnxName.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'node';
    let name = base;
    for (let k = 2; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }
}

/** One ONNX node as an importer function sees it: its inputs as values, its attributes by name with defaults. */
export class NodeView {
  /** The node's ONNX name, or its first output's name (or its op type) when it has none; used in errors and, cleaned, as the net node's name. */
  readonly name: string;
  /** The ONNX op type, such as `Conv` or `Gemm` (a key of IMPORTERS). */
  readonly opType: string;

  constructor(
    /** The decoded ONNX NodeProto: inputs and outputs by value name, and attributes. */
    readonly proto: NodeProto,
    /** The import this node belongs to: its values, its nodes so far, the file and opset. */
    readonly ctx: ImportContext,
  ) {
    this.opType = proto.opType;
    this.name = proto.name || proto.output[0] || proto.opType;
  }

  /** An error naming the op, the node and the opset. */
  fail(reason: string): never {
    throw new OnnxError(`${this.ctx.file}: ${this.opType} node '${this.name}' (opset ${this.ctx.opset}): ${reason}`);
  }

  /** The number of inputs written, an empty name (an omitted optional input) included. */
  get inputCount(): number {
    return this.proto.input.length;
  }

  /** Input `i`, or null when it is omitted. */
  input(i: number): Value | null {
    const name = this.proto.input[i];
    if (name === undefined || name === '') return null;
    const value = this.ctx.values.get(name);
    if (value === undefined) return this.fail(`input '${name}' is not computed by any earlier node`);
    if (value.kind === 'absent') return this.fail(`input '${name}' is ${value.why}`);
    return value;
  }

  /** Input `i`, which must be computed by the net from the images. */
  netInput(i: number): NetValue {
    const value = this.input(i);
    if (value?.kind !== 'net') return this.fail(`input ${i + 1} must be computed from the images${value === null ? ', and is missing' : ''}`);
    return value;
  }

  /** Input `i`, which must be known at import (an initializer, a Constant or a folded shape); null when omitted. */
  constInput(i: number): ConstTensor | null {
    const value = this.input(i);
    if (value === null) return null;
    if (value.kind !== 'const') return this.fail(`input ${i + 1} ('${this.proto.input[i]}') must be known at import, not computed from the images`);
    // A fold of a malformed model (a Squeeze of a dimension of 3) can leave dims that disagree with the values.
    const { dims, data } = value.tensor;
    if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0) || sizeOf(dims) !== data.length) this.fail(`input ${i + 1} ('${this.proto.input[i]}') holds ${data.length} values for shape [${dims.join(', ')}]`);
    return value.tensor;
  }

  private attr(name: string): AttributeProto | undefined {
    return this.proto.attribute.find((a) => a.name === name);
  }

  /** Whether the node sets attribute `name` (false when it is left to its default). */
  has(name: string): boolean {
    return this.attr(name) !== undefined;
  }

  /** An INT attribute (an int64 in the file, as a JS number), or `fallback`, the ONNX default, when it is not set. */
  int(name: string, fallback: number): number {
    const a = this.attr(name);
    return a === undefined ? fallback : Number(a.i);
  }

  /** An INTS attribute (such as `kernel_shape` or `pads`) as numbers, or a copy of `fallback` when it is not set. */
  ints(name: string, fallback: readonly number[]): number[] {
    const a = this.attr(name);
    return a === undefined ? [...fallback] : a.ints.map(Number);
  }

  /** A float attribute as the shortest decimal that is the same float32 (1e-5, not 0.000009999999747378752). */
  float(name: string, fallback: number): number {
    const a = this.attr(name);
    return a === undefined ? fallback : shortestFloat32(a.f);
  }

  /** A STRING attribute (such as `auto_pad`), its bytes decoded as UTF-8, or `fallback` when it is not set. */
  string(name: string, fallback: string): string {
    const a = this.attr(name);
    return a === undefined ? fallback : new TextDecoder().decode(a.s);
  }

  /** A tensor attribute (Constant's `value`). */
  tensor(name: string): ConstTensor | null {
    const a = this.attr(name);
    if (a === undefined) return null;
    if (a.type !== AttributeProto_AttributeType.TENSOR || a.t === undefined) return this.fail(`attribute '${name}' is not a tensor`);
    return readTensor(a.t, `${this.ctx.file}: ${this.opType} node '${this.name}' attribute '${name}'`, this.ctx.external);
  }

  /** Rejects attributes whose value changes the result and that convstack does not implement. */
  refuse(name: string, isDefault: (a: AttributeProto) => boolean, what: string): void {
    const a = this.attr(name);
    if (a !== undefined && !isDefault(a)) this.fail(`${what} is not supported`);
  }
}

/** The shortest decimal that rounds to the same float32 as `v`. */
function shortestFloat32(v: number): number {
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === Math.fround(v)) return candidate;
  }
  return v;
}

/** A float32 tensor of a constant's values, as the net's weights are stored. */
export function weightTensor(shape: Shape, values: ArrayLike<number>): Tensor {
  return Tensor.from(shape, values, 'float32');
}
