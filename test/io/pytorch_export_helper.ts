import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { channelStats } from '../../src/data/augment.js';
import { openData } from '../../src/data/index.js';
import { formatNpy, parseNpy } from '../../src/io/npy.js';
import { exportPytorch, type PytorchSource } from '../../src/io/pytorch/module.js';
import { parseSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import type { ZooNet } from '../../src/zoo/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { loadModel, netTensors } from '../../src/train/model_file.js';
import { assertClose } from '../helpers/assert.js';
import { convstack } from '../helpers/cli.js';

/** Debian's Python with python3-torch 1.13 (not the pyenv one first on PATH). */
export const PYTHON = '/usr/bin/python3';
/** The repository root, where tools/ lies. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let torchPresent: boolean | null = null;

/**
 * True when Debian's python3 imports torch. When it does not, the test is skipped with the reason;
 * under CI (`CI` set), which installs python3-torch, it fails instead.
 */
export function haveTorch(t: TestContext): boolean {
  torchPresent ??= spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;
  if (torchPresent) return true;
  const reason = `${PYTHON} cannot import torch (apt-get install python3-torch python3-torchvision)`;
  if (process.env['CI'] !== undefined) assert.fail(`${reason}; CI must have it`);
  t.skip(reason);
  return false;
}

/** Runs a Python script with Debian's python3; fails the test with its stderr when it fails. */
export function python(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(PYTHON, args, { cwd: options.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, ...options.env } });
  if (result.error !== undefined) throw result.error;
  assert.equal(result.status, 0, `python3 ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

/** A batch whose values vary smoothly and are not symmetric: sin and cos of the position. */
export function testBatch(shape: readonly number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(shape, Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.3)));
}

/**
 * Buffers away from their start, so that a pass shows them: BN's running statistics (mean 0, variance
 * 1) and AFFINE's scale and shift (1 and 0).
 */
export function scrambleBuffers(net: Net, seed: number): void {
  const rng = new Rng(seed);
  const fill = (suffix: string, value: () => number): void => {
    for (const p of net.params.values()) if (p.name.endsWith(suffix)) p.value.data.forEach((_, i) => (p.value.data[i] = value()));
  };
  fill('.running_mean', () => 0.2 * (rng.next() - 0.5));
  fill('.running_var', () => 0.5 + rng.next());
  fill('.scale', () => 0.5 + rng.next());
  fill('.shift', () => rng.next() - 0.5);
}

/** What PyTorch computed: the scores, each auxiliary head's, and the module's state after the pass. */
export interface TorchRun {
  output: Tensor;
  aux: Tensor[];
  state: Map<string, Tensor>;
}

/**
 * Writes `source` as net.py and the net's weights as safetensors, and runs tools/torch_forward.py on
 * `x`: an eval-mode pass, then a training-mode pass from the same weights.
 */
export async function runInTorch(source: PytorchSource, net: Net, x: Tensor): Promise<{ eval: TorchRun; train: TorchRun }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-torch-'));
  writeFileSync(path.join(dir, 'net.py'), exportPytorch(source));
  await writeSafetensors(path.join(dir, 'weights.safetensors'), netTensors(net));
  writeFileSync(path.join(dir, 'x.npy'), formatNpy(x));
  const out = path.join(dir, 'out');
  python(['tools/torch_forward.py', path.join(dir, 'net.py'), path.join(dir, 'weights.safetensors'), path.join(dir, 'x.npy'), out, '--train']);
  const read = (mode: string, name: string): Tensor => parseNpy(readFileSync(path.join(out, mode, name)), name);
  const pass = (mode: string, heads: number): TorchRun => ({
    output: read(mode, 'output.npy'),
    aux: Array.from({ length: heads }, (_, i) => read(mode, `aux${i + 1}.npy`)),
    state: parseSafetensors(readFileSync(path.join(out, mode, 'state.safetensors'))).tensors,
  });
  return { eval: pass('eval', 0), train: pass('train', net.graph.auxHeads.length) };
}

/**
 * convstack's forward against PyTorch's on the same weights and batch, in eval mode and then in
 * training mode: the scores, each auxiliary head's (training), and every parameter and buffer after
 * the pass (BN's running statistics move in training). Returns the largest relative error of each mode.
 */
export async function compareWithTorch(source: PytorchSource, net: Net, x: Tensor): Promise<{ eval: number; train: number }> {
  const torch = await runInTorch(source, net, x);
  const check = (run: TorchRun, training: boolean): number => {
    const mode = training ? 'training' : 'eval';
    const errors = [assertClose(run.output, net.forward(x, { training }), `${mode} scores`)];
    if (training) net.auxiliaryOutputs().forEach((a, i) => errors.push(assertClose(run.aux[i] ?? assert.fail(`no aux${i + 1}`), a, `aux${i + 1}`)));
    assert.deepEqual([...run.state.keys()].sort(), [...net.params.keys()].sort(), "the module's state_dict names are the net's");
    for (const [name, t] of run.state) errors.push(assertClose(t, (net.params.get(name) ?? assert.fail(name)).value, `${name} after ${mode}`));
    return Math.max(...errors);
  };
  return { eval: check(torch.eval, false), train: check(torch.train, true) };
}

/**
 * A small image folder: `classes` sub-folders of `perClass` PNGs of h x w x 3, each class a bright
 * vertical band at its own place over seeded noise (what a net learns in a few steps).
 */
export async function writeImageFolder(dir: string, classes: number, perClass: number, [h, w]: readonly [number, number]): Promise<void> {
  const rng = new Rng(3);
  for (let c = 0; c < classes; c++) {
    mkdirSync(path.join(dir, `class${c}`), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const pixels = Buffer.alloc(h * w * 3);
      for (let k = 0; k < pixels.length; k++) {
        const x = Math.floor(k / 3) % w;
        const band = Math.floor((x * classes) / w) === c ? 140 : 0;
        pixels[k] = Math.floor(rng.next() * 100) + band;
      }
      await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, `class${c}`, `${i}.png`));
    }
  }
}

/** The net of a model file against its module in PyTorch (eval mode) on the same batch: the largest relative error. */
export async function compareModelFileWithTorch(netFile: string, modelFile: string, x: Tensor): Promise<number> {
  const { net } = await loadModel(modelFile);
  const out = mkdtempSync(path.join(tmpdir(), 'convstack-torch-'));
  writeFileSync(path.join(out, 'x.npy'), formatNpy(x));
  python(['tools/torch_forward.py', netFile, modelFile, path.join(out, 'x.npy'), out]);
  return assertClose(parseNpy(readFileSync(path.join(out, 'output.npy'))), net.forward(x), 'scores of the trained model file');
}

/** A small net with what DDP must keep in step: BN statistics and a residual block. */
export const SMALL_NET = 'let CLASSES = 3\nINPUT[16x16x3] -> conv1: CONV3-8 -> bn1: BN -> RELU -> pool1: POOL2 -> block: RES[CONV3-8 -> BN -> RELU] -> fc: FC-CLASSES';

/** A port nothing listens on now, for a process group's rendezvous. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Exports SMALL_NET with its training script, writes an image folder, and trains for 2 epochs in
 * `processes` processes: under `torchrun --nproc_per_node N` (gloo on CPU) when N > 1, else the
 * script run alone. Returns the folder and the run's stdout.
 */
export async function trainWithScript(processes: number): Promise<{ dir: string; stdout: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-ddp-'));
  await writeImageFolder(path.join(dir, 'images'), 3, 8, [16, 16]);
  const exported = convstack('export', SMALL_NET, '--pytorch', path.join(dir, 'net.py'), '--train-script', path.join(dir, 'train_ddp.py'));
  assert.equal(exported.status, 0, exported.stderr);
  const args = ['train_ddp.py', '--data', 'folder:images', '--epochs', '2', '--batch', '8', '--workers', '0', '--out', 'model.safetensors'];
  // NOTE: Debian's torchrun (torch 1.13 on Python 3.11) cannot read its own default --redirects/--tee of
  // 0 (Python 3.11's IntFlag no longer lists the zero member); any other value works.
  const command = processes > 1 ? ['/usr/bin/torchrun', '--standalone', '--nproc_per_node', String(processes), '--redirects', '2', '--tee', '2', ...args] : [PYTHON, ...args];
  const env = { ...process.env, MASTER_PORT: String(await freePort()), OMP_NUM_THREADS: '1' };
  const result = spawnSync(command[0] as string, command.slice(1), { cwd: dir, encoding: 'utf8', env });
  assert.equal(result.status, 0, `${command.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return { dir, stdout: result.stdout };
}

/** Every rank's `rank R: weights sha256 H` line, by rank. */
export function replicaDigests(stdout: string): Map<number, string> {
  return new Map([...stdout.matchAll(/rank (\d+): weights sha256 ([0-9a-f]{64})/g)].map((m) => [Number(m[1]), m[2] as string]));
}

/** The model file of a run in `dir` against convstack's own reading of the data and PyTorch's outputs. */
export async function checkModelFile(t: { diagnostic(message: string): void }, dir: string): Promise<void> {
  const file = path.join(dir, 'model.safetensors');
  const { info, metadata } = await loadModel(file);
  assert.deepEqual(info.classes, ['class0', 'class1', 'class2']);
  const data = await openData(`folder:${path.join(dir, 'images')}`, [3, 16, 16]);
  const stats = channelStats(data.train);
  assertClose(info.normalization.mean, stats.mean, 'normalisation mean', 1e-6);
  assertClose(info.normalization.std, stats.std, 'normalisation std', 1e-6);
  assert.match(info.architecture ?? '', /block: RES\[CONV3-8 -> BN -> RELU\]/);
  const evaluated = convstack('eval', '--model', file, '--data', `folder:${path.join(dir, 'images')}`);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stdout, new RegExp(`test accuracy: ${metadata['test_accuracy']}\\n`), 'convstack eval scores the held-out images as the script did');
  const error = await compareModelFileWithTorch(path.join(dir, 'net.py'), file, testBatch([3, 3, 16, 16]));
  t.diagnostic(`held-out accuracy ${metadata['test_accuracy']}; convstack against PyTorch on the trained weights: relative error ${error.toExponential(2)}`);
}

/**
 * Exports every net of `nets`, then, for those torchvision has, asserts that the exported module's
 * state_dict names and shapes are torchvision's. Returns the names checked, or null when torch is
 * missing (the test is then skipped).
 */
export function checkZooNames(t: TestContext, nets: readonly ZooNet[]): string[] | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-zoo-torch-'));
  const cases = nets.map((entry) => {
    const netPy = path.join(dir, `${entry.name}.py`);
    writeFileSync(netPy, exportPytorch({ spec: toNetSpec(entry.source, { bindings: entry.bindings }), architecture: entry.source, compileOptions: { bindings: entry.bindings } }));
    return { name: entry.name, net_py: netPy, torchvision: entry.torchvision };
  });
  if (!haveTorch(t)) return null;
  const compared = cases.filter((c) => c.torchvision !== null);
  writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(compared));
  const names = JSON.parse(python(['tools/torchvision_names.py', path.join(dir, 'cases.json')])) as { exported: Record<string, number[]>; torchvision: Record<string, number[]> }[];
  compared.forEach((c, i) => assert.deepEqual(names[i]?.exported, names[i]?.torchvision, `${c.name} against torchvision's ${c.torchvision}`));
  return compared.map((c) => c.name);
}
