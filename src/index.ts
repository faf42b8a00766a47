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

export * from './core.js';

// Backends: the registry opens any of them by name; the wasm backend with Node's host; the native
// backend (Node only, where its addon was built at install)
export { BACKENDS, DEFAULT_BACKEND, backendEntry, availableBackends, openBackend, type BackendEntry, type OpenOptions } from './backends/registry.js';
export { createWasmBackend } from './backends/wasm/index.js';
export { createNativeBackend, nativeUnavailableReason, nativeWorkspace, NATIVE_FUSIONS, type NativeBackend, type NativeBackendOptions } from './backends/native/index.js';

// Training runs, model files and fine-tuning
export { train, DivergenceError, TrainingInterrupted, type TrainConfig, type TrainRun, type TrainResult, type TrainEvent } from './train/loop.js';
export { defaultConfig, TRAIN_DEFAULTS } from './train/defaults.js';
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

// Data loaders
export { mnist, cifar10, imageFolder, openData, DataError, subsetData, parseSubset, type SubsetOptions } from './data/index.js';

// Files
export { parseNpy, formatNpy, NpyError } from './io/npy.js';
export { parseSafetensors, formatSafetensors, readSafetensors, writeSafetensors, SafetensorsError } from './io/safetensors.js';
export { parsePth, readPth, PthError, type StateDict } from './io/pth/pth.js';
export { exportPytorch, PYTORCH_CLASS, type PytorchSource } from './io/pytorch/module.js';
export { exportTrainScript, type TrainScriptOptions } from './io/pytorch/train_script.js';
export { matchState, StateMismatchError, type StateMatch } from './net/state.js';
