import { unzipSync, type UnzipFileInfo } from 'fflate';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { oneLine, readUserFile } from '../files.js';
import { halfToFloat } from '../half.js';
import { PickleError, unpickle, type PyValue, type StorageRef, type StorageType, type TensorRef } from './pickle.js';

/**
 * PyTorch's `torch.save` files (`.pth`, `.pt`) as people download them: a zip holding `<name>/data.pkl`
 * (the pickled object), `<name>/data/<key>` (one raw little-endian storage each) and `<name>/version`.
 * Only a state_dict is read (a dict of tensor name to tensor), through the restricted unpickler of
 * pickle.ts; tensors come out contiguous, floating ones as float32 (half widened) or float64, integer
 * ones as float64 holding the exact integers, with their torch dtype kept in `integers`.
 */

/** The file is not a state_dict torch.save wrote, or breaks the zip or pickle rules; names the file. */
export class PthError extends Error {
  override name = 'PthError';
  /** `message` may quote keys and names from the file: it is made one line (control characters escaped). */
  constructor(message: string) {
    super(oneLine(message));
  }
}

/** An integer tensor's dtype in the file, for writers that keep it (safetensors' I64, I32). */
export type IntegerDType = 'I64' | 'I32';

/** A state_dict read from a .pth file. */
export interface StateDict {
  /** Every tensor by its state_dict name, in file order. */
  tensors: Map<string, Tensor>;
  /** The tensors that are integers in the file (e.g. BN's `num_batches_tracked`, int64), with their dtype. */
  integers: Map<string, IntegerDType>;
}

const ELEMENT_BYTES: Record<StorageType, number> = { FloatStorage: 4, DoubleStorage: 8, HalfStorage: 2, LongStorage: 8, IntStorage: 4 };
/** A zip that inflates to more than this many times its own size is refused before inflating (zip bombs). */
const MAX_EXPANSION = 16;
/** The smallest entry of a zip's central directory (no name, no extra field). */
const CENTRAL_ENTRY_BYTES = 46;

/** True when the bytes start as a zip archive does (torch.save's format since PyTorch 1.6). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Reads the state_dict of a torch.save zip; `source` (the file name) starts every error message. */
export function parsePth(bytes: Uint8Array, source = 'pth'): StateDict {
  const fail = (message: string): never => {
    throw new PthError(`${source}: ${message}`);
  };
  if (!isZip(bytes)) {
    fail(bytes[0] === 0x80 ? 'a bare pickle (torch.save before PyTorch 1.6 or with _use_new_zipfile_serialization=False): re-save it with a current torch.save' : 'not a PyTorch file (torch.save writes a zip archive)');
  }
  const files = unzip(bytes, fail);
  const pickles = [...files.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) fail(`expected one '<name>/data.pkl' in the archive, found ${pickles.length}`);
  const pickleName = pickles[0] as string;
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  let root: PyValue;
  try {
    root = unpickle(files.get(pickleName) as Uint8Array, `${source}: ${pickleName}`);
  } catch (error) {
    throw error instanceof PickleError ? new PthError(error.message) : error;
  }
  if (typeof root !== 'object' || root === null || root.kind !== 'dict') return fail('the pickle is not a state_dict (a dict of tensors)');
  const tensors = new Map<string, Tensor>();
  const integers = new Map<string, IntegerDType>();
  // NOTE: tensors that share a storage are copied apart, so a pickle naming one storage many times
  // could ask for far more than the file holds: the copies together may not exceed this.
  const room = { bytes: MAX_EXPANSION * bytes.length };
  for (const [name, value] of root.entries) {
    if (typeof name !== 'string') return fail(`a state_dict key is ${String(name)}, not a name`);
    if (typeof value !== 'object' || value === null || value.kind !== 'tensor') return fail(`'${name}' is not a tensor`);
    const storage = files.get(`${prefix}data/${value.storage.key}`);
    if (storage === undefined) return fail(`'${name}': the archive has no storage '${prefix}data/${value.storage.key}'`);
    tensors.set(name, materialise(value, storage, room, (message) => fail(`'${name}': ${message}`)));
    if (value.storage.type === 'LongStorage') integers.set(name, 'I64');
    if (value.storage.type === 'IntStorage') integers.set(name, 'I32');
  }
  return { tensors, integers };
}

/** Reads and validates a torch.save file. */
export async function readPth(file: string): Promise<StateDict> {
  return parsePth(await readUserFile(file), file);
}

function unzip(bytes: Uint8Array, fail: (message: string) => never): Map<string, Uint8Array> {
  let declared = 0;
  let entries = 0;
  const keep = (info: UnzipFileInfo): boolean => {
    // NOTE: fflate walks as many entries as the directory's end record claims, reading past the
    // bytes present as zeros; each real entry takes at least CENTRAL_ENTRY_BYTES.
    if (++entries > bytes.length / CENTRAL_ENTRY_BYTES) fail(`the archive's directory claims more entries than its ${bytes.length} bytes can hold`);
    declared += info.originalSize;
    if (declared > MAX_EXPANSION * bytes.length) fail(`the archive declares ${declared} bytes of contents, more than ${MAX_EXPANSION} times its size`);
    return true;
  };
  try {
    return new Map(Object.entries(unzipSync(bytes, { filter: keep })));
  } catch (error) {
    if (error instanceof PthError) throw error;
    return fail(`not a readable zip archive (${(error as Error).message})`);
  }
}

/** The tensor's elements gathered in row-major order from its strided view of the storage, taken out of `room`. */
function materialise(ref: TensorRef, bytes: Uint8Array, room: { bytes: number }, fail: (message: string) => never): Tensor {
  const { storage, offset, size, stride } = ref;
  const width = ELEMENT_BYTES[storage.type];
  if (bytes.length !== storage.numel * width) fail(`its storage holds ${bytes.length} bytes, ${storage.numel} ${storage.type} elements need ${storage.numel * width}`);
  if (size.length !== stride.length) fail(`size ${formatShape(size)} and stride ${formatShape(stride)} differ in length`);
  const count = size.reduce((a, b) => a * b, 1);
  if (count > 0) {
    const last = size.reduce((end, d, i) => end + (d - 1) * (stride[i] as number), offset);
    if (last >= storage.numel) fail(`size ${formatShape(size)}, stride ${formatShape(stride)} and offset ${offset} reach past its ${storage.numel}-element storage`);
  }
  if (count > storage.numel) fail(`shape ${formatShape(size)} has more elements than its ${storage.numel}-element storage`);
  const read = elementReader(storage, bytes);
  const isDouble = storage.type !== 'FloatStorage' && storage.type !== 'HalfStorage';
  room.bytes -= count * (isDouble ? 8 : 4);
  if (room.bytes < 0) fail(`the tensors read so far would take more than ${MAX_EXPANSION} times the file's size (a storage named by too many tensors)`);
  const out = isDouble ? new Float64Array(count) : new Float32Array(count);
  const index = new Array<number>(size.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = offset;
    for (let d = 0; d < size.length; d++) at += (index[d] as number) * (stride[d] as number);
    out[i] = read(at, fail);
    for (let d = size.length - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (size[d] as number)) break;
      index[d] = 0;
    }
  }
  return Tensor.from([...size], out, isDouble ? 'float64' : 'float32');
}

type Reader = (element: number, fail: (message: string) => never) => number;

function elementReader(storage: StorageRef, bytes: Uint8Array): Reader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (storage.type) {
    case 'FloatStorage':
      return (i) => view.getFloat32(4 * i, true);
    case 'DoubleStorage':
      return (i) => view.getFloat64(8 * i, true);
    case 'HalfStorage':
      return (i) => halfToFloat(view.getUint16(2 * i, true));
    case 'IntStorage':
      return (i) => view.getInt32(4 * i, true);
    case 'LongStorage':
      return (i, fail) => {
        const v = view.getBigInt64(8 * i, true);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : fail(`the int64 value ${v} is beyond 2^53, which a float64 cannot hold exactly`);
      };
  }
}
