import type { Backend } from '../backends/backend.js';
import { Net } from '../net/net.js';
import type { NetSpec } from '../net/spec.js';
import { stepLoss } from '../train/auxiliary.js';
import { softmaxCrossEntropy } from '../ops/softmax_cross_entropy.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import { createOptimizer, type OptimizerName } from '../train/optimizers/index.js';
import { tracker } from './tracker.js';

/** How to run the measured step or pass. */
export interface MeasureOptions {
  batch: number;
  /** Default `sgd`. */
  optimizer?: OptimizerName;
  dtype?: DType;
  /** Default: the reference backend. */
  backend?: Backend;
  /** Training steps to run, default 1; later steps start with the previous step's gradients freed. */
  steps?: number;
}

/**
 * The tracker's peak over `run`, counting only what was allocated from its start: the bytes of the
 * net, its optimizer, the batch and everything the pass allocates. `run` must free what it made.
 */
function peakOf(run: () => void): number {
  const base = tracker.live;
  tracker.resetPeak();
  run();
  return tracker.peak - base;
}

/**
 * Builds `spec`, then runs training steps as `train` does (forward, softmax cross-entropy, backward,
 * optimizer step) on a zero batch, and returns the peak bytes: parameters, optimizer state, the
 * batch, activations, gradients and kernel workspace. Compare with `estimateMemory(...).training.total`.
 */
export function measureTrainingPeak(spec: NetSpec, options: MeasureOptions): number {
  return peakOf(() => {
    const net = new Net(spec, { ...(options.backend && { backend: options.backend }), ...(options.dtype && { dtype: options.dtype }) });
    const optimizer = createOptimizer(options.optimizer ?? 'sgd', net.trainableParams(), { lr: 0.01 });
    const labels = new Uint8Array(options.batch);
    for (let s = 0; s < (options.steps ?? 1); s++) {
      const x = Tensor.zeros([options.batch, ...spec.input], net.dtype);
      const scores = net.forward(x, { training: true });
      const { grad, auxGrads } = stepLoss(net, scores, labels, softmaxCrossEntropy);
      net.backward(grad, { auxGrads });
      [x, scores, grad, ...auxGrads].forEach((t) => t.dispose());
      optimizer.step();
    }
    optimizer.dispose();
    net.dispose();
  });
}

/** Builds `spec` and runs one inference pass on a zero batch; returns the peak bytes (parameters included). */
export function measureInferencePeak(spec: NetSpec, options: MeasureOptions): number {
  return peakOf(() => {
    const net = new Net(spec, { ...(options.backend && { backend: options.backend }), ...(options.dtype && { dtype: options.dtype }) });
    const x = Tensor.zeros([options.batch, ...spec.input], net.dtype);
    net.forward(x).dispose();
    x.dispose();
    net.dispose();
  });
}

/**
 * The line `convstack run --memory` and `convstack train --memory` print: the tracker's peak, every
 * tensor buffer the engine held at once (parameters, activations, gradients, optimizer state, kernel
 * workspace, the data batch). Call `tracker.resetPeak()` before the run to leave out what an earlier
 * phase (loading a weights file, say) allocated and freed.
 */
export function measuredPeakLine(peak: number = tracker.peak): string {
  return `measured peak: ${peak} bytes`;
}
