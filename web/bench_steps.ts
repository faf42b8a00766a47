// The training step `npm run bench` times in the page's Worker (bench/peers/browser.ts): W4, LeNet-5
// on the MNIST digits in batches of 64 with SGD and momentum, as the Node peers run it.
import { Net, Tensor, createOptimizer, createWasmBackend, toNetSpec, trainingStep, zooNet, type Dataset } from '../src/browser.js';

/** What the bench asks for: the batch, the SGD settings of bench/peers/peer.ts, and the threads. */
export interface BenchSettings {
  batch: number;
  lr: number;
  momentum: number;
  threads: number;
}

/** One W4 training step per call, over the digits in order (the whole training split, as an epoch does). */
export interface BenchTrainer {
  step(): void;
  /** The backend's description: its threads and SIMD. */
  details: string;
  threads: number;
  dispose(): Promise<void>;
}

/** LeNet-5 (the zoo's MNIST variant, seed 1) on its own wasm backend, and the training split as batches. */
export async function benchTrainer(data: Dataset, settings: BenchSettings): Promise<BenchTrainer> {
  const backend = await createWasmBackend({ threads: settings.threads });
  const lenet = zooNet('lenet5_mnist');
  if (lenet === undefined) throw new Error('the zoo has no lenet5_mnist');
  const net = new Net(toNetSpec(lenet.source, { bindings: lenet.bindings }), { backend, seed: 1 });
  const optimizer = createOptimizer('momentum', net.trainableParams(), { lr: settings.lr, momentum: settings.momentum, backend });
  const size = 28 * 28;
  const inputs: { x: Tensor; labels: Int32Array }[] = [];
  for (let at = 0; at + settings.batch <= data.length; at += settings.batch) {
    const x = Tensor.zeros([settings.batch, 1, 28, 28], 'float32', backend.allocator);
    const labels = new Int32Array(settings.batch);
    for (let i = 0; i < settings.batch; i++) {
      data.read(at + i, x.data, i * size);
      labels[i] = data.labels[at + i] as number;
    }
    inputs.push({ x, labels });
  }
  let next = 0;
  return {
    details: backend.details ?? 'wasm',
    threads: backend.threads,
    step() {
      const { x, labels } = inputs[next++ % inputs.length] as (typeof inputs)[number];
      trainingStep(net, optimizer, x, labels);
    },
    async dispose() {
      optimizer.dispose();
      inputs.forEach(({ x }) => x.dispose());
      net.dispose();
      await backend.dispose();
    },
  };
}
