import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../src/backends/backend.js';
import { Net } from '../../src/net/net.js';
import { loadCheckpoint, type Checkpoint } from '../../src/train/checkpoint.js';
import { train, TrainingInterrupted } from '../../src/train/loop.js';
import { testBackends } from '../helpers/backends.js';
import { generator } from '../fuzz/mutate.js';
import { NET_SEED, RESUME_CONFIG as config, RESUME_DATA as data, RESUME_INFO as info } from './resume_run.js';

// Exact resume on every backend: a run cut anywhere (at an epoch boundary, within an epoch by a stop
// or by SIGKILL) and resumed in a net of another seed ends with the checkpoint of the run that was
// never cut, bit for bit: weights, BN's running statistics, Adam's moments and step counts, step,
// every generator's state, each epoch's lr/loss/accuracies.
const CHILD = fileURLToPath(new URL('./resume_run.ts', import.meta.url));
/** 4 epochs of 4 steps. */
const STEPS = 16;

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-resume-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The uninterrupted run's final checkpoint, once per backend. */
const straightRuns = new Map<string, Promise<Checkpoint>>();
function straight(backend: Backend): Promise<Checkpoint> {
  let run = straightRuns.get(backend.name);
  if (run === undefined) {
    const file = path.join(dir, `${backend.name}-straight.safetensors`);
    run = train({ net: new Net(info.spec, { seed: NET_SEED, backend }), data, config, info, checkpoint: file }).then(() => loadCheckpoint(file));
    straightRuns.set(backend.name, run);
  }
  return run;
}

/** Resumes the checkpoint in `file` in a net of another seed, to the end of the run, and reads the final checkpoint. */
async function resumeToEnd(file: string, backend: Backend): Promise<Checkpoint> {
  const saved = await loadCheckpoint(file);
  const result = await train({ net: new Net(saved.info.spec, { seed: 99, backend }), data, config, info: saved.info, checkpoint: file, resume: saved });
  assert.equal(result.epochs.length, config.epochs);
  assert.equal(result.steps, STEPS);
  return loadCheckpoint(file);
}

function assertSameRun(resumed: Checkpoint, whole: Checkpoint): void {
  for (const [name, t] of whole.params) assert.deepEqual(resumed.params.get(name)?.data, t.data, `weight ${name}`);
  assert.ok(whole.params.has('bn1.running_var'), "BN's running statistics are in the checkpoint");
  for (const [name, t] of whole.optimizer.tensors) assert.deepEqual(resumed.optimizer.tensors.get(name)?.data, t.data, `optimizer slot ${name}`);
  assert.ok(whole.optimizer.tensors.size > 0, "Adam's moments are in the checkpoint");
  assert.deepEqual(resumed.optimizer.steps, whole.optimizer.steps);
  assert.deepEqual([resumed.state.epochsDone, resumed.state.step, resumed.state.rng, resumed.state.inEpoch], [whole.state.epochsDone, whole.state.step, whole.state.rng, undefined]);
  const results = (c: Checkpoint): number[][] => c.state.history.map((e) => [e.lr, e.loss, e.trainAccuracy, e.testAccuracy]);
  assert.deepEqual(results(resumed), results(whole));
}

/** Trains until `steps` steps are done, stopped through the signal; the loop saves the checkpoint of that step. */
async function stopAfter(steps: number, file: string, backend: Backend): Promise<void> {
  const stop = new AbortController();
  let done = 0;
  const run = train({ net: new Net(info.spec, { seed: NET_SEED, backend }), data, config, info, checkpoint: file, signal: stop.signal, onEvent: (e) => e.kind === 'step' && ++done === steps && stop.abort() });
  await assert.rejects(run, (error: unknown) => error instanceof TrainingInterrupted && error.saved && error.step === ((steps - 1) % 4) + 1);
}

/**
 * Starts the child (resume_run.ts), which checkpoints after every step, and SIGKILLs it once it has
 * printed `steps` steps; resolves with whether the kill landed (on a busy machine the child may finish first).
 */
function killChildAfter(steps: number, file: string, backend: Backend): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, backend.name, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let printed = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
      if ((printed.match(/^step /gm) ?? []).length >= steps) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => (signal === 'SIGKILL' || code === 0 ? resolve(signal === 'SIGKILL') : reject(new Error(`the child exited (${code}): ${printed}`))));
  });
}

for (const backend of testBackends()) {
  test(`${backend.name}: 4 epochs straight equal 2, checkpoint, load in a new net, 2 more`, async () => {
    const half = path.join(dir, `${backend.name}-half.safetensors`);
    await train({ net: new Net(info.spec, { seed: NET_SEED, backend }), data, config: { ...config, epochs: 2 }, info, checkpoint: half });
    const saved = await loadCheckpoint(half);
    assert.deepEqual([saved.state.epochsDone, saved.state.inEpoch], [2, undefined]);
    assertSameRun(await resumeToEnd(half, backend), await straight(backend));
  });

  test(`${backend.name}: stopped within an epoch (after steps 1, 6 and 15 of 16), the checkpoint of that step resumes to the same end`, async () => {
    for (const steps of [1, 6, 15]) {
      const file = path.join(dir, `${backend.name}-stop-${steps}.safetensors`);
      await stopAfter(steps, file, backend);
      const saved = await loadCheckpoint(file);
      const within = (steps - 1) % 4 + 1;
      assert.deepEqual([saved.state.step, saved.state.epochsDone, saved.state.inEpoch?.batches, saved.state.inEpoch?.images], [steps, Math.floor((steps - 1) / 4), within, 30]);
      assertSameRun(await resumeToEnd(file, backend), await straight(backend));
    }
  });

  test(`${backend.name}: checkpointEvery writes within epochs; the checkpoint of step 5 resumes to the same end`, async () => {
    const file = path.join(dir, `${backend.name}-every.safetensors`);
    const kept = path.join(dir, `${backend.name}-every-5.safetensors`);
    const steps: number[] = [];
    await train({
      net: new Net(info.spec, { seed: NET_SEED, backend }), data, config, info, checkpoint: file, checkpointEvery: 5,
      // The checkpoint of step 5 is on disk when step 6 is reported.
      onEvent: (e) => e.kind === 'step' && steps.push(e.step) === 6 && copyFileSync(file, kept),
    });
    const saved = await loadCheckpoint(kept);
    assert.deepEqual([saved.state.step, saved.state.epochsDone, saved.state.inEpoch?.batches], [5, 1, 1]);
    assertSameRun(await resumeToEnd(kept, backend), await straight(backend));
  });

  test(`${backend.name}: a child process that checkpoints every step, SIGKILLed at 2 random steps, resumes to the same end`, async (t) => {
    const random = generator(backend.name === 'reference' ? 13 : 31);
    for (let kill = 0; kill < 2; kill++) {
      // From 2: the first checkpoint is written after step 1.
      const steps = 2 + Math.floor(random() * (STEPS - 3));
      const file = path.join(dir, `${backend.name}-killed-${kill}.safetensors`);
      const killed = await killChildAfter(steps, file, backend);
      const saved = await loadCheckpoint(file);
      const where = saved.state.inEpoch ? `batch ${saved.state.inEpoch.batches} of epoch ${saved.state.epochsDone + 1}` : `the end of epoch ${saved.state.epochsDone}`;
      t.diagnostic(`${killed ? 'killed' : 'finished before the kill'} after step ${steps} was reported; the checkpoint holds step ${saved.state.step} (${where})`);
      assert.ok(saved.state.step >= steps - 1, 'the checkpoint is at least that of the step before the one reported last');
      assertSameRun(await resumeToEnd(file, backend), await straight(backend));
    }
  });
}

test('a checkpoint written within an epoch refuses a training set of another size', async () => {
  const [backend] = testBackends() as [Backend];
  const file = path.join(dir, 'other-size.safetensors');
  await stopAfter(2, file, backend);
  const saved = await loadCheckpoint(file);
  const fewer = { train: data.train.subset('tiny (29)', Array.from({ length: 29 }, (_, i) => i)), test: data.test };
  await assert.rejects(
    train({ net: new Net(saved.info.spec, { backend }), data: fewer, config, info: saved.info, resume: saved }),
    /^RangeError: the checkpoint was written within epoch 1 of a training set of 30 images, but tiny \(29\) holds 29: the run cannot go on where it stopped$/,
  );
});
