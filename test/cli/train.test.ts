import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { readSafetensors } from '../../src/io/safetensors.js';
import { convstack } from '../helpers/cli.js';

/**
 * Starts the CLI and sends it SIGINT (Ctrl-C) once its stdout has matched `when`; resolves with what
 * it printed and its exit code. NOTE: the shared CLI helper (execFile) cannot signal a running child.
 */
function interruptCli(when: RegExp, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!sent && when.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** stderr without npm's own warnings, as lines. */
const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => l !== '' && !l.startsWith('npm warn'));

// Two classes that a tiny net tells apart at once: a bright square at the top left or bottom right.
async function writeImage(file: string, cls: 'tl' | 'br', jitter: number): Promise<void> {
  const pixels = Buffer.alloc(16 * 16);
  for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) pixels[(cls === 'tl' ? y + jitter : 9 + y - jitter) * 16 + (cls === 'tl' ? x + jitter : 9 + x - jitter)] = 255;
  await sharp(pixels, { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(file);
}

const NET = 'INPUT[16x16x1] -> CONV3-4 -> RELU -> POOL2 -> FC-2';
let dir = '';
let images = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-cli-'));
  images = path.join(dir, 'squares');
  for (const cls of ['tl', 'br'] as const) {
    await mkdir(path.join(images, cls), { recursive: true });
    for (let i = 0; i < 20; i++) await writeImage(path.join(images, cls, `${i}.png`), cls, i % 3);
  }
});
after(() => rm(dir, { recursive: true, force: true }));

test('train on an image folder, then eval and predict with the model file alone', async () => {
  const model = path.join(dir, 'squares.safetensors');
  const trained = convstack('train', '--model', NET, '--data', `folder:${images}`, '--epochs', '3', '--batch', '8', '--lr', '0.01', '--shift', '0', '--backend', 'reference', '--out', model);
  assert.equal(trained.status, 0, trained.stderr);
  const lines = trained.stdout.trim().split('\n');
  assert.match(trained.stdout, /INPUT\[16x16x1\]/, 'the summary table');
  assert.match(trained.stdout, /^epoch 3\/3  loss \d\.\d{4}  train \d\.\d{4}  test \d\.\d{4}  lr /m, 'plain epoch lines when not a terminal');
  assert.match(lines.at(-1) ?? '', /^test accuracy: 1\.0000$/);
  const { metadata } = await readSafetensors(model);
  assert.equal(metadata['architecture'], NET);
  assert.deepEqual(JSON.parse(metadata['classes'] ?? ''), ['br', 'tl']);
  assert.ok(JSON.parse(metadata['normalization'] ?? '').std[0] > 0);

  const evaluated = convstack('eval', '--model', model, '--data', `folder:${images}`, '--backend', 'reference');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /^test accuracy: 1\.0000$/m);

  const one = path.join(images, 'tl', '4.png');
  const predicted = convstack('predict', '--model', model, '--backend', 'reference', '--top', '2', '--json', one);
  assert.equal(predicted.status, 0, predicted.stderr);
  const [p] = JSON.parse(predicted.stdout) as { file: string; top: { class: string; probability: number }[] }[];
  assert.equal(p?.file, one);
  assert.equal(p?.top[0]?.class, 'tl');
  assert.ok(Math.abs((p?.top[0]?.probability ?? 0) + (p?.top[1]?.probability ?? 0) - 1) < 1e-6);
});

test('--json prints a summary; --resume of a finished run keeps its weights', async () => {
  const model = path.join(dir, 'json.safetensors');
  const first = convstack('train', '--model', NET, '--data', `folder:${images}`, '--epochs', '1', '--batch', '8', '--backend', 'reference', '--out', model, '--json');
  assert.equal(first.status, 0, first.stderr);
  const summary = JSON.parse(first.stdout) as { testAccuracy: number; epochs: unknown[]; checkpoint: string; config: { epochs: number } };
  assert.equal(summary.epochs.length, 1);
  assert.equal(summary.config.epochs, 1);
  assert.equal(summary.testAccuracy, (summary.epochs.at(-1) as { testAccuracy: number }).testAccuracy, 'the last epoch\'s accuracy');
  assert.match(first.stderr, new RegExp(`^test accuracy: ${summary.testAccuracy.toFixed(4)}$`, 'm'), 'human output goes to stderr, with the same figure');

  const again = path.join(dir, 'again.safetensors');
  const resumed = convstack('train', '--resume', summary.checkpoint, '--backend', 'reference', '--out', again);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(resumed.stdout, `${summary.checkpoint}: the run is finished (1 epoch of 1, test accuracy ${summary.testAccuracy.toFixed(4)}); to train it further, give --epochs with more than 1\nwrote ${again} with its weights\n`);
  const [a, b] = [await readSafetensors(model), await readSafetensors(again)];
  for (const [name, t] of a.tensors) assert.deepEqual(b.tensors.get(name)?.data, t.data, name);

  const conflict = convstack('train', '--resume', summary.checkpoint, '--lr', '0.5', '--backend', 'reference', '--out', again);
  assert.equal(conflict.status, 1);
  assert.match(conflict.stderr, /--resume continues the run saved in .*; drop --lr/);
});

test('bad input gets one clear line naming the file, and exit code 1', async () => {
  const cifar = path.join(dir, 'cifar');
  await mkdir(cifar);
  for (let b = 1; b <= 5; b++) await writeFile(path.join(cifar, `data_batch_${b}.bin`), new Uint8Array(3073));
  await writeFile(path.join(cifar, 'test_batch.bin'), new Uint8Array(3000));
  const empty = path.join(dir, 'emptyclass');
  await mkdir(path.join(empty, 'a'), { recursive: true });
  await mkdir(path.join(empty, 'b'), { recursive: true });
  await writeImage(path.join(empty, 'a', 'x.png'), 'tl', 0);
  const broken = path.join(dir, 'broken');
  await mkdir(path.join(broken, 'a'), { recursive: true });
  await writeFile(path.join(broken, 'a', 'x.png'), 'not a png');
  const cases: [string[], RegExp][] = [
    [['--data', `folder:${path.join(dir, 'missing')}`], new RegExp(`${path.join(dir, 'missing')}: no such folder`)],
    [['--data', `folder:${empty}`], new RegExp(`${path.join(empty, 'b')}: class folder has no PNG or JPEG images`)],
    [['--data', `folder:${broken}`], new RegExp(`${path.join(broken, 'a', 'x.png')}: cannot decode image`)],
    [['--model', 'INPUT[32x32x3] -> CONV3-4 -> RELU -> POOL2 -> FC-10', '--data', `cifar10:${cifar}`], new RegExp(`${path.join(cifar, 'test_batch.bin')}: 3000 bytes is not a whole number of 3073-byte`)],
    [['--data', 'imagenet'], /unknown data 'imagenet'/],
    [['--optimizer', 'lbfgs'], /unknown optimizer 'lbfgs'/],
    [['--epochs', '0'], /--epochs: expected an integer >= 1, got '0'/],
  ];
  for (const [args, message] of cases) {
    const result = convstack('train', '--model', NET, '--backend', 'reference', '--out', path.join(dir, 'never.safetensors'), ...args);
    assert.equal(result.status, 1, `${args.join(' ')}: ${result.stdout}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
  const missing = convstack('eval', '--model', path.join(dir, 'nope.safetensors'), '--backend', 'reference');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope\.safetensors: no such file/);
});

test('Ctrl-C stops between steps and saves the checkpoint of that step; --resume writes the run\'s own model file, --epochs extends it', async () => {
  const model = path.join(dir, 'long.safetensors');
  const checkpoint = path.join(dir, 'long.checkpoint.safetensors');
  const args = ['train', '--model', NET, '--data', `folder:${images}`, '--batch', '8', '--shift', '0', '--backend', 'reference', '--out', model];
  const interrupted = await interruptCli(/^epoch +2\/1000 /m, ...args, '--epochs', '1000', '--checkpoint-every', '3');
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.match(interrupted.stdout, new RegExp(`^model file: ${model}; checkpoint after each epoch and every 3 steps: ${checkpoint}$`, 'm'), 'says where the checkpoint goes');
  const [line] = errorLines(interrupted.stderr);
  const match = /^interrupted in epoch (\d+) at step (\d+); saved the run up to this step in (.*): go on with convstack train --resume (.*)$/.exec(line ?? '');
  assert.ok(match, interrupted.stderr);
  const [, epoch, step, named, again] = match;
  assert.deepEqual([named, again], [checkpoint, checkpoint]);
  const saved = await readSafetensors(checkpoint);
  const position = JSON.parse(saved.metadata['train_state'] ?? '{}') as { epochsDone: number; inEpoch?: { batches: number } };
  assert.deepEqual([position.epochsDone + 1, position.inEpoch?.batches], [Number(epoch), Number(step)], 'the checkpoint is that of the step interrupted');
  assert.equal(existsSync(model), false, 'no model file from an interrupted run');

  // Resumed from elsewhere (the CLI runs in the repository): the model file is the run's own, not ./model.safetensors.
  // --epochs <the interrupted epoch> finishes that epoch from the step where it stopped.
  const extended = Number(epoch);
  const resumed = convstack('train', '--resume', checkpoint, '--epochs', String(extended), '--backend', 'reference');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`^epoch ${extended}/${extended}  loss `, 'm'), 'one more epoch, numbered after the checkpoint\'s');
  assert.match(resumed.stdout, new RegExp(`^wrote ${model} \\(checkpoint: ${checkpoint}\\)`, 'm'));

  const finished = convstack('train', '--resume', checkpoint, '--backend', 'reference');
  assert.equal(finished.status, 0, finished.stderr);
  assert.match(finished.stdout, new RegExp(`^${checkpoint}: the run is finished \\(${extended} epochs of ${extended}, test accuracy \\d\\.\\d{4}\\); to train it further, give --epochs with more than ${extended}\n$`));
  const shorter = convstack('train', '--resume', checkpoint, '--epochs', String(extended), '--backend', 'reference');
  assert.equal(shorter.status, 1);
  assert.deepEqual(errorLines(shorter.stderr), [`convstack: --epochs ${extended}: the run in ${checkpoint} has done ${extended} epochs already; give more than ${extended} to extend it`]);
});

test('the progress bar gives back the cursor and line wrapping when it stops', async () => {
  const { Progress } = await import('../../src/cli/train_progress.js');
  const { Writable } = await import('node:stream');
  let written = '';
  const terminal = Object.assign(new Writable({ write: (chunk: Buffer, _encoding, done) => ((written += chunk.toString()), done()) }), { isTTY: true, columns: 100 });
  const progress = new Progress(terminal, 3, terminal);
  progress.handle({ kind: 'step', epoch: 1, step: 1, steps: 10, loss: 2.3, accuracy: 0.1, imagesPerSecond: 500 });
  assert.ok(written.includes('\x1b[?25l') && written.includes('\x1b[?7l'), 'the bar hides the cursor and turns off wrapping');
  written = '';
  progress.stop();
  assert.ok(written.includes('\x1b[?25h') && written.includes('\x1b[?7h'), `restored: ${JSON.stringify(written)}`);
  progress.handle({ kind: 'step', epoch: 1, step: 2, steps: 10, loss: 2.2, accuracy: 0.1, imagesPerSecond: 500 });
  written = '';
  progress.handle({ kind: 'warning', message: 'the loss stays at ln(C)' });
  assert.ok(written.includes('\x1b[?25h'), 'a warning stops the bar first');
  assert.ok(written.endsWith('warning: the loss stays at ln(C)\n'));
  progress.handle({ kind: 'note', message: 'each epoch leaves out 1 of its 17 training images' });
  assert.ok(written.endsWith('note: each epoch leaves out 1 of its 17 training images\n'));
});

test('output paths are checked before the first step: one line naming the path', async () => {
  const readOnly = path.join(dir, 'readonly');
  await mkdir(readOnly);
  await chmod(readOnly, 0o555);
  // NOTE: root writes into a mode-555 folder; /proc takes no new files, even from root.
  const unwritable = process.getuid?.() === 0 ? '/proc' : readOnly;
  const folder = path.join(dir, 'afolder');
  await mkdir(folder);
  const cases: [string[], string][] = [
    [['--out', path.join(dir, 'nowhere', 'm.safetensors')], `--out ${path.join(dir, 'nowhere', 'm.safetensors')}: no such folder ${path.join(dir, 'nowhere')}`],
    [['--out', folder], `--out ${folder}: is a folder; name a file in it, e.g. ${path.join(folder, 'model.safetensors')}`],
    [['--out', path.join(unwritable, 'm.safetensors')], `--out ${path.join(unwritable, 'm.safetensors')}: cannot write in the folder ${unwritable} (`],
    [['--out', path.join(dir, 'ok.safetensors'), '--checkpoint', path.join(dir, 'gone', 'c.safetensors')], `--checkpoint ${path.join(dir, 'gone', 'c.safetensors')}: no such folder ${path.join(dir, 'gone')}`],
  ];
  for (const [args, message] of cases) {
    const result = convstack('train', '--model', NET, '--data', `folder:${images}`, '--epochs', '1', '--backend', 'reference', ...args);
    assert.equal(result.status, 1, `${args.join(' ')}: ${result.stdout}`);
    assert.equal(result.stdout, '', 'nothing trained');
    const lines = errorLines(result.stderr);
    assert.equal(lines.length, 1, result.stderr);
    assert.ok(lines[0]?.startsWith(`convstack: ${message}`), `${lines[0]} should start with ${message}`);
  }
});

test('--no-checkpoint writes none; --init is recorded in the model file', async () => {
  const model = path.join(dir, 'nockpt.safetensors');
  const result = convstack('train', '--model', NET, '--data', `folder:${images}`, '--epochs', '1', '--batch', '8', '--backend', 'reference', '--out', model, '--no-checkpoint', '--init', 'xavier');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^model file: .*nockpt\.safetensors; checkpoint after each epoch: none \(--no-checkpoint\)$/m);
  assert.match(result.stdout, /, xavier initialisation$/m);
  assert.equal(existsSync(path.join(dir, 'nockpt.checkpoint.safetensors')), false);
  assert.equal((await readSafetensors(model)).metadata['init'], 'xavier');
  const bad = convstack('train', '--model', model, '--data', `folder:${images}`, '--init', 'he', '--backend', 'reference', '--out', path.join(dir, 'never.safetensors'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--init: the weights come from .*nockpt\.safetensors; --init is for a net that starts afresh/);
});
