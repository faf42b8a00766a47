import type { Backend, KernelName } from './backend.js';
import { createReferenceBackend, referenceBackend } from './reference/index.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * What a fast backend brings: its name, allocator and `dispose`, the kernels it implements for
 * float32 tensors, and any properties of its own (the wasm backend's `threads`).
 */
export type PartialBackend = Omit<Backend, KernelName> & Partial<Pick<Backend, KernelName>>;

/** A backend completed by the reference one, with where each kernel runs. */
export type WithFallback<B extends PartialBackend> = B &
  Backend & {
    /** Each kernel of the contract: the fast backend's name, or 'reference' where it falls back. */
    readonly placement: Readonly<Record<KernelName, string>>;
  };

/** Every kernel of the contract, in the reference backend's order. */
export const KERNEL_NAMES: readonly KernelName[] = Object.keys(referenceBackend).filter(
  (key): key is KernelName => typeof referenceBackend[key as keyof Backend] === 'function' && key !== 'dispose',
);

function hasFloat64(arg: unknown): boolean {
  if (arg instanceof Tensor) return arg.dtype === 'float64';
  return Array.isArray(arg) && arg.some(hasFloat64);
}

type Kernel = (...args: unknown[]) => unknown;

/**
 * Completes a fast backend with the reference one: a kernel it lacks runs on the reference backend,
 * and so does every call with a float64 tensor (fast kernels are float32; float64 is for gradient
 * checks, where the reference is the truth). The fused conv2dRelu and conv2dAffine on float64 run as
 * the reference's conv2d with the rest applied in place, maxPool2dValues as the reference's maxPool2d. The reference kernels allocate through the fast backend's
 * allocator. Everything else (name, allocator, dispose, the backend's own properties) is the fast
 * backend's.
 * NOTE: the result delegates to `fast` through its prototype rather than copying it, so getters and
 * class methods keep working; spread it (`{ ...backend }`) and only the kernels come along.
 */
export function withReferenceFallback<B extends PartialBackend>(fast: B): WithFallback<B> {
  // The fallback kernels allocate in the fast backend's memory, counted by its tracker.
  const ref = createReferenceBackend(fast.allocator);
  const placement = {} as Record<KernelName, string>;
  const kernels = {} as Record<KernelName, Kernel>;
  for (const name of KERNEL_NAMES) {
    const slow = ref[name] as Kernel;
    const quick = fast[name] as Kernel | undefined;
    placement[name] = quick === undefined ? ref.name : fast.name;
    kernels[name] = quick === undefined ? slow : (...args) => (args.some(hasFloat64) ? slow(...args) : quick.apply(fast, args));
  }
  const fused = fast.conv2dRelu;
  const conv2dRelu: Backend['conv2dRelu'] =
    fused === undefined
      ? undefined
      : (x, weight, bias, attrs) => {
          if (!hasFloat64([x, weight, bias])) return fused.call(fast, x, weight, bias, attrs);
          // The ReLU in place (as reference/relu.ts computes it, NaN kept): the fused kernel then
          // holds what the reference conv2d holds, no second buffer (wasm/workspace.ts relies on it).
          const y = ref.conv2d(x, weight, bias, attrs);
          for (let i = 0; i < y.size; i++) if ((y.data[i] as number) < 0) y.data[i] = 0;
          return y;
        };
  const affine = fast.conv2dAffine;
  const conv2dAffine: Backend['conv2dAffine'] =
    affine === undefined
      ? undefined
      : (x, weight, scale, shift, attrs, relu, residual = null) => {
          if (!hasFloat64([x, weight, scale, shift, residual])) return affine.call(fast, x, weight, scale, shift, attrs, relu, residual);
          const y = ref.conv2d(x, weight, null, attrs);
          scaleChannelsInPlace(y, scale, shift, relu, residual);
          return y;
        };
  const values = fast.maxPool2dValues;
  const maxPool2dValues: Backend['maxPool2dValues'] =
    values === undefined ? undefined : (x, attrs) => (hasFloat64(x) ? ref.maxPool2d(x, attrs).y : values.call(fast, x, attrs));
  const fusedKernels = {
    ...(conv2dRelu === undefined ? {} : { conv2dRelu }),
    ...(conv2dAffine === undefined ? {} : { conv2dAffine }),
    ...(maxPool2dValues === undefined ? {} : { maxPool2dValues }),
  };
  return Object.assign(Object.create(fast) as B, { ...kernels, ...fusedKernels, placement }) as WithFallback<B>;
}

/** y (N, C, ...) = y * scale[c] + shift[c], ReLU'd when `relu` (NaN kept, as reference/relu.ts keeps it). */
export function scaleChannelsInPlace(y: Tensor, scale: Tensor, shift: Tensor, relu: boolean, residual: Tensor | null = null): void {
  const channels = y.shape[1] ?? 1;
  const plane = y.size / ((y.shape[0] ?? 1) * channels);
  for (let i = 0; i < y.size; i++) {
    const c = Math.floor(i / plane) % channels;
    const v = (y.data[i] as number) * (scale.data[c] as number) + (shift.data[c] as number) + ((residual?.data[i] as number | undefined) ?? 0);
    y.data[i] = relu && v < 0 ? 0 : v;
  }
}

/** True for a backend made by `withReferenceFallback`: its float64 calls run on the reference kernels. */
export function hasReferenceFallback(backend: Backend): backend is WithFallback<PartialBackend> {
  return 'placement' in backend;
}

/** Where each kernel of `backend` runs: its placement if it has one, else all on itself. */
export function placementOf(backend: Backend): Readonly<Record<KernelName, string>> {
  if (hasReferenceFallback(backend)) return backend.placement;
  return Object.fromEntries(KERNEL_NAMES.map((name) => [name, backend.name])) as Record<KernelName, string>;
}

/** The placement as text, one kernel a line, under a line naming the backend: what `--debug-backend` prints. */
export function formatPlacement(backend: Backend): string {
  const title = `${backend.name} backend${backend.details === undefined ? '' : `: ${backend.details}`}`;
  const lines = Object.entries(placementOf(backend)).map(([name, where]) => `  ${name.padEnd(18)} ${where}`);
  return [title, ...lines].join('\n');
}

/** The optional kernels of the contract, which `kernelOf` completes with the reference ones. */
export type OptionalKernel = 'adaptiveAvgPool2d' | 'adaptiveAvgPool2dGrad' | 'maxPool2dDilated';

/**
 * `backend`'s own `kernel`, or the reference backend's allocating through `backend`'s allocator:
 * how an op calls an optional kernel, so that no backend has to implement it.
 */
export function kernelOf<K extends OptionalKernel>(backend: Backend, kernel: K): NonNullable<Backend[K]> {
  const own = backend[kernel];
  if (own !== undefined) return own.bind(backend) as NonNullable<Backend[K]>;
  return createReferenceBackend(backend.allocator)[kernel] as NonNullable<Backend[K]>;
}
