// The memory view: the training and inference budget of the design at the page's batch, optimizer
// and dtype, the largest batch that fits the device budget, and a bar chart per layer of its
// activations and its parameters.
import { compile, estimateMemory, formatBytes, maxBatch, parseBytes, type OptimizerName, type Summary } from '../src/browser.js';

/** What the memory view is asked about: the memory panel's settings. */
export interface MemorySettings {
  batch: number;
  optimizer: string;
  dtype: 'float32' | 'float64';
  budget: string;
}

/** The longest bar's share of its column, in percent. */
export const BAR_SHARE = 50;
const BYTES: Record<MemorySettings['dtype'], number> = { float32: 4, float64: 8 };
const thousands = (n: number): string => n.toLocaleString('en-US');

/** One label and figure of the view. */
function figure(label: string, value: string): HTMLElement {
  const row = document.createElement('div');
  row.append(Object.assign(document.createElement('span'), { textContent: label }), Object.assign(document.createElement('b'), { textContent: value }));
  return row;
}

/** A bar `fraction` of the full width, labelled for screen readers by its figure. */
function bar(kind: 'activations' | 'params', fraction: number, text: string): HTMLElement {
  const cell = document.createElement('span');
  cell.className = `bar-cell ${kind}`;
  const fill = document.createElement('span');
  fill.className = 'fill';
  // The longest bar takes half its column, leaving room for its figure.
  fill.style.width = `${(BAR_SHARE * fraction).toFixed(2)}%`;
  cell.append(fill, Object.assign(document.createElement('i'), { textContent: text }));
  return cell;
}

/**
 * The chart per layer: each row's output for the whole batch (kept for backward when training) and
 * its parameters, on one linear scale, so that the notes' point shows: activations fill the early
 * CONV layers, parameters the FC layers.
 */
export function renderBars(parent: HTMLElement, result: Summary | null, settings: MemorySettings): void {
  if (result === null) {
    parent.replaceChildren();
    return;
  }
  const bytes = BYTES[settings.dtype];
  const sizes = result.layers.map((row) => ({ activations: row.activations * settings.batch * bytes, params: row.params * bytes }));
  const largest = Math.max(1, ...sizes.flatMap((s) => [s.activations, s.params]));
  const head = document.createElement('div');
  head.className = 'bars-head';
  head.append(
    Object.assign(document.createElement('span'), { textContent: 'layer' }),
    Object.assign(document.createElement('span'), { textContent: `activations (batch ${thousands(settings.batch)})`, className: 'activations' }),
    Object.assign(document.createElement('span'), { textContent: 'parameters', className: 'params' }),
  );
  parent.replaceChildren(
    head,
    ...result.layers.map((row, i) => {
      const size = sizes[i] as (typeof sizes)[number];
      const line = document.createElement('div');
      line.className = 'bars-row';
      line.dataset['row'] = String(i);
      line.append(
        Object.assign(document.createElement('span'), { textContent: row.text, className: 'name' }),
        bar('activations', size.activations / largest, formatBytes(size.activations)),
        bar('params', size.params / largest, formatBytes(size.params)),
      );
      return line;
    }),
  );
}

/** The budget's figures for `text`, or the reason there are none. */
export function renderFigures(parent: HTMLElement, error: HTMLElement, text: string, settings: MemorySettings): void {
  try {
    const { spec } = compile(text);
    const options = { optimizer: settings.optimizer as OptimizerName, dtype: settings.dtype };
    const estimate = estimateMemory(spec, { batch: settings.batch, ...options });
    const budget = parseBytes(settings.budget);
    const largest = maxBatch(spec, budget, options);
    const t = estimate.training;
    const share = t.total / budget;
    parent.replaceChildren(
      figure('training step', formatBytes(t.total)),
      figure('  activations kept for backward', formatBytes(t.activations)),
      figure('  their gradients', formatBytes(t.activationGradients)),
      figure('  parameters, gradients, optimizer state', formatBytes(t.params + t.paramGradients + t.optimizerState)),
      figure('  the batch and kernel scratch', formatBytes(t.data + t.workspace)),
      figure('inference', formatBytes(estimate.inference.total)),
      figure(`training step in ${settings.budget}`, share <= 1 ? `fits (${(100 * share).toFixed(1)}%)` : `does not fit (${share.toFixed(1)}x)`),
      figure(`largest batch in ${settings.budget}`, `${thousands(largest.training)} training, ${thousands(largest.inference)} inference`),
    );
    error.textContent = '';
  } catch (failure) {
    parent.replaceChildren();
    error.textContent = failure instanceof Error ? (failure.message.split('\n')[0] ?? '') : String(failure);
  }
}
