import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotationError, summary } from '../../src/notation/index.js';

test('a window that does not tile its input names the layer (index and text) and shows the arithmetic', () => {
  const text = 'INPUT[32x32x3] -> CONV3-16 -> RELU -> CONV5-32(s=2) -> FC';
  assert.throws(
    () => summary(text),
    (e: unknown) => {
      assert.ok(e instanceof NotationError);
      assert.equal(e.kind, 'sizing');
      assert.equal(e.layerIndex, 3);
      assert.equal(e.line, 1);
      assert.equal(e.column, 39);
      assert.match(e.message, /layer 3 CONV5-32\(s=2\) \('conv2'\): the height does not work out: \(32 - 5 \+ 2\*2\)\/2 \+ 1 = 31\/2 \+ 1 = 16\.5, not a whole number/);
      assert.match(e.message, /write CONV5-32\(s=2, floor\) \(drop the partial window\) or CONV5-32\(s=2, ceil\)/);
      assert.equal(e.excerpt, `  ${text}\n  ${' '.repeat(38)}${'^'.repeat(13)}`);
      return true;
    },
  );
});

test("AlexNet's first layer: (227 - 11)/4 + 1 = 55 works out; at 224 it takes an explicit floor", () => {
  assert.deepEqual(summary('INPUT[227x227x3] -> CONV11-96(s=4, p=0)').layers[1]?.output, [55, 55, 96]);
  assert.throws(() => summary('INPUT[224x224x3] -> CONV11-96(s=4, p=0)'), /\(224 - 11 \+ 2\*0\)\/4 \+ 1 = 213\/4 \+ 1 = 54\.25, not a whole number/);
  assert.deepEqual(summary('INPUT[224x224x3] -> CONV11-96(s=4, p=0, floor)').layers[1]?.output, [54, 54, 96]);
});

test("ceil keeps the last partial window, as GoogLeNet's pools do: 112 -> 56, 14 -> 7", () => {
  const s = summary('INPUT[112x112x64] -> POOL3(s=2, ceil) -> POOL3(s=2, ceil) -> POOL3(s=2, ceil) -> POOL2(ceil)');
  assert.deepEqual(s.layers.map((r) => r.output[0]), [112, 56, 28, 14, 7]);
  assert.deepEqual(summary('INPUT[112x112x64] -> POOL3(s=2, floor)').layers[1]?.output, [55, 55, 64]);
});

test('a window larger than its input is an error with the arithmetic', () => {
  assert.throws(() => summary('INPUT[4x4x3] -> POOL2 -> POOL2 -> POOL2'), /layer 3 POOL2 \('pool3'\): the height does not work out: \(1 - 2 \+ 2\*0\)\/2 \+ 1 = -1\/2 \+ 1 = 0\.5: the 2-wide window is larger than the padded input/);
});

test('a residual join of different shapes is an error naming the layer and the volumes', () => {
  assert.throws(
    () => summary('INPUT[8x8x16] -> RES[CONV3-32]'),
    (e: unknown) => e instanceof NotationError && e.kind === 'shape' && /layer 2 RES\[\.\.\.\] \('add1'\): add: expects two volumes of the same shape/.test(e.message) && /\[8x8x32\] and \[8x8x16\]/.test(e.message),
  );
});
