// The training views: the first layer's filters as pictures, the held-out confusion matrix, the
// misclassified digits, and the activations of every layer for a chosen digit.
import type { FromWorker, LayerOutput } from './protocol.js';

/** At most this many channels of a layer are drawn. */
const CHANNELS_SHOWN = 16;

/** A canvas of `width` x `height` values from `at` in `values`, grey from the smallest to the largest (or [lo, hi] when given). */
export function picture(values: ArrayLike<number>, at: number, width: number, height: number, range?: [number, number], scale = 3): HTMLCanvasElement {
  const canvas = Object.assign(document.createElement('canvas'), { width, height });
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  let [lo, hi] = range ?? [Infinity, -Infinity];
  if (range === undefined) {
    for (let i = 0; i < width * height; i++) {
      lo = Math.min(lo, values[at + i] as number);
      hi = Math.max(hi, values[at + i] as number);
    }
  }
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  const image = context.createImageData(width, height);
  const span = hi - lo || 1;
  for (let i = 0; i < width * height; i++) {
    const g = Math.round((255 * ((values[at + i] as number) - lo)) / span);
    image.data.set([g, g, g, 255], i * 4);
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

function titled(canvas: HTMLElement, title: string): HTMLElement {
  const figure = document.createElement('figure');
  figure.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: title }));
  return figure;
}

/** The first CONV's filters, each its own picture (of its first input channel when it reads several). */
function renderFilters(parent: HTMLElement, filters: Extract<FromWorker, { kind: 'report' }>['filters']): void {
  if (filters === null) {
    parent.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'the net has no CONV layer', className: 'muted' }));
    return;
  }
  const [k = 0, c = 1, fh = 1, fw = 1] = filters.shape;
  parent.replaceChildren(
    ...Array.from({ length: k }, (_, i) => {
      const canvas = picture(filters.data, i * c * fh * fw, fw, fh, undefined, Math.max(3, Math.floor(48 / fw)));
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `filter ${i + 1} of ${k}, ${fh}x${fw}`);
      return titled(canvas, String(i + 1));
    }),
  );
}

function renderConfusion(table: HTMLElement, matrix: number[][]): void {
  const head = document.createElement('tr');
  head.append(Object.assign(document.createElement('th'), { textContent: 'true \\ predicted' }), ...matrix.map((_, j) => Object.assign(document.createElement('th'), { textContent: String(j) })));
  table.replaceChildren(
    head,
    ...matrix.map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      const tr = document.createElement('tr');
      tr.append(Object.assign(document.createElement('th'), { textContent: String(i) }));
      row.forEach((count, j) => {
        const td = Object.assign(document.createElement('td'), { textContent: String(count) });
        const share = count / total;
        // The right answers in green, the mistakes in red, as deep as their share of the row.
        td.style.background = count === 0 ? '' : i === j ? `rgba(44, 160, 44, ${0.15 + 0.6 * share})` : `rgba(214, 39, 40, ${0.15 + 0.85 * Math.min(1, share * 5)})`;
        tr.append(td);
      });
      return tr;
    }),
  );
}

/** The report sent after an epoch: filters, confusion matrix, mistakes (a click on one asks for its activations). */
export function renderReport(report: Extract<FromWorker, { kind: 'report' }>, ask: (index: number) => void): void {
  const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
  $('train-views').hidden = false;
  renderFilters($('filters'), report.filters);
  renderConfusion($('confusion'), report.confusion);
  $('misclassified').replaceChildren(
    ...report.misclassified.map((m) => {
      const button = Object.assign(document.createElement('button'), { type: 'button', className: 'digit' });
      button.setAttribute('aria-label', `held-out digit ${m.index}: a ${m.label} read as ${m.predicted}; show its activations`);
      button.dataset['index'] = String(m.index);
      button.append(titled(picture(m.pixels, 0, 28, 28, [0, 1], 2), `${m.label} → ${m.predicted}`));
      button.addEventListener('click', () => ask(m.index));
      return button;
    }),
  );
}

/** One layer's output: up to 16 channel maps of a volume (on one grey scale), or a vector as a strip. */
function layerFigure(layer: LayerOutput): HTMLElement {
  const section = document.createElement('div');
  section.className = 'layer-output';
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of layer.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const [c = 1, h = 1, w = 1] = layer.shape.length === 3 ? layer.shape : [1, 1, layer.shape[0] ?? 1];
  const shown = Math.min(c, CHANNELS_SHOWN);
  const title = `${layer.text}: ${layer.shape.length === 3 ? `${h}x${w}x${c}` : `${w} values`}${shown < c ? `, the first ${shown} channels` : ''}`;
  section.append(Object.assign(document.createElement('h4'), { textContent: title }));
  const maps = document.createElement('div');
  maps.className = 'pictures';
  maps.setAttribute('role', 'img');
  maps.setAttribute('aria-label', `${title}, as grey levels from the smallest value to the largest`);
  const scale = layer.shape.length === 3 ? Math.max(1, Math.floor(56 / Math.max(h, w))) : Math.max(1, Math.floor(400 / w));
  for (let i = 0; i < shown; i++) maps.append(picture(layer.data, i * h * w, w, h, [lo, hi], scale));
  if (layer.shape.length !== 3) (maps.firstElementChild as HTMLElement).style.height = '12px';
  section.append(maps);
  return section;
}

/** Every layer's output for one digit. */
export function renderActivations(parent: HTMLElement, message: Extract<FromWorker, { kind: 'activations' }>): void {
  parent.replaceChildren(Object.assign(document.createElement('p'), { textContent: message.label }), ...message.layers.map(layerFigure));
}
