import type { OpAttrs } from '../ops/index.js';
import type { Rounding } from '../ops/window.js';
import type { NodeSpec } from '../net/spec.js';
import type { Attr, Chain, Def, Element, Item, LayerNode, Num, Program } from './ast.js';
import { NotationError, type Location } from './errors.js';
import type { LayerKeyword } from './lexer.js';

/** Variable values from the caller (`--set N=2,M=3` or `{ N: 2, M: 3 }`); they override `let` defaults. */
export type Bindings = Readonly<Record<string, number>>;

/**
 * The documented defaults of bare layers. INPUT is a CIFAR-10 image (the notes' first example); a
 * bare CONV follows the notes' advice (3x3, stride 1, size-preserving padding); a bare POOL is the
 * notes' most common 2x2 max pool, stride 2; a bare FC is the 10 class scores when no FC follows
 * it, a hidden layer of 512 otherwise.
 */
export const DEFAULTS = {
  input: [3, 32, 32] as const,
  convFilter: 3,
  convFilters: 32,
  poolFilter: 2,
  hiddenFc: 512,
  classes: 10,
  bnEps: 1e-5,
  bnMomentum: 0.1,
  dropout: 0.5,
  lrn: { size: 5, alpha: 1e-4, beta: 0.75, k: 2 },
} as const;

/** A layer after desugaring: a net node (inputs not yet wired) and where it was written. */
export interface LayerItem {
  kind: 'layer';
  node: NodeSpec;
  loc: Location;
}

/** A residual block: body(x) + shortcut(x), the shortcut being the identity when null. */
export interface ResItem {
  kind: 'res';
  name: string;
  body: Expanded[];
  shortcut: Expanded[] | null;
  loc: Location;
}

/** Branches that all read the same volume, concatenated along channels. */
export interface ConcatItem {
  kind: 'concat';
  name: string;
  branches: Expanded[][];
  loc: Location;
}

/** A side head (GoogLeNet's auxiliary classifiers): reads the volume, whose path continues unchanged. */
export interface AuxItem {
  kind: 'aux';
  body: Expanded[];
  loc: Location;
}

export type Expanded = LayerItem | ResItem | ConcatItem | AuxItem;

/** A net with every repetition, option, variable, default and block expanded, and every layer named. */
export interface ExpandedNet {
  /** One image, [C, H, W]. */
  input: [number, number, number];
  /** Where INPUT was written, if it was. */
  inputLoc: Location | null;
  items: Expanded[];
  source: string;
}

export interface DesugarOptions {
  bindings?: Bindings;
  /** Overrides the INPUT volume, [C, H, W] (`--input HxWxC`). */
  input?: readonly [number, number, number];
}

/** The most layers one text may expand to; stops `[...]*1000000` before it eats the memory. */
const MAX_LAYERS = 100_000;
/** How deep blocks may call blocks; deeper means a block calls itself. */
const MAX_DEPTH = 64;

interface Scope {
  path: string;
  /** A labelled group numbers its children 0, 1, 2, ... like nn.Sequential. */
  sequential: boolean;
  next: number;
  counters: Map<string, number>;
  env: ReadonlyMap<string, number>;
  depth: number;
}

/**
 * Expands a parsed program: repeats `X*N`, keeps or drops `X?`, substitutes variables, fills in
 * defaults, inlines `def` blocks and names every layer with torchvision-style module paths.
 */
export function desugar(program: Program, options: DesugarOptions = {}): ExpandedNet {
  return new Desugarer(program, options).run();
}

const PARAM_OPS = new Set(['conv', 'fc', 'bn']);

class Desugarer {
  private readonly defs = new Map<string, Def>();
  private readonly taken = new Set<string>();
  private readonly pendingFc: NodeSpec[] = [];
  private readonly fcNodes: NodeSpec[] = [];
  private layers = 0;

  constructor(
    private readonly program: Program,
    private readonly options: DesugarOptions,
  ) {}

  run(): ExpandedNet {
    const { program } = this;
    for (const def of program.defs) {
      if (this.defs.has(def.name)) this.fail('name', `the block '${def.name}' is defined twice`, def.loc);
      this.defs.set(def.name, def);
    }
    const env = new Map<string, number>();
    for (const l of program.lets) env.set(l.name, l.value);
    for (const [name, value] of Object.entries(this.options.bindings ?? {})) env.set(name, value);

    let elements = program.body.elements;
    let input: [number, number, number] = [...DEFAULTS.input];
    let inputLoc: Location | null = null;
    const first = elements[0] as Element;
    if (first.item.kind === 'layer' && first.item.type === 'INPUT') {
      if (first.label !== null || first.repeat !== null || first.optional !== null) {
        this.fail('syntax', 'INPUT takes no label, repetition or ?', first.loc);
      }
      inputLoc = first.item.loc;
      if (first.item.size !== null) {
        const [h, w, c] = first.item.size.map((n) => this.integer(n, env, 'an input size', 1));
        input = [c as number, h as number, w as number];
      }
      elements = elements.slice(1);
    }
    if (this.options.input !== undefined) input = [...this.options.input];

    const scope: Scope = { path: '', sequential: false, next: 0, counters: new Map(), env, depth: 0 };
    const items = this.chain({ elements, loc: program.body.loc }, scope);
    // A bare FC is the classifier when no FC follows it, a hidden layer otherwise.
    const lastFc = this.fcNodes[this.fcNodes.length - 1];
    for (const node of this.pendingFc) {
      if (node.op === 'fc') node.attrs.outFeatures = node === lastFc ? DEFAULTS.classes : DEFAULTS.hiddenFc;
    }
    return { input, inputLoc, items, source: program.source };
  }

  private chain(chain: Chain, scope: Scope): Expanded[] {
    const out: Expanded[] = [];
    for (const element of chain.elements) {
      if (element.optional !== null && !this.switchedOn(element, scope)) continue;
      const times = element.repeat === null ? 1 : this.integer(element.repeat, scope.env, 'a repeat count', 0);
      for (let i = 0; i < times; i++) out.push(...this.item(element.item, element.label, scope));
    }
    return out;
  }

  private switchedOn(element: Element, scope: Scope): boolean {
    const { item } = element;
    const name =
      element.optional?.name ?? element.label ?? (item.kind === 'layer' ? item.type : item.kind === 'call' ? item.name : null);
    if (name === null) {
      return this.fail('syntax', 'an optional group needs the name of the variable that switches it on: write [ ... ]?NAME', element.loc);
    }
    const value = scope.env.get(name);
    if (value === undefined) {
      return this.fail('binding', `'${name}' is not set; it switches this optional part on (1) or off (0): set ${name}=1 or ${name}=0 (CLI --set ${name}=1, API { ${name}: 1 })`, element.loc);
    }
    return value !== 0;
  }

  private item(item: Item, label: string | null, scope: Scope): Expanded[] {
    switch (item.kind) {
      case 'layer':
        return [this.layer(item, label, scope)];
      case 'group':
        if (label === null) return this.chain(item.body, scope);
        return this.chain(item.body, this.child(scope, label, '', true));
      case 'call':
        return this.call(item, label, scope);
      case 'block': {
        // A block opens a scope of its own where it has a label or sits in a numbered group; elsewhere
        // (inside a def, say) its layers are named beside their neighbours, as torchvision's blocks are.
        const inner = label !== null || scope.sequential ? this.child(scope, label, item.type.toLowerCase(), false) : scope;
        const branches = item.branches.map((b) => this.chain(b, inner));
        if (item.type === 'AUX') return [{ kind: 'aux', body: branches[0] ?? [], loc: item.loc }];
        if (item.type === 'CONCAT') return [{ kind: 'concat', name: this.auto(inner, 'concat'), branches, loc: item.loc }];
        const [body = [], shortcut = []] = branches;
        if (body.length === 0) this.fail('syntax', 'the body of RES is empty', item.loc);
        return [{ kind: 'res', name: this.auto(inner, 'add'), body, shortcut: shortcut.length === 0 ? null : shortcut, loc: item.loc }];
      }
    }
  }

  private call(item: Extract<Item, { kind: 'call' }>, label: string | null, scope: Scope): Expanded[] {
    const def = this.defs.get(item.name);
    if (def === undefined) {
      const known = [...this.defs.keys()];
      return this.fail(
        'name',
        `'${item.name}' is neither a layer (INPUT, CONV, POOL, AVGPOOL, GAP, FC, RELU, BN, DROPOUT, LRN, SOFTMAX, FLATTEN) nor a block${known.length ? ` (defined: ${known.join(', ')})` : ''}`,
        item.loc,
      );
    }
    if (def.params.length !== item.args.length) {
      this.fail('syntax', `${def.name} takes ${def.params.length} argument(s) (${def.params.join(', ')}), got ${item.args.length}`, item.loc);
    }
    if (scope.depth >= MAX_DEPTH) this.fail('syntax', `blocks nest deeper than ${MAX_DEPTH}: does '${def.name}' call itself?`, item.loc);
    const env = new Map(scope.env);
    def.params.forEach((p, i) => env.set(p, this.number(item.args[i] as Num, scope.env)));
    const inner = this.child(scope, label, def.name, false);
    return this.chain(def.body, { ...inner, env, depth: scope.depth + 1 });
  }

  /** A nested scope for a labelled group, a block instance, or a RES/CONCAT/AUX that needs one. */
  private child(scope: Scope, label: string | null, prefix: string, sequential: boolean): Scope {
    const path = label !== null || scope.sequential ? this.segment(scope, label) : this.auto(scope, prefix);
    return { path, sequential, next: 0, counters: new Map(), env: scope.env, depth: scope.depth };
  }

  /** The path of a labelled child, or of the next numbered child in a sequential scope. */
  private segment(scope: Scope, label: string | null): string {
    const seg = scope.sequential ? (label ?? String(scope.next)) : (label as string);
    if (scope.sequential) scope.next++;
    return join(scope.path, seg);
  }

  /** `conv1`, `conv2`, ... : the next unused automatic name for `prefix` in the scope. */
  private auto(scope: Scope, prefix: string): string {
    let k = scope.counters.get(prefix) ?? 0;
    let name: string;
    do name = join(scope.path, `${prefix}${++k}`);
    while (this.taken.has(name));
    scope.counters.set(prefix, k);
    this.taken.add(name);
    return name;
  }

  private layer(node: LayerNode, label: string | null, scope: Scope): LayerItem {
    if (node.type === 'INPUT') this.fail('syntax', 'INPUT can only be the first layer of the net', node.loc);
    if (++this.layers > MAX_LAYERS) this.fail('syntax', `the net expands to more than ${MAX_LAYERS} layers`, node.loc);
    const resolved = resolveLayer(node, scope.env, this);
    let name: string;
    if (label === null && !scope.sequential) {
      name = this.auto(scope, resolved.op === 'maxpool' ? 'pool' : resolved.op);
    } else {
      name = this.segment(scope, label);
      if (this.taken.has(name)) {
        if (PARAM_OPS.has(resolved.op)) this.fail('name', `the name '${name}' is used twice; layers with weights need unique names`, node.loc);
        // A parameter-free layer may share a module name (torchvision reuses one `relu`); keep it unique.
        let k = 2;
        while (this.taken.has(`${name}_${k}`)) k++;
        name = `${name}_${k}`;
      }
      this.taken.add(name);
    }
    const text = this.program.source.slice(node.loc.offset, node.loc.end);
    const spec = { name, ...resolved, inputs: [], source: { line: node.loc.line, column: node.loc.column, text } } as NodeSpec;
    if (spec.op === 'fc') {
      this.fcNodes.push(spec);
      if (node.count === null) this.pendingFc.push(spec);
    }
    return { kind: 'layer', node: spec, loc: node.loc };
  }

  number(num: Num, env: ReadonlyMap<string, number>): number {
    if (num.kind === 'num') return num.value;
    const value = env.get(num.name);
    if (value === undefined) {
      return this.fail('binding', `the variable '${num.name}' is not set: set it with --set ${num.name}=<number> (CLI) or { ${num.name}: <number> } (API)`, num.loc);
    }
    return value;
  }

  integer(num: Num, env: ReadonlyMap<string, number>, what: string, min: number): number {
    const value = this.number(num, env);
    if (!Number.isInteger(value) || value < min) {
      this.fail('syntax', `${what} must be a whole number of at least ${min}, got ${value}${num.kind === 'var' ? ` (${num.name})` : ''}`, num.loc);
    }
    return value;
  }

  sourceOf(loc: Location): string {
    return this.program.source.slice(loc.offset, loc.end);
  }

  fail(kind: 'syntax' | 'binding' | 'name', reason: string, loc: Location): never {
    throw new NotationError(kind, reason, loc, this.program.source);
  }
}

function join(path: string, segment: string): string {
  return path === '' ? segment : `${path}.${segment}`;
}

/** Which attributes each layer takes; flags are the rounding modes. */
const ACCEPTS: Record<LayerKeyword, { named: readonly string[]; rounding: boolean; positional: string | null }> = {
  INPUT: { named: [], rounding: false, positional: null },
  CONV: { named: ['s', 'p', 'k', 'groups', 'bias'], rounding: true, positional: null },
  POOL: { named: ['s', 'p', 'k'], rounding: true, positional: null },
  AVGPOOL: { named: ['s', 'p', 'k'], rounding: true, positional: null },
  GAP: { named: [], rounding: false, positional: null },
  FC: { named: ['bias'], rounding: false, positional: null },
  RELU: { named: [], rounding: false, positional: null },
  BN: { named: ['eps', 'momentum'], rounding: false, positional: null },
  DROPOUT: { named: ['p'], rounding: false, positional: 'p' },
  LRN: { named: ['size', 'alpha', 'beta', 'k'], rounding: false, positional: null },
  SOFTMAX: { named: [], rounding: false, positional: null },
  FLATTEN: { named: [], rounding: false, positional: null },
};

const ROUNDINGS = new Set<string>(['exact', 'floor', 'ceil']);
const YES = new Set(['yes', 'true']);
const NO = new Set(['no', 'false']);

type Resolved = { [K in keyof OpAttrs]: { op: K; attrs: OpAttrs[K] } }[keyof OpAttrs];

/** Turns a layer as written into an op and its attributes, with every default filled in. */
function resolveLayer(node: LayerNode, env: ReadonlyMap<string, number>, d: Desugarer): Resolved {
  const accepts = ACCEPTS[node.type];
  const values = new Map<string, { nums: number[]; attr: Attr }>();
  let rounding: Rounding = 'exact';
  let bias = true;
  for (const attr of node.attrs) {
    let name = attr.name;
    let value = attr.value;
    if (name !== null && value === null && accepts.rounding && ROUNDINGS.has(name)) {
      rounding = name as Rounding;
      continue;
    }
    // DROPOUT(P): a bare name in the positional slot is a variable.
    if (value === null && accepts.positional !== null && name !== null) {
      value = [{ kind: 'var', name, loc: attr.loc }];
      name = null;
    }
    if (name === null) name = accepts.positional;
    const allowed = [...accepts.named.map((n) => `${n}=`), ...(accepts.rounding ? ['floor', 'ceil', 'exact'] : [])];
    if (name === null || value === null || !accepts.named.includes(name)) {
      d.fail('syntax', `${node.type} does not take '${d.sourceOf(attr.loc)}'; it takes ${allowed.length ? allowed.join(', ') : 'no attributes'}`, attr.loc);
    }
    if (values.has(name)) d.fail('syntax', `'${name}' is given twice`, attr.loc);
    if (name === 'bias') {
      const v = value[0] as Num;
      if (value.length === 1 && v.kind === 'var' && (YES.has(v.name) || NO.has(v.name))) bias = YES.has(v.name);
      else bias = d.number(v, env) !== 0;
      continue;
    }
    const pair = name === 's' || name === 'p' || name === 'k';
    if (value.length > 1 && !pair) d.fail('syntax', `'${name}' takes one number`, attr.loc);
    values.set(name, { nums: value.map((n) => d.number(n, env)), attr });
  }

  const get = (name: string): number[] | null => values.get(name)?.nums ?? null;
  const check = (name: string, what: string, ok: (v: number) => boolean): void => {
    const entry = values.get(name);
    if (entry !== undefined && !entry.nums.every(ok)) d.fail('syntax', `${what}, got ${name}=${entry.nums.join('x')}`, entry.attr.loc);
  };
  const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1;
  const pairOf = (v: number[]): [number, number] => [v[0] as number, (v[1] ?? v[0]) as number];

  switch (node.type) {
    case 'CONV':
    case 'POOL':
    case 'AVGPOOL': {
      const isConv = node.type === 'CONV';
      if (node.size !== null && values.has('k')) d.fail('syntax', `the filter size is given twice (${node.type}${node.size.map((n) => d.number(n, env)).join('x')} and k=)`, node.loc);
      const sizeNums = node.size?.map((n) => d.integer(n, env, 'a filter size', 1)) ?? null;
      check('k', 'the filter size must be a whole number of at least 1', positiveInt);
      check('s', 'the stride must be a whole number of at least 1', positiveInt);
      check('p', 'the padding must be a whole number of at least 0', (v) => Number.isInteger(v) && v >= 0);
      const kernel = pairOf(sizeNums ?? get('k') ?? [isConv ? DEFAULTS.convFilter : DEFAULTS.poolFilter]);
      const stride = pairOf(get('s') ?? (isConv ? [1] : kernel));
      // NOTE: (F-1)/2 keeps the size for odd F, the notes' rule; for even F it is rounded down.
      const padding = pairOf(get('p') ?? (isConv ? kernel.map((f) => Math.floor((f - 1) / 2)) : [0]));
      const window = { kernel, stride, padding, rounding };
      if (node.type === 'POOL') return { op: 'maxpool', attrs: window };
      if (node.type === 'AVGPOOL') return { op: 'avgpool', attrs: { ...window, countIncludePad: true } };
      const outChannels = node.count === null ? DEFAULTS.convFilters : d.integer(node.count, env, 'the number of filters', 1);
      check('groups', 'groups must be a whole number of at least 1', positiveInt);
      return { op: 'conv', attrs: { ...window, outChannels, groups: get('groups')?.[0] ?? 1, bias } };
    }
    case 'FC': {
      // A bare FC's size depends on what follows it; desugar fills it in at the end.
      const outFeatures = node.count === null ? 0 : d.integer(node.count, env, 'the number of outputs', 1);
      return { op: 'fc', attrs: { outFeatures, bias } };
    }
    case 'BN':
      check('eps', 'eps must be positive', (v) => v > 0);
      check('momentum', 'momentum must be in [0, 1]', (v) => v >= 0 && v <= 1);
      return { op: 'bn', attrs: { eps: get('eps')?.[0] ?? DEFAULTS.bnEps, momentum: get('momentum')?.[0] ?? DEFAULTS.bnMomentum } };
    case 'DROPOUT':
      check('p', 'the drop probability must be in [0, 1)', (v) => v >= 0 && v < 1);
      return { op: 'dropout', attrs: { p: get('p')?.[0] ?? DEFAULTS.dropout } };
    case 'LRN': {
      check('size', 'the LRN size must be a whole number of at least 1', positiveInt);
      const l = DEFAULTS.lrn;
      return {
        op: 'lrn',
        attrs: { size: get('size')?.[0] ?? l.size, alpha: get('alpha')?.[0] ?? l.alpha, beta: get('beta')?.[0] ?? l.beta, k: get('k')?.[0] ?? l.k },
      };
    }
    case 'GAP':
      return { op: 'globalavgpool', attrs: {} };
    case 'RELU':
      return { op: 'relu', attrs: {} };
    case 'SOFTMAX':
      return { op: 'softmax', attrs: {} };
    case 'FLATTEN':
      return { op: 'flatten', attrs: {} };
    case 'INPUT':
      return d.fail('syntax', 'INPUT can only be the first layer of the net', node.loc);
  }
}
