// The training worker: MNIST (the page's bundled digits), the net, the loop, and predictions for
// the drawing pad. It runs here so the page never freezes, and so the wasm backend may block on its
// threads (Atomics.wait is not allowed on a page's main thread).
import {
  ArrayDataset,
  Net,
  Rng,
  Tensor,
  batches,
  channelStats,
  createOptimizer,
  createWasmBackend,
  evaluate,
  normalize,
  softmaxCrossEntropy,
  stratifiedSplit,
  toNetSpec,
  zooNet,
  type DataSplits,
  type NetSpec,
  type Normalization,
  type WasmBackend,
} from '../src/browser.js';
import { benchTrainer, type BenchTrainer } from './bench_steps.js';
import { activations, confusion, firstFilters } from './inspect.js';
import type { FromWorker, ToWorker, TrainSettings } from './protocol.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Yield to the message queue (pause, predict) after this much training, in milliseconds. */
const SLICE_MS = 50;

const post = (message: FromWorker): void => (globalThis as unknown as { postMessage(m: FromWorker): void }).postMessage(message);

/** The bundled digits (build.mjs's format), split 8,000 / 2,000 as `convstack train --data mnist` does. */
async function loadDigits(): Promise<DataSplits> {
  const bytes = new Uint8Array(await (await fetch(new URL('./mnist.bin', import.meta.url))).arrayBuffer());
  const count = new DataView(bytes.buffer).getUint32(0, true);
  const labels = bytes.slice(4, 4 + count);
  // The package's floats: k/255 to 3 decimals.
  const table = Float32Array.from({ length: 256 }, (_, k) => Math.round((k / 255) * 1000) / 1000);
  const pixels = Float32Array.from(bytes.subarray(4 + count), (k) => table[k] as number);
  return stratifiedSplit(new ArrayDataset('mnist', [1, 28, 28], DIGITS, pixels, labels), 2000, 0);
}

/** The editor's net when it reads 28x28x1 digits into 10 scores, else LeNet-5 for MNIST. */
function pickNet(text: string): { spec: NetSpec; description: string } {
  try {
    const spec = toNetSpec(text);
    const probe = new Net(spec, { seed: 1 });
    const out = probe.forward(Tensor.zeros([1, 1, 28, 28]));
    if (out.size === 10) return { spec, description: "the editor's net" };
  } catch {
    // Not a 28x28x1 net: the page trains LeNet-5 instead, and says so.
  }
  const lenet = zooNet('lenet5_mnist');
  if (lenet === undefined) throw new Error('the zoo has no lenet5_mnist');
  return { spec: toNetSpec(lenet.source, { bindings: lenet.bindings }), description: "LeNet-5 (the editor's net does not read 28x28x1 digits into 10 classes)" };
}

let backend: WasmBackend | null = null;
let data: DataSplits | null = null;
let net: Net | null = null;
let normalization: Normalization | null = null;
let paused = false;
let resumeTraining: (() => void) | null = null;
let bench: BenchTrainer | null = null;

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function train(settings: TrainSettings): Promise<void> {
  if (backend === null || data === null) throw new Error('the worker is not ready');
  const chosen = pickNet(settings.spec);
  post({ kind: 'net', description: chosen.description });
  net?.dispose();
  const current = new Net(chosen.spec, { backend, seed: 1 });
  net = current;
  const norm = channelStats(data.train);
  normalization = norm;
  const optimizer = createOptimizer(settings.optimizer, current.trainableParams(), { lr: settings.lr, backend });
  const shuffleRng = new Rng(1);
  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    const order = shuffleRng.shuffle(Array.from({ length: data.train.length }, (_, i) => i));
    const steps = Math.ceil(order.length / settings.batch);
    let [seen, correct, lossSum, busyMs, step] = [0, 0, 0, 0, 0];
    let sliceStart = performance.now();
    for (const { x, labels } of batches(data.train, { batchSize: settings.batch, order, normalization: norm, allocator: backend.allocator })) {
      const t0 = performance.now();
      const scores = current.forward(x, { training: true });
      const { loss, grad } = softmaxCrossEntropy(scores, labels);
      argmax(scores).forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
      current.backward(grad);
      [x, scores, grad].forEach((t) => t.dispose());
      optimizer.step();
      busyMs += performance.now() - t0;
      seen += labels.length;
      lossSum += loss * labels.length;
      step++;
      if (performance.now() - sliceStart > SLICE_MS || step === steps) {
        post({ kind: 'progress', epoch, step, steps, loss: lossSum / seen, accuracy: correct / seen, imagesPerSecond: (seen * 1000) / busyMs });
        await nextTask();
        if (paused) {
          post({ kind: 'paused' });
          await new Promise<void>((resolve) => (resumeTraining = resolve));
        }
        sliceStart = performance.now();
      }
    }
    const test = evaluate(current, data.test, { batchSize: 256, normalization: norm });
    post({ kind: 'epoch', epoch, loss: lossSum / seen, trainAccuracy: correct / seen, testAccuracy: test.accuracy });
    post({ kind: 'report', filters: firstFilters(current, chosen.spec.nodes), ...confusion(current, data.test, norm) });
  }
  optimizer.dispose();
  post({ kind: 'done' });
}

/** The top class of each row of an (N, K) score tensor. */
function argmax(scores: Tensor): number[] {
  const [n = 0, k = 0] = scores.shape;
  return Array.from({ length: n }, (_, i) => {
    const row = Array.from(scores.data.subarray(i * k, (i + 1) * k));
    return row.indexOf(Math.max(...row));
  });
}

/** The ten probabilities of the trained net for one 28x28 drawing (values in [0, 1]). */
function predict(pixels: Float32Array): number[] {
  if (net === null || normalization === null) throw new Error('train the net before asking it about a digit');
  const x = Tensor.zeros([1, 1, 28, 28]);
  x.data.set(pixels);
  normalize(x.data, 0, [1, 28, 28], normalization);
  const scores = net.forward(x);
  const values = Array.from(scores.data);
  scores.dispose();
  const max = Math.max(...values);
  const exp = values.map((s) => Math.exp(s - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

/** The opened model file's net, its weights loaded, replaces the trained one for the pad. */
function load(message: Extract<ToWorker, { kind: 'load' }>): FromWorker {
  if (backend === null) throw new Error('the worker is not ready');
  const loaded = new Net(message.spec, { backend });
  try {
    loaded.loadState(new Map(message.weights.map((w) => [w.name, Tensor.from(w.shape, w.data)])));
  } catch (error) {
    loaded.dispose();
    throw new Error(`${message.name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  net?.dispose();
  net = loaded;
  normalization = message.normalization;
  return { kind: 'loaded', name: message.name };
}

/** Every layer's output for a held-out digit or a drawing. */
function layerOutputs(message: Extract<ToWorker, { kind: 'activations' }>): FromWorker {
  if (net === null || normalization === null || data === null) throw new Error('train the net before asking for its activations');
  const shape = data.test.shape;
  if ('pixels' in message) return { kind: 'activations', label: message.label, layers: activations(net, message.pixels, shape, normalization) };
  const index = Math.min(Math.max(Math.floor(message.index), 0), data.test.length - 1);
  const pixels = new Float32Array(shape[0] * shape[1] * shape[2]);
  data.test.read(index, pixels, 0);
  return { kind: 'activations', label: `held-out digit ${index}, a ${DIGITS[data.test.labels[index] as number]}`, layers: activations(net, pixels, shape, normalization) };
}

async function start(): Promise<void> {
  const wasm = await createWasmBackend();
  backend = wasm;
  post({ kind: 'ready', backend: wasm.details ?? 'wasm', threads: wasm.threads, isolated: globalThis.crossOriginIsolated, singleThreadReason: wasm.singleThreadReason });
  data = await loadDigits();
}

const ready = start();

globalThis.onmessage = (event: MessageEvent<ToWorker>): void => {
  const message = event.data;
  const work = async (): Promise<void> => {
    await ready;
    if (message.kind === 'start') await train(message.settings);
    else if (message.kind === 'pause') paused = true;
    else if (message.kind === 'resume') {
      paused = false;
      resumeTraining?.();
      resumeTraining = null;
    } else if (message.kind === 'activations') post(layerOutputs(message));
    else if (message.kind === 'bench-start') {
      if (data === null) throw new Error('the worker is not ready');
      bench = await benchTrainer(data.train, message.settings);
      post({ kind: 'bench-ready', details: bench.details, threads: bench.threads });
    } else if (message.kind === 'bench-step') {
      if (bench === null) throw new Error('bench-step before bench-start');
      bench.step();
      post({ kind: 'bench-stepped' });
    } else if (message.kind === 'bench-stop') {
      await bench?.dispose();
      bench = null;
      post({ kind: 'bench-stopped' });
    } else if (message.kind === 'load') {
      post(load(message));
      // A digit reader gets the same views as a trained net: its filters, its held-out confusion.
      if (net !== null && normalization !== null && data !== null && net.outputShape.join() === String(DIGITS.length)) {
        post({ kind: 'report', filters: firstFilters(net, message.spec.nodes), ...confusion(net, data.test, normalization) });
      }
    }
    else post({ kind: 'prediction', probabilities: predict(message.pixels) });
  };
  work().catch((error: unknown) => post({ kind: 'error', message: error instanceof Error ? error.message : String(error) }));
};
