import type { Backend } from '../backends/backend.js';
import type { DataSplits } from '../data/dataset.js';
import { buildGraph } from '../graph/graph.js';
import { DEFAULT_INIT } from '../net/init.js';
import { Net } from '../net/net.js';
import { describeMismatch } from '../net/state.js';
import type { NetSpec, NodeSpec } from '../net/spec.js';
import { toNetSpec, type CompileOptions } from '../notation/index.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { train, type TrainConfig, type TrainEvent, type TrainResult } from './loop.js';
import type { ModelInfo } from './model_file.js';

/**
 * What to freeze when fine-tuning: `backbone` (every layer but the new classifier), `none`, or the
 * names of layers with parameters (`c1`, `c3`).
 */
export type FreezeChoice = 'backbone' | 'none' | readonly string[];

/** A pretrained net: how it is built and its weights by state_dict name. */
export interface Pretrained {
  /** The net's description; its `classes` are the old ones and are replaced. */
  info: ModelInfo;
  /** The trained tensors by state_dict name (`c1.weight`, BN running statistics too); the old classifier's are ignored and the rest are copied into the new net, not kept. */
  weights: ReadonlyMap<string, Tensor>;
}

/** How to start a fine-tuning run. */
export interface FinetuneOptions {
  /** The new classes, in score order. */
  classes: readonly string[];
  /** `backbone` unless said otherwise. */
  freeze?: FreezeChoice;
  /** Where the new net's tensors live and kernels run; default: the reference backend. */
  backend?: Backend;
  /** Seeds the new classifier's weights (and dropout). */
  seed?: number;
}

/** A net ready to fine-tune: the pretrained one with a new classifier, its layers frozen as asked. */
export interface FinetuneStart {
  /** The new net: the pretrained weights copied in, a freshly initialised classifier, the frozen layers' parameters marked frozen. */
  net: Net;
  /** The model file's description of the new net: its notation text sized to the new classes. */
  info: ModelInfo;
  /** The name of the replaced classifier layer. */
  head: string;
  /** The frozen layers' names, in layer order. */
  frozen: string[];
  /** Weights the optimizer trains, and weights it leaves as they are (BN running statistics not counted). */
  parameters: { trained: number; frozen: number };
  /** Tensors of the pretrained weights that the net has no place for (left unused), by name. */
  unused: string[];
}

/** Layers that may follow the classifier without changing which scores it gives. */
const AFTER_HEAD: ReadonlySet<NodeSpec['op']> = new Set(['relu', 'dropout', 'flatten', 'softmax']);

/** The FC layer that produces the net's scores (looking back through a SOFTMAX and the like): the one the new classes replace. */
export function headLayer(spec: NetSpec): NodeSpec {
  const byName = new Map(spec.nodes.map((node) => [node.name, node]));
  const output = spec.nodes[spec.nodes.length - 1];
  let node = output;
  while (node !== undefined && AFTER_HEAD.has(node.op) && node.inputs.length === 1) node = byName.get(node.inputs[0] as string);
  if (node?.op !== 'fc') throw new Error(`fine-tuning replaces the FC layer that gives the net's scores; this net's output ('${output?.name}') does not come from one`);
  return node;
}

/**
 * The model with its classifier sized to `classes` outputs. A net written in the notation stays
 * written in it: the class count goes into its `CLASSES` variable, or into the FC as written at
 * its place in the text; where neither gives the same net, the file stores the spec instead.
 */
export function replaceHead(model: Pick<ModelInfo, 'spec' | 'architecture' | 'compileOptions'>, classes: number): { spec: NetSpec; architecture?: string; compileOptions?: CompileOptions; head: string } {
  const head = headLayer(model.spec);
  const nodes = model.spec.nodes.map((node) => (node === head ? { ...node, attrs: { ...head.attrs, outFeatures: classes } } : node)) as NodeSpec[];
  const spec: NetSpec = { input: model.spec.input, nodes };
  if (model.architecture === undefined) return { spec, head: head.name };
  for (const [architecture, compileOptions] of textCandidates(model.architecture, model.compileOptions ?? {}, head, classes)) {
    const compiled = tryCompile(architecture, compileOptions);
    if (compiled !== null && sameNet(compiled, spec)) return { spec: compiled, architecture, compileOptions, head: head.name };
  }
  return { spec, head: head.name };
}

/** Texts that may compile to the net with the new head: CLASSES bound to the count, or the FC rewritten in place. */
function textCandidates(text: string, options: CompileOptions, head: NodeSpec, classes: number): [string, CompileOptions][] {
  const candidates: [string, CompileOptions][] = [[text, { ...options, bindings: { ...options.bindings, CLASSES: classes } }]];
  const source = head.source;
  if (source !== undefined) {
    const lines = text.split('\n');
    const line = lines[source.line - 1];
    const at = source.column - 1;
    if (line !== undefined && line.slice(at, at + source.text.length) === source.text) {
      lines[source.line - 1] = `${line.slice(0, at)}FC-${classes}${line.slice(at + source.text.length)}`;
      candidates.push([lines.join('\n'), options]);
    }
  }
  return candidates;
}

function tryCompile(text: string, options: CompileOptions): NetSpec | null {
  try {
    return toNetSpec(text, options);
  } catch {
    return null;
  }
}

/** The same layers, attributes and wiring (where they were written does not matter). */
function sameNet(a: NetSpec, b: NetSpec): boolean {
  const plain = (spec: NetSpec): string => JSON.stringify({ input: spec.input, nodes: spec.nodes.map(({ source: _, ...node }) => node) });
  return plain(a) === plain(b);
}

/** The layers `freeze` names, checked against the net: each must be a layer with parameters, not the new head. */
export function frozenLayers(spec: NetSpec, head: string, freeze: FreezeChoice): string[] {
  const withParams = buildGraph(spec)
    .nodes.filter((node) => node.params.length > 0)
    .map((node) => node.spec.name);
  if (freeze === 'none') return [];
  if (freeze === 'backbone') return withParams.filter((name) => name !== head);
  for (const name of freeze) {
    if (name === head) throw new Error(`--freeze: '${name}' is the new classifier, which fine-tuning trains`);
    if (!withParams.includes(name)) throw new Error(`--freeze: no layer with parameters named '${name}' (they are ${withParams.join(', ')})`);
  }
  return withParams.filter((name) => freeze.includes(name));
}

/**
 * The pretrained net with its last FC replaced by one with `classes.length` outputs (initialised as
 * a new net's classifier is, net/init.ts), every other weight loaded from `pretrained.weights`, and
 * the layers `freeze` names frozen. Throws, listing them, when the weights lack a tensor the kept
 * layers need or hold one of another shape; tensors the net has no place for are left unused.
 */
export function prepareFinetune(pretrained: Pretrained, { classes, freeze = 'backbone', backend, seed = 0 }: FinetuneOptions): FinetuneStart {
  const swapped = replaceHead(pretrained.info, classes.length);
  const frozen = frozenLayers(swapped.spec, swapped.head, freeze);
  const init = pretrained.info.init ?? DEFAULT_INIT;
  const net = new Net(swapped.spec, { ...(backend !== undefined && { backend }), seed, init, frozen });
  const isHead = (name: string): boolean => name.startsWith(`${swapped.head}.`);
  // Partial: the new head is missing by design; anything else missing or wrongly shaped is an error.
  const match = net.loadState(new Map([...pretrained.weights].filter(([name]) => !isHead(name))), { partial: true });
  const missing = match.missing.filter(({ name }) => !isHead(name));
  if (missing.length > 0 || match.misshapen.length > 0) {
    net.dispose();
    throw new Error(`the pretrained weights do not fit the net's layers but its classifier:\n${describeMismatch({ ...match, missing, unexpected: [] })}`);
  }
  const count = (params: { value: Tensor }[]): number => params.reduce((n, p) => n + sizeOf(p.value.shape), 0);
  const all = [...net.params.values()];
  const { architecture: _text, compileOptions: _options, ...described } = pretrained.info;
  const info: ModelInfo = {
    ...described,
    spec: swapped.spec,
    classes: [...classes],
    ...(swapped.architecture !== undefined && { architecture: swapped.architecture }),
    ...(swapped.compileOptions !== undefined && { compileOptions: swapped.compileOptions }),
  };
  return {
    net,
    info,
    head: swapped.head,
    frozen,
    parameters: { trained: count(net.trainableParams()), frozen: count(all.filter((p) => p.trainable && p.frozen === true)) },
    unused: match.unexpected.map(({ name }) => name),
  };
}

/** A fine-tuning run: the pretrained net, the new data, and the training settings. */
export interface FinetuneRun {
  /** The net to start from and its weights; its classifier is replaced by one sized to `data`'s classes. */
  pretrained: Pretrained;
  /** The new data; its classes become the net's. */
  data: DataSplits;
  /** The training settings, as `train` takes them; `seed` also seeds the new classifier's weights. */
  config: TrainConfig;
  /** What to freeze: `backbone` (every layer but the new classifier) unless said otherwise. */
  freeze?: FreezeChoice;
  /** Where the net's tensors live and kernels run; default: the reference backend. */
  backend?: Backend;
  /** Called with each training event (steps, epochs, warnings) as the run goes. */
  onEvent?: (event: TrainEvent) => void;
}

/**
 * Fine-tunes a pretrained net on new classes ("don't be a hero": start from a trained net): replaces
 * its classifier, freezes what `freeze` says (the backbone by default) and trains with the same loop
 * as `train`. Returns the trained net, its model-file description and the run's result.
 */
export async function finetune(run: FinetuneRun): Promise<FinetuneStart & { result: TrainResult }> {
  const start = prepareFinetune(run.pretrained, {
    classes: run.data.train.classes,
    ...(run.freeze !== undefined && { freeze: run.freeze }),
    ...(run.backend !== undefined && { backend: run.backend }),
    seed: run.config.seed,
  });
  const result = await train({ net: start.net, data: run.data, config: run.config, info: start.info, ...(run.onEvent !== undefined && { onEvent: run.onEvent }) });
  return { ...start, result };
}
