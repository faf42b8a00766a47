/**
 * Times the native backend's conv2dRelu on every conv shape of VGG-16 and ResNet-18 at batch 1
 * (median of repeats, ms and GFLOP/s), to see which layers hold batch-1 inference back.
 * `npx tsx bench/conv_layers.ts [--threads N] [--repeats R]`
 */
import { performance } from 'node:perf_hooks';
import { createNativeBackend } from '../src/backends/native/index.js';
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const threads = flag('--threads', 2);
const repeats = flag('--repeats', 9);
const backend = await createNativeBackend({ threads });
const totals = new Map<string, number>();
for (const s of [...RESNET18, ...VGG16]) {
  const x = Tensor.from([1, s.c, s.hw, s.hw], Float32Array.from({ length: s.c * s.hw * s.hw }, (_, i) => ((i * 7919) % 97) / 97 - 0.5), 'float32', backend.allocator);
  const w = Tensor.from([s.o, s.c, s.k, s.k], Float32Array.from({ length: s.o * s.c * s.k * s.k }, (_, i) => ((i * 104729) % 89) / 890 - 0.05), 'float32', backend.allocator);
  const b = Tensor.zeros([s.o], 'float32', backend.allocator);
  const attrs = { outChannels: s.o, groups: 1, bias: true, kernel: [s.k, s.k], stride: [s.stride, s.stride], padding: [s.pad, s.pad], rounding: 'floor' } as const;
  const oh = Math.floor((s.hw + 2 * s.pad - s.k) / s.stride) + 1;
  const flops = 2 * s.o * oh * oh * s.c * s.k * s.k;
  backend.conv2dRelu(x, w, b, attrs);
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    backend.conv2dRelu(x, w, b, attrs);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  totals.set(s.net, (totals.get(s.net) ?? 0) + ms * s.count);
  const name = `${s.net} ${s.c}->${s.o} ${s.hw}x${s.hw} k${s.k}s${s.stride}`;
  console.log(`${name.padEnd(36)} x${s.count}  ${ms.toFixed(3).padStart(8)} ms  ${(flops / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s`);
}
for (const [net, ms] of totals) console.log(`${net} conv total ${ms.toFixed(2)} ms`);
