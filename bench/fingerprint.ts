/**
 * `npx tsx bench/fingerprint.ts [--workload W4] [--steps 20] [--threads N]`: a hash of every
 * parameter and gradient after `steps` training steps of the bench's workload on the wasm backend,
 * and the last loss. Run it before and after a change that must not move a bit (a faster executor,
 * a reused buffer) and compare the lines.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { openBackend } from '../src/backends/registry.js';
import { Net } from '../src/net/net.js';
import { softmaxCrossEntropy } from '../src/ops/softmax_cross_entropy.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Sgd } from '../src/train/optimizers/index.js';
import { makeBatches } from './data.js';
import { SGD } from './peers/peer.js';
import { workloads } from './workloads.js';

const { values } = parseArgs({ options: { workload: { type: 'string', default: 'W4' }, steps: { type: 'string', default: '20' }, threads: { type: 'string' } } });
const w = workloads().find((x) => x.name.startsWith(values.workload as string) && x.kind === 'train');
if (w === undefined) throw new Error(`no training workload named ${values.workload}`);
const backend = await openBackend('wasm', { threads: values.threads === undefined ? availableParallelism() : Number(values.threads) });
const batches = makeBatches(w, w.mnist ? 125 : 16);
const net = new Net(w.spec, { backend, seed: 1 });
const optimizer = new Sgd(net.trainableParams(), { ...SGD, backend });
let loss = 0;
for (let i = 0; i < Number(values.steps); i++) {
  const x = Tensor.from(batches.shape, batches.images[i % batches.images.length] as Float32Array, 'float32', backend.allocator);
  const scores = net.forward(x, { training: true });
  const result = softmaxCrossEntropy(scores, batches.labels[i % batches.labels.length] as Int32Array);
  loss = result.loss;
  scores.dispose();
  net.backward(result.grad);
  result.grad.dispose();
  optimizer.step();
  x.dispose();
}
const hash = createHash('sha256');
for (const p of net.params.values()) {
  hash.update(new Uint8Array(p.value.data.slice().buffer));
  if (p.grad !== null) hash.update(new Uint8Array(p.grad.data.slice().buffer));
}
console.log(`${w.name}, ${values.steps} steps: loss ${loss}, parameters and gradients ${hash.digest('hex').slice(0, 16)}`);
await backend.dispose();
process.exit(0);
