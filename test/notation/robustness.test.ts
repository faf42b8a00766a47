import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, format, lint, lintNet, NotationError, parse, renderSummary, summary, toNetSpec, type SummaryRow } from '../../src/notation/index.js';
import { summarize } from '../../src/notation/summary.js';
import { MAX_EXPANDED_NESTING, MAX_NESTING } from '../../src/notation/limits.js';

/** Asserts `run` throws a NotationError at `line`, `column` whose message matches `reason`. */
function throwsAt(run: () => unknown, line: number, column: number, reason: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof NotationError, String(e));
    assert.equal(e.line, line, e.message);
    assert.equal(e.column, column, e.message);
    assert.match(e.message, reason);
    return true;
  });
}

const nested = (depth: number, open: string): string => `INPUT[32x32x3] -> ${open.repeat(depth)}CONV3-8${']'.repeat(depth)} -> FC`;

test(`brackets nest up to ${MAX_NESTING} levels; deeper is an error at the bracket that goes too deep, never a stack overflow`, () => {
  assert.equal(toNetSpec(nested(MAX_NESTING, '[')).nodes.length, 2);
  assert.equal(format(nested(MAX_NESTING, 'CONCAT[')).length, nested(MAX_NESTING, 'CONCAT[').length);
  const limit = /brackets nest deeper than 100 levels, the notation's limit/;
  throwsAt(() => parse(nested(MAX_NESTING + 1, '[')), 1, 19 + MAX_NESTING, limit);
  throwsAt(() => parse(nested(10_000, '[')), 1, 19 + MAX_NESTING, limit);
  throwsAt(() => parse(nested(10_000, 'RES[')), 1, 19 + 4 * MAX_NESTING, limit);
  const [error] = lint(nested(10_000, 'AUX['));
  assert.equal(error?.severity, 'error');
  assert.match(error?.message ?? '', limit);
});

test(`blocks that nest brackets in each other stop at ${MAX_EXPANDED_NESTING} levels, at the place in the block`, () => {
  const depth = 100;
  const defs = Array.from({ length: 60 }, (_, i) => `def d${i} = ${'['.repeat(depth)}${i === 59 ? 'CONV3-8' : `d${i + 1}`}${']'.repeat(depth)}`);
  // Each def adds 100 brackets and one call: the 501st level is the first '[' of the fifth def (line 5).
  throwsAt(() => compile([...defs, 'INPUT -> d0 -> FC'].join('\n')), 5, 10 + (MAX_EXPANDED_NESTING - 4 * (depth + 1) - 1), /nest deeper than 500 levels once blocks are expanded/);
});

test('every command is linear in the net: 100,000 layers compile, summarise and lint', () => {
  const { net } = compile('INPUT[32x32x3] -> [CONV3-8]*100000');
  assert.equal(summarize(net).layers.length, 100_001);
  assert.deepEqual(lintNet(net), []);
  throwsAt(() => compile('INPUT[32x32x3] -> [CONV3-8]*100001'), 1, 20, /the net expands to more than 100000 layers/);
  // Parts switched off still cost time to visit: bounded, with the place.
  throwsAt(() => compile('INPUT -> [[CONV?X]*4000000]*4000000 -> FC', { bindings: { X: 0 } }), 1, 12, /expands to more than 1,000,000 parts/);
  // Parameter-free layers sharing one name get _2, _3, ...: remembered, not searched from _2 each time.
  const shared = toNetSpec('INPUT -> [r: RELU]*20000 -> FC').nodes;
  assert.deepEqual(shared.slice(0, 3).map((n) => n.name).concat(shared.at(-2)?.name ?? ''), ['r', 'r_2', 'r_3', 'r_20000']);
});

test('the table of 160,000 rows renders: no Math.max(...rows), which overflows the stack beyond about 120,000', () => {
  const rows = 160_000;
  const [first] = summary('INPUT[8x8x8] -> CONV3-8').layers;
  const table = { ...summary('INPUT[8x8x8] -> CONV3-8'), layers: Array.from({ length: rows }, () => first as SummaryRow) };
  assert.equal(renderSummary(table).split('\n').length, rows + 5);
});

test('numbers beyond what a tensor can hold are errors where they are written', () => {
  throwsAt(() => summary('INPUT -> CONV3-99999999999999999999 -> FC'), 1, 16, /the number of filters is 100000000000000000000, more than a tensor can hold: at most 4,294,967,295/);
  throwsAt(() => summary('INPUT[99999999999x32x3] -> FC'), 1, 7, /an input size is 99999999999, more than a tensor can hold/);
  throwsAt(() => summary('INPUT -> [CONV3-8]*N -> FC', { bindings: { N: 2 ** 40 } }), 1, 20, /a repeat count is 1099511627776 \(N\), more than a tensor can hold/);
  throwsAt(() => summary('INPUT -> CONV3-8 -> FC-1e300'), 1, 24, /more than a tensor can hold/);
  throwsAt(() => parse('INPUT -> FC-1e999'), 1, 13, /the number 1e999... is too large/);
  // A layer whose output (or weights) would not fit in one tensor: the table can still be drawn, a Net not.
  const huge = 'INPUT -> CONV3-4294967295 -> FC';
  assert.equal(summary(huge).layers[1]?.activations, 32 * 32 * 4_294_967_295);
  throwsAt(() => toNetSpec(huge), 1, 10, /layer 1 CONV3-4294967295 \('conv1'\): its output would hold 4,398,046,510,080 values for one image, more than a tensor can hold/);
  throwsAt(() => toNetSpec('INPUT[224x224x3] -> CONV3-64 -> RELU -> FC-4096'), 1, 41, /its parameter 'weight' would hold 13,153,337,344 values/);
});

test('AUX placement: a net cannot end with a side head, and the message says why', () => {
  throwsAt(() => compile('INPUT[32x32x3] -> CONV3-8 -> AUX[FC-10]'), 1, 30, /the net ends with AUX\[\.\.\.\], a side head .* here the main path ends at CONV3-8, which the head reads\. Continue the main path after AUX/);
  throwsAt(() => compile('INPUT -> AUX[FC-10]'), 1, 10, /the net ends with AUX\[\.\.\.\].* here the main path has no layer at all, so the side head would become the output/);
  throwsAt(() => compile('def head = CONV3-8 -> AUX[FC-10]\nINPUT -> head'), 1, 23, /the net ends with AUX/);
  const spec = toNetSpec('INPUT[32x32x3] -> CONV3-8 -> AUX[FC-10] -> POOL2 -> FC-10');
  assert.deepEqual(spec.nodes.map((n) => [n.name, n.inputs]), [['conv1', ['input']], ['fc1', ['conv1']], ['pool1', ['conv1']], ['fc2', ['pool1']]]);
});

test('a character outside the Basic Multilingual Plane is echoed whole, with a caret under it', () => {
  assert.throws(
    () => parse('INPUT -> 😀 -> FC'),
    (e: unknown) => e instanceof NotationError && e.column === 10 && /unexpected character '😀'/.test(e.message) && e.excerpt.endsWith('\n           ^^') && !/\uFFFD/.test(e.message),
  );
});
