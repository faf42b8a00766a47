import { buildGraph, type Graph } from '../../graph/graph.js';
import type { NetSpec } from '../../net/spec.js';
import type { CompileOptions } from '../../notation/index.js';
import { layerText } from '../../notation/keywords/index.js';
import { forwardBody } from './forward.js';
import { HELPERS } from './helpers.js';
import type { HelperName } from './layers.js';
import { isIndexed, isPlainAttribute, moduleTree, type GroupModule, type ModuleTree } from './tree.js';

/**
 * A convstack net as the Python source of a plain `torch.nn.Module` (PyTorch 1.13 or newer): one
 * attribute per named layer, an `nn.Sequential` per named group, so that its state_dict names are
 * convstack's parameter names (for the zoo nets torchvision has, torchvision's); the notation text
 * heads the file as a comment. `forward` takes (N, C, H, W) and returns the scores; a net with
 * auxiliary heads (GoogLeNet's) returns `(scores, aux1, aux2, ...)` in training mode, the heads in the
 * notation's order, and the scores alone in eval mode, as torchvision's GoogLeNet does (whose
 * GoogLeNetOutputs orders its heads the other way: logits, aux2, aux1).
 */

/** The net to write, and the text it came from. */
export interface PytorchSource {
  /** The net. */
  spec: NetSpec;
  /** The notation text the net compiles from, when it was written in it. */
  architecture?: string;
  /** The variable values and input volume the text compiles with. */
  compileOptions?: CompileOptions;
}

/** The name of the exported class. */
export const PYTORCH_CLASS = 'Net';

/** The Python source of the net's module (see the file's comment). */
export function exportPytorch(source: PytorchSource): string {
  const graph = buildGraph(source.spec);
  const root = moduleTree(graph);
  const helpers = new Set<HelperName>();
  collectHelpers(root, helpers);
  const [c, h, w] = source.spec.input;
  const heads = graph.auxHeads.length;
  const returns =
    heads === 0
      ? 'the scores'
      : `the scores, and in training mode (scores, ${graph.auxHeads.map((_, i) => `aux${i + 1}`).join(', ')}): the auxiliary heads' scores too`;
  return [
    ...header(source, graph),
    'from collections import OrderedDict',
    '',
    'import torch',
    'from torch import nn',
    'from torch.nn import functional as F',
    '',
    `#: One image's shape, (C, H, W).`,
    `INPUT_SHAPE = (${source.spec.input.join(', ')})`,
    '',
    '',
    ...[...helpers].sort().flatMap((name) => [HELPERS[name], '', '']),
    `class ${PYTORCH_CLASS}(nn.Module):`,
    `    """The convstack net of this file's notation; state_dict names are convstack's parameter names."""`,
    '',
    '    def __init__(self):',
    '        super().__init__()',
    ...[...root.children].flatMap(([name, child]) => rootAttribute(name, child)).map((line) => `        ${line}`),
    '',
    '    def forward(self, x):',
    `        """x: (N, ${c}, ${h}, ${w}) images; returns ${returns}."""`,
    ...forwardBody(graph, root).map((line) => `        ${line}`),
    '',
  ].join('\n');
}

/** The notation text as comment lines, with the values it compiles with. */
function header(source: PytorchSource, graph: Graph): string[] {
  const lines = ['# A torch.nn.Module written by convstack (`convstack export --pytorch`) from this net:', '#'];
  if (source.architecture === undefined) {
    lines.push(`#   (no notation text: a net of ${graph.nodes.length} layers, ${graph.nodes.map((n) => layerText(n.spec)).slice(0, 4).join(' -> ')} ...)`);
  } else {
    lines.push(...source.architecture.trim().split('\n').map((line) => `#   ${line}`.trimEnd()));
  }
  const options = source.compileOptions;
  const bindings = Object.entries(options?.bindings ?? {}).map(([name, value]) => `${name}=${value}`);
  if (bindings.length > 0 || options?.input !== undefined) {
    lines.push('#', `# compiled with${bindings.length > 0 ? ` ${bindings.join(', ')}` : ''}${options?.input !== undefined ? ` at input ${options.input.join('x')}` : ''}`);
  }
  return [...lines, ''];
}

function collectHelpers(tree: ModuleTree, into: Set<HelperName>): void {
  if (tree.kind === 'leaf') {
    tree.helpers.forEach((h) => into.add(h));
    return;
  }
  if (tree.path !== '' && !tree.chain && !isIndexed(tree)) into.add('Group');
  for (const child of tree.children.values()) collectHelpers(child, into);
}

/** `self.name = ...` for an attribute of the net itself (add_module for a name Python cannot write). */
function rootAttribute(name: string, tree: ModuleTree): string[] {
  const [first, ...rest] = construct(tree);
  const assign = isPlainAttribute(name) ? `self.${name} = ${first as string}` : `self.add_module('${name}', ${first as string}`;
  if (isPlainAttribute(name)) return [assign, ...rest];
  // add_module's call closes after the module's own lines; a leaf's comment stays at the end.
  const all = [assign, ...rest];
  const last = all.length - 1;
  const [code, comment] = splitComment(all[last] as string);
  all[last] = `${code})${comment}`;
  return all;
}

function splitComment(line: string): [string, string] {
  const at = line.indexOf('  # ');
  return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at)];
}

/** The lines of a module's constructor call: a leaf's on one line with its notation as a comment. */
function construct(tree: ModuleTree): string[] {
  if (tree.kind === 'leaf') return [`${tree.init}  # ${layerText(tree.node.spec)}`];
  const entries = [...tree.children].map(([name, child]) => ({ name, lines: construct(child) }));
  const indexed = isIndexed(tree);
  if (indexed || tree.chain) {
    const item = (name: string, lines: string[]): string[] => (indexed ? lines : wrapLines(`('${name}', `, lines, ')'));
    const body = entries.flatMap(({ name, lines }) => withComma(item(name, lines)));
    return indexed ? ['nn.Sequential(', ...indent(body), ')'] : ['nn.Sequential(OrderedDict([', ...indent(body), ']))'];
  }
  const plain = entries.every(({ name }) => isPlainAttribute(name));
  const body = entries.flatMap(({ name, lines }) => withComma(wrapLines(plain ? `${name}=` : `'${name}': `, lines, '')));
  return plain ? ['Group(', ...indent(body), ')'] : ['Group(**{', ...indent(body), '})'];
}

/** `lines` with `before` in front of the first and `after` behind the last code (before its comment). */
function wrapLines(before: string, lines: string[], after: string): string[] {
  const out = [...lines];
  out[0] = `${before}${out[0] as string}`;
  const [code, comment] = splitComment(out[out.length - 1] as string);
  out[out.length - 1] = `${code}${after}${comment}`;
  return out;
}

/** An argument's lines with a comma after its code. */
function withComma(lines: string[]): string[] {
  return wrapLines('', lines, ',');
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `    ${line}`);
}
