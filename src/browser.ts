/**
 * convstack in a browser (`convstack/browser`): the engine, the notation, the zoo, the memory
 * estimate and both backends, importing nothing from Node. The wasm backend fetches its binary by
 * URL and runs its threads as Web Workers where the page is cross-origin isolated; since a page's
 * main thread may not block, run a multi-threaded net in a Worker (elsewhere it runs on one thread
 * and says why in `singleThreadReason`).
 *
 * ```ts
 * import { Net, toNetSpec, createWasmBackend, Tensor } from 'convstack/browser';
 * const backend = await createWasmBackend({ binaries: '/build/' });
 * const net = new Net(toNetSpec('INPUT[28x28x1] -> [CONV3-8 -> RELU -> POOL2]*2 -> FC-10'), { backend });
 * const scores = net.forward(Tensor.zeros([1, 1, 28, 28]));
 * ```
 */

export * from './core.js';

// The wasm backend with the browser's host
export { createWasmBackend, type BrowserWasmBackendOptions } from './backends/wasm/browser.js';

// Model files from bytes (a dropped file): safetensors, and ONNX through its importer
export { parseSafetensors, SafetensorsError, type Safetensors } from './io/safetensors_format.js';
export { importOnnx, type ImportedModel } from './io/onnx/import.js';
export { asNotation, type NotatedModel } from './io/onnx/renamed.js';
export { OnnxError } from './io/onnx/errors.js';
