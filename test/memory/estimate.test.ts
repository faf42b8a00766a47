import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimateMemory, maxBatch, OPTIMIZER_STATE_COPIES, sumOfActivations } from '../../src/memory/estimate.js';
import { measureInferencePeak, measureTrainingPeak } from '../../src/memory/measure.js';
import { storedForBackward } from '../../src/memory/stored.js';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { Net, type Parameter } from '../../src/net/net.js';
import { formatBytes, parseBytes } from '../../src/memory/units.js';
import { compile } from '../../src/notation/index.js';
import { HeapAllocator, Tensor } from '../../src/tensor/tensor.js';
import { createOptimizer, OPTIMIZER_NAMES } from '../../src/train/optimizers/index.js';
import { zooSpec } from './nets.js';

// The estimate replays the engine's allocations, so on small nets it must equal the tracker's peak
// to the byte; the zoo nets (zoo.test.ts) check the same at realistic sizes.

/** Every op, a grouped conv, a residual join, an inception-style concat and an auxiliary head with its own loss. */
const EVERY_OP = `INPUT[12x12x3]
-> CONV3-8 -> BN -> RELU -> LRN(size=3, alpha=0.0001, beta=0.75, k=2)
-> CONCAT[ CONV1-4 | [CONV1-4 -> RELU -> CONV3-4(groups=2)] | [AVGPOOL3(s=1, p=1) -> CONV1-4] ]
-> RES[ CONV3-12 -> RELU ] -> POOL2
-> AUX[ GAP -> FC-5 ]
-> FLATTEN -> FC-16 -> RELU -> DROPOUT(0.5) -> FC-10 -> SOFTMAX`;

/** The images themselves read by two layers, and a residual join over a concat. */
const SHARED_INPUT = `INPUT[8x8x3] -> CONCAT[ CONV1-4 | POOL3(s=1, p=1) ] -> RES[ CONV3-7 -> BN ] -> GAP -> FC-3`;

/** MUL and DIV, whose backward reads both inputs: a gate on the images, a quotient, the images squared. */
const ELEMENTWISE_JOINS = `INPUT[8x8x3] -> MUL[ | CONV1-3 -> RELU] -> DIV[CONV3-4 | CONV1-4 -> SOFTMAX(over=c)] -> MUL[ | ] -> GAP -> FC-3`;

describe('the estimate replays the engine', () => {
  for (const [name, source] of [['every op', EVERY_OP], ['shared input', SHARED_INPUT], ['elementwise joins', ELEMENTWISE_JOINS]] as const) {
    const spec = compile(source).spec;
    for (const batch of [1, 3]) {
      for (const dtype of ['float32', 'float64'] as const) {
        it(`${name}, batch ${batch}, ${dtype}: training (sgd and adam, two steps) and inference peaks equal the tracker's`, () => {
          for (const optimizer of ['sgd', 'adam'] as const) {
            const estimate = estimateMemory(spec, { batch, dtype, optimizer });
            assert.equal(estimate.training.total, measureTrainingPeak(spec, { batch, dtype, optimizer, steps: 2 }), optimizer);
          }
          assert.equal(estimateMemory(spec, { batch, dtype }).inference.total, measureInferencePeak(spec, { batch, dtype }));
        });
      }
    }
  }

  it('breaks LeNet-5 down into what is alive at the peak, summing to the total', () => {
    const spec = zooSpec('lenet5');
    const estimate = estimateMemory(spec, { batch: 8, optimizer: 'adam' });
    const t = estimate.training;
    assert.equal(t.params, 61_706 * 4);
    assert.equal(t.optimizerState, 2 * 61_706 * 4);
    assert.equal(t.data, 8 * 32 * 32 * 4);
    assert.equal(t.total, t.activations + t.activationGradients + t.params + t.paramGradients + t.optimizerState + t.data + t.workspace);
    assert.equal(t.total, measureTrainingPeak(spec, { batch: 8, optimizer: 'adam' }));
    assert.equal(estimate.values.training.params, 61_706);
    const i = estimate.inference;
    assert.equal(i.total, i.activations + i.params + i.workspace);
    assert.equal(i.params, 61_706 * 4);
  });

  it('counts augmentation as one float64 image of scratch beside the batch', () => {
    const spec = compile(SHARED_INPUT).spec;
    const plain = estimateMemory(spec, { batch: 4 });
    const augmented = estimateMemory(spec, { batch: 4, augment: true });
    assert.equal(augmented.training.data - plain.training.data, 8 * 8 * 3 * 8);
  });

  it('refuses a batch that is not a positive integer', () => {
    assert.throws(() => estimateMemory(compile(SHARED_INPUT).spec, { batch: 0 }), /positive integer/);
  });
});

describe('optimizer state', () => {
  it('OPTIMIZER_STATE_COPIES is what each optimizer allocates per parameter', () => {
    for (const name of OPTIMIZER_NAMES) {
      const allocator = new HeapAllocator();
      const value = Tensor.zeros([5, 7], 'float32', allocator);
      const param: Parameter = { name: 'w', value, grad: null, trainable: true };
      const optimizer = createOptimizer(name, [param], { lr: 0.1 });
      assert.equal(allocator.tracker.live - value.data.byteLength, OPTIMIZER_STATE_COPIES[name] * value.data.byteLength, name);
      optimizer.dispose();
      value.dispose();
    }
  });
});

describe('VGG-16 at 224x224 (estimate only)', () => {
  const spec = zooSpec('vgg16');
  const estimate = estimateMemory(spec, { batch: 1 });

  it('inference holds the largest live set, not the sum of all layers', () => {
    // At CONV3-64's second layer: the image, the first RELU's output and the conv's own output.
    const liveValues = 224 * 224 * 3 + 2 * 224 * 224 * 64;
    assert.equal(estimate.values.inference.activations, liveValues);
    assert.equal(estimate.inference.activations, liveValues * 4);
    assert.equal(sumOfActivations(spec), 28_801_512);
    assert.ok(estimate.values.inference.activations < sumOfActivations(spec) / 4);
    // That conv's im2row patches: 224*224 rows of 3*3*64 float64s.
    assert.equal(estimate.inference.workspace, 224 * 224 * 576 * 8);
    assert.equal(estimate.inference.params, 138_357_544 * 4);
  });

  it('training peaks in the second conv\'s backward, with every parameter gradient alive', () => {
    // Alive then: the first RELU's output (the second conv's input) and the net's 1000 scores.
    assert.equal(estimate.values.training.activations, 224 * 224 * 64 + 1000);
    assert.equal(estimate.values.training.paramGradients, 138_357_544 - 1_792);
    // conv2dGradInput of CONV3-64 on 224x224x64: float64 patch gradients and one float64 image.
    assert.equal(estimate.training.workspace, (224 * 224 * 576 + 224 * 224 * 64) * 8);
    assert.equal(estimate.training.total, 1_402_899_584);
  });

  it('with a 12 GiB budget, fits 173 images for training and 460 for inference', () => {
    const budget = 12 * 1024 ** 3;
    const fit = maxBatch(spec, budget);
    assert.deepEqual(fit, { training: 173, inference: 460 });
    assert.ok(estimateMemory(spec, { batch: 173 }).training.total <= budget);
    assert.ok(estimateMemory(spec, { batch: 174 }).training.total > budget);
    assert.ok(estimateMemory(spec, { batch: 460 }).inference.total <= budget);
    assert.ok(estimateMemory(spec, { batch: 461 }).inference.total > budget);
    assert.deepEqual(maxBatch(spec, 100 * 1024 ** 2), { training: 0, inference: 0 });
  });
});

describe('units', () => {
  it('formats 1024-based sizes with their labels', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(26_292_224), '25.07 MiB');
    assert.equal(formatBytes(12 * 1024 ** 3), '12.00 GiB');
  });

  it('parses budgets and refuses SI units', () => {
    assert.equal(parseBytes('12GiB'), 12 * 1024 ** 3);
    assert.equal(parseBytes('1.5 MiB'), 1.5 * 1024 ** 2);
    assert.equal(parseBytes('1000'), 1000);
    assert.throws(() => parseBytes('12GB'), /1024-based/);
    assert.throws(() => parseBytes('lots'), /12GiB/);
  });
});

describe('the estimate of a fine-tune follows the frozen layers', () => {
  // A backbone of CONV, BN and FC frozen, the classifier trained; a dilated CONV among them (run as a dense one).
  const FINETUNE = 'INPUT[10x10x3] -> c1: CONV3-6 -> bn1: BN -> RELU -> c2: CONV3-6(d=2) -> RELU -> POOL2 -> f1: FC-12 -> RELU -> head: FC-4';
  const spec = compile(FINETUNE).spec;
  // All but the head; the first layers only; the middle only (c1 trains, so gradients pass through the frozen bn1 and c2); none.
  for (const frozen of [['c1', 'bn1', 'c2', 'f1'], ['c1', 'bn1'], ['bn1', 'c2'], []]) {
    for (const optimizer of ['sgd', 'adam'] as const) {
      it(`frozen [${frozen.join(', ')}], ${optimizer}: training peak equals the tracker's`, () => {
        const estimate = estimateMemory(spec, { batch: 3, optimizer, frozen });
        assert.equal(estimate.training.total, measureTrainingPeak(spec, { batch: 3, optimizer, frozen, steps: 2 }));
      });
    }
  }

  it("counts a forward pass's own scratch at inference (a dilated conv's dense filters)", () => {
    const dilated = compile('INPUT[8x8x1] -> CONV3-64(d=3, p=3)').spec;
    const estimate = estimateMemory(dilated, { batch: 2 });
    assert.equal(estimate.inference.total, measureInferencePeak(dilated, { batch: 2 }));
    // The 64 dense 7x7 filters are alive while the conv runs: scratch, beside the reference's im2row.
    assert.ok(estimate.inference.workspace >= 64 * 7 * 7 * 4);
  });

  it('with all but the head frozen, keeps no activation before the head\'s input', () => {
    const backbone = ['c1', 'bn1', 'c2', 'f1'];
    // The head's input (the RELU's 12 values) and the scores (4), for 3 images, in float32.
    assert.deepEqual(storedForBackward(spec, { batch: 3, frozen: backbone }), { values: 3 * (12 + 4), bytes: 4 * 3 * (12 + 4) });
    const net = new Net(spec, { frozen: backbone });
    const x = Tensor.zeros([3, ...spec.input]);
    const live = referenceBackend.allocator.tracker.live;
    const scores = net.forward(x, { training: true });
    assert.equal(referenceBackend.allocator.tracker.live - live, 4 * 3 * (12 + 4));
    net.clearTape();
    scores.dispose();
    net.dispose();
    // Unfrozen, the tape holds every CONV, BN and FC input and the pool's indices besides.
    assert.ok(storedForBackward(spec, { batch: 3 }).values > 3 * 10 * 10 * 3 + 3 * (12 + 4));
    const full = estimateMemory(spec, { batch: 3, optimizer: 'sgd' });
    const head = estimateMemory(spec, { batch: 3, optimizer: 'sgd', frozen: backbone });
    assert.ok(head.training.activations < full.training.activations, `${head.training.activations} < ${full.training.activations}`);
    assert.ok(head.training.total < full.training.total);
  });

  it('counts no gradients and no optimizer state for the frozen layers', () => {
    const all = estimateMemory(spec, { batch: 3, optimizer: 'adam' });
    const backbone = estimateMemory(spec, { batch: 3, optimizer: 'adam', frozen: ['c1', 'bn1', 'c2', 'f1'] });
    // The head: FC-4 on 12 values, 4 * 12 + 4.
    assert.equal(backbone.values.training.optimizerState, 2 * (4 * 12 + 4));
    assert.ok(backbone.values.training.optimizerState < all.values.training.optimizerState);
    assert.ok(backbone.training.paramGradients < all.training.paramGradients);
    assert.equal(backbone.training.params, all.training.params);
  });
});

describe('what a join keeps for backward', () => {
  it('a MUL keeps both its inputs, an ADD neither', () => {
    // Two 8x8x3 branch outputs: the product's backward reads both (da = dy * b, db = dy * a); a sum's reads none.
    const stored = (join: string): number => storedForBackward(compile(`INPUT[8x8x3] -> CONV1-3 -> ${join}[CONV1-3 | CONV1-3] -> GAP -> FC-3`).spec, { batch: 2 }).values;
    assert.equal(stored('MUL') - stored('RES'), 2 * 2 * 192);
    assert.equal(stored('DIV'), stored('MUL'));
  });
});
