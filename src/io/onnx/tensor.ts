import { TensorProto_DataLocation, TensorProto_DataType, type TensorProto } from './onnx_pb.js';
import { OnnxError } from './errors.js';

/** A tensor known at import (an initializer, a Constant, a folded shape), its values as float64. */
export interface ConstTensor {
  /** The tensor's shape, outermost first, as the file's `dims` say ([] for a scalar). */
  dims: number[];
  /** The values in row-major order, one per element (the product of `dims`), whatever type the file stored. */
  data: Float64Array;
  /** Integer types (int64 shapes and indices) stay integers through folding. */
  integer: boolean;
}

/**
 * Reads an external-data tensor's bytes: `location` as the file names it, `offset` and `length`
 * (null: to the end). The caller keeps the path inside the model's folder (see external.ts).
 */
export type ExternalReader = (location: string, offset: number, length: number | null) => Uint8Array;

/** Bytes per value of the data types convstack reads, and whether they are integers. */
const TYPES: ReadonlyMap<number, { bytes: number; integer: boolean; read: (view: DataView, at: number) => number }> = new Map([
  [TensorProto_DataType.FLOAT, { bytes: 4, integer: false, read: (v, at) => v.getFloat32(at, true) }],
  [TensorProto_DataType.DOUBLE, { bytes: 8, integer: false, read: (v, at) => v.getFloat64(at, true) }],
  [TensorProto_DataType.INT64, { bytes: 8, integer: true, read: (v, at) => Number(v.getBigInt64(at, true)) }],
  [TensorProto_DataType.INT32, { bytes: 4, integer: true, read: (v, at) => v.getInt32(at, true) }],
  [TensorProto_DataType.INT8, { bytes: 1, integer: true, read: (v, at) => v.getInt8(at) }],
  [TensorProto_DataType.UINT8, { bytes: 1, integer: true, read: (v, at) => v.getUint8(at) }],
  [TensorProto_DataType.BOOL, { bytes: 1, integer: true, read: (v, at) => v.getUint8(at) }],
]);

/**
 * A TensorProto's values. Every count is checked against the bytes that hold it before anything is
 * allocated, so a file cannot ask for more memory than its own size justifies.
 */
export function readTensor(t: TensorProto, what: string, external: ExternalReader | null): ConstTensor {
  const type = TYPES.get(t.dataType);
  if (type === undefined) throw new OnnxError(`${what}: data type ${TensorProto_DataType[t.dataType] ?? t.dataType} is not supported (float, double and integers are)`);
  const dims = t.dims.map((d) => Number(d));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxError(`${what}: invalid dimensions [${t.dims.join(', ')}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.dataLocation === TensorProto_DataLocation.EXTERNAL ? externalBytes(t, what, external) : t.rawData;
  if (raw.length > 0 || t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    if (raw.length !== count * type.bytes) {
      throw new OnnxError(`${what}: ${raw.length} bytes of data for shape [${dims.join(', ')}], which needs ${count * type.bytes}`);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const data = new Float64Array(count);
    for (let i = 0; i < count; i++) data[i] = type.read(view, i * type.bytes);
    return { dims, data, integer: type.integer };
  }
  const typed = typedValues(t);
  if (typed.length !== count) throw new OnnxError(`${what}: ${typed.length} values for shape [${dims.join(', ')}], which holds ${count}`);
  return { dims, data: Float64Array.from(typed, Number), integer: type.integer };
}

function typedValues(t: TensorProto): ArrayLike<number | bigint> {
  switch (t.dataType) {
    case TensorProto_DataType.FLOAT:
      return t.floatData;
    case TensorProto_DataType.DOUBLE:
      return t.doubleData;
    case TensorProto_DataType.INT64:
      return t.int64Data;
    default:
      return t.int32Data;
  }
}

function externalBytes(t: TensorProto, what: string, external: ExternalReader | null): Uint8Array {
  const entry = (key: string): string | undefined => t.externalData.find((e) => e.key === key)?.value;
  const location = entry('location');
  if (location === undefined) throw new OnnxError(`${what}: external data without a location`);
  if (external === null) throw new OnnxError(`${what}: its data is in an external file ('${location}'), and no folder to read it from was given`);
  const number = (key: string): number | null => {
    const text = entry(key);
    if (text === undefined) return null;
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new OnnxError(`${what}: external data ${key} '${text}' is not a whole number`);
    return Number(text);
  };
  return external(location, number('offset') ?? 0, number('length'));
}

/** A ConstTensor from values, for folding. */
export function constTensor(dims: number[], data: ArrayLike<number>, integer: boolean): ConstTensor {
  return { dims, data: Float64Array.from(data), integer };
}
