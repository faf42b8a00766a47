// Compare designs side by side, as the notes weigh one 7x7 CONV against three 3x3 CONVs, or AlexNet
// against ZF Net against VGG: their figures (parameters, multiply-adds, memory, receptive field)
// and the rows that one has and the others do not.
import { compile, estimateMemory, formatBytes, summary, zooNet, zooNotation, type OptimizerName, type Summary } from '../src/browser.js';
import type { MemorySettings } from './memory.js';

const thousands = (n: number): string => n.toLocaleString('en-US');

function zooText(name: string): string {
  const net = zooNet(name);
  if (net === undefined) throw new Error(`the zoo has no ${name}`);
  return zooNotation(net);
}

/** The comparisons to start from: names and texts, the notes' first. */
export const PRESETS: Record<string, () => { names: string[]; texts: string[] }> = {
  'one 7x7 CONV against three 3x3 CONVs': () => ({
    names: ['CONV7', '3 x CONV3'],
    texts: ['INPUT[32x32x64] -> CONV7-64 -> RELU', 'INPUT[32x32x64] -> [CONV3-64 -> RELU]*3'],
  }),
  'AlexNet against ZF Net against VGG-16': () => ({ names: ['AlexNet', 'ZF Net', 'VGG-16'], texts: ['alexnet', 'zfnet', 'vgg16'].map(zooText) }),
};

/** One design's figures, as the comparison lists them. */
export interface Figures {
  table: Summary;
  nonlinearities: number;
  trainingBytes: number;
  inferenceBytes: number;
}

/** The figures of `text` with the memory panel's optimizer and dtype at `batch`. */
export function figuresOf(text: string, batch: number, settings: MemorySettings): Figures {
  const table = summary(text);
  const { spec, net } = compile(text);
  const memory = estimateMemory(spec, { batch, optimizer: settings.optimizer as OptimizerName, dtype: settings.dtype });
  return { table, nonlinearities: net.layers.filter((l) => l.node.op === 'relu').length, trainingBytes: memory.training.total, inferenceBytes: memory.inference.total };
}

/** A row's identity across designs: its layer, its output volume and its parameter count (an FC's depends on its input). */
const rowKey = (row: Summary['layers'][number]): string => `${row.text} ${row.output.join('x')} ${row.params}`;

/**
 * For each design, which of its rows differ: those whose layer, output and parameters the other
 * designs do not all have (as many times: three CONV3-64 against one).
 */
export function differingRows(tables: readonly Summary[]): boolean[][] {
  const counts = tables.map((t) => {
    const count = new Map<string, number>();
    for (const row of t.layers) count.set(rowKey(row), (count.get(rowKey(row)) ?? 0) + 1);
    return count;
  });
  return tables.map((t, i) => {
    const seen = new Map<string, number>();
    return t.layers.map((row) => {
      const key = rowKey(row);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      return counts.some((count, j) => j !== i && (count.get(key) ?? 0) < n);
    });
  });
}

function cell(tag: 'td' | 'th', text: string): HTMLElement {
  return Object.assign(document.createElement(tag), { textContent: text });
}

function renderFigures(table: HTMLElement, names: readonly string[], all: readonly Figures[], batch: number): void {
  const rows: [string, (f: Figures) => string][] = [
    ['output', (f) => (f.table.layers.at(-1)?.output ?? []).join('x')],
    ['layers (rows)', (f) => String(f.table.layers.length - 1)],
    ['parameters', (f) => thousands(f.table.totals.params)],
    ['multiply-adds', (f) => thousands(f.table.totals.macs)],
    ['activations per image', (f) => `${thousands(f.table.totals.activations)} (${formatBytes(f.table.totals.activationBytes)})`],
    ['receptive field', (f) => (f.table.layers.at(-1)?.receptiveField.size ?? []).join('x')],
    ['non-linearities', (f) => String(f.nonlinearities)],
    [`training step, batch ${thousands(batch)}`, (f) => formatBytes(f.trainingBytes)],
    [`inference, batch ${thousands(batch)}`, (f) => formatBytes(f.inferenceBytes)],
  ];
  const head = document.createElement('thead');
  head.append(document.createElement('tr'));
  head.firstElementChild?.append(cell('th', ''), ...names.map((n) => cell('th', n)));
  const body = document.createElement('tbody');
  body.append(
    ...rows.map(([label, value]) => {
      const tr = document.createElement('tr');
      tr.append(cell('th', label), ...all.map((f) => cell('td', value(f))));
      return tr;
    }),
  );
  table.replaceChildren(head, body);
}

function renderRows(parent: HTMLElement, names: readonly string[], all: readonly Figures[]): void {
  const differs = differingRows(all.map((f) => f.table));
  parent.replaceChildren(
    ...all.map((f, i) => {
      const column = document.createElement('div');
      const flags = differs[i] ?? [];
      const count = flags.filter(Boolean).length;
      column.append(Object.assign(document.createElement('h4'), { textContent: `${names[i]}: ${count} of ${flags.length} rows differ` }));
      const table = document.createElement('table');
      table.className = 'compare-rows';
      table.append(
        ...f.table.layers.map((row, r) => {
          const tr = document.createElement('tr');
          if (flags[r] === true) tr.className = 'differs';
          tr.append(cell('td', row.text), cell('td', row.output.join('x')), cell('td', thousands(row.params)));
          return tr;
        }),
      );
      column.append(table);
      return column;
    }),
  );
}

/** Elements of the compare section. */
export interface CompareElements {
  preset: HTMLSelectElement;
  batch: HTMLInputElement;
  inputs: HTMLElement;
  error: HTMLElement;
  figures: HTMLElement;
  rows: HTMLElement;
}

/** Wires the compare section: `editorText` reads the editor, `settings` the memory panel. */
export function startCompare(el: CompareElements, editorText: () => string, settings: () => MemorySettings): void {
  const presets: Record<string, () => { names: string[]; texts: string[] }> = {
    ...PRESETS,
    "this design against a copy to edit": () => ({ names: ['this design', 'the copy'], texts: [editorText(), editorText()] }),
  };
  for (const name of Object.keys(presets)) el.preset.append(new Option(name, name));
  let areas: HTMLTextAreaElement[] = [];
  let names: string[] = [];

  const render = (): void => {
    const batch = Math.max(1, Math.floor(Number(el.batch.value)) || 1);
    try {
      const all = areas.map((area, i) => {
        try {
          return figuresOf(area.value, batch, settings());
        } catch (error) {
          throw new Error(`${names[i]}: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`);
        }
      });
      renderFigures(el.figures, names, all, batch);
      renderRows(el.rows, names, all);
      el.error.textContent = '';
    } catch (error) {
      el.figures.replaceChildren();
      el.rows.replaceChildren();
      el.error.textContent = error instanceof Error ? error.message : String(error);
    }
  };

  const load = (): void => {
    const preset = presets[el.preset.value];
    if (preset === undefined) return;
    const chosen = preset();
    names = chosen.names;
    areas = chosen.texts.map((text, i) => {
      const area = Object.assign(document.createElement('textarea'), { value: text, rows: 4, spellcheck: false });
      area.setAttribute('aria-label', `design ${names[i]}`);
      area.addEventListener('input', render);
      return area;
    });
    el.inputs.replaceChildren(
      ...areas.map((area, i) => {
        const label = Object.assign(document.createElement('label'), { textContent: names[i] ?? '' });
        label.append(area);
        return label;
      }),
    );
    render();
  };
  el.preset.addEventListener('change', load);
  el.batch.addEventListener('input', render);
  load();
}
