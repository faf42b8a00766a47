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

// Tensors and the engine
export { Tensor, HeapAllocator, heapAllocator, type DType, type FloatArray, type Allocator } from './tensor/tensor.js';
export { formatVolume, formatShape, sizeOf, type Shape } from './tensor/shape.js';
export { Rng } from './tensor/rng.js';
export { Net, NetError, type NetOptions, type Parameter, type ForwardOptions, type BackwardOptions } from './net/net.js';
export { INPUT_NODE, type NetSpec, type NodeSpec, type SourceSpan } from './net/spec.js';
export { ops, type OpType, type OpAttrs } from './ops/index.js';
export { ShapeError, SizingError } from './ops/errors.js';
export { softmaxCrossEntropy, type LossResult } from './ops/softmax_cross_entropy.js';
export { svmLoss } from './ops/svm_loss.js';

// Backends: the reference one, and the wasm one with the browser's host
export type { Backend, KernelName } from './backends/backend.js';
export { withReferenceFallback, placementOf, formatPlacement, KERNEL_NAMES, type PartialBackend, type WithFallback } from './backends/fallback.js';
export { referenceBackend, createReferenceBackend } from './backends/reference/index.js';
export { createWasmBackend, type BrowserWasmBackendOptions } from './backends/wasm/browser.js';
export type { WasmBackend, WasmBackendOptions } from './backends/wasm/backend.js';

// The notation and the zoo
export {
  parse,
  compile,
  toNetSpec,
  infer,
  summary,
  renderSummary,
  lint,
  compare,
  renderComparison,
  format,
  NotationError,
  type Bindings,
  type CompileOptions,
  type Summary,
  type Diagnostic,
  type Comparison,
} from './notation/index.js';
export { zoo, zooNet, zooNotation, type ZooNet } from './zoo/index.js';

// Memory
export { estimateMemory, maxBatch, type MemoryEstimate, type EstimateOptions } from './memory/estimate.js';
export { measureTrainingPeak, measureInferencePeak } from './memory/measure.js';
export { MemoryTracker } from './memory/tracker.js';
export { storedForBackward } from './memory/stored.js';
export { referenceWorkspace } from './backends/reference/workspace.js';
export { wasmWorkspace, WASM_FUSIONS } from './backends/wasm/workspace.js';
export { formatBytes, parseBytes } from './memory/units.js';

// Training pieces (the loop with its checkpoint files is Node's; a page drives these itself)
export { stepLoss, AUX_LOSS_WEIGHT } from './train/auxiliary.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { createOptimizer, OPTIMIZER_NAMES, type Optimizer, type OptimizerName, type OptimizerOptions } from './train/optimizers/index.js';
export { lrAt, parseSchedule, type Schedule } from './train/schedules.js';
export { ArrayDataset, stratifiedSplit, type Dataset, type DataSplits, type Batch } from './data/dataset.js';
export { batches, type BatchOptions } from './data/batches.js';
export { augment, normalize, channelStats, type Augmentation, type Normalization } from './data/augment.js';
