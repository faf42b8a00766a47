import { oneLine } from '../one_line.js';

/** An ONNX file convstack cannot read or import; the message names the file and, for a node, its op, name and opset. */
export class OnnxError extends Error {
  override name = 'OnnxError';
  /** `message` may quote names from the file: it is made one line (control characters escaped). */
  constructor(message: string) {
    super(oneLine(message));
  }
}
