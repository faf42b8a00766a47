import { oneLine } from '../files.js';
/**
 * A restricted pickle reader: just the opcodes and the few globals that a PyTorch state_dict uses.
 * It is a stack machine over plain data; it never calls, imports or looks up anything a file names.
 * A global is only a name here: one outside `ALLOWED_GLOBALS` is refused as soon as it is read, and
 * REDUCE applies one of the allowed ones by our own code (building a dict or describing a tensor).
 */

/** The pickle is malformed or asks for something a state_dict does not need. */
export class PickleError extends Error {
  override name = 'PickleError';
  /** `message` may quote keys and names from the file: it is made one line (control characters escaped). */
  constructor(message: string) {
    super(oneLine(message));
  }
}

/** A storage named by a persistent id: its element type (torch's class name), key in the archive and length. */
export interface StorageRef {
  /** Marks a storage in a pickle value. */
  readonly kind: 'storage';
  /** The element type, torch's storage class name: FloatStorage is float32, HalfStorage float16, LongStorage int64, ... */
  readonly type: StorageType;
  /** The storage's key in the archive: its bytes are the zip entry `<archive>/data/<key>`. */
  readonly key: string;
  /** The number of elements the storage holds (not bytes). */
  readonly numel: number;
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view into a storage. */
export interface TensorRef {
  /** Marks a tensor in a pickle value. */
  readonly kind: 'tensor';
  /** The storage the tensor views; several tensors may share one. */
  readonly storage: StorageRef;
  /** The index, in elements (not bytes), of the tensor's first value in the storage. */
  readonly offset: number;
  /** The tensor's shape, outermost first, as torch's `size()`. */
  readonly size: readonly number[];
  /** The step in elements between neighbours along each dimension, as torch's `stride()`. */
  readonly stride: readonly number[];
}

/** The storage classes a state_dict's tensors may use. */
export const STORAGE_TYPES = ['FloatStorage', 'DoubleStorage', 'HalfStorage', 'LongStorage', 'IntStorage'] as const;
/** One of `STORAGE_TYPES`. */
export type StorageType = (typeof STORAGE_TYPES)[number];

type Global = { readonly kind: 'global'; readonly name: string };
type Tuple = { readonly kind: 'tuple'; readonly items: readonly PyValue[] };
type List = { readonly kind: 'list'; readonly items: PyValue[] };
/** A dict (or OrderedDict), insertion order kept. */
export type Dict = { readonly kind: 'dict'; readonly entries: Map<PyKey, PyValue> };
type PyKey = string | number | bigint | boolean | null;
/** A value on the pickle machine's stack. */
export type PyValue = PyKey | Global | Tuple | List | Dict | StorageRef | TensorRef;

const ORDERED_DICT = 'collections.OrderedDict';
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
/** Every global a state_dict's pickle names; anything else is refused. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([ORDERED_DICT, REBUILD_TENSOR, REBUILD_PARAMETER, ...STORAGE_TYPES.map((t) => `torch.${t}`)]);

const MARK = Symbol('mark');
const MAX_DEPTH = 100_000;

/** Runs the pickle `bytes` and returns the object it builds; `source` starts every error message. */
export function unpickle(bytes: Uint8Array, source: string): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: (PyValue | typeof MARK)[] = [];
  const memo = new Map<number, PyValue>();
  let at = 0;
  let opAt = 0;
  const fail = (message: string): never => {
    throw new PickleError(`${source}: ${message} (pickle byte ${opAt})`);
  };
  const need = (n: number): number => {
    if (n < 0 || at + n > bytes.length) fail(`truncated: ${n} bytes needed, ${bytes.length - at} left`);
    const start = at;
    at += n;
    return start;
  };
  const u8 = (): number => bytes[need(1)] as number;
  const u32 = (): number => view.getUint32(need(4), true);
  const text = (n: number): string => {
    const start = need(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, start + n));
    } catch {
      return fail('a string that is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) fail('truncated: a text argument has no newline');
    return text(end - at + 1).slice(0, -1);
  };
  const push = (v: PyValue): void => {
    if (stack.length >= MAX_DEPTH) fail(`more than ${MAX_DEPTH} values on the stack`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) return fail('stack underflow');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('stack underflow');
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('no MARK on the stack');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const global = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) fail(`refuses the global '${full}': a state_dict names only ${[...ALLOWED_GLOBALS].join(', ')}`);
    return { kind: 'global', name: full };
  };
  const memoGet = (i: number): PyValue => {
    const v = memo.get(i);
    return v === undefined ? fail(`memo ${i} was never set`) : v;
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!isKind(target, 'dict')) return fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of values');
    for (let i = 0; i < items.length; i += 2) target.entries.set(key(items[i] as PyValue, fail), items[i + 1] as PyValue);
  };

  for (;;) {
    opAt = at;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: a length hint only
        need(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        push(op === 0x88);
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(view.getUint16(need(2), true));
        break;
      case 0x4a: // BININT
        push(view.getInt32(need(4), true));
        break;
      case 0x8a: // LONG1
        push(littleEndianInt(bytes.subarray(need(u8()), at)));
        break;
      case 0x47: // BINFLOAT (big-endian, as pickle writes it)
        push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x29: // EMPTY_TUPLE
        push({ kind: 'tuple', items: [] });
        break;
      case 0x74: // TUPLE
        push({ kind: 'tuple', items: popMark() });
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const items = Array.from({ length: op - 0x84 }, pop).reverse();
        push({ kind: 'tuple', items });
        break;
      }
      case 0x5d: // EMPTY_LIST
        push({ kind: 'list', items: [] });
        break;
      case 0x6c: // LIST
        push({ kind: 'list', items: popMark() });
        break;
      case 0x61: // APPEND
      case 0x65: {
        // APPENDS
        const items = op === 0x61 ? [pop()] : popMark();
        const list = top();
        if (!isKind(list, 'list')) return fail('APPEND(S) on something that is not a list');
        list.items.push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push({ kind: 'dict', entries: new Map() });
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const k = pop();
        setItems(top(), [k, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') return fail('STACK_GLOBAL needs two strings');
        push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        push(reduce(pop(), args, fail));
        break;
      }
      case 0x62: {
        // BUILD: an OrderedDict's attributes (a state_dict's `_metadata`) are not needed
        pop();
        if (!isKind(top(), 'dict')) fail('BUILD of something other than a dict');
        break;
      }
      case 0x51: // BINPERSID
        push(persistentLoad(pop(), fail));
        break;
      default:
        return fail(`opcode 0x${op.toString(16).padStart(2, '0')} is not one a state_dict uses`);
    }
  }
}

function isKind<K extends string>(v: PyValue | undefined, kind: K): v is Extract<PyValue, { kind: K }> {
  return typeof v === 'object' && v !== null && v.kind === kind;
}

function key(v: PyValue, fail: (message: string) => never): PyKey {
  return typeof v === 'object' && v !== null ? fail(`a dict key must be a string or a number, got a ${v.kind}`) : v;
}

/** Two's-complement little-endian integer (LONG1), as a number when it is safe, else a bigint. */
function littleEndianInt(b: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = b.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(b[i] as number);
  if (b.length > 0 && ((b[b.length - 1] as number) & 0x80) !== 0) value -= 1n << BigInt(8 * b.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function reduce(callable: PyValue, args: PyValue, fail: (message: string) => never): PyValue {
  if (!isKind(callable, 'global')) return fail('REDUCE of something that is not a global');
  if (!isKind(args, 'tuple')) return fail(`REDUCE of ${callable.name} without an argument tuple`);
  const a = args.items;
  switch (callable.name) {
    case ORDERED_DICT:
      if (a.length !== 0) fail(`${ORDERED_DICT} called with arguments`);
      return { kind: 'dict', entries: new Map() };
    case REBUILD_TENSOR: {
      const [storage, offset, size, stride] = a;
      if (a.length < 4 || !isKind(storage, 'storage')) return fail(`${REBUILD_TENSOR} needs (storage, offset, size, stride, ...)`);
      return { kind: 'tensor', storage, offset: count(offset, 'storage offset', fail), size: counts(size, 'size', fail), stride: counts(stride, 'stride', fail) };
    }
    case REBUILD_PARAMETER: {
      const data = a[0];
      return isKind(data, 'tensor') ? data : fail(`${REBUILD_PARAMETER} of something that is not a tensor`);
    }
    default:
      return fail(`${callable.name} cannot be called`);
  }
}

/** torch.save's persistent id of a storage: ('storage', torch.<Type>Storage, key, location, numel). */
function persistentLoad(pid: PyValue, fail: (message: string) => never): StorageRef {
  if (!isKind(pid, 'tuple') || pid.items.length < 5 || pid.items[0] !== 'storage') return fail("a persistent id that is not ('storage', type, key, location, numel)");
  const [, type, key, , numel] = pid.items;
  if (!isKind(type, 'global') || !type.name.startsWith('torch.') || !(STORAGE_TYPES as readonly string[]).includes(type.name.slice(6))) {
    return fail('a persistent id whose type is not a storage class');
  }
  if (typeof key !== 'string' || !/^\w+$/.test(key)) return fail('a storage key that is not a plain name');
  return { kind: 'storage', type: type.name.slice(6) as StorageType, key, numel: count(numel, 'storage length', fail) };
}

function count(v: PyValue | undefined, what: string, fail: (message: string) => never): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${what} is not a non-negative integer`);
}

function counts(v: PyValue | undefined, what: string, fail: (message: string) => never): number[] {
  return isKind(v, 'tuple') ? v.items.map((x) => count(x, what, fail)) : fail(`${what} is not a tuple`);
}
