import { create, toBinary } from '@bufbuild/protobuf';
import type { Net } from '../../net/net.js';
import { INPUT_NODE } from '../../net/spec.js';
import { layerText, onnxNodes, type OnnxAttr, type OnnxNode } from '../../notation/index.js';
import { Tensor } from '../../tensor/tensor.js';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx_pb.js';

/**
 * A Net as an ONNX model: its inference graph and current weights, through the ONNX schema
 * (onnx_pb.ts, generated with @bufbuild/protobuf). Which ONNX ops a layer becomes is its notation
 * keyword's to say (src/notation/keywords, `onnx`); this file only wires them up and adapts them to
 * the opset asked for. The input is `input` (N, C, H, W) with N free (or fixed by `batch`); the
 * outputs are the net's output, named after its last layer, then each auxiliary head's.
 */

/** The opsets written: Pad takes its pads as an input from 11 on, and ONNX 1.13 defines up to 18. */
export const MIN_OPSET = 11;
/** The newest opset written. */
export const MAX_OPSET = 18;
/** The opset written unless another is asked for. */
export const DEFAULT_OPSET = 13;
/** ONNX IR version 8 (ONNX 1.10 to 1.12), which every runtime of these opsets reads. */
const IR_VERSION = 8n;
const FLOAT = TensorProto_DataType.FLOAT;
const INT64 = TensorProto_DataType.INT64;

/** How to write the model. */
export interface OnnxExportOptions {
  /** The default domain's opset, `MIN_OPSET` to `MAX_OPSET`; `DEFAULT_OPSET` unless given. */
  opset?: number;
  /** A fixed batch size for the input; free (`N`) unless given. */
  batch?: number;
  /** Written as the model's producer. */
  producer?: string;
  /** Free-form strings for the model's `metadata_props` (a model file's classes and normalisation). */
  metadata?: Readonly<Record<string, string>>;
}

/** The net as ONNX model bytes. */
export function exportOnnx(net: Net, options: OnnxExportOptions = {}): Uint8Array {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new Error(`ONNX export writes opsets ${MIN_OPSET} to ${MAX_OPSET}, not ${opset}`);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  for (const [name, p] of net.params) initializers.push(floatTensor(name, p.value));
  for (const g of net.graph.nodes) {
    const lowered = onnxNodes(g.spec, g.inShapes[0] ?? net.spec.input);
    let inputs: readonly string[] = g.spec.inputs;
    lowered.forEach((n, i) => {
      const output = i === lowered.length - 1 ? g.spec.name : `${g.spec.name}.${n.op.toLowerCase()}${i}`;
      const params = n.params.map((p) => `${g.spec.name}.${p}`);
      for (const c of n.constants ?? []) {
        const name = `${g.spec.name}.${c.name}`;
        initializers.push(c.int64 === true ? create(TensorProtoSchema, { name, dims: c.dims.map(BigInt), dataType: INT64, int64Data: c.values.map(BigInt) }) : floatTensor(name, Tensor.from(c.dims, c.values, 'float32')));
        params.push(name);
      }
      const { attrs, extraInputs } = forOpset(n, output, opset, initializers);
      // The layer's notation rides on its last node, for convstack's import (written.ts).
      const doc = i === lowered.length - 1 ? layerText(g.spec) : '';
      nodes.push(node(n.op, output, n.constantsFirst === true ? [...params, ...inputs, ...extraInputs] : [...inputs, ...params, ...extraInputs], attrs, doc));
      inputs = [output];
    });
  }
  const outputs = [net.graph.nodes.length, ...net.graph.auxHeads].map((value) => net.graph.nodes[value - 1]?.spec.name as string);
  const graph = create(GraphProtoSchema, {
    name: 'convstack',
    node: nodes,
    initializer: initializers,
    input: [valueInfo(INPUT_NODE, [options.batch ?? 'N', ...net.spec.input])],
    output: outputs.map((name) => valueInfo(name, null)),
  });
  const model = create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    producerName: options.producer ?? 'convstack',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
    graph,
  });
  return toBinary(ModelProtoSchema, model);
}

/**
 * A lowered node's attributes for `opset`. NOTE: the keywords lower Pad in its attribute form (opsets
 * 2 to 10); from opset 11 its `pads` and `value` are inputs, written here as initializers.
 */
function forOpset(n: OnnxNode, output: string, opset: number, initializers: TensorProto[]): { attrs: readonly OnnxAttr[]; extraInputs: string[] } {
  const axis = n.attrs.find((a) => a.name === 'axis');
  if (n.op === 'Softmax' && opset < 13 && axis !== undefined && 'int' in axis && axis.int < -1) {
    throw new Error(`ONNX export: '${output}' is a softmax over an axis other than the last, which ONNX's Softmax computes only from opset 13 (asked: ${opset})`);
  }
  if (n.op !== 'Pad' || opset < 11) return { attrs: n.attrs, extraInputs: [] };
  const pads = n.attrs.find((a) => a.name === 'pads');
  const value = n.attrs.find((a) => a.name === 'value');
  const padsName = `${output}.pads`;
  const valueName = `${output}.value`;
  initializers.push(create(TensorProtoSchema, { name: padsName, dims: [8n], dataType: INT64, int64Data: pads !== undefined && 'ints' in pads ? pads.ints.map(BigInt) : [] }));
  initializers.push(create(TensorProtoSchema, { name: valueName, dims: [], dataType: FLOAT, floatData: [value !== undefined && 'float' in value ? value.float : 0] }));
  return { attrs: n.attrs.filter((a) => a !== pads && a !== value), extraInputs: [padsName, valueName] };
}

function node(op: string, output: string, inputs: readonly string[], attrs: readonly OnnxAttr[], docString: string): NodeProto {
  return create(NodeProtoSchema, { name: output, opType: op, input: [...inputs], output: [output], attribute: attrs.map(attribute), docString });
}

function attribute(a: OnnxAttr): AttributeProto {
  if ('ints' in a) return create(AttributeProtoSchema, { name: a.name, type: AttributeProto_AttributeType.INTS, ints: a.ints.map(BigInt) });
  if ('float' in a) return create(AttributeProtoSchema, { name: a.name, type: AttributeProto_AttributeType.FLOAT, f: a.float });
  return create(AttributeProtoSchema, { name: a.name, type: AttributeProto_AttributeType.INT, i: BigInt(a.int) });
}

/** A parameter as a float32 initializer (float64 nets are written as float32, which ONNX runtimes run). */
function floatTensor(name: string, t: Tensor): TensorProto {
  const values = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  const raw = new Uint8Array(values.byteLength);
  raw.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return create(TensorProtoSchema, { name, dims: t.shape.map(BigInt), dataType: FLOAT, rawData: raw });
}

/** A float tensor's name and shape; a string dimension is a free one, `null` leaves the shape out. */
function valueInfo(name: string, dims: readonly (number | string)[] | null): ValueInfoProto {
  const shape =
    dims === null
      ? undefined
      : create(TensorShapeProtoSchema, {
          dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, { value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d } })),
        });
  const tensorType = create(TypeProto_TensorSchema, { elemType: FLOAT, ...(shape !== undefined && { shape }) });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}
