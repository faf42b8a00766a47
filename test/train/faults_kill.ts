import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Net } from '../../src/net/net.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadModel } from '../../src/train/model_file.js';
import { generator } from '../fuzz/mutate.js';
import { FAULTS_INFO, writeVersion } from './faults_writer.js';

/**
 * The kill test: writers (faults_writer.ts, one Node process each) write a model file and a
 * checkpoint over and over and are killed with SIGKILL at seeded random moments; both files must
 * then load, each wholly of one version. Returns how many versions each writer completed.
 */
const WRITER = fileURLToPath(new URL('./faults_writer.ts', import.meta.url));
/** Writers running at once. */
const PARALLEL = 4;

/** Starts a writer, waits until it has written once, lets it run `delayMs` more, then kills it (SIGKILL: no cleanup). */
async function killWriterAfter(folder: string, first: number, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path.join(folder, 'model.safetensors'), path.join(folder, 'run.checkpoint.safetensors'), String(first)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it was ready`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  await exited;
}

/** The single value every tensor of the file holds (the version written), or a failure. */
function versionOf(tensors: Iterable<Tensor>, file: string): number {
  const values = new Set<number>();
  for (const t of tensors) for (const v of t.data) values.add(v);
  assert.equal(values.size, 1, `${file}: a mix of versions ${[...values].slice(0, 4).join(', ')}`);
  return [...values][0] as number;
}

/** Runs `kills` writers in `dir`, `PARALLEL` at a time, each killed after a seeded delay of 0-80 ms past its first write. */
export async function killWriters(dir: string, kills: number, seed: number): Promise<number[]> {
  const random = generator(seed);
  const delays = Array.from({ length: kills }, () => Math.floor(random() * 80));
  const net = new Net(FAULTS_INFO.spec, { seed: 1 });
  const found: number[] = [];
  for (let start = 0; start < kills; start += PARALLEL) {
    await Promise.all(delays.slice(start, start + PARALLEL).map(async (delay, k) => {
      const kill = start + k;
      const folder = path.join(dir, `kill-${kill}`);
      await mkdir(folder);
      const model = path.join(folder, 'model.safetensors');
      const checkpoint = path.join(folder, 'run.checkpoint.safetensors');
      await writeVersion(model, checkpoint, net, 0);
      await killWriterAfter(folder, 1000 * (kill + 1), delay);
      const loaded = await loadModel(model);
      const version = versionOf([...loaded.net.params.values()].map((p) => p.value), model);
      assert.equal(loaded.metadata['version'], String(version), 'the metadata and the weights are of the same version');
      assert.ok(version >= 1000 * (kill + 1), 'the writer had written once before it was killed');
      const saved = await loadCheckpoint(checkpoint);
      assert.equal(versionOf(saved.params.values(), checkpoint), saved.state.step);
      assert.equal(saved.state.inEpoch?.lossSum, saved.state.step, 'the position within the epoch is of the same version');
      found.push(version - 1000 * (kill + 1));
    }));
  }
  assert.equal(found.length, kills);
  return found;
}

