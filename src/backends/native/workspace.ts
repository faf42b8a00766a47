import type { Fusions } from '../../graph/schedule.js';
import type { KernelCall, WorkspaceBuffer, WorkspaceModel } from '../../graph/workspace.js';
import type { Conv2dAttrs } from '../../ops/attrs.js';
import { sizeOf, type Shape } from '../../tensor/shape.js';
import { convGeometry, type ConvGeometry } from '../conv_geometry.js';
import { float64Workspace } from '../reference/workspace.js';
import { nativeAddon, type NativeAddon, type NativeContext } from './addon.js';
import { fullyConnected, geometryArgs } from './conv.js';

/**
 * The native backend's kernel workspace for the memory estimate. The addon computes each call's
 * bytes with the same functions its kernels size their workspace by (`workspace` in addon.c), so
 * the estimate is the tracker's measured peak to the byte. The backend shows a call's workspace to
 * its tracker while the call runs (runtime.ts `used`), after the call's outputs: `afterOutput`.
 * Float64 calls run on the reference kernels, so they take the reference's scratch.
 */

const CONV_FORWARD = 0;
const CONV_GRAD_INPUT = 1;
const CONV_GRAD_WEIGHT = 2;
const GEMM = 3;
const LINEAR_FORWARD = 4;

function scratch(bytes: number): WorkspaceBuffer[] {
  return bytes === 0 ? [] : [{ bytes, lifetime: 'afterOutput', bytesPerValue: 4 }];
}

/** The convolution of a call: x is the op's input, the weights follow from its attrs. */
function geometryOf(call: KernelCall): ConvGeometry {
  const x = call.inputs[0] as Shape;
  const attrs = call.attrs as Conv2dAttrs;
  return convGeometry(x, [attrs.outChannels, (x[1] as number) / attrs.groups, attrs.kernel[0], attrs.kernel[1]], attrs);
}

/** FC's (N, K, M): images, input features and output features. */
function fcDims(call: KernelCall): [number, number, number] {
  const [n, ...perImage] = call.inputs[0] as Shape;
  const m = (call.output as Shape)[1] as number;
  return [n as number, sizeOf(perImage), m];
}

function convBytes(addon: NativeAddon, ctx: NativeContext, kernel: string, g: ConvGeometry): number {
  const k = g.c * g.h * g.w;
  switch (kernel) {
    case 'conv2dGradInput':
      // A whole-input window runs as linearGradInput: dx (N, K) = dy (N, O) . W (O, K).
      return fullyConnected(g) ? addon.workspace(ctx, GEMM, g.n, k, g.o) : addon.workspace(ctx, CONV_GRAD_INPUT, ...geometryArgs(g));
    case 'conv2dGradWeight':
      // ... and linearGradWeight: dW (O, K) = dy^T (O, N) . x (N, K).
      return fullyConnected(g) ? addon.workspace(ctx, GEMM, g.o, k, g.n) : addon.workspace(ctx, CONV_GRAD_WEIGHT, ...geometryArgs(g));
    default:
      return fullyConnected(g) ? addon.workspace(ctx, LINEAR_FORWARD, g.n, k, g.o) : addon.workspace(ctx, CONV_FORWARD, ...geometryArgs(g));
  }
}

/** The workspace of the native backend's kernels on `threads` threads (its `threads` property); throws where the addon is unavailable. */
export function nativeWorkspace(threads: number): WorkspaceModel {
  const { addon, reason } = nativeAddon();
  if (addon === null) throw new Error(`the native backend is not available: ${reason}`);
  const ctx = addon.createContext(threads, 0, 'best');
  return {
    workspace(kernel, call) {
      if (call.dtype === 'float64') return float64Workspace(kernel, call);
      switch (kernel) {
        case 'conv2d':
        case 'conv2dRelu':
        case 'conv2dAffine':
        case 'conv2dGradInput':
        case 'conv2dGradWeight':
          return scratch(convBytes(addon, ctx, kernel, geometryOf(call)));
        case 'linear': {
          const [n, k, m] = fcDims(call);
          return scratch(addon.workspace(ctx, LINEAR_FORWARD, n, k, m));
        }
        case 'linearGradInput': {
          const [n, k, m] = fcDims(call);
          return scratch(addon.workspace(ctx, GEMM, n, k, m));
        }
        case 'linearGradWeight': {
          const [n, k, m] = fcDims(call);
          return scratch(addon.workspace(ctx, GEMM, m, k, n));
        }
        default:
          // Pooling (its argmax on the JS heap, as the reference's), element-wise and batch norm
          // kernels, and the reference kernels the backend falls back to, allocate only their outputs.
          return [];
      }
    },
  };
}

/** The fused kernels the native backend has, for the schedule. */
export const NATIVE_FUSIONS: Fusions = { conv2dRelu: true, conv2dAffine: true, maxPool2dValues: true };
