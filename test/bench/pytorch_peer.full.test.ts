import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeBatches } from '../../bench/data.js';
import { pytorchPeer, type PytorchPeer } from '../../bench/peers/pytorch.js';
import { workloads } from '../../bench/workloads.js';
import { Net } from '../../src/net/net.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../helpers/assert.js';

// The bench's PyTorch peer must run the same nets as convstack: built from the same NetSpec, with the
// same initial weights, on the same batches. Its eval-mode output on the first batch must match the
// reference backend's forward. Skipped where Debian's python3-torch is missing (the peer says why).

describe('the PyTorch peer of the bench', () => {
  let peer: PytorchPeer;
  before(async () => {
    peer = await pytorchPeer(1);
  });
  after(async () => {
    await peer.dispose?.();
  });

  for (const name of ['W4 lenet mnist train', 'W5 cifar train', 'W2 resnet18 b1'] as const) {
    it(`computes convstack's forward for ${name} (same spec, weights and batch)`, async (t) => {
      if (!peer.available) return t.skip(peer.info);
      const w = workloads().find((x) => x.name === name);
      assert.ok(w !== undefined);
      const batches = makeBatches(w, 1);
      const expected = new Net(w.spec, { seed: 1 }).forward(Tensor.from(batches.shape, batches.images[0] as Float32Array));
      const actual = await peer.forwardOutput(w, batches);
      // float32 sums in another order (oneDNN, OpenBLAS): close, not equal.
      assertClose(actual, expected.data, name, 1e-4);
    });
  }
});
