import type { AdaptiveAvgPoolAttrs } from '../../ops/attrs.js';
import { ShapeError } from '../../ops/errors.js';
import { adaptiveWindow } from '../../ops/window.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';


function planes(shape: Shape, op: string): [number, number, number] {
  if (shape.length !== 4) throw new ShapeError(op, 'expects (N, C, H, W)', [shape]);
  const [n, c, h, w] = shape as [number, number, number, number];
  return [n * c, h, w];
}

/** y (N, C, OH, OW): the mean of each adaptive window of x (N, C, H, W), summed in float64. */
export function adaptiveAvgPool2d(allocator: Allocator, x: Tensor, attrs: AdaptiveAvgPoolAttrs): Tensor {
  const [count, h, w] = planes(x.shape, 'adaptiveavgpool');
  const [oh, ow] = attrs.output;
  const y = Tensor.empty([x.shape[0] as number, x.shape[1] as number, oh, ow], x.dtype, allocator);
  for (let p = 0; p < count; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const [y0, y1] = adaptiveWindow(oy, h, oh);
      for (let ox = 0; ox < ow; ox++) {
        const [x0, x1] = adaptiveWindow(ox, w, ow);
        let sum = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) sum += x.data[(p * h + iy) * w + ix] as number;
        y.data[(p * oh + oy) * ow + ox] = sum / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return y;
}

/** dx (N, C, H, W) of `xShape`: each dy value divided by its window's size and added over the window. */
export function adaptiveAvgPool2dGrad(allocator: Allocator, dy: Tensor, xShape: Shape, attrs: AdaptiveAvgPoolAttrs): Tensor {
  const [count, h, w] = planes(xShape, 'adaptiveavgpool');
  const [oh, ow] = attrs.output;
  const dx = Tensor.zeros(xShape, dy.dtype, allocator);
  for (let p = 0; p < count; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const [y0, y1] = adaptiveWindow(oy, h, oh);
      for (let ox = 0; ox < ow; ox++) {
        const [x0, x1] = adaptiveWindow(ox, w, ow);
        const share = (dy.data[(p * oh + oy) * ow + ox] as number) / ((y1 - y0) * (x1 - x0));
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) dx.data[(p * h + iy) * w + ix] = (dx.data[(p * h + iy) * w + ix] as number) + share;
      }
    }
  }
  return dx;
}
