import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from '../../src/ops/index.js';
import { softmaxCrossEntropy } from '../../src/ops/softmax_cross_entropy.js';
import { svmLoss } from '../../src/ops/svm_loss.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../helpers/assert.js';
import { loadFixture, loadManifest, type Fixture, type LossFixtureEntry } from '../helpers/fixtures.js';
import { report } from '../helpers/torch.js';

// Both losses against PyTorch 1.13, and the fixtures' coverage. Every op and a small net against the
// same fixtures run on every backend in the conformance suite (test/backends/conformance.test.ts).

const { fixtures } = loadManifest();

function checkLoss(fixture: Fixture<LossFixtureEntry>): number[] {
  const { entry } = fixture;
  const loss = entry.loss === 'svm_loss' ? svmLoss : softmaxCrossEntropy;
  const result = loss(fixture.tensor('input.0'), entry.labels);
  return [
    assertClose(Tensor.from([], [result.loss]), fixture.tensor('output'), 'loss'),
    assertClose(result.grad, fixture.tensor('grad.input.0'), 'grad of scores'),
  ];
}

// Losses are plain TypeScript on (N, K) scores, outside any backend.
describe('losses against PyTorch', () => {
  for (const entry of fixtures) {
    if (entry.kind !== 'loss') continue;
    it(entry.name, (t) => report(t, checkLoss(loadFixture(entry))));
  }
});

it('the fixtures cover every op and both losses', () => {
  const covered = new Set(fixtures.flatMap((e) => (e.kind === 'op' ? [e.op] : [])));
  assert.deepEqual(Object.keys(ops).filter((op) => !covered.has(op as keyof typeof ops)), []);
  const losses = new Set(fixtures.flatMap((e) => (e.kind === 'loss' ? [e.loss] : [])));
  assert.deepEqual([...losses].sort(), ['softmax_cross_entropy', 'svm_loss']);
});
