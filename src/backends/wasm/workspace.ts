import type { KernelCall, WorkspaceBuffer, WorkspaceLifetime, WorkspaceModel } from '../../graph/workspace.js';
import type { Fusions } from '../../graph/schedule.js';
import type { Conv2dAttrs } from '../../ops/conv2d.js';
import { float64Workspace } from '../reference/workspace.js';
import { sizeOf, type Shape } from '../../tensor/shape.js';
import { col2imWorkspaceBytes, flippedGeometry, forwardTiling, fullyConnected, geometry, gradInputByFlip, gradWeightTiling } from './conv.js';
import type { ConvGeometry } from '../conv_geometry.js';
import { forwardTransposed, gemmTiling } from './linear.js';
import { workspaceStride } from './runtime.js';

/**
 * The wasm backend's kernel scratch for the memory estimate, in the order its kernels allocate it:
 * each thread's tile area (`rt.workspacePerThread`, allocated per call and sized by the same tiling
 * functions the kernels call), the flipped filters of a stride-1 conv2dGradInput, the max-pool
 * indices (none for maxPool2dValues), batch norm's f64 eps and per-channel scale and shift. Every buffer is freed when its
 * kernel returns. Float64 calls run on the reference kernels, so they take the reference's scratch.
 * NOTE: the estimate assumes the kernels' inputs are in wasm memory (the net's tensors and a batch
 * made on the backend's allocator); a heap tensor would add a copy of itself for each call.
 */

const FLOAT32 = 4;

/** `bytes` for each of `threads` threads, a whole number of cache lines apart, as `workspacePerThread` allocates it. */
function perThread(bytes: number, threads: number, lifetime: WorkspaceLifetime): WorkspaceBuffer {
  return { bytes: workspaceStride(bytes) * threads, lifetime, bytesPerValue: FLOAT32 };
}

function scratch(bytes: number, lifetime: WorkspaceLifetime): WorkspaceBuffer {
  return { bytes, lifetime, bytesPerValue: FLOAT32 };
}

/** The convolution of a call: x is the op's input, the weights follow from its attrs. */
function convGeometry(call: KernelCall): ConvGeometry {
  const x = call.inputs[0] as Shape;
  const attrs = call.attrs as Conv2dAttrs;
  return geometry(x, [attrs.outChannels, (x[1] as number) / attrs.groups, attrs.kernel[0], attrs.kernel[1]], attrs);
}

/** The tile area of an (M x N) product, allocated after the product's output. */
function gemm(m: number, n: number, threads: number): WorkspaceBuffer[] {
  return [perThread(gemmTiling(m, n, threads).workspaceBytes, threads, 'afterOutput')];
}

/** FC's (N, K, M): images, input features and output features. */
function fcDims(call: KernelCall): [number, number, number] {
  const [n, ...perImage] = call.inputs[0] as Shape;
  const [, m] = call.output as [number, number];
  return [n as number, sizeOf(perImage), m];
}

function convForward(call: KernelCall, threads: number): WorkspaceBuffer[] {
  const g = convGeometry(call);
  if (fullyConnected(g)) return linearForward(g.n, g.o, threads);
  return [perThread(forwardTiling(g, threads).workspaceBytes, threads, 'afterOutput')];
}

function linearForward(n: number, m: number, threads: number): WorkspaceBuffer[] {
  return forwardTransposed(n) ? gemm(m, n, threads) : gemm(n, m, threads);
}

function convGradInput(call: KernelCall, threads: number): WorkspaceBuffer[] {
  const g = convGeometry(call);
  // linearGradInput: dx (N, K) = dy (N, O) . W (O, K).
  if (fullyConnected(g)) return gemm(g.n, g.c * g.h * g.w, threads);
  if (gradInputByFlip(g)) {
    const flipped = scratch(sizeOf([g.o, g.c / g.groups, g.kh, g.kw]) * FLOAT32, 'beforeOutput');
    return [flipped, perThread(forwardTiling(flippedGeometry(g), threads).workspaceBytes, threads, 'afterOutput')];
  }
  return [perThread(col2imWorkspaceBytes(g), threads, 'beforeOutput')];
}

function convGradWeight(call: KernelCall, threads: number): WorkspaceBuffer[] {
  const g = convGeometry(call);
  // linearGradWeight: dW (O, K) = dy^T (O, N) . x (N, K).
  if (fullyConnected(g)) return gemm(g.o, g.c * g.h * g.w, threads);
  return [perThread(gradWeightTiling(g, threads).workspaceBytes, threads, 'afterOutput')];
}

/** The scratch of the wasm backend's kernels on `threads` threads (its `threads` property). */
export function wasmWorkspace(threads: number): WorkspaceModel {
  return {
    workspace(kernel, call) {
      if (call.dtype === 'float64') return float64Workspace(kernel, call);
      switch (kernel) {
        case 'conv2d':
        case 'conv2dRelu':
        case 'conv2dAffine':
          // conv2dAffine over a whole input scales its linear output in place: no more scratch.
          return convForward(call, threads);
        case 'conv2dGradInput':
          return convGradInput(call, threads);
        case 'conv2dGradWeight':
          return convGradWeight(call, threads);
        case 'linear': {
          const [n, , m] = fcDims(call);
          return linearForward(n, m, threads);
        }
        case 'linearGradInput': {
          const [n, k] = fcDims(call);
          return gemm(n, k, threads);
        }
        case 'linearGradWeight': {
          const [, k, m] = fcDims(call);
          return gemm(m, k, threads);
        }
        case 'maxPool2d':
          // The indices, computed in wasm memory, then copied out to the op's Int32Array.
          return [scratch(sizeOf(call.output) * 4, 'afterOutput')];
        case 'maxPool2dValues':
          // No indices.
          return [];
        case 'maxPool2dGrad':
          // The indices, copied in.
          return [scratch(sizeOf(call.output) * 4, 'afterOutput')];
        case 'batchNormTrain':
          // eps as an f64.
          return [scratch(8, 'afterOutput')];
        case 'batchNormInfer':
          // One f32 scale and one f32 shift per channel.
          return [scratch(((call.inputs[0] as Shape)[1] as number) * 8, 'afterOutput')];
        default:
          // Element-wise, pooling and batch norm gradients in wasm, and the reference kernels the
          // backend falls back to (LRN, softmax, concat, masks), allocate only their outputs.
          return [];
      }
    },
  };
}

/** The fused kernels the wasm backend has, for the schedule. */
export const WASM_FUSIONS: Fusions = { conv2dRelu: true, conv2dAffine: true, maxPool2dValues: true };
