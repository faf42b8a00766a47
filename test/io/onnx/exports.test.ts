import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importOnnx } from '../../../src/io/onnx/import.js';
import { asNotation } from '../../../src/io/onnx/renamed.js';
import { parseNpy } from '../../../src/io/npy.js';
import { Net } from '../../../src/net/net.js';
import { toNetSpec } from '../../../src/notation/index.js';

// torch.onnx.export's files for nets built from torchvision's own blocks at reduced width (ResNet basic
// and bottleneck, GoogLeNet with transform_input and inception modules, AlexNet), at opsets 13 and 9,
// random weights and batch-norm statistics, written with PyTorch's outputs by tools/onnx_exports.py.
// Each imports, prints as notation that compiles to the same net, and gives PyTorch's outputs.

const FIXTURES = new URL('../../fixtures/onnx/', import.meta.url).pathname;
const MODELS = readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort();

test('the fixtures cover four nets at two opsets', () => assert.equal(MODELS.length, 8));

for (const file of MODELS) {
  test(`${file} imports, reads back from its notation, and gives PyTorch's outputs within 1e-4 relative`, () => {
    const name = file.replace(/_opset\d+\.onnx$/, '');
    const imported = importOnnx(readFileSync(join(FIXTURES, file)), { file });
    const notated = asNotation(imported, file);
    // The text compiles to the same layers and attributes as the imported spec, in text order.
    assert.deepEqual(toNetSpec(notated.text).nodes.map((n) => [n.op, n.attrs]), notated.spec.nodes.map((n) => [n.op, n.attrs]));
    assert.equal(notated.weights.size, imported.weights.size);
    const net = new Net(notated.spec);
    net.loadState(notated.weights);
    const x = parseNpy(readFileSync(join(FIXTURES, `${name}.input.npy`)));
    const expected = parseNpy(readFileSync(join(FIXTURES, `${name}.output.npy`)));
    const y = net.forward(x);
    assert.deepEqual(y.shape, expected.shape);
    // Relative to each value, or to 1% of the largest for values near zero (where float32 sums cancel).
    const scale = Math.max(...expected.data.map(Math.abs));
    for (let i = 0; i < y.size; i++) {
      const e = expected.data[i] as number;
      assert.ok(Math.abs((y.data[i] as number) - e) <= 1e-4 * Math.max(Math.abs(e), 1e-2 * scale), `${file}: value ${i} is ${y.data[i]}, PyTorch's ${e}`);
    }
    net.dispose();
  });
}
