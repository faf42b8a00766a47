import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import type { WorkspaceModel } from '../../src/graph/workspace.js';
import type { Fusions } from '../../src/graph/schedule.js';
import { estimateMemory } from '../../src/memory/estimate.js';
import { measureInferencePeak, measureTrainingPeak } from '../../src/memory/measure.js';
import { storedForBackward } from '../../src/memory/stored.js';
import { Net } from '../../src/net/net.js';
import type { NetSpec } from '../../src/net/spec.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** A backend to measure on, with the description the estimate follows for it. */
export interface MeasuredBackend {
  backend: Backend;
  workspace: WorkspaceModel;
  fusions: Fusions;
}


/**
 * The tape a training forward leaves on `on.backend`: the tracker's live bytes after
 * `forward(x, { training: true })`, less the parameters and the batch.
 */
export function measuredStored(spec: NetSpec, batch: number, on: MeasuredBackend, frozen: readonly string[] = []): number {
  const tracker = on.backend.allocator.tracker;
  const net = new Net(spec, { backend: on.backend, frozen });
  const x = Tensor.zeros([batch, ...spec.input], 'float32', on.backend.allocator);
  const before = tracker.live;
  const y = net.forward(x, { training: true });
  const stored = tracker.live - before;
  net.clearTape();
  y.dispose();
  x.dispose();
  net.dispose();
  return stored;
}

/**
 * Asserts that the estimate for `on`'s backend equals its tracker's measured peak, for a training
 * step (SGD) and an inference pass, and (unless `stored` is false) the tape a training forward
 * stores; with `frozen` layers, as a fine-tune runs them. NOTE: equal to the byte, which is stronger than the 5%: the estimate replays the
 * schedule `Net` runs with the kernels' own tiling, so any difference is drift between the engine
 * and its description.
 */
export function assertEstimateIsMeasured(spec: NetSpec, batch: number, on: MeasuredBackend, what: string, { stored = true, frozen = [] as readonly string[] } = {}): void {
  const model = { workspace: on.workspace, fusions: on.fusions, frozen };
  const estimate = estimateMemory(spec, { batch, ...model });
  assert.equal(estimate.training.total, measureTrainingPeak(spec, { batch, backend: on.backend, frozen }), `${what}: training step`);
  assert.equal(estimate.inference.total, measureInferencePeak(spec, { batch, backend: on.backend, frozen }), `${what}: inference`);
  if (stored) assert.equal(storedForBackward(spec, { batch, fusions: on.fusions, frozen }).bytes, measuredStored(spec, batch, on, frozen), `${what}: stored for backward`);
}

/** The zoo nets at inputs reduced to keep the reference kernels quick; GoogLeNet's 31x31 is the smallest its ceil-mode pools accept. */
export const REDUCED_CASES: readonly { name: string; input: [number, number, number] }[] = [
  { name: 'lenet5', input: [32, 32, 1] },
  { name: 'vgg16', input: [32, 32, 3] },
  { name: 'resnet18', input: [32, 32, 3] },
  { name: 'googlenet', input: [31, 31, 3] },
];
