import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, format, lint, NotationError, parse, type Bindings } from '../../src/notation/index.js';
import { lex, type Token } from '../../src/notation/lexer.js';
import { zoo } from '../../src/zoo/index.js';
import { generator } from '../fuzz/mutate.js';

/**
 * Fuzzing the notation: random texts and grammar-aware mutations (token deletions, insertions,
 * swaps, replacements, numbers pushed to their limits, bracket bombs) of the zoo's nets and the
 * notes' patterns. Whatever the text, the notation throws nothing but a NotationError with a line
 * and a column inside the text; what parses formats back to itself. `npm test` runs a bounded count
 * with a fixed seed; `npm run fuzz` runs FUZZ_RUNS of them (and FUZZ_SEED picks another seed).
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 400);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261202);

const NOTES: [string, Bindings][] = [
  ['INPUT -> FC', {}],
  ['INPUT -> CONV -> RELU -> FC', {}],
  ['INPUT -> [CONV -> RELU -> POOL]*2 -> FC -> RELU -> FC', {}],
  ['INPUT -> [CONV -> RELU -> CONV -> RELU -> POOL]*3 -> [FC -> RELU]*2 -> FC', {}],
  ['INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC', { N: 2, M: 3, K: 1, POOL: 1 }],
  ['INPUT[224x224x3] -> [[CONV3-64 -> RELU]*2 -> POOL2]*2 -> RES[CONV3-64 -> RELU | CONV1-64] -> CONCAT[CONV1-8 | POOL3(s=1, p=1)] -> AUX[GAP -> FC-10] -> GAP -> DROPOUT(0.5) -> FC', {}],
  ['INPUT[16x16x3] -> CONV3-8 -> MUL[CONV1-8 -> RELU | ] -> DIV[CONV3-8 | CONV1-8 -> RELU] -> GAP -> FC', {}],
];
const SEEDS: [string, Bindings][] = [...NOTES, ...zoo.map((net): [string, Bindings] => [net.source, net.bindings])];

/** Tokens a mutation may insert, written as text. */
const PIECES = [
  'CONV', 'CONV3-16', 'POOL2', 'AVGPOOL3', 'GAP', 'FC', 'FC-10', 'RELU', 'BN', 'DROPOUT', 'LRN', 'SOFTMAX', 'FLATTEN', 'INPUT', 'INPUT[8x8x1]',
  'RES[', 'CONCAT[', 'MUL[', 'DIV[', 'AUX[', '[', ']', '(', ')', '->', '-', '|', '*', '?', '?N', ':', ',', '=', 'x', 'def', 'let', 'N', 'conv3', 'FC10', 'b(', 's=2', 'p=1',
  'floor', 'ceil', '#', '\n', ' ', '😀', '\uD800', '%', '0', '1', '3', '0.5', '1e-7', '4294967296', '99999999999999999999', '1e999',
];
/** Numbers a mutation may write in place of another; repeat counts stay small so that a run stays quick. */
const NUMBERS = ['0', '1', '2', '3', '7', '64', '0.5', '1e-9', '4294967295', '4294967296', '99999999999999999999'];


function mutate(text: string, random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let tokens: Token[];
  try {
    tokens = lex(text).slice(0, -1);
  } catch {
    return text + pick(PIECES);
  }
  // Each token with the text after it (spaces, comments) so that the mutant keeps the rest as written.
  const parts = tokens.map((t, i) => text.slice(t.loc.offset, tokens[i + 1]?.loc.offset ?? text.length));
  const edits = 1 + Math.floor(random() * 3);
  // Half the mutants only change numbers, so that most of them still parse and reach desugar and infer.
  const numbersOnly = random() < 0.5;
  for (let e = 0; e < edits && parts.length > 0; e++) {
    const i = Math.floor(random() * parts.length);
    const token = tokens[i];
    switch (numbersOnly ? 5 : Math.floor(random() * 7)) {
      case 0:
        parts.splice(i, 1);
        tokens.splice(i, 1);
        break;
      case 1:
        parts.splice(i, 0, `${pick(PIECES)} `);
        tokens.splice(i, 0, token as Token);
        break;
      case 2:
        parts[i] = `${pick(PIECES)} `;
        break;
      case 3:
        if (i + 1 < parts.length) [parts[i], parts[i + 1]] = [parts[i + 1] as string, parts[i] as string];
        break;
      case 4:
        parts.splice(i, 0, parts[i] as string);
        tokens.splice(i, 0, token as Token);
        break;
      case 5: {
        // A number pushed to a limit (small after '*', so that repetitions stay quick).
        const numbers = tokens.flatMap((t, j) => (t.kind === 'number' ? [j] : []));
        if (numbers.length === 0) break;
        const n = pick(numbers);
        const number = tokens[n] as Token;
        const repeat = tokens[n - 1]?.kind === '*';
        parts[n] = (repeat ? pick(['0', '1', '2', '3']) : pick(NUMBERS)) + (parts[n] as string).slice(number.text.length);
        break;
      }
      default: {
        // A bracket bomb around one token: deeper than the notation allows, about half the time.
        const depth = pick([3, 99, 101, 3000]);
        parts[i] = `${'['.repeat(depth)}${parts[i] as string}${']'.repeat(depth)} `;
      }
    }
  }
  return parts.join('');
}

function randomText(random: () => number): string {
  const length = Math.floor(random() * 40);
  let text = '';
  for (let i = 0; i < length; i++) text += random() < 0.7 ? PIECES[Math.floor(random() * PIECES.length)] : String.fromCharCode(32 + Math.floor(random() * 95));
  return text;
}

/** Compiles and lints `text`: only a NotationError inside the text may come out; what parses formats back to itself. */
function check(text: string, bindings: Bindings): void {
  const lines = text.split('\n').length;
  try {
    compile(text, { bindings, ignoreUnknownBindings: true });
  } catch (error) {
    assert.ok(error instanceof NotationError, `${String(error)}\nfor ${JSON.stringify(text.slice(0, 500))}`);
    assert.ok(error.line >= 1 && error.line <= lines && error.column >= 1, `${error.message}\nfor ${JSON.stringify(text.slice(0, 500))}`);
  }
  const found = lint(text, { bindings, ignoreUnknownBindings: true });
  assert.ok(found.every((d) => d.severity === 'warning' || (d.line !== null && d.column !== null)), JSON.stringify(text.slice(0, 500)));
  let program;
  try {
    program = parse(text);
  } catch {
    return;
  }
  const formatted = format(program);
  assert.equal(format(formatted), formatted, JSON.stringify(text.slice(0, 500)));
}

test(`fuzz: ${RUNS} mutants of the zoo and the notes' patterns, and ${RUNS} random texts, throw only located NotationErrors`, () => {
  const random = generator(SEED);
  for (let run = 0; run < RUNS; run++) {
    const [text, bindings] = SEEDS[Math.floor(random() * SEEDS.length)] as [string, Bindings];
    check(mutate(text, random), bindings);
    check(randomText(random), {});
  }
});
