import assert from 'node:assert/strict';
import type { Backend } from '../../src/backends/backend.js';
import type { Schedule } from '../../src/graph/schedule.js';
import { Net } from '../../src/net/net.js';
import { compile } from '../../src/notation/index.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from './assert.js';
import { CLOSE, random } from './kernels.js';

/** A net in the notation and the op types of its inference steps on a backend with the fused kernels. */
export interface FusedNet {
  text: string;
  steps: string[];
}

/**
 * Nets whose inference fuses: conv1 has a bias, conv2 is dilated, the shortcut's BN has no RELU,
 * conv4 covers its whole input (the linear path); then ResNet's blocks, the identity shortcut added
 * by the block's last conv (K = 72, rows of 7), the projection shortcut's conv adding the main branch
 * (K = 8), then the RELU.
 */
export const FUSED_NETS: FusedNet[] = [
  {
    text: 'INPUT[9x9x3] -> CONV3-8 -> BN -> RELU -> POOL3(s=1, p=1) -> RES[ CONV3-8(d=2, p=2, bias=no) -> BN -> RELU ] -> CONV1-6(s=2) -> BN -> CONV5-5 -> BN -> RELU -> FC-4',
    steps: ['conv+bn', 'maxpool', 'conv+bn', 'add', 'conv+bn', 'conv+bn', 'fc'],
  },
  {
    text: 'INPUT[7x7x3] -> CONV3-8 -> BN -> RELU -> RES[ CONV3-8 -> BN ] -> RELU -> RES[ CONV3-6(s=2, floor) -> BN -> RELU -> CONV3-6 -> BN | CONV1-6(s=2, floor) -> BN ] -> RELU -> FC-4',
    steps: ['conv+bn', 'conv+bn', 'conv+bn', 'conv+bn', 'conv+bn', 'fc'],
  },
];

/**
 * Runs `net` in inference on `backend` (float32 and float64) and on the reference backend unfused,
 * with BN statistics and affine values far from their defaults so that a wrong fold shows; checks
 * the fused steps and the outputs. Returns the fused float32 net's schedule.
 */
export function assertFusedMatchesUnfused(backend: Backend, net: FusedNet): Schedule {
  const spec = compile(net.text).spec;
  let schedule: Schedule | undefined;
  for (const dtype of ['float32', 'float64'] as const) {
    const fused = new Net(spec, { backend, seed: 3, dtype });
    const unfused = new Net(spec, { seed: 3, dtype });
    const rng = new Rng(5);
    for (const [name, p] of unfused.params) {
      if (/running_var|\.weight$/.test(name) && p.value.shape.length === 1) p.value.data.forEach((_, i) => (p.value.data[i] = 0.5 + rng.next()));
      else if (p.value.shape.length === 1) p.value.data.forEach((_, i) => (p.value.data[i] = rng.next() - 0.5));
      (fused.params.get(name) as { value: Tensor }).value.data.set(p.value.data);
    }
    schedule ??= (fused as unknown as { inference: Schedule }).inference;
    assert.deepEqual(schedule.forward.map((s) => s.op.type), net.steps, net.text);
    const x = random([2, ...spec.input], rng, dtype);
    assertClose(fused.forward(x), unfused.forward(x), `${dtype}: fused against the reference's unfused, ${net.text}`, dtype === 'float32' ? CLOSE : 1e-12);
  }
  return schedule as Schedule;
}
