import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkModelFile, haveTorch, replicaDigests, trainWithScript } from './pytorch_export_helper.js';

/**
 * The training script of `convstack export --train-script`, run alone (one process, gloo on CPU): the
 * model file it writes is a convstack model file (strict loading by name, the notation, classes and the
 * normalisation measured on the same held-out split as convstack's), and convstack computes from it what
 * PyTorch does. The 2-process torchrun run is pytorch_export_ddp.full.test.ts (`npm run test:full`).
 */
test('the training script, run alone, writes a model file convstack takes', async (t) => {
  if (!haveTorch(t)) return;
  const { dir, stdout } = await trainWithScript(1);
  assert.equal(replicaDigests(stdout).size, 1, stdout);
  await checkModelFile(t, dir);
});
