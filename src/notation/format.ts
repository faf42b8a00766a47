import type { NodeSpec } from '../net/spec.js';
import type { Attr, Chain, Element, Item, Num, Program } from './ast.js';
import { DEFAULTS } from './desugar.js';

/**
 * Writes a parsed program back as notation text: one `let` or `def` per line, then the net's chain.
 * Parsing the result gives the same tree (locations aside).
 */
export function format(program: Program): string {
  const lines = [
    ...program.lets.map((l) => `let ${l.name} = ${l.value}`),
    ...program.defs.map((d) => `def ${d.name}${d.params.length ? `(${d.params.join(', ')})` : ''} = ${formatChain(d.body)}`),
    formatChain(program.body),
  ];
  return lines.join('\n');
}

export function formatChain(chain: Chain): string {
  return chain.elements.map(formatElement).join(' -> ');
}

function formatElement(element: Element): string {
  let text = `${element.label !== null ? `${element.label}: ` : ''}${formatItem(element.item)}`;
  if (element.repeat !== null) text += `*${formatNum(element.repeat)}`;
  if (element.optional !== null) text += `?${element.optional.name ?? ''}`;
  return text;
}

function formatItem(item: Item): string {
  switch (item.kind) {
    case 'group':
      return `[${formatChain(item.body)}]`;
    case 'block':
      return `${item.type}[${item.branches.map(formatChain).join(' | ')}]`;
    case 'call':
      return item.args.length ? `${item.name}(${item.args.map(formatNum).join(', ')})` : item.name;
    case 'layer': {
      let text: string = item.type;
      if (item.size !== null) text += item.type === 'INPUT' ? `[${item.size.map(formatNum).join('x')}]` : item.size.map(formatNum).join('x');
      if (item.count !== null) text += `-${formatNum(item.count)}`;
      if (item.attrs.length) text += `(${item.attrs.map(formatAttr).join(', ')})`;
      return text;
    }
  }
}

function formatAttr(attr: Attr): string {
  if (attr.value === null) return attr.name ?? '';
  const value = attr.value.map(formatNum).join('x');
  return attr.name === null ? value : `${attr.name}=${value}`;
}

function formatNum(num: Num): string {
  return num.kind === 'num' ? String(num.value) : num.name;
}

const pair = (v: readonly [number, number]): string => (v[0] === v[1] ? String(v[0]) : `${v[0]}x${v[1]}`);

/**
 * A node as notation with its defaults made explicit where they matter: a bare `CONV` reads
 * `CONV3-32`, `POOL3(s=2, ceil)` keeps its stride and rounding. This is the table's layer column.
 */
export function layerText(node: NodeSpec): string {
  const extras: string[] = [];
  switch (node.op) {
    case 'conv':
    case 'maxpool':
    case 'avgpool': {
      const a = node.attrs;
      const isConv = node.op === 'conv';
      const defaultStride = isConv ? [1, 1] : a.kernel;
      const defaultPad = isConv ? a.kernel.map((f) => Math.floor((f - 1) / 2)) : [0, 0];
      if (a.stride[0] !== defaultStride[0] || a.stride[1] !== defaultStride[1]) extras.push(`s=${pair(a.stride)}`);
      if (a.padding[0] !== defaultPad[0] || a.padding[1] !== defaultPad[1]) extras.push(`p=${pair(a.padding)}`);
      if (node.op === 'conv' && node.attrs.groups !== 1) extras.push(`groups=${node.attrs.groups}`);
      if (node.op === 'conv' && !node.attrs.bias) extras.push('bias=no');
      if (a.rounding !== 'exact') extras.push(a.rounding);
      const keyword = node.op === 'conv' ? 'CONV' : node.op === 'maxpool' ? 'POOL' : 'AVGPOOL';
      const count = node.op === 'conv' ? `-${node.attrs.outChannels}` : '';
      return `${keyword}${pair(a.kernel)}${count}${wrap(extras)}`;
    }
    case 'fc':
      return `FC-${node.attrs.outFeatures}${node.attrs.bias ? '' : '(bias=no)'}`;
    case 'bn':
      if (node.attrs.eps !== DEFAULTS.bnEps) extras.push(`eps=${node.attrs.eps}`);
      if (node.attrs.momentum !== DEFAULTS.bnMomentum) extras.push(`momentum=${node.attrs.momentum}`);
      return `BN${wrap(extras)}`;
    case 'dropout':
      return `DROPOUT(${node.attrs.p})`;
    case 'lrn': {
      const l = DEFAULTS.lrn;
      for (const key of ['size', 'alpha', 'beta', 'k'] as const) if (node.attrs[key] !== l[key]) extras.push(`${key}=${node.attrs[key]}`);
      return `LRN${wrap(extras)}`;
    }
    case 'globalavgpool':
      return 'GAP';
    case 'add':
      return 'ADD';
    default:
      return node.op.toUpperCase();
  }
}

function wrap(extras: string[]): string {
  return extras.length ? `(${extras.join(', ')})` : '';
}
