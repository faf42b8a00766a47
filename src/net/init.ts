import type { Init } from '../ops/op.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { INPUT_NODE, type NetSpec, type NodeSpec } from './spec.js';

/**
 * How the weights of CONV and FC layers start out (BN always starts at weight 1, bias 0):
 * - `he` (the default): He et al. 2015's N(0, 2/n) for layers followed by a ReLU, with zero biases:
 *   n is a CONV's fan-out (k*k*C_out, the paper's backward case, as torchvision's VGG and ResNet) and
 *   an FC's fan-in. Both keep a ReLU net's signal at one scale from layer to layer; the fan-out keeps
 *   the first CONV's outputs small where the net widens (1 channel in, 32 out), so that a wide FC
 *   reading them does not take huge steps at lr 0.05. The classifier gets N(0, CLASSIFIER_GAIN^2/fanIn),
 *   so that its scores start near 0 and the loss near ln(C) (docs/training.md has the measurements).
 * - `pytorch`: PyTorch 1.13's default everywhere, weights and biases U(-1/sqrt(fanIn), 1/sqrt(fanIn))
 *   (kaiming_uniform with a = sqrt(5)), the classifier included.
 * - `xavier`: Glorot uniform, U(-sqrt(6/(fanIn + fanOut)), +...), zero biases; the classifier as `he`.
 */
export type InitScheme = 'he' | 'pytorch' | 'xavier';

/** The schemes `--init` accepts. */
export const INIT_SCHEMES: readonly InitScheme[] = ['he', 'pytorch', 'xavier'];

/** What a net starts with when nobody says otherwise. */
export const DEFAULT_INIT: InitScheme = 'he';

/**
 * The classifier's weights have standard deviation CLASSIFIER_GAIN / sqrt(fanIn). Its inputs have a
 * second moment near 1 (the images are normalised, and He keeps the scale), so its scores start with a
 * standard deviation near 0.1: the softmax is nearly uniform and the first loss is ln(C) plus about
 * 0.005, instead of the 3.5 that a He-scaled classifier gives for 3 classes (ln 3 = 1.1).
 */
export const CLASSIFIER_GAIN = 0.1;

/** True when `text` names a scheme. */
export function isInitScheme(text: string): text is InitScheme {
  return (INIT_SCHEMES as readonly string[]).includes(text);
}

/** Parses `--init`. */
export function parseInitScheme(text: string): InitScheme {
  if (!isInitScheme(text)) throw new Error(`--init: expected ${INIT_SCHEMES.join(', ')}, got '${text}'`);
  return text;
}

/** Layers that map features to an output's scores through nothing but parameter-free, per-position ops. */
const PASS_THROUGH: ReadonlySet<NodeSpec['op']> = new Set(['relu', 'dropout', 'flatten', 'softmax', 'maxpool', 'avgpool', 'globalavgpool']);

/**
 * The names of the classifier layers: for the net's output and each auxiliary head (a layer nobody
 * reads), the CONV or FC that produces its scores, looking back through layers without parameters
 * (`... -> FC-10`, `... -> CONV1-10 -> GAP`, `... -> FC-10 -> SOFTMAX`). A net whose output comes out
 * of a BN, an addition or a concatenation has none.
 */
export function classifierLayers(spec: NetSpec): Set<string> {
  const byName = new Map(spec.nodes.map((node) => [node.name, node]));
  const read = new Set(spec.nodes.flatMap((node) => node.inputs));
  const classifiers = new Set<string>();
  for (const head of spec.nodes.filter((node) => !read.has(node.name))) {
    let node: NodeSpec | undefined = head;
    while (node !== undefined && PASS_THROUGH.has(node.op) && node.inputs.length === 1 && node.inputs[0] !== INPUT_NODE) {
      node = byName.get(node.inputs[0] as string);
    }
    if (node !== undefined && (node.op === 'conv' || node.op === 'fc')) classifiers.add(node.name);
  }
  return classifiers;
}

/** Which scheme, and whether the tensor belongs to a classifier layer. */
export interface InitContext {
  /** The scheme the net was built with. */
  scheme: InitScheme;
  /** Whether the tensor belongs to a classifier layer (the output or an auxiliary head), which `he` starts smaller. */
  classifier: boolean;
}

/** Fills `t` as `init` says, for a layer initialised under `context` (see InitScheme). */
export function initialise(t: Tensor, init: Init, rng: Rng, context: InitContext = { scheme: DEFAULT_INIT, classifier: false }): void {
  const data = t.data;
  const uniform = (bound: number): void => {
    for (let i = 0; i < data.length; i++) data[i] = (rng.next() * 2 - 1) * bound;
  };
  switch (init.kind) {
    case 'zeros':
      data.fill(0);
      return;
    case 'ones':
      data.fill(1);
      return;
    case 'uniform':
      uniform(init.bound);
      return;
    case 'bias':
      if (context.scheme === 'pytorch') uniform(1 / Math.sqrt(init.fanIn));
      else data.fill(0);
      return;
    case 'weight':
      if (context.scheme === 'pytorch') uniform(1 / Math.sqrt(init.fanIn));
      else if (context.classifier) rng.fillNormal(data, CLASSIFIER_GAIN / Math.sqrt(init.fanIn));
      else if (context.scheme === 'he') rng.fillNormal(data, Math.sqrt(2 / (init.layer === 'conv' ? init.fanOut : init.fanIn)));
      else uniform(Math.sqrt(6 / (init.fanIn + init.fanOut)));
      return;
  }
}
