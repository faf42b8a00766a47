import { after, describe, test } from 'node:test';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { testBackends } from '../helpers/backends.js';
import { compareWithReference, type Input } from './helper.js';

/**
 * One zoo net of each structure (plain, grouped, plain with BN, inception with auxiliary heads,
 * bottleneck residual, pre-activation), one inference forward at a small input on every fast backend
 * against the reference backend with the same weights. forward.full.test.ts does every zoo net, at
 * its reduced input and at its own (`npm run test:full`).
 */
const CASES: [string, Input][] = [
  ['lenet5', [32, 32, 1]],
  ['alexnet_grouped', [67, 67, 3]],
  ['vgg11_bn', [32, 32, 3]],
  ['googlenet_aux', [80, 80, 3]],
  // 32: layer4 at 1x1, which inference (running statistics) allows.
  ['resnet50', [32, 32, 3]],
  ['preact_resnet18', [32, 32, 3]],
];

for (const backend of testBackends().filter((b) => b !== referenceBackend)) {
  describe(`zoo forward passes on the ${backend.name} backend against the reference backend`, () => {
    for (const [name, input] of CASES) {
      test(`${name} at ${input.join('x')}`, (t) => t.diagnostic(`relative error ${compareWithReference(name, input, backend).toExponential(2)}`));
    }
  });
}

after(async () => {
  await Promise.all(testBackends().map((b) => b.dispose()));
});
