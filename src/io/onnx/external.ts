import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { OnnxError } from './errors.js';
import type { ExternalReader } from './tensor.js';

/**
 * Reads external tensor data next to a model file, as ONNX's checker allows it: a relative path
 * that stays inside the model's folder (no `..`, no absolute path, no symlink leading out) to a
 * regular file, and an offset and length inside that file, not overlapping another tensor's.
 */
export function externalReader(modelFile: string, folder: string): ExternalReader {
  const root = realpathSync(folder);
  /** Bytes read so far from each file: tensors' ranges do not overlap, so they add up to its size at most. */
  const taken = new Map<string, number>();
  return (location, offset, length) => {
    const fail = (reason: string): never => {
      throw new OnnxError(`${modelFile}: external data '${location}': ${reason}`);
    };
    if (location === '' || isAbsolute(location) || /^[A-Za-z]:|^[\\/]/.test(location)) fail('an absolute path; it must be relative to the model\'s folder');
    if (location.split(/[\\/]/).includes('..')) fail("'..' leads out of the model's folder");
    let real = '';
    try {
      real = realpathSync(join(root, location));
    } catch {
      fail('no such file next to the model');
    }
    const inside = relative(root, real);
    if (inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) fail("a symlink that leads out of the model's folder");
    // NOTE: before opening: opening a FIFO waits for a writer, forever.
    if (!statSync(real).isFile()) fail('not a regular file');
    const fd = openSync(real, 'r');
    try {
      const size = fstatSync(fd).size;
      const bytes = length ?? size - offset;
      if (offset > size || bytes < 0 || offset + bytes > size) fail(`offset ${offset} and length ${bytes} reach past the file's ${size} bytes`);
      // NOTE: else a thousand initializers naming one range would read it a thousand times.
      const total = (taken.get(real) ?? 0) + bytes;
      if (total > size) fail(`the tensors read from it add up to more than its ${size} bytes: their ranges overlap`);
      taken.set(real, total);
      const out = new Uint8Array(bytes);
      if (readSync(fd, out, 0, bytes, offset) !== bytes) fail('the file is shorter than it says');
      return out;
    } finally {
      closeSync(fd);
    }
  };
}
