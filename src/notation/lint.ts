import { formatBytes } from '../memory/units.js';
import { formatVolume } from '../tensor/shape.js';
import { NotationError } from './errors.js';
import { BYTES_PER_VALUE, thousands } from './summary.js';
import type { InferredNet, LayerInfo } from './infer.js';
import { compile, type CompileOptions } from './compile.js';
import type { Program } from './ast.js';

/** The notes' rules of thumb that `lint` checks, each with the sentence it comes from. */
export const RULES = {
  'input-divisible': 'The input layer (that contains the image) should be divisible by 2 many times.',
  'conv-keeps-size':
    'The conv layers should be using small filters (e.g. 3x3 or at most 5x5), using a stride of S=1, and crucially, padding the input volume with zeros in such way that the conv layer does not alter the spatial dimensions of the input.',
  'small-filters':
    'If you must use bigger filter sizes (such as 7x7 or so), it is only common to see this on the very first conv layer that is looking at the input image.',
  'conv-stride': 'Smaller strides work better in practice. Additionally, as already mentioned stride 1 allows us to leave all spatial down-sampling to the POOL layers.',
  'pool-window': 'It is very uncommon to see receptive field sizes for max pooling that are larger than 3 because the pooling is then too lossy and aggressive.',
  'odd-filter': 'For a general F, it can be seen that P=(F-1)/2 preserves the input size.',
  'filter-fits-input': 'The conv layers should be using small filters (e.g. 3x3 or at most 5x5)',
  'fc-after-volume':
    'The most common form of a ConvNet architecture stacks a few CONV-RELU layers, follows them with POOL layers, and repeats this pattern until the image has been merged spatially to a small size. At some point, it is common to transition to fully-connected layers.',
  'scores-last': 'The last fully-connected layer holds the output, such as the class scores.',
} as const;

/** The volume the notes' nets hand to their first FC layer (VGG's 7x7; AlexNet's is 6x6): larger is not yet "merged spatially to a small size". */
const SMALL_VOLUME = 7 * 7;
/** An FC this large on an unmerged volume is a mistake worth a warning; a small classifier on 28x28 features is not. */
const LARGE_FC_PARAMS = 10_000_000;
/** Layers that may come after the class scores at the end of a net. */
const TRAILING = new Set(['relu', 'softmax', 'dropout']);

/** A rule's name, or `invalid` for a text that does not compile. */
export type Rule = keyof typeof RULES | 'invalid';

/** One finding: an error (the text does not make a net) or a warning (a departure from a rule of thumb). */
export interface Diagnostic {
  /** `error`: the text makes no net; `warning`: it does, against a rule of thumb. */
  severity: 'error' | 'warning';
  /** The rule that fired. */
  rule: Rule;
  /** One line, citing the notes' reasoning where a rule of thumb is broken. */
  message: string;
  /** The layer it concerns, if any. */
  layer: { index: number; name: string; text: string } | null;
  /** 1-based line in the text, or null when the finding is about the whole net. */
  line: number | null;
  /** 1-based column in the text, or null when the finding is about the whole net. */
  column: number | null;
}

/**
 * Checks a text against the notes' rules of thumb. Never throws for a bad text: a syntax, binding
 * or sizing error comes back as an `error` diagnostic.
 */
export function lint(source: string | Program, options: CompileOptions = {}): Diagnostic[] {
  let net: InferredNet;
  try {
    net = compile(source, options).net;
  } catch (error) {
    if (!(error instanceof NotationError)) throw error;
    return [{ severity: 'error', rule: 'invalid', message: error.message, layer: null, line: error.line, column: error.column }];
  }
  return lintNet(net);
}

/** The rules of thumb on an inferred net. */
export function lintNet(net: InferredNet): Diagnostic[] {
  const found: Diagnostic[] = [];
  const warn = (rule: keyof typeof RULES, message: string, layer: LayerInfo | null): void => {
    found.push({
      severity: 'warning',
      rule,
      message,
      layer: layer && { index: layer.index, name: layer.node.name, text: layer.node.source?.text ?? layer.text },
      line: layer?.node.source?.line ?? null,
      column: layer?.node.source?.column ?? null,
    });
  };

  const [, h, w] = net.spec.input as [number, number, number];
  const spatial = net.layers.filter((l) => l.output.length === 3 && l.node.op !== 'globalavgpool');
  const downsampling = spatial.reduce((most, l) => Math.max(most, ...l.receptiveField.stride), 1);
  if (h % downsampling !== 0 || w % downsampling !== 0) {
    warn('input-divisible', `the input ${h}x${w} is not divisible by ${downsampling}, the net's total downsampling`, null);
  }

  const inputOf = inputShapes(net);
  const convs = net.layers.filter((l) => l.node.op === 'conv');
  const firstConv = convs[0];
  for (const layer of convs) {
    if (layer.node.op !== 'conv') continue;
    const { kernel, stride } = layer.node.attrs;
    const input = inputOf(layer);
    const [, oh, ow] = layer.output as [number, number, number];
    const even = kernel.some((f, axis) => f % 2 === 0 && stride[axis] === 1);
    if (even) {
      const [ph, pw] = layer.node.attrs.padding;
      warn('odd-filter', `a ${kernel.join('x')} filter cannot keep the size: no padding makes (W - F + 2P) + 1 = W for an even F; it pads by ${ph === pw ? ph : `${ph}x${pw}`} and gives ${oh}x${ow} from ${input[1]}x${input[2]}; use an odd filter size (3 or 5)`, layer);
    } else if (stride[0] === 1 && stride[1] === 1 && (input[1] !== oh || input[2] !== ow)) {
      warn('conv-keeps-size', `changes the spatial size from ${input[1]}x${input[2]} to ${oh}x${ow}; pad by (F-1)/2 to keep it`, layer);
    }
    if (layer === firstConv) continue;
    if (Math.max(...kernel) > 5) warn('small-filters', `a ${kernel.join('x')} filter beyond the first CONV layer; prefer a stack of 3x3 CONVs`, layer);
    if (Math.max(...stride) > 1) warn('conv-stride', `stride ${stride.join('x')} beyond the first CONV layer; leave downsampling to POOL layers`, layer);
  }
  for (const layer of net.layers) {
    const { node } = layer;
    if (node.op === 'maxpool' && Math.max(...node.attrs.kernel) > 3) {
      warn('pool-window', `a ${node.attrs.kernel.join('x')} max-pooling window; 2x2 (or 3x3, stride 2) is the common setting`, layer);
    }
    if (node.op === 'conv' || node.op === 'maxpool' || node.op === 'avgpool') {
      const [, h, w] = inputOf(layer) as [number, number, number];
      const [fh, fw] = node.attrs.kernel;
      if (fh > h || fw > w) warn('filter-fits-input', `a ${fh}x${fw} filter on a ${h}x${w} input: most of every window is padding; use a smaller filter, or GAP or FC to summarise the volume`, layer);
    }
  }
  lintClassifier(net, inputOf, warn);
  return found;
}

type Warn = (rule: keyof typeof RULES, message: string, layer: LayerInfo | null) => void;

/**
 * The classifier end of the net: an FC reading a volume that was never merged spatially (13.2 billion
 * weights after one CONV at 224x224), and what follows the last FC, which holds the class scores:
 * a RELU clips the negative scores, a SOFTMAX is applied twice in training (the loss has its own).
 */
function lintClassifier(net: InferredNet, inputOf: (layer: LayerInfo) => readonly number[], warn: Warn): void {
  for (const layer of net.layers) {
    if (layer.node.op !== 'fc') continue;
    const input = inputOf(layer);
    const params = layer.weights + layer.biases;
    if (input.length === 3 && (input[1] as number) * (input[2] as number) > SMALL_VOLUME && params > LARGE_FC_PARAMS) {
      warn(
        'fc-after-volume',
        `an FC layer straight after the ${formatVolume(input)} volume: ${thousands(params)} parameters (${formatBytes(params * BYTES_PER_VALUE)} of float32); merge the volume spatially first (POOL layers down to about 7x7, or GAP)`,
        layer,
      );
    }
  }
  // The net's output is its last layer; walk back over what may follow the class scores.
  let end = net.layers.length;
  while (end > 0 && TRAILING.has((net.layers[end - 1] as LayerInfo).node.op)) end--;
  const tail = net.layers.slice(end);
  if (net.layers[end - 1]?.node.op === 'fc') {
    for (const layer of tail) {
      if (layer.node.op === 'relu') warn('scores-last', 'a RELU after the last FC clips the negative class scores to 0; end the net with the FC', layer);
    }
  }
  const output = tail.at(-1);
  if (output?.node.op === 'softmax') {
    warn('scores-last', 'a SOFTMAX at the end: the training loss applies its own softmax to the scores, so the net would be trained through two softmaxes; end with the class scores and apply SOFTMAX only to read probabilities', output);
  }
}

/** Each layer's (first) input shape, looked up in one map: linear in the net's size. */
function inputShapes(net: InferredNet): (layer: LayerInfo) => readonly number[] {
  const shapes = new Map<string, readonly number[]>(net.layers.map((l) => [l.node.name, l.output]));
  return (layer) => shapes.get(layer.node.inputs[0] as string) ?? net.spec.input;
}

/** `warning [small-filters] layer 5 CONV7-64 (line 1, column 20): ... Notes: "..."`. */
export function renderDiagnostic(d: Diagnostic): string {
  if (d.rule === 'invalid') return `error: ${d.message}`;
  const where = d.layer ? ` layer ${d.layer.index} ${d.layer.text} '${d.layer.name}'${d.line !== null ? ` (line ${d.line}, column ${d.column})` : ''}` : '';
  return `${d.severity} [${d.rule}]${where}: ${d.message}.\n  notes: "${RULES[d.rule]}"`;
}
