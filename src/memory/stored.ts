import { buildGraph } from '../graph/graph.js';
import { buildSchedule, forwardAllocations, NO_FUSIONS, type Fusions } from '../graph/schedule.js';
import type { NetSpec } from '../net/spec.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { DType } from '../tensor/tensor.js';

/** The choices that change what a training forward stores. */
export interface StoredOptions {
  /** Images per batch. */
  batch: number;
  /** Default `float32`. */
  dtype?: DType;
  /** The fused kernels of the backend that runs the net (a fused CONV+RELU stores no conv output). Default: none. */
  fusions?: Fusions;
  /** Layers frozen for fine-tuning: backward stops before a frozen prefix, and forward keeps nothing for it. Default: none. */
  frozen?: Iterable<string>;
}

/**
 * The notes' question "how much do the activations take?" for a training step on this engine: what
 * the tape holds when forward has finished and backward is about to start, read off the same step
 * schedule `Net` runs. That is every value some backward step reads (the net's output and auxiliary
 * heads included, the input batch not), plus what ops with a backward step saved for it: max-pool
 * indices, BN statistics, dropout masks, LRN scales. It is the most the breakdown's activations row ever holds;
 * at the step's peak, in backward, part of it has been freed already.
 */
export function storedForBackward(spec: NetSpec, options: StoredOptions): { values: number; bytes: number } {
  const graph = buildGraph(spec);
  const schedule = buildSchedule(graph, { training: true, fusions: options.fusions ?? NO_FUSIONS, frozen: new Set(options.frozen ?? []) });
  const elementBytes = options.dtype === 'float64' ? 8 : 4;
  const freedInForward = new Set(schedule.forward.flatMap((step) => step.frees));
  const stored = { values: 0, bytes: 0 };
  const add = (values: number, bytesPerValue: number): void => {
    stored.values += values;
    stored.bytes += values * bytesPerValue;
  };
  for (const step of schedule.forward) {
    if (!freedInForward.has(step.output)) add(options.batch * sizeOf(graph.shapes[step.output] as Shape), elementBytes);
    if (!step.backward) continue;
    for (const use of forwardAllocations(step, options.batch, true)) {
      for (const buffer of use.buffers) if (buffer.role === 'saved') add(buffer.values, buffer.bytesPerValue ?? elementBytes);
    }
  }
  return stored;
}
