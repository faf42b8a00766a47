import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import { backendEntry } from '../../src/backends/registry.js';
import { createNativeBackend } from '../../src/backends/native/index.js';
import { NATIVE_FUSIONS, nativeWorkspace } from '../../src/backends/native/workspace.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { WASM_FUSIONS, wasmWorkspace } from '../../src/backends/wasm/workspace.js';
import type { WorkspaceModel } from '../../src/graph/workspace.js';
import { estimateMemory } from '../../src/memory/estimate.js';
import { measureInferencePeak, measureTrainingPeak } from '../../src/memory/measure.js';
import { compile } from '../../src/notation/index.js';

// Each fast backend's description of its scratch against its tracker, on nets that reach every
// kernel: the convolutions and their gradients (wasm: im2col and direct, flipped and col2im; native:
// packed and direct, split-K over 1 and 3 chunks), a conv that covers its whole input (run as FC),
// grouped convs, FC, max-pool, batch norm, and the kernels that fall back to the reference (LRN,
// concat, dropout, softmax, the MUL and DIV joins), which allocate through the backend's allocator too.

const EVERY_OP = `INPUT[12x12x3]
-> CONV3-8 -> BN -> RELU -> LRN(size=3, alpha=0.0001, beta=0.75, k=2)
-> CONCAT[ CONV1-4 | [CONV1-4 -> RELU -> CONV3-4(groups=2)] | [AVGPOOL3(s=1, p=1) -> CONV1-4] ]
-> RES[ CONV3-12 -> RELU ] -> MUL[ CONV1-12 -> RELU | ] -> DIV[ | CONV1-12 -> SOFTMAX(over=c) ] -> POOL2
-> AUX[ GAP -> FC-5 ]
-> FLATTEN -> FC-16 -> RELU -> DROPOUT(0.5) -> FC-10 -> SOFTMAX`;

/** Strides, a shrinking 5x5 conv (col2im), a 7x7 stride-2 stem, a conv over its whole input, K above 1024. */
const STRIDES = `INPUT[23x23x3]
-> CONV7-16(s=2, p=3) -> RELU -> CONV5-24 -> RELU -> POOL3(s=2, ceil)
-> CONV3-128 -> CONV3-8 -> CONV3-10(p=0) -> FC-7`;

/** A backend under test: how to open it, and its workspace description for the estimate. */
interface Subject {
  name: 'wasm' | 'native';
  open(threads: number): Promise<Backend>;
  model(threads: number): { workspace: WorkspaceModel; fusions: typeof WASM_FUSIONS };
}

const SUBJECTS: Subject[] = [
  { name: 'wasm', open: (threads) => createWasmBackend({ threads }), model: (threads) => ({ workspace: wasmWorkspace(threads), fusions: WASM_FUSIONS }) },
  { name: 'native', open: (threads) => createNativeBackend({ threads }), model: (threads) => ({ workspace: nativeWorkspace(threads), fusions: NATIVE_FUSIONS }) },
];

for (const subject of SUBJECTS) {
  const skip = !backendEntry(subject.name).available() && `the ${subject.name} backend is not available here`;
  describe(`the ${subject.name} workspace model replays the ${subject.name} kernels`, { skip }, () => {
    const backends = new Map<number, Backend>();
    before(async () => {
      for (const threads of [1, 3]) backends.set(threads, await subject.open(threads));
    });
    after(async () => {
      for (const backend of backends.values()) await backend.dispose();
    });

    for (const [name, source] of [['every op', EVERY_OP], ['strides and shapes', STRIDES]] as const) {
      const spec = compile(source).spec;
      for (const batch of [1, 3, 17]) {
        it(`${name}, batch ${batch}, float32, 1 and 3 threads: training (sgd and adam, two steps) and inference peaks equal the tracker's`, () => {
          for (const [threads, backend] of backends) {
            const model = subject.model(threads);
            for (const optimizer of ['sgd', 'adam'] as const) {
              const estimate = estimateMemory(spec, { batch, optimizer, ...model });
              assert.equal(estimate.training.total, measureTrainingPeak(spec, { batch, optimizer, backend, steps: 2 }), `${threads} threads, ${optimizer}`);
            }
            assert.equal(estimateMemory(spec, { batch, ...model }).inference.total, measureInferencePeak(spec, { batch, backend }), `${threads} threads, inference`);
          }
        });
      }

      it(`${name}, float64 (every kernel on the reference, the fused CONV+RELU too): training and inference peaks equal the tracker's`, () => {
        const backend = backends.get(1) as Backend;
        const estimate = estimateMemory(spec, { batch: 2, dtype: 'float64', ...subject.model(1) });
        assert.equal(estimate.training.total, measureTrainingPeak(spec, { batch: 2, dtype: 'float64', backend }));
        assert.equal(estimate.inference.total, measureInferencePeak(spec, { batch: 2, dtype: 'float64', backend }));
      });
    }

    it('a CONV+BN+RELU at the peak (inference: conv2dAffine; float64: the reference conv2d, scaled in place), float32 and float64: inference peaks equal the tracker\'s', () => {
      // Nothing after it: an FC's product would take more scratch than the conv's.
      const spec = compile('INPUT[16x16x8] -> CONV3-32 -> BN -> RELU').spec;
      for (const [threads, backend] of backends) {
        for (const dtype of ['float32', 'float64'] as const) {
          const estimate = estimateMemory(spec, { batch: 2, dtype, ...subject.model(threads) }).inference.total;
          assert.equal(estimate, measureInferencePeak(spec, { batch: 2, dtype, backend }), `${threads} threads, ${dtype}`);
        }
      }
    });

    it('counts the scratch in the measured peak: without it the estimate falls short', () => {
      const spec = compile(STRIDES).spec;
      const backend = backends.get(3) as Backend;
      const { fusions } = subject.model(3);
      const withScratch = estimateMemory(spec, { batch: 3, ...subject.model(3) }).inference;
      const without = estimateMemory(spec, { batch: 3, workspace: { workspace: () => [] }, fusions }).inference;
      assert.ok(withScratch.workspace > 0 && without.total < withScratch.total, `${without.total} vs ${withScratch.total}`);
      assert.equal(measureInferencePeak(spec, { batch: 3, backend }), withScratch.total);
    });
  });
}
