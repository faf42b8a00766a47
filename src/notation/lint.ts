import { NotationError } from './errors.js';
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
} as const;

export type Rule = keyof typeof RULES | 'invalid';

/** One finding: an error (the text does not make a net) or a warning (a departure from a rule of thumb). */
export interface Diagnostic {
  severity: 'error' | 'warning';
  rule: Rule;
  message: string;
  /** The layer it concerns, if any. */
  layer: { index: number; name: string; text: string } | null;
  line: number | null;
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
  const downsampling = Math.max(1, ...spatial.map((l) => Math.max(...l.receptiveField.stride)));
  if (h % downsampling !== 0 || w % downsampling !== 0) {
    warn('input-divisible', `the input ${h}x${w} is not divisible by ${downsampling}, the net's total downsampling`, null);
  }

  const convs = net.layers.filter((l) => l.node.op === 'conv');
  const firstConv = convs[0];
  for (const layer of convs) {
    if (layer.node.op !== 'conv') continue;
    const { kernel, stride } = layer.node.attrs;
    const input = shapeOf(net, layer.node.inputs[0] as string);
    const [, oh, ow] = layer.output as [number, number, number];
    if (stride[0] === 1 && stride[1] === 1 && (input[1] !== oh || input[2] !== ow)) {
      warn('conv-keeps-size', `changes the spatial size from ${input[1]}x${input[2]} to ${oh}x${ow}; pad by (F-1)/2 to keep it`, layer);
    }
    if (layer === firstConv) continue;
    if (Math.max(...kernel) > 5) warn('small-filters', `a ${kernel.join('x')} filter beyond the first CONV layer; prefer a stack of 3x3 CONVs`, layer);
    if (Math.max(...stride) > 1) warn('conv-stride', `stride ${stride.join('x')} beyond the first CONV layer; leave downsampling to POOL layers`, layer);
  }
  for (const layer of net.layers) {
    if (layer.node.op === 'maxpool' && Math.max(...layer.node.attrs.kernel) > 3) {
      warn('pool-window', `a ${layer.node.attrs.kernel.join('x')} max-pooling window; 2x2 (or 3x3, stride 2) is the common setting`, layer);
    }
  }
  return found;
}

function shapeOf(net: InferredNet, name: string): readonly number[] {
  return net.layers.find((l) => l.node.name === name)?.output ?? net.spec.input;
}

/** `warning [small-filters] layer 5 CONV7-64 (line 1, column 20): ... Notes: "..."`. */
export function renderDiagnostic(d: Diagnostic): string {
  if (d.rule === 'invalid') return `error: ${d.message}`;
  const where = d.layer ? ` layer ${d.layer.index} ${d.layer.text} '${d.layer.name}'${d.line !== null ? ` (line ${d.line}, column ${d.column})` : ''}` : '';
  return `${d.severity} [${d.rule}]${where}: ${d.message}.\n  notes: "${RULES[d.rule]}"`;
}
