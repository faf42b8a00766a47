import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ArrayDataset, type DataSplits } from './dataset.js';
import { DataError } from './errors.js';

/** The class names of CIFAR-10, in label order (as in batches.meta.txt). */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
const TEST_FILE = 'test_batch.bin';
const IMAGE = 3 * 32 * 32;
/** One record: a label byte, then the red, green and blue 32x32 planes, i.e. [3, 32, 32] already. */
const RECORD = 1 + IMAGE;

/**
 * CIFAR-10 in its official binary format, from a folder holding data_batch_1.bin ..
 * data_batch_5.bin (training) and test_batch.bin. Each file is a run of 3,073-byte records (10,000
 * in the official files); pixels stay bytes in memory (180 MB for the whole set).
 */
export async function cifar10(dir: string): Promise<DataSplits> {
  const train = await readBatches(dir, TRAIN_FILES, `cifar10:${dir} (train)`);
  const test = await readBatches(dir, [TEST_FILE], `cifar10:${dir} (test)`);
  return { train, test };
}

async function readBatches(dir: string, files: string[], name: string): Promise<ArrayDataset> {
  const contents: Uint8Array[] = [];
  for (const file of files) contents.push(await readBatch(path.join(dir, file)));
  const count = contents.reduce((n, c) => n + c.length / RECORD, 0);
  const pixels = new Uint8Array(count * IMAGE);
  const labels = new Uint8Array(count);
  let image = 0;
  for (const bytes of contents) {
    for (let r = 0; r < bytes.length; r += RECORD, image++) {
      labels[image] = bytes[r] as number;
      pixels.set(bytes.subarray(r + 1, r + RECORD), image * IMAGE);
    }
  }
  return new ArrayDataset(name, [3, 32, 32], CIFAR10_CLASSES, pixels, labels);
}

/** Reads one batch file, checking its size and every label byte. */
async function readBatch(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${file}: missing (a CIFAR-10 folder holds ${TRAIN_FILES.join(', ')} and ${TEST_FILE})` : `${file}: cannot read (${code ?? String(error)})`);
  }
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DataError(`${file}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (an official batch file is ${10000 * RECORD} bytes)`);
  }
  for (let r = 0; r < bytes.length; r += RECORD) {
    const label = bytes[r] as number;
    if (label >= CIFAR10_CLASSES.length) throw new DataError(`${file}: record ${r / RECORD} has label ${label}; CIFAR-10 labels are 0..9`);
  }
  return bytes;
}
