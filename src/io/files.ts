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
