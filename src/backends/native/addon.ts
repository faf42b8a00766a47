import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The native addon (native/src/addon.c, built by tools/build_native.mjs into native/build/) as
 * TypeScript sees it. Tensors go in as Float32Arrays whose memory the kernels use in place;
 * geometry as integers. Conv and GEMM kernels return the workspace bytes the call used.
 */

/** A backend instance's threads and workspace, made by `createContext`. */
export type NativeContext = { readonly __brand: 'NativeContext' };
/** A float32 tensor's data, or null where the kernel takes an optional tensor. */
type F32 = Float32Array;
type Maybe = Float32Array | null;

/** The addon's exports. */
export interface NativeAddon {
  /** A context of `threads` threads; kernels below `serialBelow` work run on the calling thread; `kernel` forces a micro-kernel. */
  createContext(threads: number, serialBelow: number, kernel: NativeKernelChoice): NativeContext;
  /** The micro-kernel a context runs, e.g. `avx512 8x32`. */
  contextKernel(ctx: NativeContext): string;
  /** An ArrayBuffer of `bytes` over 64-byte-aligned C memory, freed when collected. */
  alloc(bytes: number): ArrayBuffer;
  /** y = conv(x, w) * scale + bias per filter (ReLU'd when relu = 1); geometry: n c h w o oh ow kh kw sh sw ph pw groups. */
  conv2d(ctx: NativeContext, x: F32, w: F32, scale: Maybe, bias: Maybe, residual: Maybe, y: F32, relu: number, ...geometry: number[]): number;
  /** dx from dy and w, same geometry. */
  conv2dGradInput(ctx: NativeContext, dy: F32, w: F32, dx: F32, ...geometry: number[]): number;
  /** dw from x and dy, same geometry. */
  conv2dGradWeight(ctx: NativeContext, x: F32, dy: F32, dw: F32, ...geometry: number[]): number;
  /** y (N, M) = x (N, K) w^T + bias, ReLU'd when relu = 1. */
  linear(ctx: NativeContext, x: F32, w: F32, bias: Maybe, y: F32, n: number, k: number, m: number, relu: number): number;
  /** linearGradInput (weight = 0: dx = dy W) or linearGradWeight (weight = 1: dW = dy^T x). */
  linearGrad(ctx: NativeContext, dy: F32, other: F32, out: F32, n: number, k: number, m: number, weight: number): number;
  /** y and argmax; pool: planes h w oh ow kh kw sh sw ph pw includePad. */
  maxPool(ctx: NativeContext, x: F32, y: F32, argmax: Int32Array | null, ...pool: number[]): void;
  /** dx: each dy value added at its argmax, plane by plane. */
  maxPoolGrad(ctx: NativeContext, dy: F32, argmax: Int32Array, dx: F32, planes: number, plane: number, outPerPlane: number): void;
  /** avgPool (grad = 0) or avgPoolGrad (grad = 1, `input` is dy and `output` dx). */
  avgPool(ctx: NativeContext, input: F32, output: F32, ...poolThenGrad: number[]): void;
  /** op 0: y = relu(a); 1: y = a where b > 0 (reluGrad); 2: y = a + b. */
  elementwise(ctx: NativeContext, op: number, a: F32, b: Maybe, y: F32, n: number): void;
  /** db (C): dy (N, C, rest) summed over N and rest. */
  biasGrad(ctx: NativeContext, dy: F32, db: F32, n: number, c: number, rest: number): void;
  /** SGD in place: w, grad and the momentum buffer (null for plain SGD); keep = 1 - dampening. */
  sgdUpdate(ctx: NativeContext, w: F32, grad: F32, buf: Maybe, n: number, lr: number, weightDecay: number, momentum: number, keep: number, first: number, nesterov: number): void;
  /** sgdUpdate on several parameters: `tensors` is [w, grad, buf | null] per parameter, `first` each one's firstStep (1 or 0). */
  sgdUpdateMany(ctx: NativeContext, tensors: Maybe[], first: Int32Array, lr: number, weightDecay: number, momentum: number, keep: number, nesterov: number): void;
  /** y, mean and invStd of batch-statistics normalisation. */
  batchNormTrain(ctx: NativeContext, x: F32, gamma: F32, beta: F32, y: F32, mean: F32, invStd: F32, eps: number, n: number, c: number, spatial: number): void;
  /** dx, dgamma and dbeta from the forward's mean and invStd. */
  batchNormGrad(ctx: NativeContext, dy: F32, x: F32, gamma: F32, mean: F32, invStd: F32, dx: F32, dgamma: F32, dbeta: F32, n: number, c: number, spatial: number): void;
  /** y with the running statistics. */
  batchNormInfer(ctx: NativeContext, x: F32, gamma: F32, beta: F32, mean: F32, variance: F32, eps: number, y: F32, n: number, c: number, spatial: number): void;
  /** Workspace bytes of a kernel call on ctx's threads: kind 0-2 conv (then 14 geometry integers), 3 GEMM (m, n, k). */
  workspace(ctx: NativeContext, kind: number, ...sizes: number[]): number;
  /** The fp32 FMA peak in GFLOP/s on ctx's threads, from a register-only loop (about 0.1 s). */
  fmaPeak(ctx: NativeContext): number;
  /** The best micro-kernel of this CPU and its features. */
  info(): { kernel: string; features: string };
}

/** Which micro-kernel a context runs: this CPU's best, or a slower path (to test it on a faster CPU). */
export type NativeKernelChoice = 'best' | 'avx2' | 'scalar';

/** The addon, or why it cannot be used here. */
export type AddonStatus = { addon: NativeAddon; reason: null } | { addon: null; reason: string };

/** Where tools/build_native.mjs writes the addon: native/build/ at the package root (from src/ or dist/). */
export const ADDON_PATH = fileURLToPath(new URL('../../../native/build/convstack.node', import.meta.url));

let status: AddonStatus | undefined;

function load(): AddonStatus {
  if (process.env.CONVSTACK_NATIVE === '0') return { addon: null, reason: 'disabled by CONVSTACK_NATIVE=0' };
  if (!existsSync(ADDON_PATH)) return { addon: null, reason: 'the addon was not built at install (no C compiler?); run `npm run build:native`' };
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (error) {
    return { addon: null, reason: `the addon failed to load: ${(error as Error).message.split('\n')[0]}` };
  }
  if (addon.info().kernel.startsWith('portable')) return { addon: null, reason: 'this CPU has neither AVX-512 nor AVX2 with FMA' };
  return { addon, reason: null };
}

/** The addon (loaded once), or the reason it is unavailable: not built, failed to load, or a CPU without AVX2+FMA. */
export function nativeAddon(): AddonStatus {
  status ??= load();
  return status;
}
