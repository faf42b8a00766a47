import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType, type NodeProtoSchema, type TensorProtoSchema } from '../../src/io/onnx/onnx_pb.js';

/** A node of a hand-made model. */
export type NodeInit = MessageInitShape<typeof NodeProtoSchema>;
/** An initializer of a hand-made model. */
export type TensorInit = MessageInitShape<typeof TensorProtoSchema>;

const tensorType = (dims: readonly number[]) => ({
  value: { case: 'tensorType' as const, value: { elemType: TensorProto_DataType.FLOAT, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } },
});

/** A float32 initializer `name` of `dims` holding `values` (a plain object: a test may spread it and change a field). */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): { name: string; dims: bigint[]; dataType: TensorProto_DataType; rawData: Uint8Array } {
  return { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

/** The bytes of a hand-made model at opset 13: `nodes` over the float input `x` of `inputDims`, to the float output `y` of `outputDims`. */
export function onnxModel(nodes: NodeInit[], initializer: TensorInit[], inputDims: readonly number[], outputDims: readonly number[]): Uint8Array {
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [{ domain: '', version: 13n }],
      graph: { node: nodes, initializer, input: [{ name: 'x', type: tensorType(inputDims) }], output: [{ name: 'y', type: tensorType(outputDims) }] },
    }),
  );
}
