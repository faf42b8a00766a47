/**
 * Times the native backend's conv2dRelu on every conv shape of VGG-16 and ResNet-18 at batch 1 beside
 * onnxruntime-node running the same conv + ReLU (our ONNX export of a one-layer net, its weights),
 * in alternating blocks of runs so both see the same machine. Prints the best of the repeats (a shared
 * machine only ever adds time), GFLOP/s and the ratio, to see which layers hold batch-1 inference back.
 * `npx tsx bench/conv_layers.ts [--threads N] [--repeats R] [--only resnet18|vgg16] [--match '512->512 7x7']`
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { createNativeBackend } from '../src/backends/native/index.js';
import { exportOnnx } from '../src/io/onnx/export.js';
import { Net } from '../src/net/net.js';
import { toNetSpec } from '../src/notation/index.js';
import { Tensor } from '../src/tensor/tensor.js';

interface ConvShape {
  net: string;
  c: number;
  hw: number;
  o: number;
  k: number;
  stride: number;
  pad: number;
  count: number;
}

const VGG16: ConvShape[] = [
  [3, 224, 64, 1], [64, 224, 64, 1], [64, 112, 128, 1], [128, 112, 128, 1], [128, 56, 256, 1], [256, 56, 256, 2],
  [256, 28, 512, 1], [512, 28, 512, 2], [512, 14, 512, 3],
].map(([c, hw, o, count]) => ({ net: 'vgg16', c: c!, hw: hw!, o: o!, k: 3, stride: 1, pad: 1, count: count! }));

const RESNET18: ConvShape[] = [
  { c: 3, hw: 224, o: 64, k: 7, stride: 2, pad: 3, count: 1 },
  { c: 64, hw: 56, o: 64, k: 3, stride: 1, pad: 1, count: 4 },
  { c: 64, hw: 56, o: 128, k: 3, stride: 2, pad: 1, count: 1 },
  { c: 64, hw: 56, o: 128, k: 1, stride: 2, pad: 0, count: 1 },
  { c: 128, hw: 28, o: 128, k: 3, stride: 1, pad: 1, count: 3 },
  { c: 128, hw: 28, o: 256, k: 3, stride: 2, pad: 1, count: 1 },
  { c: 128, hw: 28, o: 256, k: 1, stride: 2, pad: 0, count: 1 },
  { c: 256, hw: 14, o: 256, k: 3, stride: 1, pad: 1, count: 3 },
  { c: 256, hw: 14, o: 512, k: 3, stride: 2, pad: 1, count: 1 },
  { c: 256, hw: 14, o: 512, k: 1, stride: 2, pad: 0, count: 1 },
  { c: 512, hw: 7, o: 512, k: 3, stride: 1, pad: 1, count: 3 },
].map((s) => ({ net: 'resnet18', ...s }));

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

const threads = flag('--threads', 2);
const repeats = flag('--repeats', 15);
const BLOCK = 5;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const match = process.argv.includes('--match') ? process.argv[process.argv.indexOf('--match') + 1] : undefined;
const layerName = (s: ConvShape): string => `${s.net} ${s.c}->${s.o} ${s.hw}x${s.hw} k${s.k}s${s.stride}`;
const backend = await createNativeBackend({ threads });

/** onnxruntime-node's session for the layer: the conv and its ReLU as one net, exported by convstack. */
async function onnxSession(s: ConvShape, w: Float32Array, b: Float32Array): Promise<ort.InferenceSession> {
  const net = new Net(toNetSpec(`INPUT[${s.hw}x${s.hw}x${s.c}] -> CONV${s.k}-${s.o}(s=${s.stride}, p=${s.pad}, floor) -> RELU`), { seed: 1 });
  const [weight, bias] = net.trainableParams();
  weight!.value.data.set(w);
  bias!.value.data.set(b);
  return ort.InferenceSession.create(exportOnnx(net, { batch: 1, producer: 'convstack bench' }), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

const totals = new Map<string, { ours: number; ort: number }>();
for (const s of [...RESNET18, ...VGG16].filter((shape) => (only === undefined || shape.net === only) && (match === undefined || layerName(shape).includes(match)))) {
  const xs = Float32Array.from({ length: s.c * s.hw * s.hw }, (_, i) => ((i * 7919) % 97) / 97 - 0.5);
  const ws = Float32Array.from({ length: s.o * s.c * s.k * s.k }, (_, i) => ((i * 104729) % 89) / 890 - 0.05);
  const bs = new Float32Array(s.o);
  const x = Tensor.from([1, s.c, s.hw, s.hw], xs, 'float32', backend.allocator);
  const w = Tensor.from([s.o, s.c, s.k, s.k], ws, 'float32', backend.allocator);
  const b = Tensor.from([s.o], bs, 'float32', backend.allocator);
  const attrs = { outChannels: s.o, groups: 1, bias: true, kernel: [s.k, s.k], stride: [s.stride, s.stride], padding: [s.pad, s.pad], rounding: 'floor' } as const;
  const session = await onnxSession(s, ws, bs);
  const feeds = { input: new ort.Tensor('float32', xs, [1, s.c, s.hw, s.hw]) };
  const oh = Math.floor((s.hw + 2 * s.pad - s.k) / s.stride) + 1;
  const flops = 2 * s.o * oh * oh * s.c * s.k * s.k;
  let ours = Infinity;
  let theirs = Infinity;
  // Blocks of runs, not alternate runs: the other runtime's threads spin for a while after each call,
  // on the cores the next call wants. The first runs of each block are its warm-up.
  for (let block = 0; block < Math.ceil(repeats / BLOCK); block++) {
    for (let r = -2; r < BLOCK; r++) {
      const t0 = performance.now();
      backend.conv2dRelu(x, w, b, attrs).dispose();
      if (r >= 0) ours = Math.min(ours, performance.now() - t0);
    }
    for (let r = -2; r < BLOCK; r++) {
      const t0 = performance.now();
      const outputs = await session.run(feeds);
      if (r >= 0) theirs = Math.min(theirs, performance.now() - t0);
      Object.values(outputs).forEach((t) => t.dispose());
    }
  }
  await session.release();
  const total = totals.get(s.net) ?? { ours: 0, ort: 0 };
  totals.set(s.net, { ours: total.ours + ours * s.count, ort: total.ort + theirs * s.count });
  const name = layerName(s);
  const rate = (ms: number) => (flops / ms / 1e6).toFixed(1).padStart(6);
  console.log(`${name.padEnd(34)} x${s.count}  native ${ours.toFixed(3).padStart(7)} ms ${rate(ours)} GFLOP/s  onnxruntime ${theirs.toFixed(3).padStart(7)} ms ${rate(theirs)} GFLOP/s  ${(ours / theirs).toFixed(2)}x`);
}
for (const [net, t] of totals) console.log(`${net} conv total: native ${t.ours.toFixed(2)} ms, onnxruntime ${t.ort.toFixed(2)} ms, ${(t.ours / t.ort).toFixed(2)}x`);
