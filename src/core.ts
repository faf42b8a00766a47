/**
 * What both public entries export: the engine, the notation and the zoo, the memory estimate, the
 * reference backend, the training pieces and the datasets, all free of Node. `src/index.ts` (Node)
 * and `src/browser.ts` (`convstack/browser`) add what is their own: the wasm backend's host, the
 * backend registry, the training loop with its files, the data loaders and the file formats.
 */

// Tensors and the engine
export { Tensor, HeapAllocator, heapAllocator, type DType, type FloatArray, type Allocator } from './tensor/tensor.js';
export { formatVolume, formatShape, sizeOf, type Shape } from './tensor/shape.js';
export { Rng } from './tensor/rng.js';
export { Net, NetError, type NetOptions, type Parameter, type ForwardOptions, type BackwardOptions } from './net/net.js';
export { INPUT_NODE, type NetSpec, type NodeSpec, type SourceSpan } from './net/spec.js';
export { DEFAULT_INIT, INIT_SCHEMES, type InitScheme } from './net/init.js';
export { ops, type OpType, type OpAttrs } from './ops/index.js';
export { ShapeError, SizingError } from './ops/errors.js';
export { softmaxCrossEntropy, type LossResult } from './ops/softmax_cross_entropy.js';
export { svmLoss } from './ops/svm_loss.js';

// Backends: the contract, the reference backend, and the fallback that completes a fast one
export type { Backend, KernelName, SgdUpdateOptions } from './backends/backend.js';
export { withReferenceFallback, hasReferenceFallback, placementOf, formatPlacement, KERNEL_NAMES, type PartialBackend, type WithFallback } from './backends/fallback.js';
export { referenceBackend, createReferenceBackend } from './backends/reference/index.js';
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

// Training pieces (a page drives these itself; the loop with its checkpoint files is Node's)
export { stepLoss, AUX_LOSS_WEIGHT } from './train/auxiliary.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { createOptimizer, OPTIMIZER_NAMES, type Optimizer, type OptimizerName, type OptimizerOptions } from './train/optimizers/index.js';
export { trainingStep } from './train/step.js';
export { lrAt, parseSchedule, type Schedule } from './train/schedules.js';

// Datasets in memory
export { ArrayDataset, stratifiedSplit, type Dataset, type DataSplits, type Batch } from './data/dataset.js';
export { batches, type BatchOptions } from './data/batches.js';
export { augment, normalize, channelStats, type Augmentation, type Normalization } from './data/augment.js';
