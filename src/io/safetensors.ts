// The safetensors files: reading and writing them on disk. The format itself, free of Node (for
// `convstack/browser`), is in safetensors_format.ts, re-exported here.
import type { Tensor } from '../tensor/tensor.js';
import { readUserFile, writeFileAtomic } from './files.js';
import { formatSafetensors, parseSafetensors, type Safetensors, type SafetensorsIntegerDType } from './safetensors_format.js';

export * from './safetensors_format.js';

/** Reads and validates a safetensors file. */
export async function readSafetensors(file: string): Promise<Safetensors> {
  return parseSafetensors(await readUserFile(file), file);
}

/** Writes a safetensors file through a temporary name and a rename, so a crash never leaves half a file. */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
  integers: ReadonlyMap<string, SafetensorsIntegerDType> = new Map(),
): Promise<void> {
  await writeFileAtomic(file, formatSafetensors(tensors, metadata, integers));
}
