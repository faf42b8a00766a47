import protobuf from 'protobufjs/minimal.js';
import type { Net } from '../src/net/net.js';
import type { NodeSpec } from '../src/net/spec.js';
import { INPUT_NODE } from '../src/net/spec.js';
import { onnxNodes, type OnnxAttr } from '../src/notation/index.js';
import type { Shape } from '../src/tensor/shape.js';

/**
 * Writes a Net (inference graph, its current weights) as an ONNX model (opset 13) for
 * onnxruntime, field by field with protobufjs's writer: the bench needs a handful of message types,
 * not the whole onnx.proto. Field numbers are onnx.proto's; which ONNX ops a layer becomes is the
 * notation keyword's to say (src/notation/keywords).
 */

const VARINT = 0;
const FIXED32 = 5;
const BYTES = 2;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Writer = protobuf.Writer;

function tag(w: Writer, field: number, wire: number): Writer {
  return w.uint32((field << 3) | wire);
}

function message(w: Writer, field: number, body: (w: Writer) => void): void {
  tag(w, field, BYTES).fork();
  body(w);
  w.ldelim();
}

function attribute(w: Writer, attr: OnnxAttr): void {
  message(w, 5, (a) => {
    tag(a, 1, BYTES).string(attr.name);
    if ('ints' in attr) {
      for (const v of attr.ints) tag(a, 8, VARINT).int64(v);
      tag(a, 20, VARINT).int32(ATTR_INTS);
    } else if ('float' in attr) {
      tag(a, 2, FIXED32).float(attr.float);
      tag(a, 20, VARINT).int32(ATTR_FLOAT);
    } else {
      tag(a, 3, VARINT).int64(attr.int);
      tag(a, 20, VARINT).int32(ATTR_INT);
    }
  });
}

function node(w: Writer, op: string, inputs: readonly string[], output: string, attrs: readonly OnnxAttr[]): void {
  message(w, 1, (n) => {
    for (const i of inputs) tag(n, 1, BYTES).string(i);
    tag(n, 2, BYTES).string(output);
    tag(n, 3, BYTES).string(output);
    tag(n, 4, BYTES).string(op);
    attrs.forEach((a) => attribute(n, a));
  });
}

function valueInfo(w: Writer, field: number, name: string, dims: readonly number[] | null): void {
  message(w, field, (v) => {
    tag(v, 1, BYTES).string(name);
    message(v, 2, (type) =>
      message(type, 1, (tensor) => {
        tag(tensor, 1, VARINT).int32(FLOAT);
        if (dims !== null) message(tensor, 2, (shape) => dims.forEach((d) => message(shape, 1, (dim) => tag(dim, 1, VARINT).int64(d))));
      }),
    );
  });
}

/**
 * One layer as the ONNX nodes its notation keyword lowers to (`onnxNodes`): the first reads the
 * layer's inputs, each later one the node before it, and the last writes the layer's name.
 */
function layer(g: Writer, spec: NodeSpec, input: Shape): void {
  const lowered = onnxNodes(spec, input);
  let inputs: readonly string[] = spec.inputs;
  lowered.forEach((n, i) => {
    const out = i === lowered.length - 1 ? spec.name : `${spec.name}.${n.op.toLowerCase()}`;
    node(g, n.op, [...inputs, ...n.params.map((p) => `${spec.name}.${p}`)], out, n.attrs);
    inputs = [out];
  });
}

/** The net as ONNX model bytes, input `input` (batch, C, H, W), output named after the last layer. */
export function toOnnx(net: Net, batch: number): Uint8Array {
  const w = protobuf.Writer.create();
  tag(w, 1, VARINT).int64(8); // ir_version
  tag(w, 2, BYTES).string('convstack bench');
  message(w, 8, (o) => tag(o, 2, VARINT).int64(13)); // opset_import: default domain, opset 13
  message(w, 7, (g) => {
    const shapes = new Map<string, Shape>([[INPUT_NODE, net.spec.input]]);
    net.spec.nodes.forEach((spec, i) => {
      layer(g, spec, shapes.get(spec.inputs[0] as string) as Shape);
      shapes.set(spec.name, net.shapes[i + 1] as Shape);
    });
    tag(g, 2, BYTES).string('net');
    for (const [name, p] of net.params) {
      message(g, 5, (t) => {
        for (const d of p.value.shape) tag(t, 1, VARINT).int64(d);
        tag(t, 2, VARINT).int32(FLOAT);
        tag(t, 8, BYTES).string(name);
        const data = p.value.data as Float32Array;
        tag(t, 9, BYTES).bytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
    }
    valueInfo(g, 11, INPUT_NODE, [batch, ...net.spec.input]);
    valueInfo(g, 12, (net.spec.nodes[net.spec.nodes.length - 1] as NodeSpec).name, null);
  });
  return w.finish();
}
