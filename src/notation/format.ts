import type { Attr, Chain, Element, Item, Num, Program } from './ast.js';

export { layerText } from './keywords/index.js';

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

/** A chain as text: its elements joined by ` -> `. */
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
      if (item.count !== null) text += `-${formatNum(item.count)}${item.countWidth === undefined ? '' : `x${formatNum(item.countWidth)}`}`;
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
