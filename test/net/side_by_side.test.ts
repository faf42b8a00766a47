import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReferenceBackend } from '../../src/backends/reference/index.js';
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/index.js';
import { Net } from '../../src/net/net.js';
import { compile } from '../../src/notation/index.js';
import { softmaxCrossEntropy } from '../../src/ops/softmax_cross_entropy.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor, heapAllocator } from '../../src/tensor/tensor.js';
import { Sgd } from '../../src/train/optimizers/index.js';
import { assertClose } from '../helpers/assert.js';

// Issue 10, point 5: no global allocator. Two nets on two backends live side by side in one process,
// their calls interleaved, and each computes what it computes alone: every tensor a net makes lives
// on its own backend and is counted by that backend's tracker only. LRN and the concat fall back
// to the reference kernels on the wasm backend, which must still allocate in wasm memory.

const SPEC = compile(`INPUT[10x10x3]
-> CONV3-8(bias=no) -> BN -> RELU -> LRN(size=3, alpha=0.0001, beta=0.75, k=2) -> POOL2
-> CONCAT[ CONV1-4 | CONV3-4 ] -> FLATTEN -> FC-16 -> RELU -> DROPOUT(0.5) -> FC-10`).spec;

const BATCH = 3;

function paramBytes(net: Net): number {
  return [...net.params.values()].reduce((sum, p) => sum + p.value.data.byteLength, 0);
}

describe('two nets on two backends, side by side', () => {
  let wasm: WasmBackend;
  before(async () => {
    wasm = await createWasmBackend({ threads: 2, serialBelow: 0 });
  });
  after(async () => {
    await wasm.dispose();
  });

  it('interleave training steps and agree, each on its own allocator and tracker', () => {
    const reference = createReferenceBackend();
    const wasmBase = wasm.allocator.tracker.live;
    // The batch is made before either net runs: a plain heap tensor, counted by neither backend.
    const rng = new Rng(3);
    const x = Tensor.from([BATCH, 3, 10, 10], Array.from({ length: BATCH * 300 }, () => rng.normal()));
    const labels = Uint8Array.from([1, 7, 4]);
    assert.equal(x.allocator, heapAllocator);

    const refNet = new Net(SPEC, { backend: reference, seed: 5 });
    assert.equal(reference.allocator.tracker.live, paramBytes(refNet), 'the reference tracker holds the reference net alone');
    assert.equal(wasm.allocator.tracker.live, wasmBase, 'building on reference allocates nothing in wasm');
    const wasmNet = new Net(SPEC, { backend: wasm, seed: 5 });
    assert.equal(wasm.allocator.tracker.live - wasmBase, paramBytes(wasmNet));
    assert.equal(reference.allocator.tracker.live, paramBytes(refNet), 'building on wasm allocates nothing on reference');
    for (const p of wasmNet.params.values()) assert.ok(wasm.allocator.owns(p.value.data), `${p.name} lives in wasm memory`);

    const refSgd = new Sgd(refNet.trainableParams(), { lr: 0.05, momentum: 0.9, backend: reference });
    const wasmSgd = new Sgd(wasmNet.trainableParams(), { lr: 0.05, momentum: 0.9, backend: wasm });
    for (let step = 1; step <= 2; step++) {
      // Forward of one, forward of the other, then both backwards: each tape waits while the other net runs.
      const yRef = refNet.forward(x, { training: true, inputGrad: true });
      const yWasm = wasmNet.forward(x, { training: true, inputGrad: true });
      assert.equal(yRef.allocator, reference.allocator);
      assert.ok(wasm.allocator.owns(yWasm.data), 'the wasm net\'s output lives in wasm memory');
      assertClose(yWasm, yRef, `step ${step}: scores`);
      const lossRef = softmaxCrossEntropy(yRef, labels);
      const lossWasm = softmaxCrossEntropy(yWasm, labels);
      assert.ok(Math.abs(lossWasm.loss - lossRef.loss) <= 1e-4 * Math.abs(lossRef.loss), `step ${step}: loss ${lossWasm.loss} vs ${lossRef.loss}`);
      const dxRef = refNet.backward(lossRef.grad) as Tensor;
      const dxWasm = wasmNet.backward(lossWasm.grad) as Tensor;
      assertClose(dxWasm, dxRef, `step ${step}: dLoss/dx`);
      for (const [name, p] of refNet.params) {
        if (p.grad === null) continue;
        assertClose(wasmNet.params.get(name)?.grad as Tensor, p.grad, `step ${step}: ${name}.grad`);
      }
      refSgd.step();
      wasmSgd.step();
      for (const t of [yRef, yWasm, lossRef.grad, lossWasm.grad, dxRef, dxWasm]) t.dispose();
    }
    for (const [name, p] of refNet.params) assertClose(wasmNet.params.get(name)?.value as Tensor, p.value, `${name} after two steps`);

    for (const disposable of [refSgd, wasmSgd, refNet, wasmNet]) disposable.dispose();
    assert.equal(reference.allocator.tracker.live, 0, 'the reference net gave back everything it took');
    assert.equal(wasm.allocator.tracker.live, wasmBase, 'the wasm net gave back everything it took');
    assert.ok(wasm.allocator.tracker.peak > wasmBase && reference.allocator.tracker.peak > 0);
  });

  it('runs the README example: a heap batch made before any net, into a wasm net', () => {
    const x = Tensor.zeros([2, 3, 10, 10]);
    const refNet = new Net(SPEC, { seed: 1 });
    const wasmNet = new Net(SPEC, { backend: wasm, seed: 1 });
    const yRef = refNet.forward(x);
    const yWasm = wasmNet.forward(x);
    assert.deepEqual(yWasm.shape, [2, 10]);
    assertClose(yWasm, yRef, 'inference scores');
    for (const disposable of [yRef, yWasm, refNet, wasmNet]) disposable.dispose();
  });
});
