import type { Tensor } from '../../tensor/tensor.js';
import { readUserFile } from '../files.js';
import { parseSafetensors } from '../safetensors.js';
import { isZip, parsePth } from './pth.js';

/**
 * A weights file's tensors by state_dict name, whichever format it is in, told apart by its bytes:
 * a zip is PyTorch's torch.save (`.pth`, `.pt`), anything else must be safetensors.
 */
export async function readWeights(file: string): Promise<Map<string, Tensor>> {
  const bytes = await readUserFile(file);
  return isZip(bytes) ? parsePth(bytes, file).tensors : parseSafetensors(bytes, file).tensors;
}
