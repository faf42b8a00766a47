import * as tf from '@tensorflow/tfjs-core';
// NOTE: tfjs-core's Node build registers no gradients (they ship only as ES modules Node cannot
// load); the umbrella package's Node bundle registers them all, and the cpu backend with them.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Net } from '../../src/net/net.js';
import type { NodeSpec } from '../../src/net/spec.js';
import { INPUT_NODE } from '../../src/net/spec.js';
import type { Batches } from '../data.js';
import type { Step } from '../measure.js';
import type { Workload } from '../workloads.js';
import { SGD, type Peer } from './peer.js';

/**
 * TensorFlow.js 4.22 (`tfjs-core` with the `cpu` or `wasm` backend), running the workload's
 * NetSpec translated op by op to tfjs ops in its native NHWC layout, with the same initial weights
 * as convstack's net. The wasm backend runs one thread in Node as shipped.
 */
export function tfjsPeer(backend: 'cpu' | 'wasm', skip: ReadonlyMap<string, string> = new Map()): Peer {
  return {
    name: `tfjs-${backend}`,
    async prepare(w: Workload, batches: Batches): Promise<Step | { skip: string }> {
      const reason = skip.get(w.name);
      if (reason !== undefined) return { skip: reason };
      if (!(await tf.setBackend(backend))) return { skip: `the ${backend} backend did not initialise` };
      await tf.ready();
      const model = new TfNet(w, backend === 'wasm');
      const inputs = batches.images.map((data) => tf.tidy(() => tf.transpose(tf.tensor4d(data, batches.shape), [0, 2, 3, 1])));
      const labels = batches.labels.map((l) => tf.oneHot(tf.tensor1d(l, 'int32'), 10));
      let next = 0;
      const dispose = (): void => {
        model.dispose();
        tf.dispose([...inputs, ...labels]);
      };
      const pick = (): number => next++ % inputs.length;
      if (w.kind === 'infer') {
        return {
          run: () => {
            const y = tf.tidy(() => model.forward(inputs[pick()] as tf.Tensor4D));
            y.dataSync();
            y.dispose();
          },
          dispose,
        };
      }
      if (w.kind === 'fwdbwd') {
        const x = inputs[0] as tf.Tensor4D;
        return {
          run: () => {
            // Gradients of sum(y) with respect to the input and every weight: dy = 1, as convstack's run.
            const { value, grads } = tf.variableGrads(() => tf.sum(model.forward(x, (t) => tf.variable(t))) as tf.Scalar);
            const all = Object.values(grads);
            all.forEach((g) => g.dataSync());
            tf.dispose([value, ...all]);
          },
          dispose,
        };
      }
      const optimizer = tf.train.momentum(SGD.lr, SGD.momentum);
      return {
        run: () => {
          const i = pick();
          const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels[i] as tf.Tensor, model.forward(inputs[i] as tf.Tensor4D)) as tf.Scalar, true);
          loss?.dataSync();
          loss?.dispose();
        },
        dispose: () => {
          optimizer.dispose();
          dispose();
        },
      };
    },
  };
}

/** A NetSpec as tfjs ops over variables holding convstack's initial weights (NHWC, HWIO filters). */
class TfNet {
  private readonly weights = new Map<string, tf.Variable>();
  private readonly nodes: readonly NodeSpec[];

  constructor(w: Workload, private readonly inputGrad: boolean) {
    this.nodes = w.spec.nodes;
    const net = new Net(w.spec, { seed: 1 });
    for (const [name, p] of net.params) {
      const t = tf.tensor(p.value.data as Float32Array, [...p.value.shape]);
      // Filters (O, C, KH, KW) -> (KH, KW, C, O); FC weights stay (M, K) and are multiplied transposed.
      const value = p.value.shape.length === 4 ? tf.transpose(t, [2, 3, 1, 0]) : t;
      this.weights.set(name, tf.variable(value, p.trainable));
      tf.dispose([t, value]);
    }
  }

  private param(node: NodeSpec, name: string): tf.Tensor {
    const t = this.weights.get(`${node.name}.${name}`);
    if (t === undefined) throw new Error(`no parameter ${node.name}.${name}`);
    return t;
  }

  /** The net's output for x (N, H, W, C); `watch` wraps the input when its gradient is wanted. */
  forward(x: tf.Tensor4D, watch?: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
    const values = new Map<string, tf.Tensor>([[INPUT_NODE, watch !== undefined && this.inputGrad ? watch(x) : x]]);
    let out: tf.Tensor = x;
    for (const node of this.nodes) {
      const inputs = node.inputs.map((name) => values.get(name) as tf.Tensor);
      out = this.apply(node, inputs);
      values.set(node.name, out);
    }
    return out;
  }

  private apply(node: NodeSpec, inputs: tf.Tensor[]): tf.Tensor {
    const x = inputs[0] as tf.Tensor4D;
    switch (node.op) {
      case 'conv': {
        const a = node.attrs;
        if (a.groups !== 1) throw new Error('tfjs has no grouped convolution');
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [a.padding[0], a.padding[0]], [a.padding[1], a.padding[1]], [0, 0]];
        const y = tf.conv2d(x, this.param(node, 'weight') as tf.Tensor4D, [a.stride[0], a.stride[1]], pad);
        return a.bias ? tf.add(y, this.param(node, 'bias')) : y;
      }
      case 'relu':
        return tf.relu(x);
      case 'maxpool':
      case 'avgpool': {
        const a = node.attrs;
        const pad = a.padding[0] === 0 ? 'valid' : a.padding[0];
        const pool = node.op === 'maxpool' ? tf.maxPool : tf.avgPool;
        return pool(x, [a.kernel[0], a.kernel[1]], [a.stride[0], a.stride[1]], pad);
      }
      case 'globalavgpool':
        return tf.mean(x, [1, 2], true);
      case 'fc': {
        const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
        const y = tf.matMul(flat, this.param(node, 'weight') as tf.Tensor2D, false, true);
        return node.attrs.bias ? tf.add(y, this.param(node, 'bias')) : y;
      }
      case 'bn':
        return tf.batchNorm(x, this.param(node, 'running_mean'), this.param(node, 'running_var'), this.param(node, 'bias'), this.param(node, 'weight'), node.attrs.eps);
      case 'add':
        return tf.add(x, inputs[1] as tf.Tensor);
      case 'concat':
        return tf.concat(inputs, 3);
      case 'dropout':
        return x;
      case 'flatten':
        return tf.reshape(x, [x.shape[0], -1]);
      case 'softmax':
        return tf.softmax(x);
      case 'lrn': {
        const a = node.attrs;
        return tf.localResponseNormalization(x, (a.size - 1) / 2, a.k, a.alpha / a.size, a.beta);
      }
      default:
        throw new Error(`the tfjs peer has no '${node.op}' layer`);
    }
  }

  dispose(): void {
    tf.dispose([...this.weights.values()]);
  }
}
