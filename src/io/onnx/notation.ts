import { INPUT_NODE, type NetSpec, type NodeSpec } from '../../net/spec.js';
import { layerText } from '../../notation/index.js';
import { OnnxError } from './errors.js';

/** A net written as notation text, and its nodes' names in the order the text writes them. */
export interface WrittenNet {
  /** The notation text: `INPUT[HxWxC]` then the layers, joined by `->`, with RES[...], CONCAT[...], MUL[...] and DIV[...] blocks. */
  text: string;
  /** Node names in text order; a compile of `text` makes its nodes in this order. */
  order: string[];
}

/**
 * Writes a NetSpec as notation text: a chain, with RES[...] for an ADD, CONCAT[...] for a CONCAT and
 * MUL[...] or DIV[...] for a MUL or DIV whose branches start at one value. A wiring that is no such nesting (a branch read from outside its
 * block, a side output) is an error: the notation cannot write it.
 */
export function specToNotation(spec: NetSpec, origin: string): WrittenNet {
  const writer = new Writer(spec, origin);
  const last = spec.nodes.at(-1) ?? writer.fail('the net has no layers');
  const [c, h, w] = spec.input.length === 3 ? (spec.input as [number, number, number]) : spec.input.length === 1 ? [spec.input[0] as number, 1, 1] : writer.fail(`an input of per-image shape [${spec.input.join(', ')}] has no notation`);
  const chain = writer.chain(INPUT_NODE, last.name);
  return { text: [`INPUT[${h}x${w}x${c}]`, ...chain].join('\n-> '), order: writer.order };
}

class Writer {
  readonly order: string[] = [];
  private readonly byName = new Map<string, { node: NodeSpec; index: number }>();
  private readonly readers = new Map<string, number[]>();

  constructor(
    private readonly spec: NetSpec,
    private readonly origin: string,
  ) {
    spec.nodes.forEach((node, index) => {
      this.byName.set(node.name, { node, index });
      for (const input of node.inputs) this.readers.set(input, [...(this.readers.get(input) ?? []), index]);
    });
  }

  fail(reason: string): never {
    throw new OnnxError(`${this.origin}: ${reason}`);
  }

  /** The elements from value `from` (exclusive) to value `to` (inclusive). */
  chain(from: string, to: string): string[] {
    const within = this.ancestors(to);
    const parts: string[] = [];
    let current = from;
    while (current !== to) {
      const readers = (this.readers.get(current) ?? []).filter((i) => within.has(i));
      const first = this.spec.nodes[readers[0] ?? -1];
      if (first === undefined) this.fail(`no path from '${current}' to '${to}'`);
      if (readers.length === 1 && first.inputs.length === 1) {
        parts.push(layerText(first));
        this.order.push(first.name);
        current = first.name;
        continue;
      }
      const join = this.join(readers, within);
      parts.push(this.block(current, join));
      current = join.name;
    }
    return parts;
  }

  /** The nodes `to` depends on, itself included, by index. */
  private ancestors(to: string): Set<number> {
    const found = new Set<number>();
    const stack = [to];
    while (stack.length > 0) {
      const entry = this.byName.get(stack.pop() as string);
      if (entry === undefined || found.has(entry.index)) continue;
      found.add(entry.index);
      stack.push(...entry.node.inputs);
    }
    return found;
  }

  /** Where the branches starting at `readers` meet again: the first node every path goes through. */
  private join(readers: number[], within: Set<number>): NodeSpec {
    const frontier = new Set(readers);
    for (;;) {
      const next = Math.min(...frontier);
      if (frontier.size === 1) return this.spec.nodes[next] as NodeSpec;
      frontier.delete(next);
      const more = (this.readers.get((this.spec.nodes[next] as NodeSpec).name) ?? []).filter((i) => within.has(i));
      if (more.length === 0) this.fail(`'${(this.spec.nodes[next] as NodeSpec).name}' is read by nothing: a side output has no notation`);
      for (const i of more) frontier.add(i);
    }
  }

  /** `RES[body | shortcut]`, `CONCAT[a | b]`, `MUL[a | b]` or `DIV[a | b]` from value `from` to the join node. */
  private block(from: string, join: NodeSpec): string {
    const branches = join.inputs.map((input) => (input === from ? null : this.chain(from, input).join(' -> ')));
    this.order.push(join.name);
    if (join.op === 'add' && branches.length === 2) {
      const [a, b] = branches;
      if (a === null && b === null) this.fail(`'${join.name}' adds a value to itself`);
      return a === null || b === null ? `RES[${a ?? b}]` : `RES[${a} | ${b}]`;
    }
    if (join.op === 'concat' && branches.every((b) => b !== null)) return `CONCAT[${branches.join(' | ')}]`;
    // An empty branch of MUL or DIV is the block's input: `DIV[ | b]` is x / b(x).
    if ((join.op === 'mul' || join.op === 'div') && branches.length === 2) return `${join.op.toUpperCase()}[${branches.map((b) => b ?? '').join(' | ')}]`;
    return this.fail(`'${join.name}' (${join.op}) joins branches in a way the notation cannot write`);
  }
}
