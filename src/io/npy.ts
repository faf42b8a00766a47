import { Tensor } from '../tensor/tensor.js';
import { sizeOf } from '../tensor/shape.js';

/**
 * NumPy .npy files, the exchange format every numerical tool reads. Strict: little-endian float32
 * or float64, C order, a shape that matches the byte count exactly; anything else is refused with
 * a message saying what was found. See numpy/lib/format.py for the format.
 */
export class NpyError extends Error {
  override name = 'NpyError';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Real headers are under 200 bytes; a larger one is a hostile or broken file. */
const MAX_HEADER_BYTES = 65536;

const DTYPES: Record<string, { bytes: number; dtype: 'float32' | 'float64' }> = {
  '<f4': { bytes: 4, dtype: 'float32' },
  '<f8': { bytes: 8, dtype: 'float64' },
};

/** Parses .npy bytes into a Tensor (float32 or float64, as stored). `name` is used in errors. */
export function parseNpy(bytes: Uint8Array, name = 'array'): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError(`${name}: not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : major === 2 || major === 3 ? 4 : 0;
  if (lengthBytes === 0) throw new NpyError(`${name}: unsupported .npy version ${major}.${bytes[7]}`);
  const headerLength = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  if (headerLength > MAX_HEADER_BYTES) throw new NpyError(`${name}: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit (real headers are under 200 bytes)`);
  if (headerStart + headerLength > bytes.length) throw new NpyError(`${name}: header length ${headerLength} does not fit in a ${bytes.length}-byte file`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const { descr, fortranOrder, shape } = parseHeader(header, name);
  const type = DTYPES[descr];
  if (type === undefined) throw new NpyError(`${name}: dtype '${clip(descr)}' is not supported; use little-endian float32 ('<f4') or float64 ('<f8')`);
  if (fortranOrder) throw new NpyError(`${name}: Fortran-ordered arrays are not supported; save a C-ordered array`);
  const dataStart = headerStart + headerLength;
  const count = sizeOf(shape);
  const needed = count * type.bytes;
  if (bytes.length - dataStart !== needed) {
    const what = Number.isSafeInteger(needed) ? `${needed} data bytes` : 'more data bytes than any file holds';
    throw new NpyError(`${name}: shape ${describeShape(shape)} needs ${what}, the file has ${bytes.length - dataStart}`);
  }
  const tensor = Tensor.zeros(shape, type.dtype);
  for (let i = 0; i < count; i++) {
    const at = dataStart + i * type.bytes;
    tensor.data[i] = type.bytes === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true);
  }
  return tensor;
}

function parseHeader(header: string, name: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyError(`${name}: malformed header ${clip(JSON.stringify(header.trim()))}`);
  }
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const shape = parts.map((s) => {
    if (!/^\d+$/.test(s)) throw new NpyError(`${name}: bad dimension '${clip(s)}' in shape (${clip(shapeText)})`);
    return Number(s);
  });
  if (shape.some((d) => !Number.isSafeInteger(d))) throw new NpyError(`${name}: shape (${clip(shapeText)}) is too large`);
  return { descr, fortranOrder: fortran === 'True', shape };
}

/** A piece of a header quoted in an error, cut short: a hostile header can be 64 KB on one line. */
function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/** The shape as NumPy writes it, its middle left out when it has more than 8 dimensions (a hostile header may hold thousands). */
function describeShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  if (shape.length <= 8) return `(${shape.join(', ')})`;
  return `(${shape.slice(0, 4).join(', ')}, ... ${shape.length - 8} more ..., ${shape.slice(-4).join(', ')})`;
}

/** Serialises a tensor as a version 1.0 .npy file in its own dtype. */
export function formatNpy(tensor: Tensor): Uint8Array {
  const descr = tensor.dtype === 'float64' ? '<f8' : '<f4';
  const shape = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The data starts on a 64-byte boundary; the header ends with a newline (format.py does the same).
  const padding = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(padding % 64) + '\n';
  const width = tensor.dtype === 'float64' ? 8 : 4;
  const out = new Uint8Array(10 + header.length + tensor.size * width);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  for (let i = 0; i < tensor.size; i++) {
    if (width === 4) view.setFloat32(start + i * 4, tensor.data[i] as number, true);
    else view.setFloat64(start + i * 8, tensor.data[i] as number, true);
  }
  return out;
}
