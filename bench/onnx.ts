import protobuf from 'protobufjs/minimal.js';
import type { Net } from '../src/net/net.js';
import type { NodeSpec } from '../src/net/spec.js';
import { INPUT_NODE } from '../src/net/spec.js';

/**
 * Writes a Net (inference graph, its current weights) as an ONNX model (opset 13) for
 * onnxruntime, field by field with protobufjs's writer: the bench needs a handful of message types,
 * not the whole onnx.proto. Field numbers are onnx.proto's.
 */

const VARINT = 0;
const FIXED32 = 5;
const BYTES = 2;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Writer = protobuf.Writer;
type Attr = [name: string, value: number | readonly number[], kind?: 'float'];

function tag(w: Writer, field: number, wire: number): Writer {
  return w.uint32((field << 3) | wire);
}

function message(w: Writer, field: number, body: (w: Writer) => void): void {
  tag(w, field, BYTES).fork();
  body(w);
  w.ldelim();
}

function attribute(w: Writer, [name, value, kind]: Attr): void {
  message(w, 5, (a) => {
    tag(a, 1, BYTES).string(name);
    if (typeof value !== 'number') {
      for (const v of value) tag(a, 8, VARINT).int64(v);
      tag(a, 20, VARINT).int32(ATTR_INTS);
    } else if (kind === 'float') {
      tag(a, 2, FIXED32).float(value);
      tag(a, 20, VARINT).int32(ATTR_FLOAT);
    } else {
      tag(a, 3, VARINT).int64(value);
      tag(a, 20, VARINT).int32(ATTR_INT);
    }
  });
}

function node(w: Writer, op: string, inputs: readonly string[], output: string, attrs: readonly Attr[] = []): void {
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

function pads(p: readonly [number, number]): Attr {
  return ['pads', [p[0], p[1], p[0], p[1]]];
}

/** The ONNX ops for one layer; returns the name of its output value. */
function layer(g: Writer, spec: NodeSpec, inputs: string[], inputRank: number): void {
  const out = spec.name;
  const p = (name: string): string => `${spec.name}.${name}`;
  switch (spec.op) {
    case 'conv': {
      const a = spec.attrs;
      const attrs: Attr[] = [['kernel_shape', a.kernel], ['strides', a.stride], pads(a.padding), ['group', a.groups]];
      node(g, 'Conv', [...inputs, p('weight'), ...(a.bias ? [p('bias')] : [])], out, attrs);
      return;
    }
    case 'bn':
      node(g, 'BatchNormalization', [...inputs, p('weight'), p('bias'), p('running_mean'), p('running_var')], out, [['epsilon', spec.attrs.eps, 'float']]);
      return;
    case 'relu':
      node(g, 'Relu', inputs, out);
      return;
    case 'maxpool':
    case 'avgpool': {
      const a = spec.attrs;
      const attrs: Attr[] = [['kernel_shape', a.kernel], ['strides', a.stride], pads(a.padding), ['ceil_mode', a.rounding === 'ceil' ? 1 : 0]];
      if (spec.op === 'avgpool') attrs.push(['count_include_pad', spec.attrs.countIncludePad ? 1 : 0]);
      node(g, spec.op === 'maxpool' ? 'MaxPool' : 'AveragePool', inputs, out, attrs);
      return;
    }
    case 'globalavgpool':
      node(g, 'GlobalAveragePool', inputs, out);
      return;
    case 'fc': {
      let x = inputs[0] as string;
      if (inputRank !== 1) {
        node(g, 'Flatten', [x], `${out}.flat`, [['axis', 1]]);
        x = `${out}.flat`;
      }
      node(g, 'Gemm', [x, p('weight'), ...(spec.attrs.bias ? [p('bias')] : [])], out, [['transB', 1]]);
      return;
    }
    case 'add':
      node(g, 'Add', inputs, out);
      return;
    case 'concat':
      node(g, 'Concat', inputs, out, [['axis', 1]]);
      return;
    case 'dropout':
      node(g, 'Identity', inputs, out);
      return;
    case 'flatten':
      node(g, 'Flatten', inputs, out, [['axis', 1]]);
      return;
    case 'softmax':
      node(g, 'Softmax', inputs, out, [['axis', 1]]);
      return;
    case 'lrn': {
      const a = spec.attrs;
      node(g, 'LRN', inputs, out, [['size', a.size], ['alpha', a.alpha, 'float'], ['beta', a.beta, 'float'], ['bias', a.k, 'float']]);
      return;
    }
  }
}

/** The net as ONNX model bytes, input `input` (batch, C, H, W), output named after the last layer. */
export function toOnnx(net: Net, batch: number): Uint8Array {
  const w = protobuf.Writer.create();
  tag(w, 1, VARINT).int64(8); // ir_version
  tag(w, 2, BYTES).string('convstack bench');
  message(w, 8, (o) => tag(o, 2, VARINT).int64(13)); // opset_import: default domain, opset 13
  message(w, 7, (g) => {
    const rank = new Map<string, number>([[INPUT_NODE, net.spec.input.length]]);
    net.spec.nodes.forEach((spec, i) => {
      layer(g, spec, spec.inputs, rank.get(spec.inputs[0] as string) ?? 3);
      rank.set(spec.name, (net.shapes[i + 1] as readonly number[]).length);
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
