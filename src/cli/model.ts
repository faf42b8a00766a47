import { existsSync, promises as fs } from 'node:fs';
import { compile, NotationError, type Bindings, type Compiled } from '../notation/index.js';
import { zooNet } from '../zoo/index.js';

/** Notation text and where it came from, for error messages (`vgg16`, `net.txt`, `<spec>`). */
export interface SpecSource {
  origin: string;
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
}

/** Finds the notation text an argument names: a zoo net, a file holding notation, or the argument itself. */
export async function readSpec(arg: string): Promise<SpecSource> {
  const named = zooNet(arg);
  if (named !== undefined) return { origin: named.name, text: named.source, bindings: named.bindings };
  if (existsSync(arg)) return { origin: arg, text: await fs.readFile(arg, 'utf8'), bindings: {} };
  return { origin: '<spec>', text: arg, bindings: {} };
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

/** Compiles a spec argument with the command's --input and --set; errors name the spec's origin. */
export async function compileSpec(arg: string, options: SpecOptions = {}): Promise<Compiled & SpecSource> {
  const source = await readSpec(arg);
  try {
    const compiled = compile(source.text, {
      ...(options.input !== undefined && { input: parseInputOption(options.input) }),
      bindings: { ...source.bindings, ...(options.set !== undefined && parseSetOption(options.set)) },
    });
    return { ...compiled, ...source };
  } catch (error) {
    if (error instanceof NotationError) throw new Error(`${source.origin}: ${error.message}`);
    throw error;
  }
}
