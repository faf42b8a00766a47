import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/index.js';
import { createWasmBackendOn } from '../../src/backends/wasm/backend.js';
import type { WasmHost } from '../../src/backends/wasm/host.js';
import { nodeHost } from '../../src/backends/wasm/host_node.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor, heapAllocator } from '../../src/tensor/tensor.js';
import type { SgdOptions } from '../../src/train/optimizers/index.js';
import { assertClose } from '../helpers/assert.js';
import { CLOSE, CONV_CASES, SGD_CASES, assertSameBits, batchNormTraining, convAttrs, maxPoolEdgeCases, random, runAll, sgdRun } from '../helpers/kernels.js';
import { maxPool2dValues } from '../../src/ops/maxpool2d.js';
import { FUSED_NETS, assertFusedMatchesUnfused, type FusedNet } from '../helpers/fusion.js';

// What only the wasm backend has: threads. The same thread count gives the same bits, and different
// thread counts agree (by design bit for bit too: each value is computed whole by one thread, and
// reductions are blocked by fixed sizes). Its kernels against the reference backend are in the
// conformance suite (conformance.test.ts), which runs on every registered backend.

/** conv * scale[o] + shift[o] in float32 (a multiply, then an add), ReLU'd when `relu` (NaN and -0 kept, as reference/relu.ts keeps them). */
function scaledAndShifted(conv: Tensor, scale: Tensor, shift: Tensor, relu: boolean): Tensor {
  const y = Tensor.zeros(conv.shape, 'float32');
  const channels = conv.shape[1] as number;
  const plane = conv.size / ((conv.shape[0] as number) * channels);
  for (let i = 0; i < y.size; i++) {
    const o = Math.floor(i / plane) % channels;
    const v = Math.fround(Math.fround((conv.data[i] as number) * (scale.data[o] as number)) + (shift.data[o] as number));
    y.data[i] = relu && v < 0 ? 0 : v;
  }
  return y;
}

describe('wasm backend', () => {
  const backends = new Map<number, WasmBackend>();
  const wasmOn = (threads: number): WasmBackend => backends.get(threads) as WasmBackend;
  let plainSimd: WasmBackend;
  /** Every thread count and both binaries: relaxed SIMD (where the host has it) and plain SIMD. */
  const everyPath = (): [string, WasmBackend][] => [...[...backends].map(([threads, b]): [string, WasmBackend] => [`${threads} threads`, b]), ['plain SIMD, 3 threads', plainSimd]];

  before(async () => {
    // serialBelow 0: even these small cases run on every thread (by default they would run on one).
    for (const threads of [1, 2, 3]) backends.set(threads, await createWasmBackend({ threads, serialBelow: 0 }));
    plainSimd = await createWasmBackend({ threads: 3, serialBelow: 0, noRelaxedSimd: true });
  });
  after(async () => {
    for (const b of backends.values()) await b.dispose();
    await plainSimd.dispose();
  });

  it('gives the same bits on every run with the same thread count', () => {
    for (const wasm of backends.values()) {
      const first = runAll(wasm, 2);
      const second = runAll(wasm, 2);
      for (const [name, t] of first) assertSameBits(second.get(name) as Tensor, t, `${name}, ${wasm.threads} threads`);
    }
  });

  it('matches the reference backend on 1, 2 and 3 threads with every thread busy', () => {
    const expected = runAll(referenceBackend, 1);
    for (const wasm of backends.values()) {
      const actual = runAll(wasm, 1);
      for (const [name, t] of expected) assertClose(actual.get(name) as Tensor, t, `${name}, ${wasm.threads} threads`, CLOSE);
    }
  });

  it('agrees across thread counts within 1e-5 relative', () => {
    const base = runAll(wasmOn(1), 3);
    for (const threads of [2, 3]) {
      const other = runAll(wasmOn(threads), 3);
      for (const [name, t] of base) assertClose(other.get(name) as Tensor, t, `${name}, ${threads} threads vs 1`, CLOSE);
    }
  });

  it('runs its kernels in wasm and lists LRN and softmax as falling back', () => {
    const wasm = wasmOn(1);
    assert.equal(wasm.placement.conv2d, 'wasm');
    assert.equal(wasm.placement.batchNormTrain, 'wasm');
    assert.equal(wasm.placement.batchNormGrad, 'wasm');
    assert.equal(wasm.placement.lrn, 'reference');
    assert.equal(wasm.placement.softmax, 'reference');
    assert.match(wasm.details ?? '', /^1 thread, (relaxed SIMD with FMA|SIMD)$/);
  });

  it('batchNormTrain and batchNormGrad give the same bits on 1, 2 and 3 threads', () => {
    const base = batchNormTraining(wasmOn(1), new Rng(6));
    for (const threads of [2, 3]) {
      const other = batchNormTraining(wasmOn(threads), new Rng(6));
      assert.equal(other.size, base.size);
      for (const [name, t] of base) assertSameBits(other.get(name) as Tensor, t, `${name}, ${threads} threads vs 1`);
    }
  });

  it('sgdUpdate gives the same bits on every thread count', () => {
    for (const c of SGD_CASES) {
      const base = sgdRun(c.options, wasmOn(1), heapAllocator);
      for (const threads of [2, 3]) {
        const other = sgdRun(c.options, wasmOn(threads), wasmOn(threads).allocator);
        base.forEach((tensors, step) => tensors.forEach((t, i) => assertSameBits((other[step] as Tensor[])[i] as Tensor, t, `${c.name}, ${threads} threads, step ${step + 1}`)));
      }
    }
  });

  it('leaves float64 parameters to the TypeScript SGD update', () => {
    const wasm = wasmOn(2);
    const options = SGD_CASES[4]?.options as SgdOptions;
    const expected = sgdRun(options, undefined, heapAllocator, 2, 'float64');
    const actual = sgdRun(options, wasm, heapAllocator, 2, 'float64');
    expected.forEach((tensors, step) => tensors.forEach((t, i) => assertSameBits((actual[step] as Tensor[])[i] as Tensor, t, `float64, step ${step + 1}`)));
    assert.throws(() => wasm.sgdUpdate(Tensor.zeros([4], 'float64'), Tensor.zeros([4], 'float64'), null, { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, firstStep: true }), TypeError);
  });

  it('does not wait for a worker that never wakes: the calling thread runs its share, with the same bits', { timeout: 60_000 }, async () => {
    // Worker 2 of 3 is "started" but never runs (as one descheduled for the whole call would be);
    // worker 1 is real. Every call must still finish (a pool that waits for every worker blocks here
    // for good), and give what three live threads give.
    const stalled: WasmHost = {
      ...nodeHost,
      startWorker: (source, data) => (data.tid === 2 ? { ready: Promise.resolve(), terminate: async () => undefined } : nodeHost.startWorker(source, data)),
    };
    const wasm = await createWasmBackendOn(stalled, { threads: 3, serialBelow: 0 });
    try {
      const expected = runAll(wasmOn(3), 4);
      const actual = runAll(wasm, 4);
      assert.equal(actual.size, expected.size);
      for (const [name, t] of expected) assertSameBits(actual.get(name) as Tensor, t, `${name}, one worker stalled`);
    } finally {
      await wasm.dispose();
    }
  });

  it('conv2dAffine gives the bits of its conv2d, scaled then shifted in float32, on every conv path, -0 and NaN kept by its ReLU', () => {
    const rng = new Rng(8);
    for (const c of CONV_CASES) {
      const attrs = convAttrs(c);
      const x = random(c.x, rng);
      // Image 0 all zeros: its conv outputs are 0, -0 once scaled by filter 0's negative scale, and
      // stay -0 with its shift of -0 (a ReLU by f32x4.max would make them 0). One NaN in the last image.
      x.data.fill(0, 0, x.size / (c.x[0] as number));
      x.data[x.size - 1] = Number.NaN;
      const w = random([c.out, (c.x[1] as number) / c.groups, ...c.kernel], rng);
      const scale = random([c.out], rng);
      const shift = random([c.out], rng);
      scale.data[0] = -0.75;
      shift.data[0] = -0;
      for (const [path, wasm] of everyPath()) {
        const conv = wasm.conv2d(x, w, null, attrs);
        for (const relu of [false, true]) {
          assertSameBits(wasm.conv2dAffine(x, w, scale, shift, attrs, relu), scaledAndShifted(conv, scale, shift, relu), `conv2dAffine ${c.name}, relu ${relu}, ${path}`);
        }
      }
    }
  });

  it("max-pools with the reference's argmax (and without it, to the same values): the first maximum of a window wins, a NaN wins (a later NaN over an earlier one)", () => {
    // wasm's 3x3/2 and 3x3/1 run on its scalar path, 2x2/2 on its vector path (and its scalar tail: 17 outputs a row).
    for (const { name, x, attrs } of maxPoolEdgeCases(new Rng(11))) {
      const expected = referenceBackend.maxPool2d(x, attrs);
      for (const [path, wasm] of everyPath()) {
        const actual = wasm.maxPool2d(x, attrs);
        assertSameBits(actual.y, expected.y, `maxPool2d ${name}, ${path}`);
        assert.deepEqual([...actual.argmax], [...expected.argmax], `argmax ${name}, ${path}`);
        assertSameBits(wasm.maxPool2dValues(x, attrs), expected.y, `maxPool2dValues ${name}, ${path}`);
      }
    }
  });

  it("runs a CONV with the BN after it (and that BN's RELU, or a RES join's ADD and RELU) as one kernel in inference, and a max POOL without its argmax, giving the unfused net's outputs", () => {
    const [pooled, ...rest] = FUSED_NETS as [FusedNet, ...FusedNet[]];
    assert.equal(assertFusedMatchesUnfused(wasmOn(2), pooled).forward[1]?.op, maxPool2dValues, 'the POOL runs as maxPool2dValues');
    for (const net of rest) assertFusedMatchesUnfused(wasmOn(2), net);
  });

  it('keeps tensors valid when the memory grows', () => {
    const wasm = wasmOn(1);
    const small = wasm.allocator.allocate(16, 'float32');
    small.fill(3);
    // 80 MiB: more than the initial 64 MiB, so the memory must grow.
    const big = wasm.allocator.allocate(20 * 1024 * 1024, 'float32');
    big[big.length - 1] = 1;
    assert.ok(small.every((v) => v === 3));
    const y = wasm.relu(Tensor.wrap([16], small));
    assert.ok(y.data.every((v) => v === 3));
    wasm.allocator.free(big);
    wasm.allocator.free(small);
  });
});
