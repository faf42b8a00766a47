import { after, describe, test } from 'node:test';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { testBackends } from '../helpers/backends.js';
import { compareWithReference, ONE_OF_EACH_STRUCTURE } from './helper.js';

/**
 * One zoo net of each structure (plain, grouped, plain with BN, inception with auxiliary heads,
 * bottleneck residual, pre-activation), one inference forward at a small input on every fast backend
 * against the reference backend with the same weights. forward.full.test.ts does every zoo net, at
 * its reduced input and at its own (`npm run test:full`).
 */
const CASES = ONE_OF_EACH_STRUCTURE;

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
