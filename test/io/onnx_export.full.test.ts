import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toNetSpec } from '../../src/notation/index.js';
import { zoo } from '../../src/zoo/index.js';
import { REDUCED_INPUT } from '../zoo/helper.js';
import { checkExport } from './onnx_export_helper.js';

// Every zoo net, exported and run by onnxruntime at its reduced input: its outputs within 1e-4 of ours.
describe('every zoo net exported to ONNX and run by onnxruntime', () => {
  for (const entry of zoo) {
    const input = REDUCED_INPUT[entry.name] ?? assert.fail(`no reduced input for ${entry.name}`);
    test(`${entry.name} at ${input.join('x')}`, async (t) => {
      t.diagnostic(`relative error ${(await checkExport(toNetSpec(entry.source, { bindings: entry.bindings, input }))).toExponential(2)}`);
    });
  }
});
