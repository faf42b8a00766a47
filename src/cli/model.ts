import { existsSync, promises as fs } from 'node:fs';
import { importOnnxFile } from '../io/onnx/file.js';
import { decodeModel } from '../io/onnx/import.js';
import { asNotation } from '../io/onnx/renamed.js';
import type { Backend } from '../backends/backend.js';
import { Net } from '../net/net.js';
import { checkTensorSizes, compile, NotationError, type Bindings, type Compiled } from '../notation/index.js';
import { zoo, zooNet } from '../zoo/index.js';

/** What a file holds, told by its bytes, never by its name. */
export type FileKind = 'onnx' | 'safetensors' | 'zip' | 'npy' | 'text' | 'binary';

/**
 * Tells a model file's kind by its first bytes: `.npy` and zip (PyTorch's .pth) by their magic, safetensors
 * by its 8-byte header length followed by `{`, ONNX by decoding as an ONNX model that has a graph, and text
 * as UTF-8 without control characters. Anything else is `binary`.
 */
export function fileKind(bytes: Uint8Array): FileKind {
  const starts = (magic: readonly number[]): boolean => magic.every((b, i) => bytes[i] === b);
  if (starts([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'npy';
  if (starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06])) return 'zip';
  if (bytes.length >= 9 && bytes[8] === 0x7b && new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true) <= BigInt(bytes.length - 8)) return 'safetensors';
  // A stream decode leaves a character cut at the 4096th byte undecoded rather than replaced.
  const text = new TextDecoder('utf-8').decode(bytes.subarray(0, 4096), { stream: true });
  if (!text.includes('\uFFFD') && !/[\x00-\x08\x0e-\x1f]/.test(text)) return 'text';
  try {
    if (decodeModel(bytes, '').graph !== undefined) return 'onnx';
  } catch {
    // Not ONNX either.
  }
  return 'binary';
}

const NOT_NOTATION: Partial<Record<FileKind, string>> = {
  safetensors: 'a safetensors file (weights or a model file), not notation text; commands that take a model file take it with --model or as run\'s model',
  zip: "a zip archive (PyTorch's .pth), not notation text",
  npy: 'a .npy array, not notation text',
  binary: 'a binary file of no kind convstack reads (ONNX, safetensors, zip, .npy or notation text)',
};

/** Notation text and where it came from, for error messages (`vgg16`, `net.txt`, `<spec>`). */
export interface SpecSource {
  /** `vgg16`, `net.txt` or `<spec>`: what error messages name. */
  origin: string;
  /** The notation text. */
  text: string;
  /** Variable values that come with the text (a zoo net's depth); --set overrides them. */
  bindings: Bindings;
}

/** Options every command that takes a spec accepts. */
export interface SpecOptions {
  /** `--input HxWxC` */
  input?: string;
  /** `--set N=2,M=3` */
  set?: string;
  /** `--classes 3`: the class count of a net that has a CLASSES variable (every zoo net). */
  classes?: string;
}

/**
 * Finds the notation text an argument names: a zoo net, a file holding notation, or the argument
 * itself. A word with lower-case letters that is no zoo net (`lenet`) and a path that does not exist
 * (`./nets/vgg.txt`) are errors saying so, rather than notation that fails at its first letter.
 */
export async function readSpec(arg: string): Promise<SpecSource> {
  const named = zooNet(arg);
  if (named !== undefined) return { origin: named.name, text: named.source, bindings: named.bindings };
  if (existsSync(arg)) return readSpecFile(arg);
  if (/^[A-Za-z][A-Za-z0-9_]*$/.test(arg) && /[a-z]/.test(arg)) throw new Error(unknownZooName(arg));
  if (looksLikePath(arg)) throw new Error(`${arg}: no such file (a spec is notation text, a file holding it, or a zoo name)`);
  // specsNotOptions (program.ts) put a space before a spec that begins with a dash; the text is the user's again.
  return { origin: '<spec>', text: arg.replace(/^ (?=-)/, ''), bindings: {} };
}

/** True when `arg` is a file whose bytes are an ONNX model. */
export async function isOnnxFile(arg: string): Promise<boolean> {
  return existsSync(arg) && fileKind(await fs.readFile(arg)) === 'onnx';
}

/** An ONNX model as a Net on `backend`, its weights loaded. */
export async function onnxNet(file: string, backend: Backend): Promise<Net> {
  const notated = asNotation(await importOnnxFile(file), file);
  const net = new Net(notated.spec, { backend });
  net.loadState(notated.weights);
  return net;
}

/** A file's notation: its text, or an ONNX model's net written as notation. Other binaries are an error. */
async function readSpecFile(file: string): Promise<SpecSource> {
  const bytes = await fs.readFile(file);
  const kind = fileKind(bytes);
  if (kind === 'text') return { origin: file, text: new TextDecoder().decode(bytes), bindings: {} };
  if (kind === 'onnx') return { origin: file, text: asNotation(await importOnnxFile(file), file).text, bindings: {} };
  throw new Error(`${file}: ${NOT_NOTATION[kind] ?? 'not notation text'}`);
}

/** `unknown zoo net 'lenet'; did you mean lenet5?`, or the list of names when none is close. */
export function unknownZooName(name: string): string {
  const distances = zoo.map((net) => [net.name, nearMiss(name.toLowerCase(), net.name)] as const).filter(([, d]) => d !== null);
  const best = Math.min(...distances.map(([, d]) => d as number));
  const near = distances.filter(([, d]) => d === best).map(([candidate]) => candidate);
  if (near.length > 0) return `unknown zoo net '${name}'; did you mean ${near.join(' or ')}?`;
  return `'${name}' is not a zoo net, a file or notation text (zoo nets: ${zoo.map((net) => net.name).join(', ')})`;
}

/**
 * The edit distance when `typed` is a near miss of `candidate`, else null: within two edits
 * (`lenet` -> `lenet5`, `resnet5` -> `resnet50`), or the name with a suffix cut off (`vgg` -> `vgg16`).
 */
function nearMiss(typed: string, candidate: string): number | null {
  const distance = editDistance(typed, candidate);
  const prefix = typed.length >= 3 && candidate.startsWith(typed) && distance <= 3;
  return distance <= Math.min(2, Math.floor(candidate.length / 3)) || prefix ? distance : null;
}

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours (`vgg61` -> `vgg16` is 1). */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min((previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1), (previous[j] as number) + 1, (current[j - 1] as number) + 1);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (beforePrevious[j - 2] as number) + 1);
      current.push(best);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/** A word with a slash or a file extension and nothing the notation uses (spaces, brackets, arrows). */
function looksLikePath(arg: string): boolean {
  return /^[\w~.\/\\-]+$/.test(arg) && !arg.includes('->') && (/[\/\\]/.test(arg) || /\.[A-Za-z]\w*$/.test(arg));
}

/** True when `value` reads as HxWxC (`224x224x3`), not as a file name. */
export function isVolume(value: string): boolean {
  return /^\d+x\d+x\d+$/.test(value.trim());
}

/** Parses `--input 224x224x3` into [H, W, C]. */
export function parseInputOption(value: string): [number, number, number] {
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(value.trim());
  if (!match) throw new Error(`--input: expected HxWxC such as 224x224x3, got '${value}'`);
  const dims = [Number(match[1]), Number(match[2]), Number(match[3])] as [number, number, number];
  if (dims.some((d) => d < 1)) throw new Error(`--input: every dimension must be at least 1, got '${value}'`);
  return dims;
}

/** Parses `--set N=2,M=3,POOL=1` into variable bindings. */
export function parseSetOption(value: string): Bindings {
  const bindings: Record<string, number> = {};
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([A-Za-z_]\w*)=(-?\d+)$/.exec(part);
    if (!match) throw new Error(`--set: expected NAME=integer pairs such as N=2,M=3, got '${part}'`);
    bindings[match[1] as string] = Number(match[2]);
  }
  return bindings;
}

/**
 * The variable values a spec compiles with: the zoo's, then `--classes` (as CLASSES), then `--set`,
 * each overriding the one before.
 */
export function specBindings(source: SpecSource, options: SpecOptions): Bindings {
  if (options.classes !== undefined && !/\bCLASSES\b/.test(source.text)) {
    throw new Error(`--classes: ${source.origin} has no CLASSES variable; write its last layer as FC-CLASSES, or change it in the text`);
  }
  const classes = options.classes === undefined ? {} : { CLASSES: parseClasses(options.classes) };
  return { ...source.bindings, ...classes, ...(options.set !== undefined && parseSetOption(options.set)) };
}

function parseClasses(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--classes: expected a positive integer, got '${value}'`);
  return Number(value);
}

/**
 * Compiles a spec argument with the command's --input and --set; errors name the spec's origin.
 * With `runnable`, a layer whose tensors no typed array can hold is an error at its place in the
 * text (the table of such a net is still worth printing, a run of it is not).
 */
export async function compileSpec(arg: string, options: SpecOptions = {}, { runnable = false }: { runnable?: boolean } = {}): Promise<Compiled & SpecSource> {
  const source = await readSpec(arg);
  try {
    const compiled = compile(source.text, {
      ...(options.input !== undefined && { input: parseInputOption(options.input) }),
      bindings: specBindings(source, options),
    });
    if (runnable) checkTensorSizes(compiled.net, source.text);
    return { ...compiled, ...source };
  } catch (error) {
    if (error instanceof NotationError) throw new Error(`${source.origin}: ${error.message}`);
    throw error;
  }
}
