import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { externalReader } from './external.js';
import { importOnnx, type ImportedModel } from './import.js';

/** Imports an ONNX file, reading external tensor data from its folder (see external.ts). */
export async function importOnnxFile(file: string): Promise<ImportedModel> {
  const bytes = await fs.readFile(file);
  return importOnnx(bytes, { file, external: externalReader(file, dirname(file)) });
}
