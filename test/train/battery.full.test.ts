import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { BATTERY, batteryData, trainBatteryNet } from '../../tools/battery.js';

// Slow (about 20 minutes on two cores): part of `npm run test:full`, not `npm test`. Every net of the
// battery, trained for two epochs with the defaults on the MNIST digits, over three seeds, reaches
// 0.90 on the 2,000 held-out digits. docs/training.md has the figures and PyTorch's on the same runs.
const wasm = await createWasmBackend();
after(() => wasm.dispose());
const data = batteryData();

for (const [i, text] of BATTERY.entries()) {
  for (const seed of [0, 1, 2]) {
    test(`battery net ${i + 1}, seed ${seed}: ${text}`, async (t) => {
      const run = await trainBatteryNet(text, { seed, backend: wasm, data });
      t.diagnostic(`held-out accuracy ${run.accuracy.toFixed(4)}, initial loss ${run.initialLoss.toFixed(3)}`);
      assert.ok(run.accuracy >= 0.9, `held-out accuracy ${run.accuracy}`);
      assert.ok(Math.abs(run.initialLoss - Math.log(10)) < 0.1, `initial loss ${run.initialLoss}`);
      assert.deepEqual(run.warnings, []);
    });
  }
}
