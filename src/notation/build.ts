import { INPUT_NODE, type NetSpec, type NodeSpec } from '../net/spec.js';
import type { Expanded, ExpandedNet } from './desugar.js';

/**
 * Wires an expanded net into a NetSpec: each layer reads the one before it; a RES adds its body's
 * output to its shortcut's (or to its input), a CONCAT joins its branches, a MUL or DIV multiplies or
 * divides its first branch's output by its second's (an empty branch being its input), an AUX head
 * reads the volume and leaves the main path as it was. Nodes come out in topological order.
 */
export function build(net: ExpandedNet): NetSpec {
  const nodes: NodeSpec[] = [];
  const wire = (items: readonly Expanded[], from: string): string => {
    let current = from;
    for (const item of items) {
      switch (item.kind) {
        case 'layer':
          nodes.push({ ...item.node, inputs: [current] } as NodeSpec);
          current = item.node.name;
          break;
        case 'res': {
          const body = wire(item.body, current);
          const shortcut = item.shortcut === null ? current : wire(item.shortcut, current);
          nodes.push({ name: item.name, op: 'add', attrs: {}, inputs: [body, shortcut], source: sourceOf(item) });
          current = item.name;
          break;
        }
        case 'concat': {
          const outputs = item.branches.map((branch) => wire(branch, current));
          nodes.push({ name: item.name, op: 'concat', attrs: {}, inputs: outputs, source: sourceOf(item) });
          current = item.name;
          break;
        }
        case 'elementwise': {
          const [a, b] = item.branches.map((branch) => wire(branch, current));
          nodes.push({ name: item.name, op: item.op, attrs: {}, inputs: [a as string, b as string], source: sourceOf(item) });
          current = item.name;
          break;
        }
        case 'aux':
          wire(item.body, current);
          break;
      }
    }
    return current;
  };
  const output = wire(net.items, INPUT_NODE);
  // A trailing AUX head leaves the main path's last layer earlier in the list; the net's output is
  // the last node, and nothing reads the main output, so moving it to the end keeps the order valid.
  const at = nodes.findIndex((n) => n.name === output);
  if (at !== -1 && at !== nodes.length - 1) nodes.push(...nodes.splice(at, 1));
  return { input: net.input, nodes };
}

function sourceOf(item: Exclude<Expanded, { kind: 'layer' | 'aux' }>): NonNullable<NodeSpec['source']> {
  const type = item.kind === 'res' ? 'RES' : item.kind === 'concat' ? 'CONCAT' : item.op.toUpperCase();
  return { line: item.loc.line, column: item.loc.column, text: `${type}[...]` };
}
