import { fromBinary } from '@bufbuild/protobuf';
import type { NetSpec, NodeSpec } from '../../net/spec.js';
import type { Tensor } from '../../tensor/tensor.js';
import { mergedAdaptivePools } from './adaptive.js';
import { mergedAffines } from './affines.js';
import { ImportContext, NodeView, type NetValue } from './context.js';
import { OnnxError } from './errors.js';
import { ModelProtoSchema, type GraphProto, type ModelProto } from './onnx_pb.js';
import { Concat } from './ops/concat.js';
import { Flatten, Gemm, MatMul, Reshape } from './ops/dense.js';
import { arithmetic, BatchNormalization, Dropout, Identity, LeakyRelu, LRN, Relu, Softmax } from './ops/elementwise.js';
import { Cast, Constant, Gather, Shape, Slice, Squeeze, Unsqueeze } from './ops/fold.js';
import type { OpImporter } from './ops/types.js';
import { AveragePool, Conv, GlobalAveragePool, MaxPool, Pad } from './ops/window.js';
import { readTensor, type ConstTensor, type ExternalReader } from './tensor.js';

/** The ONNX ops convstack imports, one function each (ops/), by their ONNX names. */
export const IMPORTERS: Readonly<Record<string, OpImporter>> = {
  Conv, MaxPool, AveragePool, GlobalAveragePool, Pad,
  Gemm, MatMul, Flatten, Reshape,
  Relu, LeakyRelu, BatchNormalization, LRN, Softmax, Dropout, Identity,
  Add: arithmetic('Add'), Sub: arithmetic('Sub'), Mul: arithmetic('Mul'), Div: arithmetic('Div'),
  Concat, Constant, Shape, Gather, Unsqueeze, Squeeze, Slice, Cast,
};

/** The opsets of the default domain convstack imports: 7 to 18, and 6 for PyTorch's older exports (the ONNX test data's `pytorch-converted`). */
export const OPSETS = { min: 6, max: 18 } as const;

/** An imported net: its spec, its weights by state_dict name, and what the file said. */
export interface ImportedModel {
  /** The imported net: its per-image input shape and its nodes, named from the ONNX node names. */
  spec: NetSpec;
  /** The net's weights and buffers (BN running statistics) by state_dict name, `<node>.<param>`; they belong to the caller. */
  weights: Map<string, Tensor>;
  /** The opset of the default domain the model was written for. */
  opset: number;
  /** The graph's input and output names. */
  inputName: string;
  /** The name of the graph's first output, the net's scores ('' when the graph declares none). */
  outputName: string;
}

/** Options of `importOnnx`. */
export interface ImportOptions {
  /** The file's name, for error messages. */
  file?: string;
  /** Reads tensors stored outside the model file; without it, such a tensor is an error. */
  external?: ExternalReader;
  /**
   * Values of graph inputs other than the images, known at import (a test's weights fed as inputs);
   * each becomes a constant, as an initializer would.
   */
  known?: ReadonlyMap<string, ConstTensor>;
}

/** Decodes an ONNX model's bytes; a file that is not one is an OnnxError naming it. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  try {
    return fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    throw new OnnxError(`${file}: not a valid ONNX model (${(error as Error).message})`);
  }
}

/**
 * Imports an ONNX model as a NetSpec and its weights. An op, attribute or wiring convstack cannot
 * compute is an OnnxError naming the op type, the node and the opset, never a silently different net.
 */
export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): ImportedModel {
  const file = options.file ?? '<onnx>';
  const model = decodeModel(bytes, file);
  const graph = model.graph ?? fail(file, 'the model has no graph');
  const opset = defaultOpset(model, file);
  const known = options.known ?? new Map<string, ConstTensor>();
  const initializers = new Set([...graph.initializer.map((t) => t.name), ...known.keys()]);
  const inputs = graph.input.filter((v) => !initializers.has(v.name));
  if (inputs.length !== 1) fail(file, `the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}); convstack nets take one batch of images`);
  const input = inputs[0] as (typeof inputs)[number];
  const dims = inputDims(input, file);
  const ctx = new ImportContext(file, opset, typeof dims[0] === 'number' && dims[0] > 0 ? dims[0] : 1, options.external ?? null, bytes.length);
  const perImage = dims.slice(1) as number[];
  ctx.values.set(input.name, { kind: 'net', node: 'input', shape: perImage });
  ctx.shapes.set('input', perImage);
  for (const [name, tensor] of known) ctx.values.set(name, { kind: 'const', tensor });
  for (const t of graph.initializer) ctx.values.set(t.name, { kind: 'const', tensor: readTensor(t, `${file}: initializer '${t.name}'`, ctx.external) });
  for (const proto of graph.node) importNode(new NodeView(proto, ctx), proto.domain);
  const output = graphOutput(graph, ctx, file);
  const nodes = mergedAdaptivePools(mergedAffines(withoutFlattensBeforeFc(ancestors(ctx.nodes, output.node)), ctx.weights, ctx.docs), ctx.shapes);
  const weights = new Map([...ctx.weights].filter(([name]) => nodes.some((node) => name.startsWith(`${node.name}.`))));
  return { spec: { input: perImage, nodes }, weights, opset, inputName: input.name, outputName: graph.output[0]?.name ?? '' };
}

function importNode(node: NodeView, domain: string): void {
  if (domain !== '' && domain !== 'ai.onnx') node.fail(`the domain '${domain}' is not supported`);
  const importer = IMPORTERS[node.opType] ?? node.fail('this op is not supported');
  const outputs = importer(node);
  node.proto.output.forEach((name, i) => {
    const value = outputs[i];
    if (name !== '' && value !== undefined) node.ctx.values.set(name, value);
  });
}

function fail(file: string, reason: string): never {
  throw new OnnxError(`${file}: ${reason}`);
}

/** The version of the default ONNX domain, which must be one convstack imports. */
function defaultOpset(model: ModelProto, file: string): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const version = entry === undefined ? 1 : Number(entry.version);
  if (version < OPSETS.min || version > OPSETS.max) fail(file, `opset ${version} is not supported (opsets ${OPSETS.min} to ${OPSETS.max} are)`);
  return version;
}

/** The input's dimensions: (N, C, H, W), (N, F) or another (N, ...), N possibly symbolic (null). */
function inputDims(input: GraphProto['input'][number], file: string): (number | null)[] {
  const type = input.type?.value;
  if (type?.case !== 'tensorType' || type.value.shape === undefined) fail(file, `input '${input.name}' has no tensor shape`);
  const dims = type.value.shape.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : null));
  if (dims.length < 2) fail(file, `input '${input.name}' is ${dims.length}-D; convstack nets take a batch: (N, C, H, W) images or (N, F) vectors`);
  const perImage = dims.slice(1);
  if (perImage.some((d) => d === null || d < 1 || !Number.isSafeInteger(d))) fail(file, `input '${input.name}' has shape [${dims.map((d) => d ?? '?').join(', ')}]; every dimension but the batch must be known`);
  return dims;
}

/** The one graph output, which must be computed by a net node. */
function graphOutput(graph: GraphProto, ctx: ImportContext, file: string): NetValue {
  if (graph.output.length !== 1) fail(file, `the graph has ${graph.output.length} outputs; convstack nets have one`);
  const name = (graph.output[0] as GraphProto['output'][number]).name;
  const value = ctx.values.get(name);
  if (value?.kind !== 'net' || value.node === 'input') fail(file, `the output '${name}' is not computed by any layer convstack imports`);
  return value;
}

/**
 * The nodes with each FLATTEN whose only reader is an FC left out, the FC reading the volume: an FC on
 * a volume flattens it in the same C, H, W order, and the notation writes it as `FC-10`, not
 * `FLATTEN -> FC-10` (which is what convstack's export of an FC on a volume becomes).
 */
function withoutFlattensBeforeFc(nodes: readonly NodeSpec[]): NodeSpec[] {
  const readers = new Map<string, NodeSpec[]>();
  for (const node of nodes) for (const input of node.inputs) readers.set(input, [...(readers.get(input) ?? []), node]);
  const folded = new Map<string, string>();
  for (const node of nodes) {
    const only = readers.get(node.name);
    if (node.op === 'flatten' && only?.length === 1 && only[0]?.op === 'fc' && only[0].inputs.length === 1) folded.set(node.name, node.inputs[0] as string);
  }
  return nodes.filter((node) => !folded.has(node.name)).map((node) => (node.inputs.some((i) => folded.has(i)) ? { ...node, inputs: node.inputs.map((i) => folded.get(i) ?? i) } : node));
}

/** The nodes the output depends on, in order; the output's node is then the last. */
function ancestors(nodes: readonly NodeSpec[], output: string): NodeSpec[] {
  const needed = new Set([output]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i] as NodeSpec;
    if (needed.has(node.name)) for (const input of node.inputs) needed.add(input);
  }
  return nodes.filter((node) => needed.has(node.name));
}
