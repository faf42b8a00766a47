import type { Graph, GraphNode } from '../../graph/graph.js';
import { layerText } from '../../notation/keywords/index.js';
import { torchLayer, type HelperName } from './layers.js';

/**
 * The module tree of an exported net: a convstack layer `layer1.0.conv1` is the attribute `conv1` of
 * the attribute `0` of the attribute `layer1`, so that the module's state_dict names are the layer's
 * parameter names. A group whose layers run one after the other (each reading only the one before it,
 * nothing else reading their outputs) is an `nn.Sequential` that `forward` calls as one; any other
 * group (a residual block, an inception module) holds its layers, and `forward` calls them one by one.
 */

/** A layer that is an attribute: its constructor call and the notation it came from. */
export interface LeafModule {
  /** Tells a layer from a group. */
  kind: 'leaf';
  /** The graph node it computes. */
  node: GraphNode;
  /** Its Python constructor call. */
  init: string;
  /** The helper classes the call needs. */
  helpers: readonly HelperName[];
}

/** A named group of layers. */
export interface GroupModule {
  /** Tells a group from a layer. */
  kind: 'group';
  /** The group's dotted path, `layer1.0` ('' for the net itself). */
  path: string;
  /** Its attributes, in the order their layers first run. */
  children: Map<string, ModuleTree>;
  /** Every layer under it, joins included, in graph order. */
  nodes: GraphNode[];
  /** Its layers form one chain, so the group is called as one nn.Sequential. */
  chain: boolean;
}

/** A node of the module tree. */
export type ModuleTree = LeafModule | GroupModule;

/** The net's module tree; throws naming the layer when a name cannot be a module attribute. */
export function moduleTree(graph: Graph): GroupModule {
  const root: GroupModule = { kind: 'group', path: '', children: new Map(), nodes: [], chain: false };
  for (const node of graph.nodes) {
    const segments = node.spec.name.split('.');
    let group = root;
    group.nodes.push(node);
    segments.forEach((segment, depth) => checkAttributeName(segment, segments.slice(0, depth + 1).join('.')));
    segments.slice(0, -1).forEach((segment, depth) => {
      const path = segments.slice(0, depth + 1).join('.');
      let child = group.children.get(segment);
      if (child === undefined) {
        child = { kind: 'group', path, children: new Map(), nodes: [], chain: false };
        group.children.set(segment, child);
      }
      if (child.kind !== 'group') throw new Error(`layer '${path}' is also the name of a group ('${node.spec.name}'); PyTorch cannot have both`);
      group = child;
      group.nodes.push(node);
    });
    const layer = torchLayer(node.spec.op, node.spec.attrs as never, node.inShapes[0] ?? []);
    if (layer.kind === 'expression') continue;
    const name = segments.at(-1) as string;
    if (group.children.has(name)) throw new Error(`layer '${node.spec.name}' is also the name of a group; PyTorch cannot have both`);
    group.children.set(name, { kind: 'leaf', node, init: layer.init, helpers: layer.helpers });
  }
  markChains(root, graph);
  return root;
}

/** Sets `chain` on every group whose layers run as one nn.Sequential (see moduleTree). */
function markChains(group: GroupModule, graph: Graph): boolean {
  let childrenChain = true;
  for (const child of group.children.values()) if (child.kind === 'group' && !markChains(child, graph)) childrenChain = false;
  if (group.path === '') return false;
  const nodes = group.nodes;
  const modules = nodes.every((node) => torchLayer(node.spec.op, node.spec.attrs as never, node.inShapes[0] ?? []).kind === 'module');
  const linked = nodes.every((node, i) => {
    if (node.inputs.length !== 1) return false;
    if (i === 0) return true;
    const previous = nodes[i - 1] as GraphNode;
    const readers = graph.readers[previous.index + 1] ?? [];
    return node.inputs[0] === previous.index + 1 && readers.length === 1;
  });
  group.chain = childrenChain && modules && linked;
  return group.chain;
}

/** Whether the group's attributes are `0`, `1`, ... in order: an nn.Sequential indexed like a list. */
export function isIndexed(group: GroupModule): boolean {
  return [...group.children.keys()].every((name, i) => name === String(i));
}

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);
/** Names nn.Module already has: an attribute of that name cannot be added. */
const MODULE_ATTRIBUTES = new Set(
  'T_destination add_module apply bfloat16 buffers children cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules named_buffers named_children named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook register_module register_parameter requires_grad_ set_extra_state share_memory state_dict to to_empty train training type xpu zero_grad'.split(' '),
);

/** Whether `name` can be written `.name` in Python. */
export function isPlainAttribute(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !PY_KEYWORDS.has(name);
}

/** Refuses a layer or group name that nn.Module already uses (`train`, `forward`, ...). */
export function checkAttributeName(name: string, path: string): void {
  if (MODULE_ATTRIBUTES.has(name) || name.startsWith('_')) {
    throw new Error(`layer '${path}': '${name}' is a name torch.nn.Module uses itself; rename the layer to export it to PyTorch`);
  }
}

/** `self.layer1[0].conv1`: the Python expression for the module at dotted `path`. */
export function accessor(root: GroupModule, path: string): string {
  let expression = 'self';
  let group: GroupModule | null = root;
  for (const segment of path.split('.')) {
    if (group === null) throw new Error(`no module at '${path}'`);
    if (group !== root && isIndexed(group)) expression += `[${segment}]`;
    else if (isPlainAttribute(segment)) expression += `.${segment}`;
    else expression = `getattr(${expression}, '${segment}')`;
    const child: ModuleTree | undefined = group.children.get(segment);
    group = child?.kind === 'group' ? child : null;
  }
  return expression;
}

/** The layers under `tree` as notation, `CONV3-64 -> BN -> RELU`, or their count when that is long. */
export function describeLayers(nodes: readonly GraphNode[]): string {
  const text = nodes.map((node) => layerText(node.spec)).join(' -> ');
  return text.length <= 72 ? text : `${nodes.length} layers, ${layerText((nodes[0] as GraphNode).spec)} ... ${layerText((nodes.at(-1) as GraphNode).spec)}`;
}
