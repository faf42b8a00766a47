import type { Backend } from '../backends/backend.js';
import { referenceBackend } from '../backends/reference/index.js';
import { ops, type OpType } from '../ops/index.js';
import type { ForwardContext, Op, ParamSpec } from '../ops/op.js';
import { ShapeError, SizingError } from '../ops/errors.js';
import { Rng } from '../tensor/rng.js';
import { formatShape, formatVolume, sameShape, type Shape } from '../tensor/shape.js';
import { Tensor, setAllocator, type DType } from '../tensor/tensor.js';
import { classifierLayers, DEFAULT_INIT, initialise, type InitContext, type InitScheme } from './init.js';
import { conv2dRelu } from '../ops/conv2d_relu.js';
import { liveness, readers } from '../memory/liveness.js';
import { INPUT_NODE, type NetSpec, type NodeSpec } from './spec.js';

/** A trainable tensor (or a buffer such as BN's running mean) and, after backward, its gradient. */
export interface Parameter {
  readonly name: string;
  readonly value: Tensor;
  grad: Tensor | null;
  readonly trainable: boolean;
}

export interface NetOptions {
  backend?: Backend;
  /** Seeds weight initialisation and dropout; the same seed gives the same net. */
  seed?: number;
  dtype?: DType;
  /** How CONV and FC weights start out (net/init.ts); `he` with a small classifier by default. */
  init?: InitScheme;
}

export interface ForwardOptions {
  /** Keep the tape for `backward`, use batch statistics in BN and drop values in DROPOUT. */
  training?: boolean;
  /** Called with each layer's output as soon as it is computed (before any of it is freed). */
  inspect?: (node: NodeSpec, output: Tensor) => void;
}

export interface BackwardOptions {
  /** Also return dLoss/dinput (the images). */
  inputGrad?: boolean;
  /** dLoss/d(each auxiliary output), in `auxiliaryHeads` order; required when the net has such heads. */
  auxGrads?: readonly Tensor[];
}

/** A layer could not be built: names the node, where it was written, and why. */
export class NetError extends Error {
  override name = 'NetError';
  constructor(
    readonly node: NodeSpec,
    readonly index: number,
    readonly reason: Error,
  ) {
    const where = node.source ? ` at line ${node.source.line}, column ${node.source.column} (${node.source.text})` : '';
    super(`layer ${index} '${node.name}'${where}: ${reason.message}`);
  }
}

interface Step {
  node: NodeSpec;
  op: Op<unknown, unknown>;
  attrs: unknown;
  inputIndices: number[];
  params: Record<string, Tensor>;
  paramNames: string[];
  /** Parameters are named `<paramPrefix>.<name>`: the node's name, or the CONV's for a fused CONV+RELU. */
  paramPrefix: string;
  /** A CONV fused into the RELU after it: it computes nothing, and its output is never stored. */
  skipped: boolean;
}

interface TapeEntry {
  saved: unknown;
}

/**
 * A net built from a NetSpec: any DAG of ops, run in the listed (topological) order. In inference
 * each activation is freed as soon as its last reader has run; in training the tape keeps what
 * backward needs until `backward` has consumed it.
 */
export class Net {
  readonly spec: NetSpec;
  readonly backend: Backend;
  readonly dtype: DType;
  /** Parameters and buffers by state_dict name, in the order of the layers. */
  readonly params: Map<string, Parameter> = new Map();
  /** Each node's output shape for one image, [C, H, W] or [F]; index 0 is the input. */
  readonly shapes: Shape[];
  private readonly steps: Step[] = [];
  /** For each value (0 = input, i + 1 = step i), the index of the last step that reads it. */
  private readonly lastUse: number[];
  /** Values nobody reads but the net's output: auxiliary heads, trained by losses of their own. */
  private readonly auxIndices: number[];
  /** For each value, whether some backward reads it, so that training must keep it after forward. */
  private readonly keptForBackward: boolean[];
  private readonly rng: Rng;
  private activations: (Tensor | null)[] = [];
  private tape: TapeEntry[] | null = null;

  constructor(spec: NetSpec, options: NetOptions = {}) {
    this.spec = spec;
    this.backend = options.backend ?? referenceBackend;
    this.dtype = options.dtype ?? 'float32';
    this.rng = new Rng(options.seed ?? 0);
    setAllocator(this.backend.allocator);
    this.shapes = [spec.input];
    const indexOf = new Map<string, number>([[INPUT_NODE, 0]]);
    const scheme = options.init ?? DEFAULT_INIT;
    const classifiers = classifierLayers(spec);
    spec.nodes.forEach((node, i) => {
      const inputIndices = node.inputs.map((name) => {
        const index = indexOf.get(name);
        if (index === undefined) throw new NetError(node, i, new Error(`reads '${name}', which no earlier layer produces`));
        return index;
      });
      if (indexOf.has(node.name)) throw new NetError(node, i, new Error(`the name '${node.name}' is used twice`));
      const op = ops[node.op as OpType] as Op<unknown, unknown>;
      const inShapes = inputIndices.map((j) => this.shapes[j] as Shape);
      let outShape: Shape;
      let paramSpecs: ParamSpec[];
      try {
        outShape = op.outputShape(inShapes, node.attrs);
        paramSpecs = op.params(inShapes, node.attrs);
      } catch (error) {
        if (error instanceof ShapeError || error instanceof SizingError) throw new NetError(node, i, error);
        throw error;
      }
      this.shapes.push(outShape);
      indexOf.set(node.name, i + 1);
      const params = this.createParams(node.name, paramSpecs, { scheme, classifier: classifiers.has(node.name) });
      this.steps.push({ node, op, attrs: node.attrs, inputIndices, params, paramNames: paramSpecs.map((p) => p.name), paramPrefix: node.name, skipped: false });
    });
    const specReaders = liveness(spec).lastReader;
    this.auxIndices = specReaders.flatMap((reader, j) => (reader === -1 && j > 0 && j < specReaders.length - 1 ? [j] : []));
    if (this.backend.conv2dRelu !== undefined) this.fuseConvRelu();
    ({ lastReader: this.lastUse, keptForBackward: this.keptForBackward } = readers(
      this.steps.map((step) => (step.skipped ? [] : step.inputIndices)),
      this.steps.map((step) => step.op.backwardReads),
    ));
  }

  /**
   * Where a CONV's only reader is a RELU, the RELU's step runs both as one fused kernel on the CONV's
   * input and parameters, and the CONV's step is skipped: one pass over the output instead of three
   * (conv, zero-fill, relu), and no buffer for the conv's output. NOTE: `inspect` then sees the pair
   * as the RELU.
   */
  private fuseConvRelu(): void {
    const readCount = this.shapes.map(() => 0);
    for (const step of this.steps) for (const j of step.inputIndices) readCount[j] = (readCount[j] ?? 0) + 1;
    this.steps.forEach((conv, i) => {
      const relu = this.steps[i + 1];
      if (conv.node.op !== 'conv' || relu?.node.op !== 'relu' || relu.inputIndices[0] !== i + 1 || readCount[i + 1] !== 1) return;
      this.steps[i + 1] = { ...conv, node: relu.node, op: conv2dRelu as Op<unknown, unknown> };
      conv.skipped = true;
    });
  }

  private createParams(prefix: string, specs: ParamSpec[], init: InitContext): Record<string, Tensor> {
    const tensors: Record<string, Tensor> = {};
    for (const spec of specs) {
      const value = Tensor.zeros(spec.shape, this.dtype);
      initialise(value, spec.init, this.rng, init);
      tensors[spec.name] = value;
      const name = `${prefix}.${spec.name}`;
      this.params.set(name, { name, value, grad: null, trainable: spec.trainable });
    }
    return tensors;
  }

  /** The output shape of one image, [F] for a classifier. */
  get outputShape(): Shape {
    return this.shapes[this.shapes.length - 1] as Shape;
  }

  /** The auxiliary heads (GoogLeNet's classifiers): layers whose output nobody reads, in order. */
  get auxiliaryHeads(): NodeSpec[] {
    return this.auxIndices.map((j) => this.steps[j - 1]?.node as NodeSpec);
  }

  /**
   * The auxiliary heads' outputs of the last training forward, in `auxiliaryHeads` order. They belong
   * to the net and go with its tape; give their loss gradients to `backward` as `auxGrads`.
   */
  auxiliaryOutputs(): Tensor[] {
    if (this.tape === null) throw new Error('auxiliaryOutputs needs a forward pass with { training: true } first');
    return this.auxIndices.map((j) => this.activations[j] as Tensor);
  }

  /** The trainable parameters, in layer order. */
  trainableParams(): Parameter[] {
    return [...this.params.values()].filter((p) => p.trainable);
  }

  /**
   * Runs x (N, C, H, W) through the net and returns the output, which the caller owns. With
   * `training`, keeps the tape for `backward` and updates BN running statistics.
   */
  forward(x: Tensor, { training = false, inspect }: ForwardOptions = {}): Tensor {
    if (!sameShape(x.shape.slice(1), this.spec.input)) {
      throw new ShapeError('input', `the net takes ${formatVolume(this.spec.input)} images, got ${formatVolume(x.shape.slice(1))}`, [x.shape]);
    }
    this.clearTape();
    setAllocator(this.backend.allocator);
    // The last step's gradients were for its optimizer step; freeing them here, not in backward, keeps
    // them from sitting beside this pass's activations (PyTorch's zero_grad(set_to_none=True) before forward).
    if (training) this.dropGrads();
    const ctx = this.context(training);
    const values: (Tensor | null)[] = [x];
    const tape: TapeEntry[] = [];
    this.steps.forEach((step, i) => {
      if (step.skipped) {
        values.push(null);
        if (training) tape.push({ saved: null });
        return;
      }
      const inputs = step.inputIndices.map((j) => values[j] as Tensor);
      const { output, saved } = step.op.forward(ctx, inputs, step.params, step.attrs);
      inspect?.(step.node, output);
      values.push(output);
      if (training) tape.push({ saved });
      else step.op.release(saved);
      for (const j of new Set(step.inputIndices)) {
        if (j > 0 && this.lastUse[j] === i && !(training && this.keptForBackward[j])) {
          (values[j] as Tensor).dispose();
          values[j] = null;
        }
      }
      // An output nobody reads is an auxiliary head's (GoogLeNet's): training keeps it for its loss,
      // inference frees it at once.
      if (!training && this.lastUse[i + 1] === -1 && i < this.steps.length - 1) {
        output.dispose();
        values[i + 1] = null;
      }
    });
    const output = values[values.length - 1] as Tensor;
    if (training) {
      this.activations = values;
      this.tape = tape;
    }
    return output;
  }

  /**
   * Back-propagates dLoss/doutput through the tape of the last training forward, leaving each
   * parameter's gradient in `param.grad`, and frees the tape. Returns dLoss/dinput when asked.
   */
  backward(dy: Tensor, { inputGrad = false, auxGrads = [] }: BackwardOptions = {}): Tensor | null {
    const tape = this.tape;
    if (tape === null) throw new Error('backward needs a forward pass with { training: true } first');
    setAllocator(this.backend.allocator);
    const ctx = this.context(true);
    const grads: (Tensor | null)[] = this.activations.map(() => null);
    grads[grads.length - 1] = dy.clone();
    if (auxGrads.length !== this.auxIndices.length) {
      throw new Error(`backward: the net has ${this.auxIndices.length} auxiliary outputs, got ${auxGrads.length} gradients for them`);
    }
    this.auxIndices.forEach((j, k) => (grads[j] = (auxGrads[k] as Tensor).clone()));
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const step = this.steps[i] as Step;
      const entry = tape[i] as TapeEntry;
      const gradOut = grads[i + 1];
      if (gradOut == null) {
        step.op.release(entry.saved);
        this.dropActivation(i + 1);
        continue;
      }
      const wanted = step.inputIndices.map((j) => j > 0 || inputGrad);
      const result = step.op.backward(ctx, entry.saved, gradOut, step.params, step.attrs, wanted);
      step.op.release(entry.saved);
      gradOut.dispose();
      grads[i + 1] = null;
      this.dropActivation(i + 1);
      for (const name of step.paramNames) {
        const g = result.params[name];
        if (g === undefined) continue;
        (this.params.get(`${step.paramPrefix}.${name}`) as Parameter).grad = g;
      }
      step.inputIndices.forEach((j, k) => {
        const g = result.inputs[k] ?? null;
        if (g === null) return;
        if (!wanted[k]) return g.dispose();
        grads[j] = accumulate(this.backend, grads[j] ?? null, g);
      });
    }
    this.tape = null;
    this.activations = [];
    return grads[0] ?? null;
  }

  private dropGrads(): void {
    for (const param of this.params.values()) {
      param.grad?.dispose();
      param.grad = null;
    }
  }

  /**
   * Frees activation j during backward: every reader of it has run its backward already. The net's
   * output is the caller's and stays.
   */
  private dropActivation(j: number): void {
    if (j === this.activations.length - 1) return;
    this.activations[j]?.dispose();
    this.activations[j] = null;
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
    this.tape.forEach((entry, i) => this.steps[i]?.op.release(entry.saved));
    // Values 1..n-1 belong to the net; the input belongs to the caller and the output was returned.
    for (let j = 1; j < this.activations.length - 1; j++) this.activations[j]?.dispose();
    this.activations = [];
    this.tape = null;
  }

  /** Copies values into the named parameters (e.g. from a weights file), checking every shape. */
  loadState(state: ReadonlyMap<string, Tensor>, { strict = true }: { strict?: boolean } = {}): void {
    for (const [name, param] of this.params) {
      const source = state.get(name);
      if (source === undefined) {
        if (strict) throw new Error(`weights: no tensor named '${name}' (shape ${formatShape(param.value.shape)})`);
        continue;
      }
      if (!sameShape(source.shape, param.value.shape)) {
        throw new Error(`weights: '${name}' has shape ${formatShape(source.shape)}, the net expects ${formatShape(param.value.shape)}`);
      }
      param.value.data.set(source.data);
    }
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

function accumulate(backend: Backend, sum: Tensor | null, g: Tensor): Tensor {
  if (sum === null) return g;
  const total = backend.add(sum, g);
  sum.dispose();
  g.dispose();
  return total;
}
