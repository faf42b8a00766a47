/** An ONNX file convstack cannot read or import; the message names the file and, for a node, its op, name and opset. */
export class OnnxError extends Error {
  override name = 'OnnxError';
}
