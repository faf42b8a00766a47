import * as ort from 'onnxruntime-node';
import { Net } from '../../src/net/net.js';
import type { Batches } from '../data.js';
import type { Step } from '../measure.js';
import { toOnnx } from '../onnx.js';
import type { Workload } from '../workloads.js';
import type { Peer } from './peer.js';

/**
 * onnxruntime-node (native, its CPU execution provider) on the workload's net written as ONNX by
 * bench/onnx.ts with convstack's initial weights, `threads` intra-op threads. Inference only: the
 * npm package has no training API.
 */
export function onnxruntimePeer(threads: number): Peer {
  return {
    name: 'onnxruntime-node',
    async prepare(w: Workload, batches: Batches): Promise<Step | { skip: string }> {
      if (w.kind !== 'infer') return { skip: 'inference only (onnxruntime-node has no training API)' };
      const net = new Net(w.spec, { seed: 1 });
      const session = await ort.InferenceSession.create(toOnnx(net, w.batch), {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      const inputs = batches.images.map((data) => new ort.Tensor('float32', data, batches.shape));
      let next = 0;
      return {
        run: async () => {
          const outputs = await session.run({ input: inputs[next++ % inputs.length] as ort.Tensor });
          Object.values(outputs).forEach((t) => t.dispose());
        },
        dispose: () => session.release(),
      };
    },
  };
}
