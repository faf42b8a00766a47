import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, NotationError, parse, summary, toNetSpec } from '../../src/notation/index.js';

/** Every pattern the notes write, verbatim, with the variables they leave open bound. */
const NOTES_PATTERNS: [string, Record<string, number>, string[]][] = [
  ['INPUT -> FC', {}, ['INPUT[32x32x3]', 'FC-10']],
  ['INPUT -> CONV -> RELU -> FC', {}, ['INPUT[32x32x3]', 'CONV3-32', 'FC-10']],
  ['INPUT -> [CONV -> RELU -> POOL]*2 -> FC -> RELU -> FC', {}, ['INPUT[32x32x3]', 'CONV3-32', 'POOL2', 'CONV3-32', 'POOL2', 'FC-512', 'FC-10']],
  [
    'INPUT -> [CONV -> RELU -> CONV -> RELU -> POOL]*3 -> [FC -> RELU]*2 -> FC',
    {},
    ['INPUT[32x32x3]', ...Array(3).fill(['CONV3-32', 'CONV3-32', 'POOL2']).flat(), 'FC-512', 'FC-512', 'FC-10'],
  ],
  ['INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC', { N: 2, M: 3, K: 1, POOL: 1 }, ['INPUT[32x32x3]', ...Array(3).fill(['CONV3-32', 'CONV3-32', 'POOL2']).flat(), 'FC-512', 'FC-10']],
  ['INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC', { N: 0, M: 0, K: 0, POOL: 0 }, ['INPUT[32x32x3]', 'FC-10']],
  ['INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC', { N: 1, M: 2, K: 0, POOL: 0 }, ['INPUT[32x32x3]', 'CONV3-32', 'CONV3-32', 'FC-10']],
];

test('every pattern of the notes parses and compiles to the layers it names, with defaults shown', () => {
  for (const [text, bindings, rows] of NOTES_PATTERNS) {
    assert.deepEqual(
      summary(text, { bindings }).layers.map((r) => r.text),
      rows,
      text,
    );
  }
});

test('the general pattern with N=2, M=3, K=1 gives the notes-style volumes', () => {
  const s = summary('INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC', { bindings: { N: 2, M: 3, K: 1, POOL: 1 } });
  assert.deepEqual(
    s.layers.map((r) => r.output),
    [[32, 32, 3], [32, 32, 32], [32, 32, 32], [16, 16, 32], [16, 16, 32], [16, 16, 32], [8, 8, 32], [8, 8, 32], [8, 8, 32], [4, 4, 32], [1, 1, 512], [1, 1, 10]],
  );
  // conv1 3*3*3*32 + 32; five more 3*3*32*32 + 32; fc1 4*4*32*512 + 512; fc2 512*10 + 10.
  assert.equal(s.totals.params, 896 + 5 * 9248 + 262656 + 5130);
});

test('an unbound variable is an error that says what to set', () => {
  assert.throws(
    () => summary('INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC', { bindings: { N: 2, M: 3, K: 1 } }),
    (e: unknown) => e instanceof NotationError && e.kind === 'binding' && /'POOL' is not set/.test(e.message) && /--set POOL=1/.test(e.message) && e.column === 31,
  );
  assert.throws(
    () => summary('INPUT -> [CONV -> RELU]*N'),
    (e: unknown) => e instanceof NotationError && /the variable 'N' is not set: set it with --set N=<number>/.test(e.message) && e.column === 25,
  );
});

test('sized layers, attributes and blocks compile to the ops they name', () => {
  const spec = toNetSpec(`
    # a comment, then a block with parameters
    def down(C, S) = CONV3-C(s=S, bias=no, floor) -> BN(eps=0.001) -> RELU
    INPUT[64x64x3] -> CONV11-64(s=4, p=2, floor) -> POOL3(s=2, ceil) -> down(128, 2)
      -> CONV1x7-32 -> AVGPOOL3(s=1, p=1) -> LRN(size=5, alpha=0.0001, beta=0.75, k=2)
      -> RES[CONV3-32 -> RELU -> CONV3-32] -> RES[CONV3-64(s=2, floor) | CONV1-64(s=2, floor)]
      -> CONCAT[CONV1-16 | CONV3-16 | POOL3(s=1, p=1)] -> GAP -> DROPOUT(0.2) -> FC-10 -> SOFTMAX`);
  assert.deepEqual(spec.input, [3, 64, 64]);
  const conv1 = spec.nodes[0];
  assert.equal(conv1?.op, 'conv');
  assert.deepEqual(conv1?.attrs, { kernel: [11, 11], stride: [4, 4], padding: [2, 2], rounding: 'floor', outChannels: 64, groups: 1, bias: true });
  const pool = spec.nodes[1];
  assert.deepEqual(pool?.attrs, { kernel: [3, 3], stride: [2, 2], padding: [0, 0], rounding: 'ceil' });
  assert.deepEqual(spec.nodes[2]?.attrs, { kernel: [3, 3], stride: [2, 2], padding: [1, 1], rounding: 'floor', outChannels: 128, groups: 1, bias: false });
  assert.deepEqual(spec.nodes[3], { name: 'down1.bn1', op: 'bn', attrs: { eps: 0.001, momentum: 0.1 }, inputs: ['down1.conv1'], source: { line: 3, column: 54, text: 'BN(eps=0.001)' } });
  const wide = spec.nodes.find((n) => n.name === 'conv2');
  assert.deepEqual(wide?.op === 'conv' && [wide.attrs.kernel, wide.attrs.padding], [[1, 7], [0, 3]]);
  const adds = spec.nodes.filter((n) => n.op === 'add');
  assert.deepEqual(adds.map((n) => n.inputs), [['conv4', 'lrn1'], ['conv5', 'conv6']]);
  const concat = spec.nodes.find((n) => n.op === 'concat');
  assert.deepEqual(concat?.inputs, ['conv7', 'conv8', 'pool2']);
  assert.deepEqual(spec.nodes.slice(-4).map((n) => n.op), ['globalavgpool', 'dropout', 'fc', 'softmax']);
});

test('labelled groups number their children like nn.Sequential; blocks name theirs after their labels', () => {
  const spec = toNetSpec(`
    def block(C) = RES[conv1: CONV3-C(bias=no) -> bn1: BN -> relu: RELU -> conv2: CONV3-C(bias=no) -> bn2: BN | downsample: [CONV1-C(bias=no) -> BN]] -> relu: RELU
    INPUT[8x8x3] -> features: [CONV3-16 -> RELU -> POOL2 -> [CONV3-16 -> RELU]*2] -> layer1: [block(32) -> block(32)] -> fc: FC-10`);
  const names = spec.nodes.map((n) => n.name);
  assert.deepEqual(names.slice(0, 7), ['features.0', 'features.1', 'features.2', 'features.3', 'features.4', 'features.5', 'features.6']);
  assert.deepEqual(names.slice(7, 16), [
    'layer1.0.conv1',
    'layer1.0.bn1',
    'layer1.0.relu',
    'layer1.0.conv2',
    'layer1.0.bn2',
    'layer1.0.downsample.0',
    'layer1.0.downsample.1',
    'layer1.0.add1',
    'layer1.0.relu_2',
  ]);
  assert.equal(names.at(-1), 'fc');
});

test('two layers with weights may not share a name', () => {
  assert.throws(
    () => toNetSpec('INPUT -> [conv: CONV3-8]*2 -> FC'),
    (e: unknown) => e instanceof NotationError && e.kind === 'name' && /'conv' is used twice/.test(e.message),
  );
});

test('syntax errors give the line, the column, a caret under the spot and what was expected', () => {
  const cases: [string, number, number, RegExp, string][] = [
    ['INPUT -> CONV3 64', 1, 16, /expected '->' or end of input, found '64'/, '                 ^^'],
    ['INPUT ->\n  [CONV -> RELU\n  -> FC', 3, 8, /expected '->' or '\]', found end of input/, '         ^'],
    ['INPUT -> CONV3-64(s=2,)', 1, 23, /expected an attribute value, found '\)'/, '                        ^'],
    ['INPUT -> %', 1, 10, /unexpected character '%'/, '           ^'],
    ['INPUT -> RES[CONV | CONV | CONV]', 1, 10, /RES takes a body and at most one shortcut/, '           ^^^^^^^^^^^^^^^^^^^^^^^'],
    ['INPUT[224x224] -> FC', 1, 1, /INPUT needs height, width and depth/, '  ^^^^^^^^^^^^^^'],
    ['INPUT -> CONV3-64(stride=2)', 1, 19, /CONV does not take 'stride=2'; it takes s=, p=, k=, d=, groups=, bias=, floor, ceil, exact/, '                    ^^^^^^^^'],
  ];
  for (const [text, line, column, reason, caret] of cases) {
    assert.throws(
      () => toNetSpec(text),
      (e: unknown) => {
        assert.ok(e instanceof NotationError, text);
        assert.equal(e.line, line, text);
        assert.equal(e.column, column, text);
        assert.match(e.message, reason);
        assert.equal(e.excerpt.split('\n')[1], caret, text);
        return true;
      },
    );
  }
});

test('parse keeps source locations on the tree', () => {
  const program = parse('INPUT[32x32x3]\n-> conv1: CONV5-6(p=2)');
  const element = program.body.elements[1];
  assert.equal(element?.label, 'conv1');
  assert.deepEqual(element?.item.loc, { offset: 25, line: 2, column: 11, end: 37 });
});

test('near misses of keywords say what was meant', () => {
  const cases: [string, number, RegExp][] = [
    ['INPUT -> conv3-16 -> RELU -> FC', 15, /expected '->' or end of input, found '-'; did you mean CONV3-16\?/],
    ['INPUT -> FC10', 10, /'FC10' is neither a layer \(INPUT, CONV, POOL, AVGPOOL, GAP, FC, RELU, BN, DROPOUT, LRN, SOFTMAX, FLATTEN, PAD, AFFINE, LEAKYRELU, ADAPTIVEPOOL\) nor a block; did you mean FC-10\?/],
    ['INPUT -> [CONV -> RELU]x2 -> FC', 24, /found 'x2'; did you mean \]\*2\?/],
    ['INPUT -> Relu -> FC', 10, /did you mean RELU\?/],
    ['INPUT -> MAXPOOL2 -> FC', 10, /did you mean POOL2\?/],
    ['INPUT -> conv1x7-16', 17, /did you mean CONV1x7-16\?/],
    ['def block = CONV -> RELU\nINPUT -> blok -> FC', 10, /\(defined: block\); did you mean block\?/],
  ];
  for (const [text, column, message] of cases) {
    assert.throws(
      () => toNetSpec(text),
      (e: unknown) => e instanceof NotationError && e.column === column && message.test(e.message),
      text,
    );
  }
  assert.throws(() => toNetSpec('INPUT -> zzz'), (e: unknown) => e instanceof NotationError && !/did you mean/.test(e.message));
});

test('a value for a variable the text does not have is an error naming the variables it has', () => {
  assert.throws(
    () => summary('INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> FC', { bindings: { N: 1, M: 1, POOL: 1, NN: 2 } }),
    (e: unknown) =>
      e instanceof NotationError &&
      e.kind === 'binding' &&
      e.line === 1 &&
      /'NN' is set \(--set NN=\.\.\., API \{ NN: \.\.\. \}\) but the spec has no variable 'NN'; its variables are N, POOL, M; did you mean N\?/.test(e.message),
  );
  assert.throws(() => summary('INPUT -> FC', { bindings: { K: 1 } }), /the spec has no variable 'K'; it has no variables/);
  // Switches, positional values, block arguments and lets are variables; a block's parameter is not.
  const text = 'let K = 1\ndef b(C) = CONV3-C -> DROPOUT(P)\nINPUT -> b(W) -> [FC -> RELU]*K -> BN? -> FC';
  assert.equal(summary(text, { bindings: { K: 2, P: 0.5, W: 8, BN: 0 } }).layers.length, 5);
  assert.throws(() => summary(text, { bindings: { P: 0.5, W: 8, BN: 0, C: 3 } }), /no variable 'C'; its variables are K, P, W, BN/);
});

test('compare shares its values between the designs: each must be a variable of one of them, and C sizes a fragment', () => {
  assert.doesNotThrow(() => compare('CONV7-64', '[CONV3-C -> RELU]*N', { bindings: { C: 64, N: 3 } }));
  assert.throws(() => compare('CONV7-C', 'CONV3-C', { bindings: { C: 64, M: 3 } }), /no variable 'M'/);
});
