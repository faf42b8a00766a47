import type { Graph, GraphNode } from '../../graph/graph.js';
import { layerText } from '../../notation/keywords/index.js';
import { torchLayer } from './layers.js';
import { accessor, describeLayers, type GroupModule } from './tree.js';

/**
 * The body of the exported module's `forward`: one line per layer or per chain of layers that an
 * nn.Sequential runs as one, in the graph's order, each naming its values with as few Python names
 * as the liveness of the values allows (the main path stays `x`). The layers that only feed an
 * auxiliary head run under `if self.training:`, and in training `forward` returns the scores with
 * each head's after them, in the notation's order, as convstack's Net and its ONNX export order them.
 */

/** One statement of forward: a module call or a join, from graph values to a graph value. */
interface Step {
  /** The graph values read (0 is the input images, i + 1 is node i's output). */
  inputs: number[];
  /** The graph value written. */
  output: number;
  /** The right-hand side, given the Python names of the inputs. */
  compute: (names: readonly string[]) => string;
  /** The notation it computes, for the comment at the end of the line. */
  comment: string;
  /** Only an auxiliary head reads what it computes. */
  auxOnly: boolean;
}

/** The statements of forward, graph order, a chain group folded into one call. */
function steps(graph: Graph, root: GroupModule): Step[] {
  const main = mainPath(graph);
  const covered = new Set<number>();
  const result: Step[] = [];
  for (const node of graph.nodes) {
    if (covered.has(node.index)) continue;
    const chain = outermostChain(root, node);
    const nodes = chain?.nodes ?? [node];
    nodes.forEach((n) => covered.add(n.index));
    const last = nodes.at(-1) as GraphNode;
    const layer = torchLayer(node.spec.op, node.spec.attrs as never, node.inShapes[0] ?? []);
    const target = accessor(root, chain?.path ?? node.spec.name);
    result.push({
      inputs: node.inputs,
      output: last.index + 1,
      compute: chain === null && layer.kind === 'expression' ? layer.expression : (names) => `${target}(${names.join(', ')})`,
      comment: chain === null ? layerText(node.spec) : describeLayers(nodes),
      auxOnly: !main.has(last.index + 1),
    });
  }
  return result;
}

/** The outermost chain group that starts with `node`, or null. */
function outermostChain(root: GroupModule, node: GraphNode): GroupModule | null {
  let group = root;
  for (const segment of node.spec.name.split('.').slice(0, -1)) {
    const child = group.children.get(segment);
    if (child?.kind !== 'group') return null;
    if (child.chain) return child.nodes[0] === node ? child : null;
    group = child;
  }
  return null;
}

/** The values the net's output depends on. */
function mainPath(graph: Graph): Set<number> {
  const main = new Set<number>();
  const visit = (value: number): void => {
    if (main.has(value)) return;
    main.add(value);
    if (value > 0) for (const input of (graph.nodes[value - 1] as GraphNode).inputs) visit(input);
  };
  visit(graph.nodes.length);
  return main;
}

/** Python names for values: reused once a value is dead, `x` first, so that the main path stays `x`. */
class Names {
  private readonly free: string[] = [];
  private next = 0;
  readonly of = new Map<number, string>([[0, 'x']]);

  take(value: number, preferred: string | null): string {
    const at = preferred === null ? -1 : this.free.indexOf(preferred);
    const name = at >= 0 ? (this.free.splice(at, 1)[0] as string) : (this.free.pop() ?? this.fresh());
    this.of.set(value, name);
    return name;
  }

  release(name: string): void {
    this.free.push(name);
  }

  private fresh(): string {
    const base = ['y', 'z', 'w', 'u', 'v'];
    const name = this.next < base.length ? (base[this.next] as string) : `t${this.next - base.length + 1}`;
    this.next++;
    return name;
  }
}

/** forward's body, indented for a method, and the Python names of the output and each auxiliary head. */
export function forwardBody(graph: Graph, root: GroupModule): string[] {
  const all = steps(graph, root);
  const lastUse = new Map<number, number>();
  all.forEach((step, s) => step.inputs.forEach((v) => lastUse.set(v, s)));
  const heads = new Map(graph.auxHeads.map((value, i) => [value, `aux${i + 1}`]));
  const output = graph.nodes.length;
  const names = new Names();
  const lines: string[] = [];
  let inTrainingBlock = false;
  all.forEach((step, s) => {
    const inputNames = step.inputs.map((v) => names.of.get(v) as string);
    const released = [...new Set(step.inputs)].filter((v) => lastUse.get(v) === s && v !== output && !heads.has(v));
    released.forEach((v) => names.release(names.of.get(v) as string));
    const freed = released.map((v) => names.of.get(v) as string);
    const name = heads.get(step.output) ?? names.take(step.output, freed.includes('x') ? 'x' : (freed[0] ?? null));
    if (step.auxOnly !== inTrainingBlock) {
      if (step.auxOnly) lines.push('if self.training:  # the auxiliary heads run in training only');
      inTrainingBlock = step.auxOnly;
    }
    lines.push(`${inTrainingBlock ? '    ' : ''}${name} = ${step.compute(inputNames)}  # ${step.comment}`);
  });
  const result = names.of.get(output) as string;
  if (heads.size === 0) return [...lines, `return ${result}`];
  return [...lines, 'if self.training:', `    return ${[result, ...heads.values()].join(', ')}`, `return ${result}`];
}
