import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes `data` to `file` without ever leaving a half-written file behind: the bytes go to a
 * temporary name in the same folder, which is then renamed over the target (atomic on POSIX).
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
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
