import type { NetSpec } from '../src/net/spec.js';
import { compile } from '../src/notation/index.js';
import { zooNet } from '../src/zoo/index.js';

/**
 * The workloads of issue 7, by the names the JSON lines carry. Every peer builds its net from the
 * same NetSpec (the convstack notation), so all run the same layers.
 */
export type WorkloadName =
  | 'W1 conv fwd'
  | 'W1 conv fwd+bwd'
  | 'W2 resnet18 b1'
  | 'W2 resnet18 b8'
  | 'W3 vgg16 b1'
  | 'W4 lenet mnist train'
  | 'W5 cifar train';

export interface Workload {
  name: WorkloadName;
  /** `infer`: a forward pass; `fwdbwd`: forward and backward, input and weight gradients; `train`: an SGD-momentum step. */
  kind: 'infer' | 'fwdbwd' | 'train';
  spec: NetSpec;
  batch: number;
  /** What the table reports: GFLOP/s (2 * multiply-adds), images/s, or latency in ms. */
  metric: 'gflops' | 'img_s' | 'ms';
  /** Floating-point operations of one timed step, for `gflops`. */
  flops: number;
  /** Use the MNIST digits as the batches (else random images and labels). */
  mnist: boolean;
}

function fromNotation(source: string, bindings: Record<string, number> = {}): NetSpec {
  return compile(source, { bindings }).spec;
}

function zooSpec(name: string): NetSpec {
  const net = zooNet(name);
  if (net === undefined) throw new Error(`the zoo has no ${name}`);
  return compile(net.source, { bindings: net.bindings }).spec;
}

const W1 = fromNotation('INPUT[56x56x64] -> CONV3-64');
/** 8 images x 64 outputs x 56x56 positions x 64*3*3 multiply-adds, 2 FLOPs each. */
const W1_FLOPS = 2 * 8 * 64 * 56 * 56 * 64 * 9;
const W5 = fromNotation('INPUT[32x32x3] -> [CONV3-32 -> RELU -> CONV3-32 -> RELU -> POOL2] -> [CONV3-64 -> RELU -> CONV3-64 -> RELU -> POOL2] -> FC-512 -> RELU -> FC-10');

export function workloads(): Workload[] {
  return [
    { name: 'W1 conv fwd', kind: 'infer', spec: W1, batch: 8, metric: 'gflops', flops: W1_FLOPS, mnist: false },
    // Backward is two products of the forward's size (input and weight gradients).
    { name: 'W1 conv fwd+bwd', kind: 'fwdbwd', spec: W1, batch: 8, metric: 'gflops', flops: 3 * W1_FLOPS, mnist: false },
    { name: 'W2 resnet18 b1', kind: 'infer', spec: zooSpec('resnet18'), batch: 1, metric: 'ms', flops: 0, mnist: false },
    { name: 'W2 resnet18 b8', kind: 'infer', spec: zooSpec('resnet18'), batch: 8, metric: 'img_s', flops: 0, mnist: false },
    { name: 'W3 vgg16 b1', kind: 'infer', spec: zooSpec('vgg16'), batch: 1, metric: 'ms', flops: 0, mnist: false },
    { name: 'W4 lenet mnist train', kind: 'train', spec: zooSpec('lenet5_mnist'), batch: 64, metric: 'img_s', flops: 0, mnist: true },
    { name: 'W5 cifar train', kind: 'train', spec: W5, batch: 32, metric: 'img_s', flops: 0, mnist: false },
  ];
}
