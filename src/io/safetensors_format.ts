import { Tensor, type DType } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { halfToFloat } from './half.js';

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string:
 * string}}`, then the raw little-endian data, offsets relative to its start. Reading is strict, since
 * model files come from strangers: every number in the header is checked against the bytes actually
 * present before anything is allocated, tensors must tile the data exactly (no gaps, no overlaps, no
 * trailing bytes), and each error names the file and the tensor.
 */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** What a safetensors file holds: tensors in file order, and the free-form string metadata. */
export interface Safetensors {
  /** Every tensor by name, in file order. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` entries (strings only, as the format says). */
  metadata: Record<string, string>;
}

/** The safetensors crate's own limit; real headers are a few KB. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * The dtypes read, and the tensor dtype each becomes: half widens to float32 exactly, and the integer
 * types (BN's `num_batches_tracked` is I64 in every PyTorch state_dict) become float64, which holds
 * them exactly up to 2^53 (beyond is an error).
 */
const DTYPES: Record<string, { bytes: number; dtype: DType }> = {
  F32: { bytes: 4, dtype: 'float32' },
  F64: { bytes: 8, dtype: 'float64' },
  F16: { bytes: 2, dtype: 'float32' },
  I64: { bytes: 8, dtype: 'float64' },
  I32: { bytes: 4, dtype: 'float64' },
};
/** Valid safetensors dtypes that convstack does not read; named in the error so the user knows to convert. */
const OTHER_DTYPES = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'BF16', 'U32', 'U64']);
/** Integer dtypes a writer may keep for float64 tensors that hold integers. */
export type SafetensorsIntegerDType = 'I64' | 'I32';
const METADATA_KEY = '__metadata__';

/** Parses the bytes of a safetensors file; `source` (the file name) starts every error message. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): Safetensors {
  const fail = (message: string): never => {
    throw new SafetensorsError(`${source}: ${message}`);
  };
  if (bytes.length < 8) fail(`not a safetensors file: ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  if (8 + n > bytes.length) fail(`header length ${n} runs past the end of the ${bytes.length}-byte file`);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    if (!text.startsWith('{')) fail('the header is not a JSON object');
    header = JSON.parse(text);
  } catch (error) {
    if (error instanceof SafetensorsError) throw error;
    fail(`the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isRecord(header)) return fail('the header is not a JSON object');

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const entries: { name: string; stored: string; shape: number[]; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = checkMetadata(info, fail);
      continue;
    }
    const where = `tensor '${name}'`;
    if (!isRecord(info)) return fail(`${where}: expected {dtype, shape, data_offsets}`);
    const extra = Object.keys(info).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length > 0) fail(`${where}: unexpected field '${extra[0]}'`);
    const dtypeName = info['dtype'];
    if (typeof dtypeName !== 'string') return fail(`${where}: dtype must be a string`);
    const type = DTYPES[dtypeName];
    if (type === undefined) {
      return fail(OTHER_DTYPES.has(dtypeName) ? `${where}: dtype ${dtypeName} is not supported (convstack reads ${Object.keys(DTYPES).join(', ')})` : `${where}: unknown dtype '${dtypeName}'`);
    }
    const shape = info['shape'];
    if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`${where}: shape must be a list of non-negative integers`);
    }
    const offsets = info['data_offsets'];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o): o is number => Number.isSafeInteger(o) && o >= 0)) {
      return fail(`${where}: data_offsets must be two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) fail(`${where}: data_offsets [${begin}, ${end}] lie outside the ${dataLength} data bytes`);
    // The byte count is bounded by the file, so a shape whose size exceeds it is caught before any allocation.
    let count = shape.includes(0) ? 0 : 1;
    for (const d of count === 0 ? [] : shape) {
      count *= d;
      if (count * type.bytes > dataLength) fail(`${where}: shape ${formatShape(shape)} needs more bytes than the file holds`);
    }
    if (count * type.bytes !== end - begin) fail(`${where}: shape ${formatShape(shape)} of ${dtypeName} needs ${count * type.bytes} bytes, data_offsets give ${end - begin}`);
    entries.push({ name, stored: dtypeName, shape, begin, end });
  }

  // Tensors must tile the data exactly, as the reference implementation requires.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin !== expected) fail(`tensor '${e.name}': data starts at ${e.begin}, expected ${expected} (tensors overlap or leave a gap)`);
    expected = e.end;
  }
  if (expected !== dataLength) fail(`the tensors cover ${expected} data bytes but the file has ${dataLength}`);

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    // NOTE: copied out, so the typed array is aligned whatever the header length (and not with
    // Buffer#slice, which is a view); safetensors data is little-endian, as are Node's platforms.
    const raw = new ArrayBuffer(e.end - e.begin);
    new Uint8Array(raw).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, Tensor.from(e.shape, decode(e.stored, raw, (message) => fail(`tensor '${e.name}': ${message}`)), (DTYPES[e.stored] as { dtype: DType }).dtype));
  }
  return { tensors, metadata };
}

/** The values of a tensor's (aligned, little-endian) bytes as the float array its dtype becomes. */
function decode(stored: string, raw: ArrayBuffer, fail: (message: string) => never): Float32Array | Float64Array {
  switch (stored) {
    case 'F64':
      return new Float64Array(raw);
    case 'F16':
      return Float32Array.from(new Uint16Array(raw), halfToFloat);
    case 'I32':
      return Float64Array.from(new Int32Array(raw));
    case 'I64':
      return Float64Array.from(new BigInt64Array(raw), (v) =>
        v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : fail(`the I64 value ${v} is beyond 2^53, which a float64 cannot hold exactly`),
      );
    default:
      return new Float32Array(raw);
  }
}

function checkMetadata(info: unknown, fail: (message: string) => never): Record<string, string> {
  if (!isRecord(info)) return fail('__metadata__ must be an object of strings');
  for (const [key, value] of Object.entries(info)) if (typeof value !== 'string') fail(`__metadata__ '${key}' is not a string`);
  return info as Record<string, string>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Serialises tensors (in map order) and metadata; the header is padded with spaces to 8 bytes, as the
 * crate does. The tensors named in `integers` hold integers and are stored as that dtype (a converted
 * PyTorch state_dict keeps its int64 `num_batches_tracked`).
 */
export function formatSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
  integers: ReadonlyMap<string, SafetensorsIntegerDType> = new Map(),
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  const data = new Map<string, Uint8Array>();
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY) throw new SafetensorsError(`a tensor cannot be named '${METADATA_KEY}'`);
    const integer = integers.get(name);
    const bytes = integer === undefined ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : integerBytes(name, t, integer);
    data.set(name, bytes);
    header[name] = { dtype: integer ?? (t.dtype === 'float64' ? 'F64' : 'F32'), shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const bytes of data.values()) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function integerBytes(name: string, t: Tensor, dtype: SafetensorsIntegerDType): Uint8Array {
  const values = Array.from(t.data);
  if (!values.every((v) => Number.isSafeInteger(v) && (dtype === 'I64' || v === (v | 0)))) {
    throw new SafetensorsError(`tensor '${name}' is stored as ${dtype} but holds a value that is not such an integer`);
  }
  const array = dtype === 'I64' ? BigInt64Array.from(values, BigInt) : Int32Array.from(values);
  return new Uint8Array(array.buffer);
}
