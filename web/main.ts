// The page: the editor, the live table, the net picker and the shared URL, and the one selected
// layer that the table, the editor, the drawing (drawing.ts) and the memory chart (memory.ts) share.
// The other views have their own files: compare.ts, model_file.ts, and trainer.ts for training,
// the drawing pad and the views inside the net (train_views.ts).
import 'uplot/dist/uPlot.min.css';
import { compile, summary, zoo, zooNotation, OPTIMIZER_NAMES, type Bindings, type Summary } from '../src/browser.js';
import { startCompare } from './compare.js';
import { createDrawing, fieldOrigins, type Origin } from './drawing.js';
import { createEditor, highlight, setText } from './editor.js';
import { renderBars, renderFigures } from './memory.js';
import { describeOpened, readsDigits, startModelFiles } from './model_file.js';
import { stateFromHash, stateToHash, type PageState } from './state.js';
import { startTrainer } from './trainer.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
};

/** The notes' patterns, to start from. */
const PATTERNS: Record<string, string> = {
  'the general pattern': 'let N = 2\nlet M = 3\nlet K = 1\nlet POOL = 1\nINPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC',
  'one 7x7 conv': 'INPUT[32x32x64] -> CONV7-64 -> RELU',
  'three 3x3 convs': 'INPUT[32x32x64] -> [CONV3-64 -> RELU]*3',
  'a window that does not tile': 'INPUT[32x32x3] -> CONV3-8 -> POOL3 -> FC-10',
};

const thousands = (n: number): string => n.toLocaleString('en-US');
let state: PageState = stateFromHash(location.hash);
/** For each table row, the [from, to) of its layer in the text (null for INPUT or a generated layer). */
let rowSpans: ([number, number] | null)[] = [];
/** The table of the editor's text, null while it does not compile. */
let current: Summary | null = null;
/** Where each row's windows start on the input (drawing.ts). */
let origins: readonly Origin[] = [];
/** The row selected in the table, the drawing and the memory chart. */
let selectedRow: number | null = null;

/** Counts up to this get a slider (the notes' N, M, K; a switch such as BN); CLASSES does not. */
const SLIDER_MAX = 6;

/** The `let NAME = value` variables of the text that the sliders change: the small counts. */
function variablesOf(text: string): Map<string, number> {
  const all = [...text.matchAll(/^let\s+([A-Z_][A-Z0-9_]*)\s*=\s*(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])] as const);
  return new Map(all.filter(([, value]) => value <= SLIDER_MAX));
}

const bindings = (): Bindings => ({});

function renderTable(result: Summary): void {
  const body = $('table-body');
  body.replaceChildren(
    ...result.layers.map((row, i) => {
      const tr = document.createElement('tr');
      tr.dataset['row'] = String(i);
      tr.tabIndex = i === 0 ? 0 : -1;
      const rf = row.receptiveField.size;
      const cells = [String(row.index), row.text, row.output.join('x'), thousands(row.activations), thousands(row.params), thousands(row.macs), `${rf[0]}x${rf[1]}`];
      for (const cell of cells) tr.append(Object.assign(document.createElement('td'), { textContent: cell }));
      return tr;
    }),
  );
  const t = result.totals;
  $('totals').textContent = `${thousands(t.params)} parameters, ${thousands(t.activations)} activations per image, ${thousands(t.macs)} multiply-adds`;
  $('params').textContent = thousands(t.params);
}

/** Each row's layer text in the editor, from the compiled net's source spans. */
function spansOf(text: string, result: Summary, net: ReturnType<typeof compile>['net']): ([number, number] | null)[] {
  const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((m) => (m.index as number) + 1)];
  return result.layers.map((row) => {
    const source = net.layers.find((l) => l.index === row.index)?.node.source;
    if (source === undefined) return null;
    const from = (lineStarts[source.line - 1] ?? 0) + source.column - 1;
    return [from, from + source.text.length];
  });
}

/** Marks row `i` (null or -1: none) in the table, the drawing and the memory chart. */
function selectRow(i: number | null): void {
  const row = i === null || i < 0 ? null : i;
  selectedRow = row;
  for (const element of document.querySelectorAll<HTMLElement>('#table-body tr, #memory-bars .bars-row')) {
    element.classList.toggle('selected', element.dataset['row'] === String(row));
  }
  for (const tr of $('table-body').querySelectorAll('tr')) {
    tr.setAttribute('aria-selected', String(tr.dataset['row'] === String(row)));
    // One tab stop for the table: the selected row (or the first); the arrows reach the rest.
    tr.tabIndex = tr.dataset['row'] === String(row ?? 0) ? 0 : -1;
  }
  drawing.select(row);
}

/** Selects row `i` everywhere and its layer's text in the editor (moving the focus there when `focus`). */
function pickRow(i: number, focus: boolean): void {
  selectRow(i);
  const span = rowSpans[i];
  if (span) highlight(editor, span[0], span[1], focus);
}

function renderMemory(): void {
  renderFigures($('memory-figures'), $('memory-error'), state.spec, state);
  renderBars($('memory-bars'), current, state);
}

function renderSliders(text: string): void {
  const box = $('variables');
  const variables = variablesOf(text);
  box.replaceChildren(
    ...[...variables].map(([name, value]) => {
      const label = Object.assign(document.createElement('label'), { textContent: `${name} ` });
      const input = Object.assign(document.createElement('input'), { type: 'range', min: '0', max: String(SLIDER_MAX), value: String(value) });
      input.setAttribute('aria-label', name);
      input.addEventListener('input', () => {
        const next = editor.state.doc.toString().replace(new RegExp(`^(let\\s+${name}\\s*=\\s*)\\d+`, 'm'), `$1${input.value}`);
        setText(editor, next);
      });
      label.append(input, Object.assign(document.createElement('span'), { textContent: ` ${value}` }));
      return label;
    }),
  );
}

function update(text: string): void {
  state = { ...state, spec: text };
  history.replaceState(null, '', stateToHash(state));
  renderSliders(text);
  try {
    const result = summary(text, { bindings: bindings() });
    renderTable(result);
    current = result;
    const { net } = compile(text, { bindings: bindings() });
    rowSpans = spansOf(text, result, net);
    origins = fieldOrigins(result, net);
    $('table-error').textContent = '';
  } catch (error) {
    // A text that does not compile has no table: stale rows would describe another net.
    $('table-body').replaceChildren();
    current = null;
    origins = [];
    $('totals').textContent = '';
    $('params').textContent = '';
    rowSpans = [];
    $('table-error').textContent = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
  }
  drawing.render(current, origins);
  renderMemory();
  selectRow(rowAt(editor.state.selection.main.head));
}

/**
 * The row whose layer's text holds `offset`, or -1. NOTE: a repeated group gives several rows one
 * text; the selected row stays selected while the cursor is in its text.
 */
function rowAt(offset: number): number {
  const holds = (span: [number, number] | null | undefined): boolean => span != null && span[0] <= offset && offset <= span[1];
  if (selectedRow !== null && holds(rowSpans[selectedRow])) return selectedRow;
  return rowSpans.findIndex(holds);
}

const drawing = createDrawing($('drawing'), $('drawing-caption'), { onSelect: (i, edit) => pickRow(i, edit) });
const editor = createEditor($('editor'), state.spec, {
  onChange: update,
  onCursor: (offset) => selectRow(rowAt(offset)),
  bindings,
});

$('table-body').addEventListener('click', (event) => {
  const tr = (event.target as HTMLElement).closest('tr');
  if (tr !== null) pickRow(Number(tr.dataset['row']), true);
});
$('table-body').addEventListener('keydown', (event) => {
  const tr = (event.target as HTMLElement).closest('tr');
  if (tr === null) return;
  if (event.key === 'Enter') pickRow(Number(tr.dataset['row']), true);
  // The arrows walk the rows, selecting each (and its text) while the focus stays in the table.
  const next = event.key === 'ArrowDown' ? tr.nextElementSibling : event.key === 'ArrowUp' ? tr.previousElementSibling : null;
  if (next instanceof HTMLElement) {
    event.preventDefault();
    next.focus();
    pickRow(Number(next.dataset['row']), false);
  }
});

const picker = $<HTMLSelectElement>('picker');
for (const name of Object.keys(PATTERNS)) picker.append(new Option(`pattern: ${name}`, `pattern:${name}`));
for (const net of zoo) picker.append(new Option(`${net.name}: ${net.title}`, `zoo:${net.name}`));
picker.addEventListener('change', () => {
  const [kind, name] = picker.value.split(/:(.*)/) as [string, string];
  const net = zoo.find((n) => n.name === name);
  const text = kind === 'zoo' && net !== undefined ? zooNotation(net) : PATTERNS[name];
  if (text !== undefined) setText(editor, text);
  picker.value = '';
});

const batch = $<HTMLInputElement>('batch');
const optimizer = $<HTMLSelectElement>('optimizer');
const dtype = $<HTMLSelectElement>('dtype');
const budget = $<HTMLInputElement>('budget');
for (const name of OPTIMIZER_NAMES) optimizer.append(new Option(name, name));
// The slider moves in powers of two, 1 to 1024.
batch.value = String(Math.round(Math.log2(state.batch)));
optimizer.value = state.optimizer;
dtype.value = state.dtype;
budget.value = state.budget;
$('memory-bars').addEventListener('click', (event) => {
  const line = (event.target as HTMLElement).closest<HTMLElement>('.bars-row');
  if (line !== null) pickRow(Number(line.dataset['row']), false);
});
const memoryChanged = (): void => {
  state = { ...state, batch: 2 ** Number(batch.value), optimizer: optimizer.value, dtype: dtype.value as PageState['dtype'], budget: budget.value };
  $('batch-value').textContent = String(state.batch);
  history.replaceState(null, '', stateToHash(state));
  renderMemory();
  selectRow(rowAt(editor.state.selection.main.head));
};
for (const input of [batch, optimizer, dtype, budget]) input.addEventListener('input', memoryChanged);
$('batch-value').textContent = String(state.batch);

$('share').addEventListener('click', () => {
  const url = location.href;
  $('share-url').textContent = url;
  void navigator.clipboard?.writeText(url).catch(() => undefined);
});

update(state.spec);
startCompare(
  { preset: $('compare-preset'), batch: $('compare-batch'), inputs: $('compare-inputs'), error: $('compare-error'), figures: $('compare-figures'), rows: $('compare-rows') },
  () => editor.state.doc.toString(),
  () => state,
);
const trainer = startTrainer(() => editor.state.doc.toString());
startModelFiles($('drop'), $('model-file'), $('model-error'), {
  onOpen(model, file) {
    if (model.text !== null) setText(editor, model.text);
    $('model-status').textContent = describeOpened(model, file);
    if (readsDigits(model.spec)) trainer.load({ kind: 'load', name: file, spec: model.spec, weights: model.weights, normalization: model.normalization });
  },
});
