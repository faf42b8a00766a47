import { dirname } from 'node:path';
import { readUserFile } from '../files.js';
import { externalReader } from './external.js';
import { importOnnx, type ImportedModel } from './import.js';

/** Imports an ONNX file, reading external tensor data from its folder (see external.ts). */
export async function importOnnxFile(file: string): Promise<ImportedModel> {
  const bytes = await readUserFile(file);
  return importOnnx(bytes, { file, external: externalReader(file, dirname(file)) });
}
