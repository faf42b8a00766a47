import type { Chain, Element, Num, Program } from './ast.js';
import { NotationError } from './errors.js';
import { entryOf } from './keywords/index.js';
import { nearest } from './suggest.js';

/** Variable values from the caller (`--set N=2,M=3` or `{ N: 2, M: 3 }`); they override `let` defaults. */
export type Bindings = Readonly<Record<string, number>>;

/** Words in attribute values that are values, not variables: `bias=no`. */
const WORDS = new Set(['yes', 'no', 'true', 'false']);

/**
 * The variables a program reads that its caller may set: every `let`, every name used as a number
 * or as an optional part's switch (`POOL?`, `[...]?NAME`) outside the `def` that binds it as a
 * parameter. Collected from the text, so a variable in a part that is switched off still counts.
 */
export function variablesOf(program: Program): Set<string> {
  // Each name with the offset where it first appears, to list them in the order of the text.
  const found = new Map<string, number>();
  const add = (name: string, offset: number): void => {
    if (offset < (found.get(name) ?? Infinity)) found.set(name, offset);
  };
  for (const l of program.lets) add(l.name, l.loc.offset);
  const use = (num: Num | null, bound: ReadonlySet<string>): void => {
    if (num !== null && num.kind === 'var' && !bound.has(num.name)) add(num.name, num.loc.offset);
  };
  // NOTE: an explicit stack, not recursion: the text may nest brackets as deep as the parser allows.
  const stack: { chain: Chain; bound: ReadonlySet<string> }[] = [{ chain: program.body, bound: new Set() }];
  for (const def of program.defs) stack.push({ chain: def.body, bound: new Set(def.params) });
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { chain, bound } = next;
    for (const element of chain.elements) {
      use(element.repeat, bound);
      const { item } = element;
      const name = switchOf(element);
      if (name !== null && !bound.has(name)) add(name, element.loc.offset);
      if (item.kind === 'group') stack.push({ chain: item.body, bound });
      else if (item.kind === 'block') for (const branch of item.branches) stack.push({ chain: branch, bound });
      else if (item.kind === 'call') for (const arg of item.args) use(arg, bound);
      else {
        for (const num of [...(item.size ?? []), item.count, item.countWidth ?? null]) use(num, bound);
        const positional = item.type !== 'INPUT' && entryOf(item.type).accepts.positional !== null;
        for (const attr of item.attrs) {
          // DROPOUT(P): a bare name in the positional slot is a variable; elsewhere it is a flag.
          if (attr.value === null && positional && attr.name !== null && !bound.has(attr.name)) add(attr.name, attr.loc.offset);
          for (const num of attr.value ?? []) if (!(attr.name === 'bias' && num.kind === 'var' && WORDS.has(num.name))) use(num, bound);
        }
      }
    }
  }
  return new Set([...found].sort((a, b) => a[1] - b[1]).map(([name]) => name));
}

/**
 * The variable that switches an optional part on: `?NAME`, else its label, else the layer's keyword
 * (`POOL?`) or the block's name; null for a part that is not optional or an unnamed group.
 */
export function switchOf(element: Element): string | null {
  if (element.optional === null) return null;
  const { item } = element;
  return element.optional.name ?? element.label ?? (item.kind === 'layer' ? item.type : item.kind === 'call' ? item.name : null);
}

/**
 * Refuses a value for a variable the program does not have (`--set NN=2` for `N`): it would be
 * ignored silently. The error points at the net and names the program's variables.
 */
export function checkBindings(program: Program, bindings: Bindings): void {
  const names = Object.keys(bindings);
  if (names.length === 0) return;
  const variables = variablesOf(program);
  for (const name of names) {
    if (variables.has(name)) continue;
    const near = nearest(name, variables);
    const known = variables.size ? `its variables are ${[...variables].join(', ')}` : 'it has no variables';
    const reason = `'${name}' is set (--set ${name}=..., API { ${name}: ... }) but the spec has no variable '${name}'; ${known}${near !== null ? `; did you mean ${near}?` : ''}`;
    throw new NotationError('binding', reason, { ...program.body.loc, end: program.body.loc.offset }, program.source);
  }
}
