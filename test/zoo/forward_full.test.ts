import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { zoo } from '../../src/zoo/index.js';

/**
 * Every zoo net at its own input size (224x224 for the ImageNet nets), one image through an
 * inference forward on the WebAssembly backend, which the kernel tests check against the
 * reference one. Each net is disposed before the next, so its weights' memory is reused.
 */
const wasm = await createWasmBackend();

for (const entry of zoo) {
  const spec = toNetSpec(entry.source, { bindings: entry.bindings });
  const [c, h, w] = spec.input as [number, number, number];
  test(`${entry.name} runs a forward pass at ${h}x${w}x${c}`, () => {
    const net = new Net(spec, { backend: wasm, seed: 3 });
    const x = Tensor.zeros([1, c, h, w]);
    for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i * 0.01);
    const scores = net.forward(x);
    const classes = entry.name.startsWith('lenet') ? 10 : 1000;
    assert.deepEqual(scores.shape, [1, classes]);
    assert.ok(scores.data.every(Number.isFinite), 'finite scores');
    assert.ok(new Set(scores.data).size > classes / 2, 'scores that depend on the class');
    [x, scores].forEach((t) => t.dispose());
    net.dispose();
  });
}
