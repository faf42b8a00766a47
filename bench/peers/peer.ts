import type { Batches } from '../data.js';
import type { Step } from '../measure.js';
import type { Workload } from '../workloads.js';

/** A library under test: builds a workload's step, or says why it cannot run it. */
export interface Peer {
  readonly name: string;
  prepare(w: Workload, batches: Batches): Promise<Step | { skip: string }>;
  dispose?(): Promise<void>;
}

/** Learning rate and momentum of every training workload. */
export const SGD = { lr: 0.01, momentum: 0.9 };
