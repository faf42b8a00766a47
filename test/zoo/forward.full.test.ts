import { after, describe, test } from 'node:test';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { compile } from '../../src/notation/index.js';
import { summarize } from '../../src/notation/summary.js';
import { zoo } from '../../src/zoo/index.js';
import { testBackends } from '../helpers/backends.js';
import { REDUCED_INPUT, compareWithReference, forwardAlone, type Input } from './helper.js';

/**
 * Every zoo net, one inference forward on every fast backend against the reference backend with the
 * same weights: at its reduced input, and at its own (224x224 for the ImageNet nets) where the
 * reference takes seconds (up to 2G multiply-adds); above that, at its own input on the fast backend
 * alone (shape, finite scores that depend on the class). In `npm run test:full` only.
 */
const REFERENCE_MACS = 2e9;

for (const backend of testBackends().filter((b) => b !== referenceBackend)) {
  describe(`every zoo net on the ${backend.name} backend`, () => {
    for (const entry of zoo) {
      const reduced = REDUCED_INPUT[entry.name] as Input;
      test(`${entry.name} at ${reduced.join('x')}, against the reference`, (t) => {
        t.diagnostic(`relative error ${compareWithReference(entry.name, reduced, backend).toExponential(2)}`);
      });
      const compiled = compile(entry.source, { bindings: entry.bindings }).net;
      const { totals } = summarize(compiled);
      const [c, h, w] = compiled.spec.input as [number, number, number];
      const own: Input = [h, w, c];
      if (own.join('x') === reduced.join('x')) continue;
      if (totals.macs <= REFERENCE_MACS) {
        test(`${entry.name} at ${own.join('x')}, against the reference`, (t) => {
          t.diagnostic(`relative error ${compareWithReference(entry.name, own, backend).toExponential(2)}`);
        });
      } else {
        test(`${entry.name} at ${own.join('x')}: finite scores that depend on the class`, () => forwardAlone(entry.name, own, backend));
      }
    }
  });
}

after(async () => {
  await Promise.all(testBackends().map((b) => b.dispose()));
});
