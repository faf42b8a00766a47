// The page: the editor, the live table, the memory panel, the net picker and the shared URL; the
// training panel and the drawing pad are in trainer.ts.
import 'uplot/dist/uPlot.min.css';
import {
  compile,
  estimateMemory,
  formatBytes,
  maxBatch,
  parseBytes,
  summary,
  zoo,
  zooNotation,
  OPTIMIZER_NAMES,
  type Bindings,
  type OptimizerName,
  type Summary,
} from '../src/browser.js';
import { createEditor, highlight, setText } from './editor.js';
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
      tr.tabIndex = 0;
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
function spansOf(text: string, result: Summary): ([number, number] | null)[] {
  const { net } = compile(text, { bindings: bindings() });
  const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((m) => (m.index as number) + 1)];
  return result.layers.map((row) => {
    const source = net.layers.find((l) => l.index === row.index)?.node.source;
    if (source === undefined) return null;
    const from = (lineStarts[source.line - 1] ?? 0) + source.column - 1;
    return [from, from + source.text.length];
  });
}

function selectRow(i: number | null): void {
  for (const tr of $('table-body').querySelectorAll('tr')) tr.classList.toggle('selected', tr.dataset['row'] === String(i));
}

function renderMemory(): void {
  const out = $('memory-figures');
  try {
    const { spec } = compile(state.spec, { bindings: bindings() });
    const options = { optimizer: state.optimizer as OptimizerName, dtype: state.dtype };
    const estimate = estimateMemory(spec, { batch: state.batch, ...options });
    const budget = parseBytes(state.budget);
    const largest = maxBatch(spec, budget, options);
    out.replaceChildren(
      ...[
        ['training step', formatBytes(estimate.training.total)],
        ['  activations kept for backward', formatBytes(estimate.training.activations)],
        ['  parameters, gradients, optimizer state', formatBytes(estimate.training.params + estimate.training.paramGradients + estimate.training.optimizerState)],
        ['inference', formatBytes(estimate.inference.total)],
        [`largest batch in ${state.budget}`, `${thousands(largest.training)} training, ${thousands(largest.inference)} inference`],
      ].map(([label, value]) => {
        const row = document.createElement('div');
        row.append(Object.assign(document.createElement('span'), { textContent: label }), Object.assign(document.createElement('b'), { textContent: value }));
        return row;
      }),
    );
    $('memory-error').textContent = '';
  } catch (error) {
    out.replaceChildren();
    $('memory-error').textContent = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
  }
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
    rowSpans = spansOf(text, result);
    $('table-error').textContent = '';
  } catch (error) {
    // A text that does not compile has no table: stale rows would describe another net.
    $('table-body').replaceChildren();
    $('totals').textContent = '';
    $('params').textContent = '';
    rowSpans = [];
    $('table-error').textContent = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
  }
  renderMemory();
}

const editor = createEditor($('editor'), state.spec, {
  onChange: update,
  onCursor: (offset) => selectRow(rowSpans.findIndex((span) => span !== null && span[0] <= offset && offset <= span[1])),
  bindings,
});

$('table-body').addEventListener('click', (event) => {
  const tr = (event.target as HTMLElement).closest('tr');
  if (tr === null) return;
  const i = Number(tr.dataset['row']);
  selectRow(i);
  const span = rowSpans[i];
  if (span) highlight(editor, span[0], span[1]);
});
$('table-body').addEventListener('keydown', (event) => {
  if (event.key === 'Enter') (event.target as HTMLElement).click();
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
const memoryChanged = (): void => {
  state = { ...state, batch: 2 ** Number(batch.value), optimizer: optimizer.value, dtype: dtype.value as PageState['dtype'], budget: budget.value };
  $('batch-value').textContent = String(state.batch);
  history.replaceState(null, '', stateToHash(state));
  renderMemory();
};
for (const input of [batch, optimizer, dtype, budget]) input.addEventListener('input', memoryChanged);
$('batch-value').textContent = String(state.batch);

$('share').addEventListener('click', () => {
  const url = location.href;
  $('share-url').textContent = url;
  void navigator.clipboard?.writeText(url).catch(() => undefined);
});

update(state.spec);
startTrainer(() => editor.state.doc.toString());
