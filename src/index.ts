/**
 * convstack: design, size, train and run convolutional networks written in the notation of the
 * notes "ConvNet Architectures". This is the one public entry; `convstack/notation` is the part that
 * needs no Node (parser, shape inference, the table), for web pages.
 *
 * ```ts
 * import { Net, toNetSpec, openBackend, Tensor } from 'convstack';
 * const backend = await openBackend('wasm');
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
export { DEFAULT_INIT, INIT_SCHEMES, type InitScheme } from './net/init.js';
export { ops, type OpType, type OpAttrs } from './ops/index.js';
export { ShapeError, SizingError } from './ops/errors.js';
export { softmaxCrossEntropy, type LossResult } from './ops/softmax_cross_entropy.js';
export { svmLoss } from './ops/svm_loss.js';

// Backends: the registry opens any of them by name; a fast one completes itself with the reference
export type { Backend, KernelName, SgdUpdateOptions } from './backends/backend.js';
export { BACKENDS, DEFAULT_BACKEND, backendEntry, availableBackends, openBackend, type BackendEntry, type OpenOptions } from './backends/registry.js';
export { withReferenceFallback, hasReferenceFallback, placementOf, formatPlacement, KERNEL_NAMES, type PartialBackend, type WithFallback } from './backends/fallback.js';
export { referenceBackend, createReferenceBackend } from './backends/reference/index.js';
export { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backends/wasm/index.js';

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
export { zoo, zooNet, type ZooNet } from './zoo/index.js';

// Memory
export { estimateMemory, maxBatch, type MemoryEstimate, type EstimateOptions } from './memory/estimate.js';
export { measureTrainingPeak, measureInferencePeak } from './memory/measure.js';
export { MemoryTracker } from './memory/tracker.js';
export { storedForBackward } from './memory/stored.js';
export { referenceWorkspace } from './backends/reference/workspace.js';
export { wasmWorkspace, WASM_FUSIONS } from './backends/wasm/workspace.js';
export { formatBytes, parseBytes } from './memory/units.js';

// Training
export { train, DivergenceError, TrainingInterrupted, type TrainConfig, type TrainRun, type TrainResult, type TrainEvent } from './train/loop.js';
export { defaultConfig, TRAIN_DEFAULTS } from './train/defaults.js';
export { stepLoss, AUX_LOSS_WEIGHT } from './train/auxiliary.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { createOptimizer, OPTIMIZER_NAMES, type Optimizer, type OptimizerName, type OptimizerOptions } from './train/optimizers/index.js';
export { lrAt, parseSchedule, type Schedule } from './train/schedules.js';
export { saveModel, loadModel, netTensors, type ModelInfo, type LoadedModel } from './train/model_file.js';
export {
  finetune,
  prepareFinetune,
  replaceHead,
  headLayer,
  frozenLayers,
  type FinetuneRun,
  type FinetuneOptions,
  type FinetuneStart,
  type FreezeChoice,
  type Pretrained,
} from './train/finetune.js';

// Data
export { mnist, cifar10, imageFolder, openData, batches, augment, normalize, DataError, subsetData, parseSubset, type SubsetOptions, type Dataset, type DataSplits, type Augmentation, type Normalization } from './data/index.js';

// Files
export { parseNpy, formatNpy, NpyError } from './io/npy.js';
export { parseSafetensors, formatSafetensors, readSafetensors, writeSafetensors, SafetensorsError } from './io/safetensors.js';
export { parsePth, readPth, PthError, type StateDict } from './io/pth/pth.js';
export { matchState, StateMismatchError, type StateMatch } from './net/state.js';
