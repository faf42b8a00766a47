import type { NetSpec } from '../src/browser.js';
import type { BenchSettings } from './bench_steps.js';

/** Messages between the page (trainer.ts) and the training worker (train_worker.ts). */

/** How to train: what the page's controls say. */
export interface TrainSettings {
  /** The editor's text: trained when it takes 28x28x1 and gives 10 scores, else LeNet-5. */
  spec: string;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: 'sgd' | 'momentum' | 'nesterov' | 'adam';
}

/** A model's weights as they travel to the worker: state_dict names, shapes and values. */
export type ModelWeights = { name: string; shape: number[]; data: Float32Array }[];

/** Page to worker. */
export type ToWorker =
  | { kind: 'start'; settings: TrainSettings }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'predict'; pixels: Float32Array }
  /** Run an opened model file's net (it reads 28x28x1) on the pad from now on. */
  | { kind: 'load'; name: string; spec: NetSpec; weights: ModelWeights; normalization: { mean: number[]; std: number[] } }
  /** Every layer's output for held-out digit `index`, or for `pixels` (a drawing, a 28x28 in [0, 1]). */
  | { kind: 'activations'; index: number }
  | { kind: 'activations'; pixels: Float32Array; label: string }
  /** `npm run bench` (bench/peers/browser.ts): prepare W4, run one training step, stop. */
  | { kind: 'bench-start'; settings: BenchSettings }
  | { kind: 'bench-step' }
  | { kind: 'bench-stop' };

/** A held-out digit the net gets wrong. */
export interface Misclassified {
  index: number;
  label: number;
  predicted: number;
  /** Its 28x28 pixels in [0, 1]. */
  pixels: Float32Array;
}

/** One layer's output for one image: its shape without the batch, [C, H, W] or [F]. */
export interface LayerOutput {
  name: string;
  /** The layer as the notation writes it. */
  text: string;
  shape: number[];
  data: Float32Array;
}

/** Worker to page. */
export type FromWorker =
  | { kind: 'ready'; backend: string; threads: number; isolated: boolean; singleThreadReason: string | null }
  | { kind: 'net'; description: string }
  | { kind: 'progress'; epoch: number; step: number; steps: number; loss: number; accuracy: number; imagesPerSecond: number }
  | { kind: 'epoch'; epoch: number; loss: number; trainAccuracy: number; testAccuracy: number }
  | { kind: 'done' }
  | { kind: 'paused' }
  | { kind: 'loaded'; name: string }
  | { kind: 'bench-ready'; details: string; threads: number }
  | { kind: 'bench-stepped' }
  | { kind: 'bench-stopped' }
  | { kind: 'prediction'; probabilities: number[] }
  /** After each epoch: the first CONV's filters [K, C, F, F] (null without one), the held-out confusion matrix and mistakes. */
  | { kind: 'report'; filters: { shape: number[]; data: Float32Array } | null; confusion: number[][]; misclassified: Misclassified[] }
  | { kind: 'activations'; label: string; layers: LayerOutput[] }
  | { kind: 'error'; message: string };
