import type { Net } from '../src/net/net.js';
import { exportOnnx } from '../src/io/onnx/export.js';

/** The net as ONNX model bytes for onnxruntime, its input (batch, C, H, W): the CLI's writer (src/io/onnx/export.ts), opset 13. */
export function toOnnx(net: Net, batch: number): Uint8Array {
  return exportOnnx(net, { batch, producer: 'convstack bench' });
}
