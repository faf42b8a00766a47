import * as ort from 'onnxruntime-node';
import { exportOnnx, type OnnxExportOptions } from '../../src/io/onnx/export.js';
import { Net } from '../../src/net/net.js';
import type { NetSpec } from '../../src/net/spec.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../helpers/assert.js';

/** [H, W, C] */
export type Input = [number, number, number];

/**
 * Gives every BN and AFFINE layer statistics, scales and shifts away from their initial 0 and 1, so
 * that an export that dropped or swapped them would show.
 */
function perturbNormalisation(net: Net): void {
  for (const node of net.graph.nodes) {
    if (node.spec.op !== 'bn' && node.spec.op !== 'affine') continue;
    for (const p of node.params) {
      const t = (net.params.get(`${node.spec.name}.${p.name}`) as { value: Tensor }).value;
      for (let i = 0; i < t.size; i++) t.data[i] = p.name === 'running_var' || p.name === 'weight' || p.name === 'scale' ? 0.6 + Math.abs(Math.sin(i + 1)) : 0.3 * Math.cos(i);
    }
  }
}

/**
 * Exports the net (seed 3, normalisation perturbed) and runs a batch of 2 through onnxruntime: every
 * output (the net's, then the auxiliary heads', which our inference pass computes on the way) within
 * 1e-4 of our reference backend's. Returns the largest relative error.
 */
export async function checkExport(spec: NetSpec, options: OnnxExportOptions = {}): Promise<number> {
  const net = new Net(spec, { seed: 3 });
  perturbNormalisation(net);
  const shape = [2, ...spec.input];
  const x = Tensor.from(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37) + 0.1 * Math.cos(i * 1.3)));
  const expected = new Map<string, Tensor>();
  const wanted = new Set([net.graph.nodes.length, ...net.graph.auxHeads].map((v) => net.graph.nodes[v - 1]?.spec.name as string));
  const y = net.forward(x, { inspect: (node, output) => wanted.has(node.name) && expected.set(node.name, Tensor.from(output.shape, output.data)) });
  y.dispose();
  const session = await ort.InferenceSession.create(exportOnnx(net, options));
  try {
    const outputs = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), shape) });
    if (Object.keys(outputs).join() !== [...wanted].join()) throw new Error(`outputs ${Object.keys(outputs).join()}, expected ${[...wanted].join()}`);
    return Math.max(...[...expected].map(([name, t]) => assertClose(outputs[name]?.data as Float32Array, t, name, 1e-4)));
  } finally {
    await session.release();
  }
}
