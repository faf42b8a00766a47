import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/** A file a run will write, and the option that named it (for messages). */
export interface OutputPath {
  /** The option that named it, e.g. `--out`. */
  option: string;
  /** The path as the user wrote it. */
  file: string;
}

/** An output path that cannot be written; the message names the user's path and why. */
export class OutputPathError extends Error {
  override name = 'OutputPathError';
}

/** The checkpoint a run writes beside its model file when nobody names one: `x.safetensors` -> `x.checkpoint.safetensors`. */
export function defaultCheckpointPath(model: string): string {
  return `${model.replace(/\.safetensors$/, '')}.checkpoint.safetensors`;
}

/**
 * Checks, before the first step, that every output can be written: its folder exists and takes a
 * new file (a probe file is created and removed, which also catches read-only file systems and
 * what permissions alone do not show), and the path is not a folder. Otherwise the mistake would
 * surface after an epoch of training, as an error about a temporary name.
 */
export async function checkOutputPaths(outputs: readonly OutputPath[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const { option, file } of outputs) {
    const resolved = path.resolve(file);
    const other = seen.get(resolved);
    if (other !== undefined) throw new OutputPathError(`${option} ${file}: the same file as ${other}`);
    seen.set(resolved, option);
    const fail = (why: string): never => {
      throw new OutputPathError(`${option} ${file}: ${why}`);
    };
    const target = await stat(resolved).catch(() => null);
    if (target?.isDirectory()) fail(`is a folder; name a file in it, e.g. ${path.join(file, option === '--checkpoint' ? 'model.checkpoint.safetensors' : 'model.safetensors')}`);
    const folder = path.dirname(resolved);
    const parent = await stat(folder).catch(() => null);
    if (parent === null) fail(`no such folder ${path.dirname(file)}`);
    if (!parent?.isDirectory()) fail(`${path.dirname(file)} is not a folder`);
    await probe(folder).catch((error: NodeJS.ErrnoException) => fail(`cannot write in the folder ${path.dirname(file)} (${error.code ?? error.message})`));
  }
}

/** Creates and removes an empty file in `folder`. */
async function probe(folder: string): Promise<void> {
  const file = path.join(folder, `.convstack-write-check-${process.pid}`);
  const handle = await open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
  await handle.close();
  await unlink(file);
}
