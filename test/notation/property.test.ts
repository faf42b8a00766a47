import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { format, NotationError, parse, type Program } from '../../src/notation/index.js';

/** The tree without locations and source, to compare two parses. */
function shape(program: Program): unknown {
  return JSON.parse(JSON.stringify({ ...program, source: '' }, (key, value: unknown) => (key === 'loc' ? undefined : value)));
}

const ALPHABET = [...'CONVPOLFIRUTSBGADEX[]()-><*?|,=:#x0123456789 \n.abcs_', 'CONV', 'POOL', 'FC', 'RELU', '->', 'RES[', 'CONCAT[', 'MUL[', 'DIV[', 'def ', 'let ', 'INPUT[', '224x224x3'];

test('the parser throws nothing but NotationError, with a line and column inside the text, for any string', () => {
  const check = (text: string): void => {
    try {
      parse(text);
    } catch (error) {
      assert.ok(error instanceof NotationError, `${String(error)} for ${JSON.stringify(text)}`);
      assert.ok(error.line >= 1 && error.line <= text.split('\n').length, JSON.stringify(text));
      assert.ok(error.column >= 1, JSON.stringify(text));
      assert.match(error.message, /\^/);
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 60 }), check), { numRuns: 500 });
  fc.assert(fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 30 }).map((parts) => parts.join('')), check), { numRuns: 2000 });
});

const name = fc.constantFrom('a', 'conv1', 'features', 'layer2', 'b_3');
const variable = fc.constantFrom('N', 'M', 'C', 'S');
const num = fc.oneof(fc.nat({ max: 4096 }).map(String), fc.constantFrom('0.5', '0.0001', '1e-7'), variable);
const int = fc.oneof(fc.integer({ min: 1, max: 13 }).map(String), variable);
const attr = fc.oneof(
  fc.tuple(fc.constantFrom('s', 'p', 'k', 'eps', 'bias'), num).map(([k, v]) => `${k}=${v}`),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })).map(([a, b]) => `p=${a}x${b}`),
  fc.constantFrom('floor', 'ceil', 'no'),
  num,
);
const attrs = fc.oneof(fc.constant(''), fc.array(attr, { minLength: 1, maxLength: 3 }).map((a) => `(${a.join(', ')})`));
const layer = fc.oneof(
  fc.tuple(fc.constantFrom('', '3', '11', '1x7'), fc.oneof(fc.constant(''), int.map((c) => `-${c}`)), attrs).map(([f, c, a]) => `CONV${f}${c}${a}`),
  fc.tuple(fc.constantFrom('POOL', 'AVGPOOL'), fc.constantFrom('', '2', '3'), attrs).map(([k, f, a]) => `${k}${f}${a}`),
  fc.tuple(fc.oneof(fc.constant(''), int.map((c) => `-${c}`)), attrs).map(([c, a]) => `FC${c}${a}`),
  fc.constantFrom('RELU', 'GAP', 'BN', 'BN(eps=0.001)', 'DROPOUT(0.5)', 'LRN(size=5, k=2)', 'SOFTMAX', 'FLATTEN'),
);
const chain: fc.Memo<string> = fc.memo((depth) => {
  const item = depth <= 1
    ? layer
    : fc.oneof(
        { weight: 4, arbitrary: layer },
        fc.array(chain(depth - 1), { minLength: 1, maxLength: 3 }).map((b) => `[${b.join(' -> ')}]`),
        fc.tuple(chain(depth - 1), fc.option(chain(depth - 1))).map(([b, s]) => `RES[${b}${s === null ? '' : ` | ${s}`}]`),
        fc.array(chain(depth - 1), { minLength: 1, maxLength: 3 }).map((b) => `CONCAT[${b.join(' | ')}]`),
        fc.tuple(fc.constantFrom('MUL', 'DIV'), fc.option(chain(depth - 1)), fc.option(chain(depth - 1))).map(([k, a, b]) => `${k}[${a ?? ''} | ${b ?? ''}]`),
        chain(depth - 1).map((b) => `AUX[${b}]`),
        fc.tuple(name, fc.array(num, { maxLength: 2 })).map(([n, a]) => (a.length ? `${n}(${a.join(', ')})` : n)),
      );
  const element = fc
    .tuple(fc.option(name), item, fc.option(int), fc.option(fc.constantFrom('?', '?POOL')))
    .map(([l, i, r, o]) => `${l === null ? '' : `${l}: `}${i}${r === null ? '' : `*${r}`}${o ?? ''}`);
  return fc.array(element, { minLength: 1, maxLength: 4 }).map((e) => e.join(' -> '));
});
const program = fc
  .tuple(
    fc.array(fc.tuple(variable, fc.nat({ max: 9 })).map(([v, n]) => `let ${v} = ${n}`), { maxLength: 2 }),
    fc.array(fc.tuple(name, fc.array(variable, { maxLength: 2 }), chain(2)).map(([n, p, b]) => `def ${n}${p.length ? `(${p.join(', ')})` : ''} = ${b}`), { maxLength: 2 }),
    fc.option(fc.constantFrom('INPUT', 'INPUT[32x32x3]', 'INPUT[32x32xC]')),
    chain(3),
  )
  .map(([lets, defs, input, body]) => [...lets, ...defs, input === null ? body : `${input} -> ${body}`].join('\n  # a comment\n'));

test('formatting a parsed text and parsing it again gives the same tree', () => {
  fc.assert(
    fc.property(program, (text) => {
      const first = parse(text);
      const formatted = format(first);
      assert.deepEqual(shape(parse(formatted)), shape(first), `${text}\n=> ${formatted}`);
      assert.equal(format(formatted), formatted);
    }),
    { numRuns: 1000 },
  );
});
