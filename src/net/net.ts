import type { Backend } from '../backends/backend.js';
import { referenceBackend } from '../backends/reference/index.js';
import { buildGraph, type Graph } from '../graph/graph.js';
import { buildSchedule, fusionsOf, type ForwardStep, type Schedule } from '../graph/schedule.js';
import type { ForwardContext, ParamSpec } from '../ops/op.js';
import { FOLDED_BN_PREFIX } from '../ops/conv2d_bn.js';
import { ShapeError } from '../ops/errors.js';
import { NetError } from '../graph/errors.js';
import { Rng } from '../tensor/rng.js';
import { formatShape, formatVolume, sameShape, type Shape } from '../tensor/shape.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import { classifierLayers, DEFAULT_INIT, initialise, type InitContext, type InitScheme } from './init.js';
import type { NetSpec, NodeSpec } from './spec.js';
import { isExactMatch, matchState, StateMismatchError, type StateMatch } from './state.js';

export { NetError } from '../graph/errors.js';

/** A trainable tensor (or a buffer such as BN's running mean) and, after backward, its gradient. */
export interface Parameter {
  /** The state_dict name, `<layer>.<param>` (`features.0.weight`). */
  readonly name: string;
  /** The tensor itself, owned by the net. */
  readonly value: Tensor;
  /** dLoss/d(value) after `backward`; owned by the net, which disposes of it at the next training forward. Null before. */
  grad: Tensor | null;
  /** False for buffers (BN's running statistics), which optimizers skip. */
  readonly trainable: boolean;
  /** Its layer is frozen (`NetOptions.frozen`): no gradient, and the optimizer leaves it alone. Absent: false. */
  readonly frozen?: boolean;
}

/** How to build a Net. */
export interface NetOptions {
  /** Where tensors live and kernels run; default: the reference backend. */
  backend?: Backend;
  /** Seeds weight initialisation and dropout; the same seed gives the same net. */
  seed?: number;
  /** Default float32. */
  dtype?: DType;
  /** How CONV and FC weights start out (net/init.ts); `he` with a small classifier by default. */
  init?: InitScheme;
  /**
   * Names of layers to freeze (fine-tuning): backward computes no gradient for their parameters,
   * `trainableParams` leaves them out, and their BN normalises with its running statistics, which
   * stay as they are, in training too. Each must be a layer with parameters.
   */
  frozen?: Iterable<string>;
}

/** Options of `Net.forward`. */
export interface ForwardOptions {
  /** Keep the tape for `backward`, use batch statistics in BN and drop values in DROPOUT. */
  training?: boolean;
  /**
   * Training: the `backward` that follows also returns dLoss/dinput (the images). Forward then keeps
   * what the whole backward reads; without it, backward stops at the first trainable layer and
   * forward keeps only what that shorter backward reads.
   */
  inputGrad?: boolean;
  /** Called with each layer's output as soon as it is computed (before any of it is freed). */
  inspect?: (node: NodeSpec, output: Tensor) => void;
}

/** Options of `Net.backward`. */
export interface BackwardOptions {
  /** dLoss/d(each auxiliary output), in `auxiliaryHeads` order; required when the net has such heads. */
  auxGrads?: readonly Tensor[];
}

/**
 * A net built from a NetSpec: any DAG of ops. Its graph (`graph/graph.ts`) is built once from the
 * spec by the ops' own shape rules; forward and backward execute the step schedule of that graph
 * (`graph/schedule.ts`), which says which op runs, fused where the backend can, and what is freed
 * after it: in inference each activation as soon as its last reader has run; in training only what
 * no backward reads, the rest staying on the tape until `backward` has consumed it.
 */
export class Net {
  /** The spec the net was built from. */
  readonly spec: NetSpec;
  /** Where the net's tensors live and its kernels run. */
  readonly backend: Backend;
  /** The type of every parameter and activation. */
  readonly dtype: DType;
  /** The spec's nodes with their values, shapes, parameters and readers. */
  readonly graph: Graph;
  /** Parameters and buffers by state_dict name, in the order of the layers. */
  readonly params: Map<string, Parameter> = new Map();
  /** Each node's output shape for one image, [C, H, W] or [F]; index 0 is the input. */
  readonly shapes: Shape[];
  /** Each node's parameters by their own name (`weight`), in node order. */
  private readonly layerParams: Record<string, Tensor>[];
  /** A fused CONV+BN step's parameters with the BN's, by step. */
  private readonly foldedParams = new WeakMap<ForwardStep, Record<string, Tensor>>();
  private readonly inference: Schedule;
  private readonly training: Schedule;
  /** The training schedule whose backward also computes dLoss/dinput, built when first asked for. */
  private trainingWithInputGrad: Schedule | null = null;
  /** The schedule the last training forward ran, whose backward the tape is for. */
  private taped: Schedule;
  private readonly rng: Rng;
  /** The frozen layers' names (`NetOptions.frozen`). */
  readonly frozen: ReadonlySet<string>;
  private activations: (Tensor | null)[] = [];
  /** What each forward step of the last training pass saved for its backward. */
  private tape: unknown[] | null = null;

  constructor(spec: NetSpec, options: NetOptions = {}) {
    this.spec = spec;
    this.backend = options.backend ?? referenceBackend;
    this.dtype = options.dtype ?? 'float32';
    this.rng = new Rng(options.seed ?? 0);
    this.graph = buildGraph(spec);
    this.shapes = this.graph.shapes;
    this.frozen = checkedFrozen(this.graph, options.frozen ?? []);
    const scheme = options.init ?? DEFAULT_INIT;
    const classifiers = classifierLayers(spec);
    this.layerParams = this.graph.nodes.map((node) => this.createParams(node.spec.name, node.params, { scheme, classifier: classifiers.has(node.spec.name) }, this.frozen.has(node.spec.name)));
    this.inference = this.schedule(false, false);
    this.training = this.schedule(true, false);
    this.taped = this.training;
  }

  /** The schedule of a pass, with the fused kernels this net's backend offers. */
  private schedule(training: boolean, inputGrad: boolean): Schedule {
    return buildSchedule(this.graph, { training, inputGrad, fusions: fusionsOf(this.backend), frozen: this.frozen });
  }

  private createParams(prefix: string, specs: ParamSpec[], init: InitContext, frozen: boolean): Record<string, Tensor> {
    const tensors: Record<string, Tensor> = {};
    for (const spec of specs) {
      const value = Tensor.zeros(spec.shape, this.dtype, this.backend.allocator);
      initialise(value, spec.init, this.rng, init);
      tensors[spec.name] = value;
      const name = `${prefix}.${spec.name}`;
      this.params.set(name, { name, value, grad: null, trainable: spec.trainable, frozen });
    }
    return tensors;
  }

  /** The output shape of one image, [F] for a classifier. */
  get outputShape(): Shape {
    return this.shapes[this.shapes.length - 1] as Shape;
  }

  /** The auxiliary heads (GoogLeNet's classifiers): layers whose output nobody reads, in order. */
  get auxiliaryHeads(): NodeSpec[] {
    return this.graph.auxHeads.map((j) => this.graph.nodes[j - 1]?.spec as NodeSpec);
  }

  /**
   * The auxiliary heads' outputs of the last training forward, in `auxiliaryHeads` order. They belong
   * to the net and go with its tape; give their loss gradients to `backward` as `auxGrads`.
   */
  auxiliaryOutputs(): Tensor[] {
    if (this.tape === null) throw new Error('auxiliaryOutputs needs a forward pass with { training: true } first');
    return this.graph.auxHeads.map((j) => this.activations[j] as Tensor);
  }

  /** The parameters the optimizer updates (trainable, in no frozen layer), in layer order. */
  trainableParams(): Parameter[] {
    return [...this.params.values()].filter((p) => p.trainable && p.frozen !== true);
  }

  /**
   * Runs x (N, C, H, W) through the net and returns the output, which the caller owns and which
   * lives on the net's backend. x may be any tensor; one made on `backend.allocator` saves the
   * wasm backend a copy per kernel that reads it. With `training`, keeps the tape for `backward`
   * and updates BN running statistics (`inputGrad`: see ForwardOptions). NOTE: for a fused
   * CONV+RELU, `inspect` sees the pair as the RELU.
   */
  forward(x: Tensor, { training = false, inputGrad = false, inspect }: ForwardOptions = {}): Tensor {
    if (!sameShape(x.shape.slice(1), this.spec.input)) {
      throw new ShapeError('input', `the net takes ${formatVolume(this.spec.input)} images, got ${formatVolume(x.shape.slice(1))}`, [x.shape]);
    }
    this.clearTape();
    // The last step's gradients were for its optimizer step; freeing them here, not in backward, keeps
    // them from sitting beside this pass's activations (PyTorch's zero_grad(set_to_none=True) before forward).
    if (training) this.dropGrads();
    const ctx = this.context(training);
    const frozenCtx: ForwardContext = { ...ctx, frozen: true };
    const values: (Tensor | null)[] = this.shapes.map(() => null);
    values[0] = x;
    const schedule = training ? this.trainingSchedule(inputGrad) : this.inference;
    const tape = schedule.forward.map((step) => {
      const inputs = step.inputs.map((j) => values[j] as Tensor);
      const { output, saved } = this.runStep(step, step.frozen ? frozenCtx : ctx, inputs);
      inspect?.(step.node.spec, output);
      values[step.output] = output;
      // A step with no backward step keeps nothing for it, in training too.
      if (!step.backward) step.op.release(saved);
      for (const j of step.frees) {
        values[j]?.dispose();
        values[j] = null;
      }
      return saved;
    });
    const output = values[values.length - 1] as Tensor;
    if (training) {
      this.activations = values;
      this.tape = tape;
      this.taped = schedule;
    }
    return output;
  }

  /** The training schedule, with or without dLoss/dinput. */
  private trainingSchedule(inputGrad: boolean): Schedule {
    return inputGrad ? (this.trainingWithInputGrad ??= this.schedule(true, true)) : this.training;
  }

  /**
   * Back-propagates dLoss/doutput through the tape of the last training forward, leaving each
   * trainable parameter's gradient in `param.grad`, and frees the tape. Returns dLoss/dinput when
   * that forward was asked for it (`ForwardOptions.inputGrad`), else null.
   */
  backward(dy: Tensor, { auxGrads = [] }: BackwardOptions = {}): Tensor | null {
    const tape = this.tape;
    if (tape === null) throw new Error('backward needs a forward pass with { training: true } first');
    if (auxGrads.length !== this.graph.auxHeads.length) {
      throw new Error(`backward: the net has ${this.graph.auxHeads.length} auxiliary outputs, got ${auxGrads.length} gradients for them`);
    }
    const schedule = this.taped;
    const ctx = this.context(true);
    const frozenCtx: ForwardContext = { ...ctx, frozen: true };
    const grads: (Tensor | null)[] = this.shapes.map(() => null);
    [dy, ...auxGrads].forEach((g, k) => {
      const j = schedule.seeds[k] as number;
      // A head with only frozen layers upstream passes no gradient back.
      if (schedule.needsGradient[j] === true) grads[j] = g.clone(this.backend.allocator);
    });
    for (const j of schedule.freedBeforeBackward) this.dropActivation(j);
    for (const back of schedule.backward) {
      const step = schedule.forward[back.step] as ForwardStep;
      const saved = tape[back.step];
      const gradOut = grads[step.output] as Tensor;
      const result = step.op.backward(step.frozen ? frozenCtx : ctx, saved, gradOut, this.paramsOf(step), step.attrs, back.wanted);
      step.op.release(saved);
      gradOut.dispose();
      grads[step.output] = null;
      for (const j of back.frees) this.dropActivation(j);
      for (const { name } of step.layer.params) {
        const g = result.params[name];
        if (g !== undefined) (this.params.get(`${step.layer.spec.name}.${name}`) as Parameter).grad = g;
      }
      step.inputs.forEach((j, k) => {
        const g = result.inputs[k] ?? null;
        if (g === null) return;
        const action = back.inputGrads[k];
        if (action === 'drop') return g.dispose();
        grads[j] = action === 'add' ? sum(this.backend, grads[j] as Tensor, g) : g;
      });
    }
    this.tape = null;
    this.activations = [];
    return grads[0] ?? null;
  }

  /** Frees value j of the tape (an activation the schedule says no later backward step reads). */
  private dropActivation(j: number): void {
    this.activations[j]?.dispose();
    this.activations[j] = null;
  }

  /** Runs one forward step; an op's refusal of what it was given (a ShapeError) names the layer. */
  private runStep(step: ForwardStep, ctx: ForwardContext, inputs: Tensor[]): { output: Tensor; saved: unknown } {
    try {
      return step.op.forward(ctx, inputs, this.paramsOf(step), step.attrs);
    } catch (error) {
      if (error instanceof ShapeError) throw new NetError(step.layer.spec, step.layer.index + 1, error);
      throw error;
    }
  }

  /**
   * The parameters a step's op runs with: its layer's (the CONV's, for a fused CONV+RELU), and for a
   * fused CONV+BN the BN's too as `bn.<name>`, made once per step (the tensors never change, only
   * their values).
   */
  private paramsOf(step: ForwardStep): Record<string, Tensor> {
    const own = this.layerParams[step.layer.index] as Record<string, Tensor>;
    if (step.folded === null) return own;
    const cached = this.foldedParams.get(step);
    if (cached !== undefined) return cached;
    const folded = Object.entries(this.layerParams[step.folded.index] as Record<string, Tensor>).map(([name, t]) => [FOLDED_BN_PREFIX + name, t]);
    const merged: Record<string, Tensor> = { ...own, ...Object.fromEntries(folded) };
    this.foldedParams.set(step, merged);
    return merged;
  }

  private dropGrads(): void {
    for (const param of this.params.values()) {
      param.grad?.dispose();
      param.grad = null;
    }
  }

  /**
   * Replays a training forward of x, checking each layer's output as it is produced, and returns the
   * first layer whose output holds a NaN or an infinity, or null. The training loop names it when
   * the loss stops being finite. BN statistics and the dropout generator are restored afterwards, so
   * the replay leaves the net as it found it.
   */
  firstNonFiniteLayer(x: Tensor): NodeSpec | null {
    const buffers = [...this.params.values()].filter((p) => !p.trainable).map((p) => ({ p, data: p.value.data.slice() }));
    const rngState = this.rngState;
    let found: NodeSpec | null = null;
    const inspect = (node: NodeSpec, output: Tensor): void => {
      if (found === null && !output.data.every(Number.isFinite)) found = node;
    };
    this.forward(x, { training: true, inspect }).dispose();
    this.clearTape();
    for (const { p, data } of buffers) p.value.data.set(data);
    this.rngState = rngState;
    return found;
  }

  /**
   * Frees every parameter, gradient and taped activation. On the wasm backend this returns the
   * net's memory for the next net to use; the net must not be used afterwards.
   */
  dispose(): void {
    this.clearTape();
    this.dropGrads();
    for (const param of this.params.values()) param.value.dispose();
  }

  /** Drops the tape of a training forward that will not be followed by backward. */
  clearTape(): void {
    if (this.tape === null) return;
    this.tape.forEach((saved, s) => {
      const step = this.taped.forward[s] as ForwardStep;
      if (step.backward) step.op.release(saved);
    });
    // Values 1..n-1 belong to the net; the input belongs to the caller and the output was returned.
    for (let j = 1; j < this.activations.length - 1; j++) this.activations[j]?.dispose();
    this.activations = [];
    this.tape = null;
  }

  /**
   * Copies values into the named parameters (e.g. from a weights file). Strict unless `partial`: the
   * state must have every parameter with its shape and nothing else (see `matchState`), or a
   * `StateMismatchError` lists what differs and nothing is loaded. `partial` loads what matches; the
   * returned match says what was left out.
   */
  loadState(state: ReadonlyMap<string, Tensor>, { partial = false }: { partial?: boolean } = {}): StateMatch {
    const match = matchState(new Map([...this.params].map(([name, p]) => [name, p.value.shape])), state);
    if (!partial && !isExactMatch(match)) throw new StateMismatchError(match);
    for (const name of match.matching) (this.params.get(name) as Parameter).value.data.set((state.get(name) as Tensor).data);
    return match;
  }

  private context(training: boolean): ForwardContext {
    return { backend: this.backend, training, rng: this.rng };
  }

  /** The dropout generator's state, saved in checkpoints so a resumed run draws the same masks. */
  get rngState(): number {
    return this.rng.getState();
  }

  set rngState(state: number) {
    this.rng.setState(state);
  }
}

/** The names in `frozen`, each checked to be a layer of the graph that has parameters. */
function checkedFrozen(graph: Graph, frozen: Iterable<string>): ReadonlySet<string> {
  const names = new Set(frozen);
  for (const name of names) {
    const node = graph.nodes.find((n) => n.spec.name === name);
    if (node === undefined) throw new Error(`frozen: the net has no layer named '${name}'`);
    if (node.params.length === 0) throw new Error(`frozen: layer '${name}' (${node.spec.op}) has no parameters to freeze`);
  }
  return names;
}

/** a + b by the backend, freeing both: where a value has several readers, their gradients add up. */
function sum(backend: Backend, a: Tensor, b: Tensor): Tensor {
  const total = backend.add(a, b);
  a.dispose();
  b.dispose();
  return total;
}
