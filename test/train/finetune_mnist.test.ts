import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { compileSpec } from '../../src/cli/model.js';
import { channelStats, openData } from '../../src/data/index.js';
import { Net } from '../../src/net/net.js';
import { defaultConfig } from '../../src/train/defaults.js';
import { finetune } from '../../src/train/finetune.js';
import { train } from '../../src/train/loop.js';
import { netTensors, type ModelInfo } from '../../src/train/model_file.js';

const wasm = await createWasmBackend();
after(() => wasm.dispose());

// The README's "Fine-tuning" figures come from this run (seed 0, wasm backend).
test('LeNet-5 pretrained on the digits 0-4 and fine-tuned on 20 images of each of 5-9 beats the same net trained from scratch on them', async () => {
  const lenet = await compileSpec('lenet5_mnist', { set: 'CLASSES=5' });
  const pretrainData = await openData('mnist,classes=0-4', [1, 28, 28]);
  const fewShot = await openData('mnist,classes=5-9,per-class=20', [1, 28, 28]);
  assert.equal(fewShot.train.length, 100);
  assert.deepEqual(fewShot.train.classes, ['5', '6', '7', '8', '9']);
  const info: ModelInfo = { spec: lenet.spec, architecture: lenet.text, compileOptions: { bindings: { ...lenet.bindings, CLASSES: 5 } }, init: 'he', classes: [...pretrainData.train.classes], normalization: channelStats(pretrainData.train) };
  const pretrained = new Net(info.spec, { backend: wasm, seed: 0 });
  const pre = await train({ net: pretrained, data: pretrainData, config: defaultConfig(5, 'mnist,classes=0-4'), info });
  assert.ok(pre.testAccuracy > 0.95, `pretraining reached ${pre.testAccuracy}`);
  // The same budget for both: 20 epochs of 5 batches of 20 images, 100 steps.
  const config = { ...defaultConfig(20, 'mnist,classes=5-9,per-class=20'), batchSize: 20 };
  const tuned = await finetune({ pretrained: { info, weights: netTensors(pretrained) }, data: fewShot, config, backend: wasm, freeze: 'none' });
  const scratch = new Net(info.spec, { backend: wasm, seed: 0 });
  const fromScratch = await train({ net: scratch, data: fewShot, config, info: { ...info, classes: [...fewShot.train.classes] } });
  assert.equal(tuned.result.steps, 100);
  assert.equal(fromScratch.steps, 100);
  assert.equal(fewShot.test.length, 975);
  assert.ok(tuned.result.testAccuracy > fromScratch.testAccuracy, `fine-tuned ${tuned.result.testAccuracy}, from scratch ${fromScratch.testAccuracy}`);
  [pretrained, tuned.net, scratch].forEach((net) => net.dispose());
});
