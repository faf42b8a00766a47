import { openBackend } from '../src/backends/registry.js';
import { KERNEL_NAMES } from '../src/backends/fallback.js';
import type { Backend } from '../src/backends/backend.js';
import { Net } from '../src/net/net.js';
import { Tensor } from '../src/tensor/tensor.js';
import { workloads } from './workloads.js';
const name = process.argv[2] ?? 'W2 resnet18 b1';
const threads = Number(process.argv[3] ?? 2);
const w = workloads().find((x) => x.name.startsWith(name))!;
const backend: Backend = await openBackend('native', { threads });
const ms = new Map<string, number>(); const calls = new Map<string, number>();
const target = backend as unknown as Record<string, unknown>;
let depth = 0;
for (const k of [...KERNEL_NAMES, 'conv2dRelu']) {
  const f = target[k]; if (typeof f !== 'function') continue;
  target[k] = (...a: unknown[]) => { if (depth++ > 0) { try { return f.apply(backend, a); } finally { depth--; } } const t0 = performance.now(); try { return f.apply(backend, a); } finally { depth--; ms.set(k, (ms.get(k) ?? 0) + performance.now() - t0); calls.set(k, (calls.get(k) ?? 0) + 1); } };
}
const net = new Net(w.spec, { seed: 1, backend });
const x = Tensor.from([w.batch, ...w.spec.input.slice(0)] as number[], new Float32Array(w.batch * w.spec.input.reduce((a: number, b: number) => a * b, 1)).map((_, i) => (i % 13) / 13), 'float32', backend.allocator);
for (let i = 0; i < 5; i++) net.forward(x).dispose();
ms.clear(); calls.clear();
const N = 20; let total = Infinity; const totals: number[] = [];
for (let i = 0; i < N; i++) { const t0 = performance.now(); net.forward(x).dispose(); totals.push(performance.now() - t0); }
totals.sort((a, b) => a - b);
console.log(`${w.name}: median ${totals[N >> 1]!.toFixed(2)} ms, best ${totals[0]!.toFixed(2)}`);
let inK = 0; for (const v of ms.values()) inK += v / N;
console.log(`in kernels ${inK.toFixed(2)} ms/forward (mean)`);
for (const [k, v] of [...ms].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(20)} ${(v / N).toFixed(3)} ms  ${(calls.get(k)! / N)} calls`);
