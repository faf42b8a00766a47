import { keyword, type OnnxNode } from './types.js';

/** Layers that turn a volume into a vector: FC and FLATTEN. */

const FLATTEN_NODE: OnnxNode = { op: 'Flatten', params: [], attrs: [{ name: 'axis', int: 1 }] };

/** `FC-4096`: fully connected; a bare FC is sized by desugar (the classes if no FC follows it). */
export const FC = keyword({
  op: 'fc',
  syntax: { filterSize: false, count: 'outputs' },
  accepts: { named: ['bias'], rounding: false, positional: null },
  weighted: true,
  resolve: (layer, attrs, ctx) => ({ outFeatures: layer.count === null ? 0 : ctx.integer(layer.count, 'the number of outputs', 1), bias: attrs.bias }),
  write: (a) => `FC-${a.outFeatures}${a.bias ? '' : '(bias=no)'}`,
  // An FC on a volume flattens it in C,H,W order first, as the op does.
  onnx: (a, input) => [
    ...(input.length === 1 ? [] : [FLATTEN_NODE]),
    { op: 'Gemm', params: a.bias ? ['weight', 'bias'] : ['weight'], attrs: [{ name: 'transB', int: 1 }] },
  ],
});

/** `FLATTEN`: a volume as a vector, C,H,W order. */
export const FLATTEN = keyword({
  op: 'flatten',
  syntax: { filterSize: false, count: null },
  accepts: { named: [], rounding: false, positional: null },
  inPlace: true,
  resolve: () => ({}),
  write: () => 'FLATTEN',
  onnx: () => [FLATTEN_NODE],
});
