import type { OpAttrs } from '../ops/index.js';
import type { NodeSpec } from '../net/spec.js';
import type { Chain, Def, Element, Item, LayerNode, Num, Program } from './ast.js';
import { NotationError, type Location } from './errors.js';
import { MAX_BLOCK_DEPTH, MAX_EXPANDED_NESTING, MAX_EXPANSION_STEPS, MAX_LAYERS, MAX_TENSOR_VALUES } from './limits.js';
import { keywordFor, nearest } from './suggest.js';
import { switchOf, type Bindings } from './variables.js';
import { BLOCKS, DEFAULTS, entryOf, LAYER_KEYWORDS, readAttrs, type KeywordEntry, type ResolveContext } from './keywords/index.js';

type Resolved = { [K in keyof OpAttrs]: { op: K; attrs: OpAttrs[K] } }[keyof OpAttrs];

export type { Bindings } from './variables.js';

/** A layer after desugaring: a net node (inputs not yet wired) and where it was written. */
export interface LayerItem {
  /** Discriminates the Expanded union. */
  kind: 'layer';
  /** The layer as a net node; its `inputs` are wired when the net is built. */
  node: NodeSpec;
  /** Where the layer was written. */
  loc: Location;
}

/** A residual block: body(x) + shortcut(x), the shortcut being the identity when null. */
export interface ResItem {
  /** Discriminates the Expanded union. */
  kind: 'res';
  /** The name of the block's add node. */
  name: string;
  /** The residual branch, in order. */
  body: Expanded[];
  /** The projection branch, or null for the identity. */
  shortcut: Expanded[] | null;
  /** Where `RES` was written. */
  loc: Location;
}

/** Branches that all read the same volume, concatenated along channels. */
export interface ConcatItem {
  /** Discriminates the Expanded union. */
  kind: 'concat';
  /** The name of the block's concat node. */
  name: string;
  /** The branches, in the order their channels are concatenated. */
  branches: Expanded[][];
  /** Where `CONCAT` was written. */
  loc: Location;
}

/**
 * `MUL[a | b]` or `DIV[a | b]`: two branches that read the same value, joined element-wise, a * b or
 * a / b; a branch with no layers (written empty, or switched off by `?`) is that value itself.
 */
export interface ElementwiseItem {
  /** Discriminates the Expanded union. */
  kind: 'elementwise';
  /** The join: the product or the quotient (first branch over second). */
  op: 'mul' | 'div';
  /** The name of the block's join node. */
  name: string;
  /** The two branches, in order. */
  branches: [Expanded[], Expanded[]];
  /** Where `MUL` or `DIV` was written. */
  loc: Location;
}

/** A side head (GoogLeNet's auxiliary classifiers): reads the volume, whose path continues unchanged. */
export interface AuxItem {
  /** Discriminates the Expanded union. */
  kind: 'aux';
  /** The head's layers, ending in its classifier. */
  body: Expanded[];
  /** Where `AUX` was written. */
  loc: Location;
}

/** One part of an expanded net: a layer or a block of parts. */
export type Expanded = LayerItem | ResItem | ConcatItem | ElementwiseItem | AuxItem;

/** A net with every repetition, option, variable, default and block expanded, and every layer named. */
export interface ExpandedNet {
  /** One image, [C, H, W]. */
  input: [number, number, number];
  /** Where INPUT was written, if it was. */
  inputLoc: Location | null;
  /** The net's parts, from after INPUT to the output. */
  items: Expanded[];
  /** The text it was expanded from, for error excerpts. */
  source: string;
}

/** The caller's values and input volume. */
export interface DesugarOptions {
  /** Values for the spec's variables, overriding its `let` defaults. */
  bindings?: Bindings;
  /** Overrides the INPUT volume, [C, H, W] (`--input HxWxC`). */
  input?: readonly [number, number, number];
}

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

class Desugarer {
  private readonly defs = new Map<string, Def>();
  private readonly taken = new Set<string>();
  /** For a name shared by parameter-free layers (`relu`), the next `_k` to try. */
  private readonly suffixes = new Map<string, number>();
  private readonly pendingFc: NodeSpec[] = [];
  private readonly fcNodes: NodeSpec[] = [];
  private layers = 0;
  private steps = 0;
  /** Brackets and block calls open around the part being expanded. */
  private nesting = 0;

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
    this.checkEnd(items);
    // A bare FC is the classifier when no FC follows it, a hidden layer otherwise.
    const lastFc = this.fcNodes[this.fcNodes.length - 1];
    for (const node of this.pendingFc) {
      if (node.op === 'fc') node.attrs.outFeatures = node === lastFc ? DEFAULTS.classes : DEFAULTS.hiddenFc;
    }
    return { input, inputLoc, items, source: program.source };
  }

  /** The net's output is its main path's last layer, so the net cannot end with a side head. */
  private checkEnd(items: readonly Expanded[]): void {
    const last = items[items.length - 1];
    if (last?.kind !== 'aux') return;
    const main = [...items].reverse().find((item) => item.kind !== 'aux');
    const mainText = main === undefined ? null : this.program.source.slice(main.loc.offset, main.loc.end);
    const path =
      mainText === null
        ? 'here the main path has no layer at all, so the side head would become the output'
        : `here the main path ends at ${mainText}, which the head reads`;
    this.fail(
      'syntax',
      `the net ends with AUX[...], a side head (GoogLeNet's auxiliary classifier) that reads the volume while the main path continues; ${path}. Continue the main path after AUX[...], or drop AUX to make its layers the net's own`,
      last.loc,
    );
  }

  private chain(chain: Chain, scope: Scope): Expanded[] {
    const out: Expanded[] = [];
    for (const element of chain.elements) {
      this.step(element);
      if (element.optional !== null && !this.switchedOn(element, scope)) continue;
      const times = element.repeat === null ? 1 : this.integer(element.repeat, scope.env, 'a repeat count', 0);
      for (let i = 0; i < times; i++) {
        if (i > 0) this.step(element);
        // NOTE: a loop, not push(...items): spreading 100,000 items overflows the stack.
        for (const expanded of this.item(element.item, element.label, scope)) out.push(expanded);
      }
    }
    return out;
  }

  /** Counts one visit of a part, so that expanding takes time linear in the result at worst. */
  private step(element: Element): void {
    if (++this.steps > MAX_EXPANSION_STEPS) {
      this.fail('syntax', `the text expands to more than ${MAX_EXPANSION_STEPS.toLocaleString('en-US')} parts (repetitions included); repeat fewer times`, element.loc);
    }
  }

  private switchedOn(element: Element, scope: Scope): boolean {
    const name = switchOf(element);
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
    if (item.kind === 'layer') return [this.layer(item, label, scope)];
    if (++this.nesting > MAX_EXPANDED_NESTING) {
      this.fail('syntax', `brackets and blocks nest deeper than ${MAX_EXPANDED_NESTING} levels once blocks are expanded`, item.loc);
    }
    const expanded = this.nested(item, label, scope);
    this.nesting--;
    return expanded;
  }

  private nested(item: Exclude<Item, LayerNode>, label: string | null, scope: Scope): Expanded[] {
    switch (item.kind) {
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
        if (item.type === 'MUL' || item.type === 'DIV') {
          const op = BLOCKS[item.type].join;
          return [{ kind: 'elementwise', op, name: this.auto(inner, op), branches: [branches[0] ?? [], branches[1] ?? []], loc: item.loc }];
        }
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
      const near = keywordFor(item.name) ?? nearest(item.name, known);
      return this.fail(
        'name',
        `'${item.name}' is neither a layer (${LAYER_KEYWORDS.join(', ')}) nor a block${known.length ? ` (defined: ${known.join(', ')})` : ''}${near !== null ? `; did you mean ${near}?` : ''}`,
        item.loc,
      );
    }
    if (def.params.length !== item.args.length) {
      this.fail('syntax', `${def.name} takes ${def.params.length} argument${def.params.length === 1 ? '' : 's'} (${def.params.join(', ')}), got ${item.args.length}`, item.loc);
    }
    if (scope.depth >= MAX_BLOCK_DEPTH) this.fail('syntax', `blocks nest deeper than ${MAX_BLOCK_DEPTH}: does '${def.name}' call itself?`, item.loc);
    const env = new Map(scope.env);
    def.params.forEach((p, i) => env.set(p, this.number(item.args[i] as Num, scope.env)));
    const inner = this.child(scope, label, def.name, false);
    return this.chain(def.body, { ...inner, env, depth: scope.depth + 1 });
  }

  /** A nested scope for a labelled group, a block instance, or a RES/CONCAT/MUL/DIV/AUX that needs one. */
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
    if (node.type === 'INPUT') return this.fail('syntax', 'INPUT can only be the first layer of the net', node.loc);
    if (++this.layers > MAX_LAYERS) this.fail('syntax', `the net expands to more than ${MAX_LAYERS} layers`, node.loc);
    const entry = entryOf(node.type);
    const resolved = this.resolve(node, entry, scope.env);
    let name: string;
    if (label === null && !scope.sequential) {
      name = this.auto(scope, entry.autoName ?? entry.op);
    } else {
      name = this.segment(scope, label);
      if (this.taken.has(name)) {
        if (entry.weighted === true) this.fail('name', `the name '${name}' is used twice; layers with weights need unique names`, node.loc);
        // A parameter-free layer may share a module name (torchvision reuses one `relu`); keep it unique.
        // The next suffix is remembered per name, so that n layers sharing one name take linear time.
        let k = this.suffixes.get(name) ?? 2;
        while (this.taken.has(`${name}_${k}`)) k++;
        this.suffixes.set(name, k + 1);
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
    const named = num.kind === 'var' ? ` (${num.name})` : '';
    if (!Number.isInteger(value) || value < min) this.fail('syntax', `${what} must be a whole number of at least ${min}, got ${value}${named}`, num.loc);
    if (value > MAX_TENSOR_VALUES) {
      this.fail('syntax', `${what} is ${value}${named}, more than a tensor can hold: at most ${MAX_TENSOR_VALUES.toLocaleString('en-US')}`, num.loc);
    }
    return value;
  }

  /** Turns a layer as written into its keyword's op and attributes, with every default filled in. */
  private resolve(node: LayerNode, entry: KeywordEntry, env: ReadonlyMap<string, number>): Resolved {
    const ctx: ResolveContext = {
      number: (num) => this.number(num, env),
      integer: (num, what, min) => this.integer(num, env, what, min),
      fail: (reason, loc) => this.fail('syntax', reason, loc),
    };
    const attrs = readAttrs(node, entry.accepts, this.program.source, ctx);
    return { op: entry.op, attrs: entry.resolve(node, attrs, ctx) } as Resolved;
  }

  fail(kind: 'syntax' | 'binding' | 'name', reason: string, loc: Location): never {
    throw new NotationError(kind, reason, loc, this.program.source);
  }
}

function join(path: string, segment: string): string {
  return path === '' ? segment : `${path}.${segment}`;
}
