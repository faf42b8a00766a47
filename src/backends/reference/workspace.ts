import type { Conv2dAttrs } from '../../ops/conv2d.js';
import type { KernelCall, KernelName, WorkspaceBuffer, WorkspaceModel } from '../../graph/workspace.js';
import type { Shape } from '../../tensor/shape.js';

/** The reference kernels keep their scratch sums and im2row patches in float64, whatever the tensors' dtype. */
const FLOAT64 = 8;

function float64s(values: number, lifetime: WorkspaceBuffer['lifetime']): WorkspaceBuffer {
  return { bytes: values * FLOAT64, lifetime, bytesPerValue: FLOAT64 };
}

/** im2row geometry of a conv call: P = OH*OW patch rows of K = C/groups*KH*KW values (see conv2d.ts). */
function patches(call: KernelCall): { p: number; k: number; image: number } {
  const [, c, h, w] = call.inputs[0] as [number, number, number, number];
  const [, , oh, ow] = call.output as [number, number, number, number];
  const { kernel, groups } = call.attrs as Conv2dAttrs;
  return { p: oh * ow, k: (c / groups) * kernel[0] * kernel[1], image: c * h * w };
}

/** Values per image of the op's first input: FC's K features. */
function features(call: KernelCall): number {
  const [, ...perImage] = call.inputs[0] as Shape;
  return perImage.reduce((a, b) => a * b, 1);
}

/** One (H, W) plane of the pooled input. */
function plane(call: KernelCall): number {
  const [, , h, w] = call.inputs[0] as [number, number, number, number];
  return h * w;
}

/**
 * The reference backend's kernel scratch, in the order its kernels allocate it (`conv2d.ts`,
 * `linear.ts`, `pool.ts`); every other kernel allocates only its outputs.
 */
export const referenceWorkspace: WorkspaceModel = {
  workspace(kernel, call) {
    switch (kernel) {
      case 'conv2d': {
        const { p, k } = patches(call);
        return [float64s(p * k, 'afterOutput')];
      }
      case 'conv2dGradWeight': {
        // The patches and the float64 sums of dweight, which is copied out of them at the end.
        const { p, k } = patches(call);
        const outChannels = (call.output as Shape)[1] as number;
        return [float64s(p * k, 'beforeOutput'), float64s(outChannels * k, 'beforeOutput')];
      }
      case 'conv2dGradInput': {
        // Patch gradients, then one float64 image that row2im sums into.
        const { p, k, image } = patches(call);
        return [float64s(p * k, 'afterOutput'), float64s(image, 'afterOutput')];
      }
      case 'linearGradWeight':
      case 'linearGradInput':
        return [float64s(features(call), 'afterOutput')];
      case 'maxPool2dGrad':
      case 'avgPool2dGrad':
        return [float64s(plane(call), 'afterOutput')];
      default:
        return [];
    }
  },
};

/**
 * The scratch of a fast backend's float64 call, which the shared fallback hands to the reference
 * kernels; a float64 conv2dRelu or conv2dAffine is the reference conv2d with the rest applied in
 * place (fallback.ts).
 */
export function float64Workspace(kernel: KernelName, call: KernelCall): readonly WorkspaceBuffer[] {
  return referenceWorkspace.workspace(kernel === 'conv2dRelu' || kernel === 'conv2dAffine' ? 'conv2d' : kernel, call);
}
