import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNativeBackend, type NativeBackend } from '../../src/backends/native/index.js';
import { placementOf } from '../../src/backends/fallback.js';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { DEFAULT_BACKEND, backendEntry } from '../../src/backends/registry.js';
import { formatNpy } from '../../src/io/npy.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../helpers/assert.js';
import { convstack } from '../helpers/cli.js';
import { CLOSE, CONV_CASES, assertSameBits, maxPoolEdgeCases, random, runAll } from '../helpers/kernels.js';
import { FUSED_NETS, assertFusedMatchesUnfused } from '../helpers/fusion.js';
import { Rng } from '../../src/tensor/rng.js';

// What only the native backend has: a micro-kernel picked at run time (and the slower paths, forced,
// checked on this CPU too), threads, C memory shared with JavaScript, and an addon that may be
// missing. Its kernels against the reference and PyTorch are in the conformance suite, which runs on
// every registered backend.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NATIVE = backendEntry('native').available();
const cpuFlags = readFileSync('/proc/cpuinfo', 'utf8');

/** Split-K sums of the packed weight gradient (strides other than 1) depend on the thread count; every other value does not. */
const THREAD_DEPENDENT = new Set(CONV_CASES.filter((c) => c.stride[0] !== 1 || c.stride[1] !== 1).map((c) => `conv2dGradWeight ${c.name}`));

describe('native backend', { skip: !NATIVE && `the native addon is not available: ${backendEntry('native').unavailableReason?.()}` }, () => {
  const backends = new Map<string, NativeBackend>();
  const on = (key: string): NativeBackend => backends.get(key) as NativeBackend;

  before(async () => {
    // serialBelow 0: even these small cases run on every thread (by default they would run on one).
    for (const threads of [1, 2, 3]) backends.set(`best ${threads}`, await createNativeBackend({ threads, serialBelow: 0 }));
    for (const kernel of ['avx2', 'scalar'] as const) backends.set(kernel, await createNativeBackend({ threads: 3, serialBelow: 0, kernel }));
  });
  after(async () => {
    for (const b of backends.values()) await b.dispose();
  });

  it('picks its micro-kernel from the CPU at run time and says which', () => {
    const expected = / avx512f /.test(cpuFlags) ? 'avx512 8x32' : 'avx2+fma 6x16';
    assert.equal(on('best 2').kernel, expected);
    assert.equal(on('best 2').details, `2 threads, ${expected}`);
    assert.equal(on('scalar').kernel, 'portable C 4x8');
    if (/ avx2 /.test(cpuFlags) && / fma /.test(cpuFlags)) assert.equal(on('avx2').kernel, 'avx2+fma 6x16');
  });

  it('matches the reference backend on every path (AVX-512, AVX2, portable) and on 1, 2 and 3 busy threads', () => {
    const expected = runAll(referenceBackend, 1);
    for (const [key, backend] of backends) {
      const actual = runAll(backend, 1);
      for (const [name, t] of expected) assertClose(actual.get(name) as Tensor, t, `${name}, ${key}`, CLOSE);
    }
  });

  it('gives the same bits on every run with the same thread count, and across thread counts but for split-K sums', () => {
    const base = runAll(on('best 1'), 2);
    for (const threads of [1, 2, 3]) {
      const first = runAll(on(`best ${threads}`), 2);
      const second = runAll(on(`best ${threads}`), 2);
      for (const [name, t] of first) {
        assertSameBits(second.get(name) as Tensor, t, `${name}, ${threads} threads`);
        if (!THREAD_DEPENDENT.has(name)) assertSameBits(t, base.get(name) as Tensor, `${name}, ${threads} threads vs 1`);
      }
    }
  });

  it("max-pools with the reference's argmax (and without it, to the same values): the first maximum of a window wins, a NaN wins (a later NaN over an earlier one)", () => {
    for (const { name, x, attrs } of maxPoolEdgeCases(new Rng(11))) {
      const expected = referenceBackend.maxPool2d(x, attrs);
      for (const key of ['best 1', 'best 3', 'avx2', 'scalar']) {
        const actual = on(key).maxPool2d(x, attrs);
        assertSameBits(actual.y, expected.y, `maxPool2d ${name} ${key}`);
        assert.deepEqual([...actual.argmax], [...expected.argmax], `argmax ${name} ${key}`);
        assertSameBits(on(key).maxPool2dValues(x, attrs), expected.y, `maxPool2dValues ${name} ${key}`);
      }
    }
  });

  it('pools 2x2 windows at stride 2 (the vector path) to the same bits as the reference, odd sizes and -0 included', () => {
    const rng = new Rng(7);
    for (const shape of [[2, 3, 9, 7], [64, 6, 28, 28]]) {
      const x = random(shape, rng);
      x.data[0] = -0;
      for (const countIncludePad of [true, false]) {
        const attrs = { kernel: [2, 2], stride: [2, 2], padding: [0, 0], rounding: 'floor', countIncludePad } as const;
        const expected = referenceBackend.avgPool2d(x, attrs);
        const dy = random(expected.shape, rng);
        dy.data[1] = -0;
        for (const key of ['best 1', 'best 3']) {
          assertSameBits(on(key).avgPool2d(x, attrs), expected, `avgPool2d ${shape}, ${key}`);
          assertSameBits(on(key).avgPool2dGrad(dy, x.shape, attrs), referenceBackend.avgPool2dGrad(dy, x.shape, attrs), `avgPool2dGrad ${shape}, ${key}`);
        }
      }
    }
  });

  it('sums the stride-1 weight gradient over several rounds of padded images, the last one partial, to the same bits on 1 and 2 threads', () => {
    // 3 images of 110 x 110 padded values and 8 filters (436 KB of copies each): two images per 1 MiB round, then one.
    const rng = new Rng(11);
    const attrs = { outChannels: 8, groups: 1, bias: true, kernel: [3, 3], stride: [1, 1], padding: [1, 1], rounding: 'floor' } as const;
    const x = random([3, 1, 108, 108], rng);
    const dy = random([3, 8, 108, 108], rng);
    const expected = referenceBackend.conv2dGradWeight(dy, x, attrs);
    const one = on('best 1').conv2dGradWeight(dy, x, attrs);
    assertClose(one, expected, 'conv2dGradWeight over rounds', CLOSE);
    assertSameBits(on('best 2').conv2dGradWeight(dy, x, attrs), one, 'conv2dGradWeight over rounds, 2 threads vs 1');
  });

  it('lists the kernels it leaves to the reference backend', () => {
    const onReference = Object.entries(placementOf(on('best 2')))
      .filter(([, where]) => where === 'reference')
      .map(([kernel]) => kernel)
      .sort();
    // The optional kernels the importer added (adaptive and dilated pooling) come from the reference too,
    // and so do the element-wise joins MUL and DIV.
    const optional = ['adaptiveAvgPool2d', 'adaptiveAvgPool2dGrad', 'maxPool2dDilated'];
    const joins = ['div', 'divGradDivisor', 'mul'];
    assert.deepEqual(onReference, [...optional, ...joins, 'concatChannels', 'lrn', 'lrnGrad', 'mulMask', 'softmax', 'splitChannels'].sort());
    const x = Tensor.from([1, 2, 2, 2], [1, -2, 3, -4, 5, -6, 7, -8], 'float64', on('best 2').allocator);
    assert.equal(on('best 2').relu(x).dtype, 'float64', 'float64 goes to the reference kernels');
  });

  it('hands out float32 tensors in C memory that its kernels update in place, and reuses freed blocks', () => {
    const backend = on('best 1');
    const w = Tensor.from([5], [1, 2, 3, 4, 5], 'float32', backend.allocator);
    const g = Tensor.from([5], [1, 1, 1, 1, 1], 'float32', backend.allocator);
    backend.sgdUpdate(w, g, null, { lr: 0.5, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, firstStep: true });
    assert.deepEqual([...w.data], [0.5, 1.5, 2.5, 3.5, 4.5]);
    const buffer = g.data.buffer;
    g.dispose();
    const again = Tensor.empty([5], 'float32', backend.allocator);
    assert.equal(again.data.buffer, buffer, 'the freed block of the same size comes back');
    assert.equal(again.data.byteOffset % 64, 0);
    again.dispose();
    w.dispose();
  });

  it("runs a CONV with the BN after it (and that BN's RELU, or a RES join's ADD and RELU) as one kernel in inference, giving the unfused net's outputs", () => {
    for (const net of FUSED_NETS) assertFusedMatchesUnfused(on('best 2'), net);
  });

  it('measures the fp32 FMA peak of its threads with a short loop', () => {
    const peak = on('best 1').fmaPeak();
    assert.ok(Number.isFinite(peak) && peak > 0, `${peak}`);
  });

  it('is the default backend where its addon is built', () => {
    assert.equal(DEFAULT_BACKEND, 'native');
  });
});

describe('native backend unavailable', () => {
  it('--backend native says in one line why, and the default falls back to wasm', () => {
    const env = { ...process.env, CONVSTACK_NATIVE: '0' };
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'memory', 'lenet5', '--batch', '2', '--backend', 'native'], { cwd: ROOT, encoding: 'utf8', env });
    assert.equal(run.status, 1);
    assert.equal(run.stderr, 'convstack: the native backend is not available: disabled by CONVSTACK_NATIVE=0\n');
    const script = "import('./src/backends/registry.ts').then((r) => console.log(r.DEFAULT_BACKEND, r.backendEntry('native').unavailableReason()))";
    const probe = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', env });
    assert.equal(probe.stdout, 'wasm disabled by CONVSTACK_NATIVE=0\n', probe.stderr);
  });

  it('a failed build never fails the install: one line, exit 0, the built addon left as it was', () => {
    const build = spawnSync(process.execPath, ['tools/build_native.mjs'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CC: '/nonexistent/cc' } });
    assert.equal(build.status, 0);
    assert.match(build.stdout, /^convstack: native backend not built \(\/nonexistent\/cc failed: .*\); the wasm backend will be used\n$/);
    assert.equal(backendEntry('native').available(), NATIVE);
  });

  it('--debug-backend says which backend is unavailable and why, before the placement of the one that runs', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convstack-native-'));
    writeFileSync(path.join(dir, 'x.npy'), formatNpy(Tensor.zeros([1, 1, 4, 4])));
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'run', 'INPUT[4x4x1] -> FC-2', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy'), '--debug-backend'];
    const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CONVSTACK_NATIVE: '0' } });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^native backend unavailable: disabled by CONVSTACK_NATIVE=0\nwasm backend: /);
    if (!NATIVE) return;
    const native = convstack('run', 'INPUT[4x4x1] -> FC-2', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy'), '--debug-backend');
    assert.equal(native.status, 0, native.stderr);
    assert.match(native.stderr, /^native backend: \d+ threads?, /);
    assert.match(native.stderr, /^ {2}linear +native$/m);
  });
});
