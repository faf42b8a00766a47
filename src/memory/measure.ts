import type { Backend } from '../backends/backend.js';
import { referenceBackend } from '../backends/reference/index.js';
import { Net } from '../net/net.js';
import type { NetSpec } from '../net/spec.js';
import { stepLoss } from '../train/auxiliary.js';
import { softmaxCrossEntropy } from '../ops/softmax_cross_entropy.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import { createOptimizer, type OptimizerName } from '../train/optimizers/index.js';

/** How to run the measured step or pass. */
export interface MeasureOptions {
  /** Images per batch. */
  batch: number;
  /** Default `sgd`. */
  optimizer?: OptimizerName;
  /** Default float32. */
  dtype?: DType;
  /** Default: the reference backend. */
  backend?: Backend;
  /** Training steps to run, default 1; later steps start with the previous step's gradients freed. */
  steps?: number;
  /** Layers frozen for fine-tuning (`Net`'s `frozen`). Default: none. */
  frozen?: Iterable<string>;
}

/**
 * The peak of `backend`'s tracker over `run`, counting only what was allocated from its start: the
 * bytes of the net, its optimizer, the batch and everything the pass allocates (kernel workspace
 * included). `run` must free what it made.
 */
function peakOf(backend: Backend, run: () => void): number {
  const tracker = backend.allocator.tracker;
  const base = tracker.live;
  tracker.resetPeak();
  run();
  return tracker.peak - base;
}

function build(spec: NetSpec, options: MeasureOptions, backend: Backend): Net {
  return new Net(spec, { backend, ...(options.dtype && { dtype: options.dtype }), ...(options.frozen !== undefined && { frozen: options.frozen }) });
}

/**
 * Builds `spec`, then runs training steps as `train` does (forward, softmax cross-entropy, backward,
 * optimizer step) on a zero batch on the backend's allocator, and returns the peak bytes:
 * parameters, optimizer state, the batch, activations, gradients and kernel workspace. Compare with
 * `estimateMemory(...).training.total`.
 */
export function measureTrainingPeak(spec: NetSpec, options: MeasureOptions): number {
  const backend = options.backend ?? referenceBackend;
  return peakOf(backend, () => {
    const net = build(spec, options, backend);
    const optimizer = createOptimizer(options.optimizer ?? 'sgd', net.trainableParams(), { lr: 0.01, backend });
    const labels = new Uint8Array(options.batch);
    for (let s = 0; s < (options.steps ?? 1); s++) {
      const x = Tensor.zeros([options.batch, ...spec.input], net.dtype, backend.allocator);
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
  const backend = options.backend ?? referenceBackend;
  return peakOf(backend, () => {
    const net = build(spec, options, backend);
    const x = Tensor.zeros([options.batch, ...spec.input], net.dtype, backend.allocator);
    net.forward(x).dispose();
    x.dispose();
    net.dispose();
  });
}

/**
 * The line `convstack run --memory` and `convstack train --memory` print: the peak of the tracker
 * of the backend they ran on, every tensor buffer the engine held at once (parameters, activations,
 * gradients, optimizer state, kernel workspace, the data batch). Reset that tracker's peak before
 * the run to leave out what an earlier phase (loading a weights file, say) allocated and freed.
 */
export function measuredPeakLine(backend: Backend): string {
  return `measured peak: ${backend.allocator.tracker.peak} bytes`;
}
