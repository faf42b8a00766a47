import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { BATTERY, batteryData, HARD_NETS, trainBatteryNet } from '../../tools/battery.js';

// Slow (4 minutes on the quiet 2-core machine, half an hour on a busy one): for `npm run test:full`.
// Every net of the battery, trained for two epochs with the defaults on the MNIST digits, over
// three seeds, reaches 0.90 on the 2,000 held-out digits, from a first loss of ln(10).
// docs/training.md has the figures, and PyTorch's on the same runs (tools/battery_torch.py).
const wasm = await createWasmBackend();
after(() => wasm.dispose());
const data = batteryData();

for (const [i, text] of BATTERY.entries()) {
  for (const seed of [0, 1, 2]) {
    test(`battery net ${i + 1}, seed ${seed}: ${text}`, async (t) => {
      const run = await trainBatteryNet(text, { seed, backend: wasm, data });
      t.diagnostic(`held-out accuracy ${run.accuracy.toFixed(4)}, initial loss ${run.initialLoss.toFixed(3)}`);
      assert.ok(run.accuracy >= 0.9, `held-out accuracy ${run.accuracy}; ${run.warnings.join('; ')}`);
      assert.ok(Math.abs(run.initialLoss - Math.log(10)) < 0.1, `initial loss ${run.initialLoss}`);
      assert.deepEqual(run.warnings, []);
    });
  }
}

// The nets the defaults do not train in two epochs (nor do PyTorch's) fail loudly, not silently.
for (const [i, text] of HARD_NETS.entries()) {
  test(`hard net ${i + 1}, seed 0, reaches 0.90 or says why not: ${text}`, async (t) => {
    const run = await trainBatteryNet(text, { seed: 0, backend: wasm, data });
    t.diagnostic(`held-out accuracy ${run.accuracy.toFixed(4)}; ${run.warnings.join('; ')}`);
    assert.ok(run.accuracy >= 0.9 || run.warnings.some((w) => /lower learning rate/.test(w)), `accuracy ${run.accuracy} without a warning`);
  });
}
