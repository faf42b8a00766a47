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

/** Page to worker. */
export type ToWorker =
  | { kind: 'start'; settings: TrainSettings }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'predict'; pixels: Float32Array };

/** Worker to page. */
export type FromWorker =
  | { kind: 'ready'; backend: string; threads: number; isolated: boolean; singleThreadReason: string | null }
  | { kind: 'net'; description: string }
  | { kind: 'progress'; epoch: number; step: number; steps: number; loss: number; accuracy: number; imagesPerSecond: number }
  | { kind: 'epoch'; epoch: number; loss: number; trainAccuracy: number; testAccuracy: number }
  | { kind: 'done' }
  | { kind: 'paused' }
  | { kind: 'prediction'; probabilities: number[] }
  | { kind: 'error'; message: string };
