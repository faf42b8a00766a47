import convnetjs from 'convnetjs';
import type { NetSpec } from '../../src/net/spec.js';
import type { Batches } from '../data.js';
import type { Step } from '../measure.js';
import type { Workload } from '../workloads.js';
import { SGD, type Peer } from './peer.js';

/**
 * ConvNetJS 0.3.0: one image at a time in float64 Vols (HWC), its own SGD trainer with momentum.
 * NOTE: ConvNetJS pools by maximum only, so LeNet's average pooling becomes max pooling here;
 * it has no batch norm, and the big inference nets would take minutes, so it runs W1, W4 and W5.
 */
export function convnetjsPeer(): Peer {
  return {
    name: 'convnetjs',
    async prepare(w: Workload, batches: Batches): Promise<Step | { skip: string }> {
      if (w.name.startsWith('W2') || w.name.startsWith('W3')) return { skip: 'a training peer: no batch norm, and minutes per inference' };
      const net = new convnetjs.Net();
      net.makeLayers(layerDefs(w.spec));
      const vols = batches.images.map((data) => toVols(data, batches.shape));
      let next = 0;
      const batch = (): number => next++ % vols.length;
      if (w.kind === 'infer') {
        return { run: () => (vols[batch()] as convnetjs.Vol[]).forEach((v) => net.forward(v, false)) };
      }
      if (w.kind === 'fwdbwd') {
        // One conv layer: its backward from dy = 1 gives the input and filter gradients.
        const conv = net.layers[1] as convnetjs.Layer;
        return {
          run: () => {
            for (const v of vols[batch()] as convnetjs.Vol[]) {
              const y = conv.forward(v, true);
              y.dw.fill(1);
              conv.backward();
            }
          },
        };
      }
      const trainer = new convnetjs.SGDTrainer(net, { method: 'sgd', learning_rate: SGD.lr, momentum: SGD.momentum, batch_size: w.batch, l2_decay: 0 });
      return {
        run: () => {
          const b = batch();
          const labels = batches.labels[b] as Int32Array;
          (vols[b] as convnetjs.Vol[]).forEach((v, i) => trainer.train(v, labels[i] as number));
        },
      };
    },
  };
}

function toVols(data: Float32Array, [n, c, h, w]: readonly number[]): convnetjs.Vol[] {
  const vols: convnetjs.Vol[] = [];
  for (let i = 0; i < (n as number); i++) {
    const v = new convnetjs.Vol(w as number, h as number, c as number, 0);
    for (let ch = 0; ch < (c as number); ch++) {
      for (let y = 0; y < (h as number); y++) {
        for (let x = 0; x < (w as number); x++) {
          v.w[(y * (w as number) + x) * (c as number) + ch] = data[((i * (c as number) + ch) * (h as number) + y) * (w as number) + x] as number;
        }
      }
    }
    vols.push(v);
  }
  return vols;
}

/** The spec as ConvNetJS layers; a final FC becomes its softmax layer (which brings its own FC). */
function layerDefs(spec: NetSpec): convnetjs.LayerDef[] {
  const [c, h, w] = spec.input as [number, number, number];
  const defs: convnetjs.LayerDef[] = [{ type: 'input', out_sx: w, out_sy: h, out_depth: c }];
  spec.nodes.forEach((node, i) => {
    const last = i === spec.nodes.length - 1;
    switch (node.op) {
      case 'conv':
        defs.push({ type: 'conv', sx: node.attrs.kernel[0], filters: node.attrs.outChannels, stride: node.attrs.stride[0], pad: node.attrs.padding[0] });
        return;
      case 'relu':
        defs.push({ type: 'relu' });
        return;
      case 'maxpool':
      case 'avgpool':
        defs.push({ type: 'pool', sx: node.attrs.kernel[0], stride: node.attrs.stride[0], pad: node.attrs.padding[0] });
        return;
      case 'fc':
        defs.push(last ? { type: 'softmax', num_classes: node.attrs.outFeatures } : { type: 'fc', num_neurons: node.attrs.outFeatures });
        return;
      default:
        throw new Error(`ConvNetJS has no ${node.op} layer`);
    }
  });
  return defs;
}
