import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkModelFile, haveTorch, replicaDigests, trainWithScript } from './pytorch_export_helper.js';

/**
 * The training script under `torchrun --nproc_per_node 2` with the gloo backend on CPU: a few steps of
 * DistributedDataParallel on a small image folder, after which both ranks hold the same weights (each
 * prints the SHA-256 of its state), and the model file rank 0 writes loads into convstack strictly and
 * gives PyTorch's outputs. In test:full: torchrun's start-up alone takes ~10 s.
 */
test('torchrun --nproc_per_node 2 (gloo, CPU): both ranks end equal, and the model file goes back into convstack', async (t) => {
  if (!haveTorch(t)) return;
  const { dir, stdout } = await trainWithScript(2);
  const digests = replicaDigests(stdout);
  assert.deepEqual([...digests.keys()].sort(), [0, 1], stdout);
  assert.equal(digests.get(0), digests.get(1), 'the two ranks hold the same weights');
  assert.match(stdout, /2 processes on cpu, gloo/);
  await checkModelFile(t, dir);
});
