import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { unknownZooName } from '../../src/cli/model.js';
import { buildProgram, specsNotOptions } from '../../src/cli/program.js';
import { compile } from '../../src/notation/index.js';
import { summarize } from '../../src/notation/summary.js';
import { zoo, zooNet, zooNotation } from '../../src/zoo/index.js';
import { convstack } from '../helpers/cli.js';

test('--version prints the package version', () => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const r = convstack('--version');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
});

test("every command's --help ends with an example of it", () => {
  const program = buildProgram();
  assert.deepEqual(program.commands.map((c) => c.name()).sort(), ['compare', 'convert', 'eval', 'export', 'finetune', 'import', 'lint', 'memory', 'predict', 'run', 'serve', 'summary', 'train', 'zoo']);
  for (const command of program.commands) {
    let help = '';
    command.configureOutput({ writeOut: (text) => (help += text) });
    command.outputHelp();
    assert.match(help, new RegExp(`\\nExamples:\\n {2}\\$ convstack ${command.name()}( |$)`, 'm'), command.name());
  }
});

test('every command that takes a volume spells it --input HxWxC', () => {
  for (const command of buildProgram().commands.filter((c) => ['summary', 'lint', 'compare', 'memory', 'run', 'train'].includes(c.name()))) {
    assert.ok(command.options.some((o) => o.long === '--input'), command.name());
  }
});

test('a spec that begins with a dash is notation, not an unknown option; options and negative numbers stay', () => {
  assert.deepEqual(specsNotOptions(['node', 'main', 'summary', '->', '--json', '-h', '-1', '--']), ['node', 'main', 'summary', ' ->', '--json', '-h', '-1', '--']);
  const r = convstack('summary', '->');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^convstack: <spec>: line 1, column 1: expected a layer .*found '->'\n {2}->\n {2}\^\^\n$/);
});

test('near misses of zoo names get "did you mean"; a missing file is "no such file"', () => {
  const lenet = convstack('summary', 'lenet');
  assert.equal(lenet.status, 1);
  assert.equal(lenet.stderr, "convstack: unknown zoo net 'lenet'; did you mean lenet5?\n");
  assert.equal(unknownZooName('resnet5'), "unknown zoo net 'resnet5'; did you mean resnet50?");
  assert.equal(unknownZooName('vgg'), "unknown zoo net 'vgg'; did you mean vgg11 or vgg13 or vgg16 or vgg19?");
  assert.equal(unknownZooName('Resnet18'), "unknown zoo net 'Resnet18'; did you mean resnet18?");
  assert.equal(unknownZooName('vgg61'), "unknown zoo net 'vgg61'; did you mean vgg11 or vgg16?", 'a swap of neighbours is one edit');
  assert.match(unknownZooName('mobilenet'), /^'mobilenet' is not a zoo net, a file or notation text \(zoo nets: lenet5, lenet5_mnist, alexnet, /);
  const missing = convstack('summary', './nets/vgg.txt');
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, 'convstack: ./nets/vgg.txt: no such file (a spec is notation text, a file holding it, or a zoo name)\n');
});

test('zoo --notation prints text that compiles alone to the zoo net; --classes sets the class count', () => {
  const r = convstack('zoo', '--notation', 'vgg16_bn');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^let BN = 1$/m);
  assert.match(r.stdout, /^let N3 = 3$/m);
  const net = zooNet('vgg16_bn');
  assert.ok(net);
  const expected = summarize(compile(net.source, { bindings: net.bindings }).net).totals;
  assert.deepEqual(summarize(compile(r.stdout).net).totals, expected);
  assert.match(convstack('zoo', '--notation', 'vgg61').stderr, /did you mean vgg11 or vgg16\?/);
  const three = convstack('summary', 'resnet18', '--classes', '3', '--json');
  assert.equal(three.status, 0, three.stderr);
  const json = JSON.parse(three.stdout) as { layers: { name: string; output: number[]; params: number }[]; totals: { params: number } };
  assert.deepEqual(json.layers.at(-1), { ...json.layers.at(-1), name: 'fc', output: [1, 1, 3], params: 512 * 3 + 3 });
  assert.equal(json.totals.params, 11_689_512 - 1000 * 513 + 3 * 513);
  assert.match(convstack('summary', 'INPUT[8x8x1] -> FC-10', '--classes', '3').stderr, /--classes: <spec> has no CLASSES variable/);
});

test("every zoo net's printed notation compiles alone to the same net, and CLASSES changes only the last layer", () => {
  for (const net of zoo) {
    const expected = summarize(compile(net.source, { bindings: net.bindings }).net);
    const printed = summarize(compile(zooNotation(net)).net);
    assert.deepEqual(printed.totals, expected.totals, net.name);
    const three = summarize(compile(zooNotation(net), { bindings: { CLASSES: 3 } }).net);
    assert.deepEqual(three.layers.at(-1)?.output, [1, 1, 3], net.name);
    assert.equal(three.layers.length, expected.layers.length, net.name);
  }
});

test('lint --json lists the diagnostics; the summary line counts in words', () => {
  const r = convstack('lint', 'INPUT[32x32x3] -> CONV4-16 -> FC-10', '--json');
  const json = JSON.parse(r.stdout) as { spec: string; errors: number; warnings: number; diagnostics: { severity: string; rule: string; message: string }[] };
  assert.equal(json.spec, '<spec>');
  assert.equal(json.errors, json.diagnostics.filter((d) => d.severity === 'error').length);
  assert.equal(json.warnings, json.diagnostics.length - json.errors);
  const text = convstack('lint', 'INPUT[32x32x3] -> CONV3-16 -> RELU -> POOL2 -> FC-10');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^<spec>: 0 errors, \d+ warnings?$/m);
  assert.doesNotMatch(text.stdout, /\(s\)/);
});

test("compare says which input it read, and the notes' comparison (C in, C out) is one command", () => {
  const notes = convstack('compare', 'CONV7-C', '[CONV3-C -> RELU]*3', '--set', 'C=64');
  assert.equal(notes.status, 0, notes.stderr);
  assert.match(notes.stdout, /^weights +200,704 +110,592$/m, '49C^2 against 27C^2');
  assert.match(notes.stdout, /^input: \[32x32x64\] for both \(32x32xC with C = 64\)$/m);
  const fixed = convstack('compare', 'CONV7-64', '[CONV3-64 -> RELU]*3');
  assert.match(fixed.stdout, /^input: \[32x32x3\] for both \(the default; for C channels in, as the notes compare, give --input 32x32xC\)$/m);
  const json = convstack('compare', 'CONV7-64', '[CONV3-64 -> RELU]*3', '--input', '16x16x64', '--json');
  const parsed = JSON.parse(json.stdout) as Record<'a' | 'b', { name: string; input: number[]; inputFrom: string; figures: { totals: { weights: number } } }>;
  assert.deepEqual([parsed.a.name, parsed.a.input, parsed.a.inputFrom, parsed.a.figures.totals.weights], ['CONV7-64', [16, 16, 64], '--input', 200_704]);
  assert.equal(parsed.b.figures.totals.weights, 110_592);
});

test('--threads above the core count is a warning', () => {
  const threads = String(availableParallelism() + 1);
  const r = convstack('run', 'INPUT[4x4x1] -> FC-2', 'none.npy', '--threads', threads, '--output', 'none-out.npy');
  assert.match(r.stderr, new RegExp(`^convstack: warning: --threads ${threads} is more than this machine's ${availableParallelism()} cores`, 'm'));
});

test('compare takes a --set value that only one of the two designs has, and refuses one that neither has', () => {
  const shared = convstack('compare', '[CONV3-C -> RELU]*N', 'CONV7-C', '--set', 'N=3,C=64');
  assert.equal(shared.status, 0, shared.stderr);
  assert.match(shared.stdout, /^weighted layers\s+3\s+1$/m);
  const unknown = convstack('compare', '[CONV3-C -> RELU]*N', 'CONV7-C', '--set', 'N=3,Q=2');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /the spec has no variable 'Q'/);
});
