import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes `data` to `file` without ever leaving a half-written file behind: the bytes go to a
 * temporary name in the same folder and are flushed to the disk (fsync) before that name is
 * renamed over the target (atomic on POSIX); the folder is then flushed so that the rename itself
 * survives a power cut. A process killed at any moment leaves either the old file or the new one.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(path.dirname(file));
}

/** Flushes a folder's entries; some file systems (and Windows) cannot open a folder, which is no error. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await fs.open(folder, 'r').catch(() => null);
  if (handle === null) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** Reads a file the user named; a failure says which file and why in words, not an errno dump. */
export async function readUserFile(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new Error(`cannot read ${file}: ${reason}`);
  }
}

/** A file a run will write and how many bytes it will take at most. */
export interface PlannedWrite {
  /** How the user named it, e.g. `--checkpoint run.checkpoint.safetensors`, for the message. */
  label: string;
  /** The path it will be written to (through a temporary file beside it). */
  file: string;
  /** An upper bound of its size in bytes. */
  bytes: number;
}

/** There is not room on the disk for a file a run will write; says which, how much it needs and how much there is. */
export class NoRoomError extends Error {
  override name = 'NoRoomError';
}

/**
 * Checks, before a long run starts, that each disk has room for the files the run will write on
 * it (summed per folder's file system): a checkpoint that cannot be written would otherwise fail
 * after an epoch. A writer needs the whole new file beside the old one, since it writes a
 * temporary file before renaming it. A file system that cannot say (statfs fails) is not checked.
 */
export async function checkRoom(writes: readonly PlannedWrite[]): Promise<void> {
  const byDevice = new Map<number, { free: number; total: number; labels: string[] }>();
  for (const { label, file, bytes } of writes) {
    const folder = path.dirname(path.resolve(file));
    const info = await Promise.all([fs.stat(folder), fs.statfs(folder)]).catch(() => null);
    if (info === null) continue;
    const [{ dev }, { bavail, bsize }] = info;
    const entry = byDevice.get(dev) ?? { free: bavail * bsize, total: 0, labels: [] };
    entry.total += bytes;
    entry.labels.push(label);
    byDevice.set(dev, entry);
    if (entry.total > entry.free) {
      throw new NoRoomError(`${entry.labels.join(' and ')}: needs ${megabytes(entry.total)} on the disk of ${folder}, which has ${megabytes(entry.free)} free`);
    }
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export { oneLine } from './one_line.js';
