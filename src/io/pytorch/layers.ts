import type { OpAttrs, OpType } from '../../ops/index.js';
import { windowOutput, type WindowAttrs } from '../../ops/window.js';
import { dilatedExtent } from '../../ops/dilation.js';
import type { Shape } from '../../tensor/shape.js';

/**
 * Each op as PyTorch: the `torch.nn` module that computes it (its constructor call, in Python), or,
 * for the joins, the expression `forward` writes. The modules own exactly the parameters and buffers
 * convstack's op declares, under the same names (`weight`, `bias`, `running_mean`, ...), so that a
 * state_dict loads both ways; where torch has no module of the same function, a small helper class of
 * the exported file does it (helpers.ts): `FlatLinear`, `PaddedConv2d`, `Affine`.
 */

/** How one layer is written in the exported file. */
export type TorchLayer =
  /** An `nn.Module` attribute: its constructor call and the helper classes it needs. */
  | { kind: 'module'; init: string; helpers: readonly HelperName[] }
  /** No attribute: `forward` computes it from the Python names of its inputs. */
  | { kind: 'expression'; expression: (inputs: readonly string[]) => string };

/** The helper classes an exported file may define (helpers.ts). */
export type HelperName = 'FlatLinear' | 'PaddedConv2d' | 'Affine' | 'Group';

/** What an emitter knows of its layer: the attributes and the per-image shapes in and out. */
type Emitter<K extends OpType> = (attrs: OpAttrs[K], input: Shape) => TorchLayer;

const module = (init: string, helpers: readonly HelperName[] = []): TorchLayer => ({ kind: 'module', init, helpers });

/** A Python literal for a number (`float('-inf')` for -infinity). */
export function pyNumber(v: number): string {
  if (v === -Infinity) return "float('-inf')";
  if (v === Infinity) return "float('inf')";
  return String(v);
}

/** `3` for a square pair, `(1, 7)` otherwise: how torch.nn takes sizes. */
function pair(v: readonly [number, number]): string {
  return v[0] === v[1] ? String(v[0]) : `(${v[0]}, ${v[1]})`;
}

/** `name=value` arguments, leaving out those at torch's default. */
function keywords(args: readonly (readonly [string, string, string])[]): string[] {
  return args.filter(([, value, fallback]) => value !== fallback).map(([name, value]) => `${name}=${value}`);
}

/**
 * A ceil-rounded CONV's last, partial window reads zeros past the input (torch's Conv2d has no
 * ceil_mode): that much more padding at the bottom and right, [h, w].
 */
function ceilExtra(a: WindowAttrs & { dilation?: readonly [number, number] }, input: Shape): [number, number] {
  const span = dilatedExtent(a);
  const extra = (axis: 0 | 1): number => {
    const size = input[axis + 1] as number;
    const out = windowOutput('conv', axis === 0 ? 'height' : 'width', size, span[axis], a.stride[axis], a.padding[axis], 'ceil');
    return Math.max(0, (out - 1) * a.stride[axis] + span[axis] - size - 2 * a.padding[axis]);
  };
  return a.rounding === 'ceil' ? [extra(0), extra(1)] : [0, 0];
}

const conv: Emitter<'conv'> = (a, input) => {
  const [extraH, extraW] = ceilExtra(a, input);
  const padded = extraH > 0 || extraW > 0;
  const args = [
    String(input[0]),
    String(a.outChannels),
    `kernel_size=${pair(a.kernel)}`,
    ...keywords([
      ['stride', pair(a.stride), '1'],
      ['padding', padded ? '0' : pair(a.padding), '0'],
      ['dilation', pair(a.dilation ?? [1, 1]), '1'],
      ['groups', String(a.groups), '1'],
      ['bias', a.bias ? 'True' : 'False', 'True'],
    ]),
  ];
  if (!padded) return module(`nn.Conv2d(${args.join(', ')})`);
  const [ph, pw] = a.padding;
  return module(`PaddedConv2d(${args.join(', ')}, pad=(${pw}, ${pw + extraW}, ${ph}, ${ph + extraH}))`, ['PaddedConv2d']);
};

const maxpool: Emitter<'maxpool'> = (a) => {
  const args = keywords([
    ['stride', pair(a.stride), pair(a.kernel)],
    ['padding', pair(a.padding), '0'],
    ['dilation', pair(a.dilation ?? [1, 1]), '1'],
    ['ceil_mode', a.rounding === 'ceil' ? 'True' : 'False', 'False'],
  ]);
  return module(`nn.MaxPool2d(${[pair(a.kernel), ...args].join(', ')})`);
};

const avgpool: Emitter<'avgpool'> = (a) => {
  const args = keywords([
    ['stride', pair(a.stride), pair(a.kernel)],
    ['padding', pair(a.padding), '0'],
    ['ceil_mode', a.rounding === 'ceil' ? 'True' : 'False', 'False'],
    ['count_include_pad', a.countIncludePad ? 'True' : 'False', 'True'],
  ]);
  return module(`nn.AvgPool2d(${[pair(a.kernel), ...args].join(', ')})`);
};

const fc: Emitter<'fc'> = (a, input) => {
  const inFeatures = input.reduce((n, d) => n * d, 1);
  const args = [String(inFeatures), String(a.outFeatures), ...keywords([['bias', a.bias ? 'True' : 'False', 'True']])].join(', ');
  // An FC on a volume reads it flattened in C, H, W order, as convstack's does.
  return input.length === 1 ? module(`nn.Linear(${args})`) : module(`FlatLinear(${args})`, ['FlatLinear']);
};

const bn: Emitter<'bn'> = (a, input) => {
  const args = [String(input[0]), ...(a.eps !== 1e-5 ? [`eps=${pyNumber(a.eps)}`] : []), ...(a.momentum !== 0.1 ? [`momentum=${pyNumber(a.momentum)}`] : [])].join(', ');
  return module(input.length === 1 ? `nn.BatchNorm1d(${args})` : `nn.BatchNorm2d(${args})`);
};

const lrn: Emitter<'lrn'> = (a) => module(`nn.LocalResponseNorm(${a.size}, alpha=${pyNumber(a.alpha)}, beta=${pyNumber(a.beta)}, k=${pyNumber(a.k)})`);

const pad: Emitter<'pad'> = (a) => module(`nn.ConstantPad2d((${a.left}, ${a.right}, ${a.top}, ${a.bottom}), ${a.forMax ? "float('-inf')" : pyNumber(a.value)})`);

/** A per-channel list as the Python tuple of the broadcast shape (C, 1, 1) or (C,). */
function channelTuple(values: readonly string[], input: Shape): string {
  const list = `[${values.join(', ')}]`;
  return input.length === 1 ? list : `torch.tensor(${list}).view(${input.map((d, axis) => (axis === 0 ? -1 : 1)).join(', ')})`;
}

// Values written in the notation are constants of the file, kept out of the state_dict as convstack
// keeps them out of its parameters; otherwise the buffers load with the weights.
const affine: Emitter<'affine'> = (a, input) => {
  const shape = `(${input.map((d, axis) => (axis === 0 ? d : 1)).join(', ')}${input.length === 1 ? ',' : ''})`;
  if (a.scale === undefined || a.shift === undefined) return module(`Affine(${shape})`, ['Affine']);
  const written = (values: readonly number[]): string => channelTuple(values.map(pyNumber), input);
  return module(`Affine(${shape}, scale=${written(a.scale)}, shift=${written(a.shift)})`, ['Affine']);
};

/** A per-image axis (0: channels) as torch's dim, the batch being dim 0. */
const softmax: Emitter<'softmax'> = (a) => module(`nn.Softmax(dim=${(a.axis ?? 0) + 1})`);

/** Every op's emitter: a new op without one does not typecheck. */
const EMITTERS: { [K in OpType]: Emitter<K> } = {
  conv,
  maxpool,
  avgpool,
  globalavgpool: () => module('nn.AdaptiveAvgPool2d(1)'),
  adaptiveavgpool: (a) => module(`nn.AdaptiveAvgPool2d(${pair(a.output)})`),
  fc,
  relu: () => module('nn.ReLU()'),
  bn,
  dropout: (a) => module(`nn.Dropout(${pyNumber(a.p)})`),
  lrn,
  add: () => ({ kind: 'expression', expression: (inputs) => inputs.join(' + ') }),
  concat: () => ({ kind: 'expression', expression: (inputs) => `torch.cat([${inputs.join(', ')}], 1)` }),
  mul: () => ({ kind: 'expression', expression: (inputs) => inputs.join(' * ') }),
  div: () => ({ kind: 'expression', expression: (inputs) => inputs.join(' / ') }),
  flatten: () => module('nn.Flatten()'),
  softmax,
  affine,
  leakyrelu: (a) => module(`nn.LeakyReLU(${pyNumber(a.alpha)})`),
  pad,
};

/** The PyTorch form of a layer of `op` whose first input has per-image shape `input`. */
export function torchLayer<K extends OpType>(op: K, attrs: OpAttrs[K], input: Shape): TorchLayer {
  return (EMITTERS[op] as Emitter<K>)(attrs, input);
}
