import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import { KERNEL_NAMES, hasReferenceFallback, placementOf, scaleChannelsInPlace } from '../../src/backends/fallback.js';
import { referenceBackend as ref } from '../../src/backends/reference/index.js';
import { ops } from '../../src/ops/index.js';
import type { PoolAttrs } from '../../src/ops/maxpool2d.js';
import type { Op } from '../../src/ops/op.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Shape } from '../../src/tensor/shape.js';
import { Tensor, heapAllocator } from '../../src/tensor/tensor.js';
import { assertClose } from '../helpers/assert.js';
import { testBackends } from '../helpers/backends.js';
import { loadFixture, loadManifest } from '../helpers/fixtures.js';
import { checkOpGradients, gradError, randn } from '../helpers/gradcheck.js';
import { CLOSE, CONV_CASES, SGD_CASES, SGD_SIZES, assertSameBits, convAttrs, random, runAll, sgdRun, type ConvCase } from '../helpers/kernels.js';
import { OP_CASES, caseValues, type OpCase } from '../helpers/op_cases.js';
import { checkNet, checkOp, report } from '../helpers/torch.js';

// The one suite every registered backend runs (test/helpers/backends.ts opens them from the
// registry): every op and a small net against PyTorch; the float64 gradient checks where the
// backend computes float64 itself; every gradient-check case in float32 against the reference
// backend's float64 results; and, for a fast backend, every kernel against the reference one.

const GRADIENT_TOLERANCE = 1e-6;
/** Float32 forward and backward against float64: rounding over sums of a few hundred terms (2e-7 measured on wasm). */
const FLOAT32_TOLERANCE = 1e-6;
const { fixtures } = loadManifest();

/** The case's forward output, then its input and param gradients, on `backend` from the given values. */
function forwardBackward(backend: Backend, c: OpCase, inputs: Tensor[], params: Record<string, Tensor>): Tensor[] {
  const op = ops[c.op] as Op<unknown, unknown>;
  const ctx = { backend, training: c.training ?? true, rng: new Rng(c.seed ?? 0) };
  const { output, saved } = op.forward(ctx, inputs, params, c.attrs);
  const dy = Tensor.from(output.shape, randn(output.shape, new Rng(1)).data, output.dtype);
  const grads = op.backward(ctx, saved, dy, params, c.attrs);
  op.release(saved);
  return [output, ...grads.inputs.map((g) => g as Tensor), ...Object.values(grads.params)];
}

const toFloat32 = (t: Tensor): Tensor => Tensor.from(t.shape, t.data, 'float32');

function describeFixtures(backend: Backend): void {
  describe('ops and a net against PyTorch (float32)', () => {
    for (const entry of fixtures) {
      if (entry.kind === 'loss') continue;
      it(entry.name, (t) => {
        report(t, entry.kind === 'op' ? checkOp(backend, loadFixture(entry)) : checkNet(backend, loadFixture(entry)));
      });
    }
  });
}

function describeGradientChecks(backend: Backend): void {
  if (hasReferenceFallback(backend)) {
    // NOTE: no float64 gradient check here: it would run the reference kernels a second time.
    it(`hands float64 to the reference kernels (gradient-checked on the reference backend): same bits`, () => {
      const rng = new Rng(4);
      const attrs = convAttrs(CONV_CASES[0] as ConvCase);
      const x = random([2, 3, 7, 9], rng, 'float64');
      const w = random([5, 3, 3, 3], rng, 'float64');
      const y = backend.conv2d(x, w, null, attrs);
      assert.equal(y.dtype, 'float64');
      assertSameBits(y, ref.conv2d(x, w, null, attrs), 'float64 conv2d');
    });
    return;
  }
  describe('float64 gradient check of every op against central differences', () => {
    for (const c of OP_CASES) {
      it(c.name, (t) => {
        const op = ops[c.op] as Op<unknown, unknown>;
        const { inputs, params } = caseValues(c);
        const errors = checkOpGradients(backend, {
          op,
          attrs: c.attrs,
          inputs,
          params,
          ...(c.training === undefined ? {} : { training: c.training }),
          ...(c.seed === undefined ? {} : { seed: c.seed }),
        });
        const trainable = op.params(c.inputs.map((s) => s.slice(1)), c.attrs).filter((p) => p.trainable);
        const expected = [...c.inputs.map((_, i) => `input.${i}`), ...trainable.map((p) => `param.${p.name}`)];
        assert.deepEqual([...errors.keys()].sort(), expected.sort(), 'a gradient for every input and trainable param');
        for (const [what, error] of errors) assert.ok(error < GRADIENT_TOLERANCE, `${what}: relative error ${error.toExponential(2)}`);
        t.diagnostic(`max relative error ${Math.max(...errors.values()).toExponential(2)}`);
      });
    }
  });
}

function describeFloat32AgainstFloat64(backend: Backend): void {
  it(`every gradient-check case in float32 on ${backend.name} matches the reference backend's float64 forward and backward`, (t) => {
    let worst = 0;
    for (const c of OP_CASES) {
      const { inputs, params } = caseValues(c);
      const exact = forwardBackward(ref, c, inputs, params);
      const single = forwardBackward(backend, c, inputs.map(toFloat32), Object.fromEntries(Object.entries(params).map(([name, p]) => [name, toFloat32(p)])));
      assert.equal(single.length, exact.length, `${c.name}: as many results`);
      single.forEach((result, i) => {
        assert.equal(result.dtype, 'float32', `${c.name}: result ${i} is float32`);
        const error = gradError(result.data, (exact[i] as Tensor).data);
        assert.ok(error < FLOAT32_TOLERANCE, `${c.name}: result ${i} differs from float64 by ${error.toExponential(2)}`);
        worst = Math.max(worst, error);
      });
    }
    t.diagnostic(`max relative error ${worst.toExponential(2)}`);
  });

  it('dropout really drops: the mask zeroes about p of the values and scales the rest by 1/(1-p)', () => {
    const x = Tensor.from([1, 200], new Array<number>(200).fill(1));
    const { output, saved } = ops.dropout.forward({ backend, training: true, rng: new Rng(3) }, [x], {}, { p: 0.3 });
    const values = [...output.data];
    const dropped = values.filter((v) => v === 0).length;
    assert.ok(values.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6), 'survivors scaled by 1/(1-p)');
    assert.ok(dropped > 40 && dropped < 80, `about 30% of 200 dropped, got ${dropped}`);
    ops.dropout.release(saved);
  });
}

function describeKernels(backend: Backend): void {
  describe('every kernel against the reference backend (float32, 1e-5 of the output scale)', () => {
    let expected: Map<string, Tensor> | undefined;
    const reference = (): Map<string, Tensor> => (expected ??= runAll(ref, 1));

    it('matches for tensors on the JS heap and in its own memory', () => {
      for (const allocator of [heapAllocator, backend.allocator]) {
        const actual = runAll(backend, 1, allocator);
        assert.equal(actual.size, reference().size);
        for (const [name, t] of reference()) assertClose(actual.get(name) as Tensor, t, name, CLOSE);
      }
    });

    it('writes every value of an output it allocates without zero-fill (Tensor.empty)', () => {
      // Every new block arrives full of NaN: a value a kernel forgot to write shows up as NaN.
      const allocator = backend.allocator;
      const allocate = allocator.allocate.bind(allocator);
      allocator.allocate = (size, dtype) => allocate(size, dtype).fill(Number.NaN);
      let actual: Map<string, Tensor>;
      try {
        actual = runAll(backend, 1, allocator);
      } finally {
        allocator.allocate = allocate;
      }
      for (const [name, t] of reference()) assertClose(actual.get(name) as Tensor, t, `${name}, dirty memory`, CLOSE);
    });

    it('gives the same bits on every run', () => {
      const first = runAll(backend, 2);
      const second = runAll(backend, 2);
      for (const [name, t] of first) assertSameBits(second.get(name) as Tensor, t, name);
    });

    it('lists where every kernel of the contract runs: on itself or on the reference backend', () => {
      const placement = placementOf(backend);
      assert.deepEqual(Object.keys(placement).sort(), [...KERNEL_NAMES].sort());
      for (const [kernel, where] of Object.entries(placement)) assert.ok(where === backend.name || where === ref.name, `${kernel}: ${where}`);
    });

    const fused = backend.conv2dRelu;
    if (fused !== undefined) {
      it('conv2dRelu matches the reference conv2d then relu', () => {
        const rng = new Rng(5);
        for (const c of CONV_CASES) {
          const attrs = convAttrs(c);
          const x = random(c.x, rng);
          const w = random([c.out, (c.x[1] as number) / c.groups, ...c.kernel], rng);
          const bias = random([c.out], rng);
          assertClose(fused.call(backend, x, w, bias, attrs), ref.relu(ref.conv2d(x, w, bias, attrs)), `conv2dRelu ${c.name}`, CLOSE);
        }
      });
    }

    const affine = backend.conv2dAffine;
    if (affine !== undefined) {
      it('conv2dAffine matches the reference conv2d then a scale and shift per filter (and relu)', () => {
        const rng = new Rng(6);
        for (const c of CONV_CASES) {
          const attrs = convAttrs(c);
          const x = random(c.x, rng);
          const w = random([c.out, (c.x[1] as number) / c.groups, ...c.kernel], rng);
          const scale = random([c.out], rng);
          const shift = random([c.out], rng);
          for (const relu of [false, true]) {
            const expected = ref.conv2d(x, w, null, attrs);
            scaleChannelsInPlace(expected, scale, shift, relu);
            assertClose(affine.call(backend, x, w, scale, shift, attrs, relu), expected, `conv2dAffine ${c.name}, relu ${relu}`, CLOSE);
          }
        }
      });
    }

    const values = backend.maxPool2dValues;
    if (values !== undefined) {
      it("maxPool2dValues gives the bits of the reference maxPool2d's values", () => {
        const rng = new Rng(7);
        const pools: [PoolAttrs, Shape][] = [
          [{ kernel: [2, 2], stride: [2, 2], padding: [0, 0], rounding: 'floor' }, [2, 3, 10, 21]],
          [{ kernel: [3, 3], stride: [2, 2], padding: [1, 1], rounding: 'ceil' }, [2, 3, 9, 7]],
          [{ kernel: [3, 3], stride: [2, 2], padding: [1, 1], rounding: 'floor' }, [1, 4, 56, 56]],
          [{ kernel: [3, 2], stride: [1, 2], padding: [1, 0], rounding: 'floor' }, [3, 2, 8, 11]],
        ];
        for (const [attrs, shape] of pools) {
          const x = random(shape, rng);
          assertSameBits(values.call(backend, x, attrs), ref.maxPool2d(x, attrs).y, `maxPool2dValues ${attrs.kernel}/${attrs.stride} on ${shape}`);
        }
      });
    }

    const update = backend.sgdUpdate;
    if (update !== undefined) {
      it('sgdUpdate (and sgdUpdateMany where it has one) matches the TypeScript SGD update within 1e-6 relative (first and later steps)', () => {
        let calls = 0;
        const many = backend.sgdUpdateMany;
        const counting: Backend = Object.assign(Object.create(backend) as Backend, {
          sgdUpdate: (...args: Parameters<NonNullable<Backend['sgdUpdate']>>) => (calls++, update.apply(backend, args)),
          sgdUpdateMany: undefined,
        });
        // With sgdUpdateMany the optimizer makes one call per step for all parameters.
        let batches = 0;
        const batching: Backend = Object.assign(Object.create(backend) as Backend, {
          sgdUpdate: (...args: Parameters<NonNullable<Backend['sgdUpdate']>>) => (calls++, update.apply(backend, args)),
          sgdUpdateMany: (...args: Parameters<NonNullable<Backend['sgdUpdateMany']>>) => (batches++, (calls += args[0].length), many?.apply(backend, args)),
        });
        for (const c of SGD_CASES) {
          const expectedSteps = sgdRun(c.options, undefined, heapAllocator);
          for (const [allocator, wrapped] of [heapAllocator, backend.allocator].flatMap((a) => (many === undefined ? [[a, counting]] : [[a, counting], [a, batching]]) as [typeof a, Backend][])) {
            calls = batches = 0;
            const actual = sgdRun(c.options, wrapped, allocator);
            assert.equal(calls, 3 * SGD_SIZES.length, `${c.name}: one update per parameter and step`);
            assert.equal(batches, wrapped === batching ? 3 : 0, `${c.name}: one sgdUpdateMany call per step`);
            expectedSteps.forEach((tensors, step) => {
              assert.equal((actual[step] as Tensor[]).length, tensors.length);
              tensors.forEach((t, i) => assertClose((actual[step] as Tensor[])[i] as Tensor, t, `${c.name}, step ${step + 1}, tensor ${i}`, { tolerance: 1e-6, floor: 1e-3 }));
            });
          }
        }
      });
    }
  });
}

for (const backend of testBackends()) {
  describe(`conformance of the ${backend.name} backend`, () => {
    describeFixtures(backend);
    describeGradientChecks(backend);
    describeFloat32AgainstFloat64(backend);
    if (backend !== ref) describeKernels(backend);
  });
}

after(async () => {
  await Promise.all(testBackends().map((b) => b.dispose()));
});
