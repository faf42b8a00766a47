import type { Backend } from '../../src/backends/backend.js';
import { Net } from '../../src/net/net.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Sgd } from '../../src/train/optimizers/index.js';
import { trainingStep } from '../../src/train/step.js';
import type { Batches } from '../data.js';
import type { Step } from '../measure.js';
import type { Workload } from '../workloads.js';
import { SGD, type Peer } from './peer.js';

/**
 * convstack through its public pieces: a Net from the workload's spec, `forward`/`backward`, the
 * softmax cross-entropy loss and SGD with momentum, as a training loop runs them. `skip` lists
 * workloads too slow for this backend within the benchmark's time budget. The peer owns the backend
 * and disposes of it at the end.
 */
export function convstackPeer(name: string, backend: Backend, skip: ReadonlyMap<string, string> = new Map()): Peer {
  return {
    name,
    dispose: () => backend.dispose(),
    async prepare(w: Workload, batches: Batches): Promise<Step | { skip: string }> {
      const reason = skip.get(w.name);
      if (reason !== undefined) return { skip: reason };
      const net = new Net(w.spec, { backend, seed: 1 });
      // The batches live where the backend's kernels read them in place.
      const inputs = batches.images.map((data) => Tensor.from(batches.shape, data, 'float32', backend.allocator));
      let next = 0;
      const input = (): [Tensor, Int32Array] => {
        const i = next++ % inputs.length;
        return [inputs[i] as Tensor, batches.labels[i] as Int32Array];
      };
      const dispose = (): void => {
        inputs.forEach((t) => t.dispose());
        for (const p of net.params.values()) {
          p.value.dispose();
          p.grad?.dispose();
        }
      };
      if (w.kind === 'infer') {
        return { run: () => net.forward(input()[0]).dispose(), dispose };
      }
      if (w.kind === 'fwdbwd') {
        return {
          run: () => {
            const y = net.forward(input()[0], { training: true, inputGrad: true });
            const dy = Tensor.zeros(y.shape, 'float32', backend.allocator);
            dy.data.fill(1);
            net.backward(dy)?.dispose();
            y.dispose();
            dy.dispose();
          },
          dispose,
        };
      }
      const optimizer = new Sgd(net.trainableParams(), { ...SGD, backend });
      return {
        run: () => trainingStep(net, optimizer, ...input()),
        dispose: () => {
          optimizer.dispose();
          dispose();
        },
      };
    },
  };
}
