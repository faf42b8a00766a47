import type { NetSpec } from '../src/net/spec.js';
import { buildGraph } from '../src/graph/graph.js';
import { INPUT_NODE } from '../src/net/spec.js';
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
  /**
   * Floating-point operations of one timed step: 2 per multiply-add of the CONV and FC layers
   * (forward; backward adds the weight gradient and the input gradient of every layer but those
   * reading the images, which a training step skips). The metric for `gflops`, and each
   * workload's fraction of the FMA peak.
   */
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

/**
 * FLOPs of one step of `kind` on `batch` images: forward, plus for backward a weight gradient of the
 * forward's size per layer and an input gradient for every layer but those reading the images
 * (`fwdbwd` asks for the input gradient too, as W1 does).
 */
function flopsOf(spec: NetSpec, batch: number, kind: Workload['kind']): number {
  const graph = buildGraph(spec);
  let macs = 0;
  for (const node of graph.nodes) {
    if (kind === 'infer') macs += node.macs;
    else if (kind === 'fwdbwd' || !node.spec.inputs.includes(INPUT_NODE)) macs += 3 * node.macs;
    else macs += 2 * node.macs;
  }
  return 2 * batch * macs;
}

function workload(name: WorkloadName, kind: Workload['kind'], spec: NetSpec, batch: number, metric: Workload['metric'], mnist = false): Workload {
  return { name, kind, spec, batch, metric, flops: flopsOf(spec, batch, kind), mnist };
}

/** One CONV3-64 on 56x56x64: 8 images x 64 outputs x 56x56 positions x 64*3*3 multiply-adds. */
const W1 = fromNotation('INPUT[56x56x64] -> CONV3-64');
const W5 = fromNotation('INPUT[32x32x3] -> [CONV3-32 -> RELU -> CONV3-32 -> RELU -> POOL2] -> [CONV3-64 -> RELU -> CONV3-64 -> RELU -> POOL2] -> FC-512 -> RELU -> FC-10');

/** Issue 7's workloads W1 to W5, each with its FLOPs per step worked out from its spec. */
export function workloads(): Workload[] {
  return [
    workload('W1 conv fwd', 'infer', W1, 8, 'gflops'),
    // Backward is two products of the forward's size (input and weight gradients).
    workload('W1 conv fwd+bwd', 'fwdbwd', W1, 8, 'gflops'),
    workload('W2 resnet18 b1', 'infer', zooSpec('resnet18'), 1, 'ms'),
    workload('W2 resnet18 b8', 'infer', zooSpec('resnet18'), 8, 'img_s'),
    workload('W3 vgg16 b1', 'infer', zooSpec('vgg16'), 1, 'ms'),
    workload('W4 lenet mnist train', 'train', zooSpec('lenet5_mnist'), 64, 'img_s', true),
    workload('W5 cifar train', 'train', W5, 32, 'img_s'),
  ];
}
