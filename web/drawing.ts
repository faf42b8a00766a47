// The drawing of the volumes layer by layer, as the notes draw them: one box per row of the table,
// its face the output's height x width and its depth the channels, every side to scale on a log
// axis; the receptive field of a chosen output of the selected layer is drawn on the input.
import type { compile, Summary } from '../src/browser.js';

type Row = Summary['layers'][number];

const SVG = 'http://www.w3.org/2000/svg';
/** Pixels per doubling of a side: height and width... */
const FACE_PER_DOUBLING = 11;
/** ...and depth, drawn obliquely, so it gets less. */
const DEPTH_PER_DOUBLING = 4;
/** A side of 1 still shows as a line this long. */
const MIN_SIDE = 4;
/** The oblique depth rises at this fraction of its length. */
const RISE = 0.6;

/** A side of `n` values drawn on the log axis, in pixels. */
export function sideLength(n: number, perDoubling: number): number {
  return MIN_SIDE + perDoubling * Math.log2(Math.max(n, 1));
}

/** Where an output sees the input: the first and last input rows and columns, before clipping to the image. */
export interface Window {
  rows: [number, number];
  cols: [number, number];
}

/** Where output (0, 0) of a layer's window starts on the input, [row, column]: negative in the padding. */
export type Origin = readonly [number, number];

type Compiled = ReturnType<typeof compile>['net'];

/**
 * Each table row's origin, from the layers' padding and strides: a CONV or POOL moves it back by
 * its padding in input pixels (its input's stride times its own padding); an FC or GAP sees the
 * whole input from its origin; other layers keep their input's. NOTE: a layer that joins
 * several branches (a residual sum, a concat) takes its first input's origin.
 */
export function fieldOrigins(result: Summary, net: Compiled): Origin[] {
  const at = new Map<string, { origin: Origin; jump: readonly [number, number] }>([['input', { origin: [0, 0], jump: [1, 1] }]]);
  for (const { node } of net.layers) {
    const from = at.get(node.inputs[0] ?? 'input') ?? { origin: [0, 0] as const, jump: [1, 1] as const };
    if (node.op === 'conv' || node.op === 'maxpool' || node.op === 'avgpool') {
      const { padding, stride } = node.attrs;
      at.set(node.name, {
        origin: [from.origin[0] - padding[0] * from.jump[0], from.origin[1] - padding[1] * from.jump[1]],
        jump: [from.jump[0] * stride[0], from.jump[1] * stride[1]],
      });
    } else at.set(node.name, from);
  }
  return result.layers.map((row) => {
    const node = net.layers.find((l) => l.index === row.index)?.node;
    return node === undefined ? [0, 0] : (at.get(node.name)?.origin ?? [0, 0]);
  });
}

/** The input window of output (r, c) of a layer whose windows start at `origin` (see `fieldOrigins`). */
export function inputWindow(row: Row, origin: Origin, r: number, c: number): Window {
  const { size, stride } = row.receptiveField;
  const rows: [number, number] = [origin[0] + r * stride[0], origin[0] + r * stride[0] + size[0] - 1];
  const cols: [number, number] = [origin[1] + c * stride[1], origin[1] + c * stride[1] + size[1] - 1];
  return { rows, cols };
}

function svgElement<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  return element;
}

/** One volume as a box: its front face (height x width), top and side (depth), in an SVG of its own size. */
function box(row: Row): { svg: SVGSVGElement; face: { x: number; y: number; width: number; height: number } } {
  const [h, w, c] = row.output;
  const width = sideLength(w, FACE_PER_DOUBLING);
  const height = sideLength(h, FACE_PER_DOUBLING);
  const depth = sideLength(c, DEPTH_PER_DOUBLING);
  const dx = depth;
  const dy = depth * RISE;
  const svg = svgElement('svg', { width: width + dx + 2, height: height + dy + 2, viewBox: `-1 -1 ${width + dx + 2} ${height + dy + 2}`, 'aria-hidden': 'true' });
  const face = { x: 0, y: dy, width, height };
  svg.append(
    svgElement('polygon', { class: 'top', points: `0,${dy} ${dx},0 ${dx + width},0 ${width},${dy}` }),
    svgElement('polygon', { class: 'side', points: `${width},${dy} ${dx + width},0 ${dx + width},${height} ${width},${dy + height}` }),
    svgElement('rect', { class: 'face', ...face }),
  );
  return { svg, face };
}

/** What the drawing reports to the page. */
export interface DrawingHooks {
  /** A volume was picked: select its row; `edit` (a click, Enter) also takes the focus to its text. */
  onSelect(row: number, edit: boolean): void;
}

/** The drawing in `parent`: `render` draws a table, `select` marks a row's volume. */
export interface Drawing {
  /** Draws the volumes of `result`, its windows placed by `origins` (one per row). */
  render(result: Summary | null, origins: readonly Origin[]): void;
  select(row: number | null): void;
}

/** The drawing of the volumes, in `parent`, with its note on the receptive field in `caption`. */
export function createDrawing(parent: HTMLElement, caption: HTMLElement, hooks: DrawingHooks): Drawing {
  let rows: Row[] = [];
  let starts: readonly Origin[] = [];
  let selected: number | null = null;
  /** The chosen output of the selected layer, as fractions of its height and width. */
  let at: [number, number] = [0.5, 0.5];
  let figures: HTMLElement[] = [];
  let faces: { x: number; y: number; width: number; height: number }[] = [];

  const position = (row: Row): [number, number] => [Math.min(row.output[0] - 1, Math.floor(at[0] * row.output[0])), Math.min(row.output[1] - 1, Math.floor(at[1] * row.output[1]))];

  /** The marks of the selection: the chosen output on its volume, its window on the input. */
  function mark(): void {
    for (const figure of parent.querySelectorAll('.mark')) figure.remove();
    figures.forEach((figure, i) => {
      // One tab stop for the drawing: the selected volume (or the first); the arrows reach the rest.
      figure.tabIndex = i === (selected ?? 0) ? 0 : -1;
      figure.classList.toggle('selected', i === selected);
      figure.setAttribute('aria-pressed', String(i === selected));
    });
    const input = rows[0];
    if (selected === null || input === undefined || rows[selected] === undefined) {
      caption.textContent = 'Select a layer (here or in the table) to see what one of its outputs sees of the input.';
      return;
    }
    const row = rows[selected] as Row;
    const [r, c] = position(row);
    const face = faces[selected] as (typeof faces)[number];
    const cell = { width: face.width / row.output[1], height: face.height / row.output[0] };
    figures[selected]?.querySelector('svg')?.append(svgElement('rect', { class: 'mark output', x: face.x + c * cell.width, y: face.y + r * cell.height, width: Math.max(cell.width, 2), height: Math.max(cell.height, 2) }));
    const [inH, inW] = input.output;
    const window = inputWindow(row, starts[selected] ?? [0, 0], r, c);
    const clip = (range: [number, number], size: number): [number, number] => [Math.max(0, range[0]), Math.min(size - 1, range[1])];
    const [top, bottom] = clip(window.rows, inH);
    const [left, right] = clip(window.cols, inW);
    const inputFace = faces[0] as (typeof faces)[number];
    figures[0]?.querySelector('svg')?.append(
      svgElement('rect', {
        class: 'mark field',
        x: inputFace.x + (left / inW) * inputFace.width,
        y: inputFace.y + (top / inH) * inputFace.height,
        width: Math.max(((right - left + 1) / inW) * inputFace.width, 2),
        height: Math.max(((bottom - top + 1) / inH) * inputFace.height, 2),
      }),
    );
    const [fh, fw] = row.receptiveField.size;
    const clipped = top > window.rows[0] || bottom < window.rows[1] || left > window.cols[0] || right < window.cols[1];
    caption.textContent =
      `output (${r}, ${c}) of ${row.text} sees ${fh}x${fw} pixels of the input: rows ${top}–${bottom}, columns ${left}–${right}` +
      `${clipped ? ' (the rest of its window falls outside the input)' : ''}. Click its volume (or press Shift and the arrows) to pick another output.`;
  }

  function render(result: Summary | null, origins: readonly Origin[]): void {
    rows = result?.layers ?? [];
    starts = origins;
    if (selected !== null && selected >= rows.length) selected = null;
    faces = [];
    figures = rows.map((row, i) => {
      const figure = document.createElement('figure');
      figure.className = 'volume';
      figure.dataset['row'] = String(i);
      figure.setAttribute('role', 'button');
      figure.setAttribute('aria-label', `${row.text}: ${row.output.join('x')}`);
      const { svg, face } = box(row);
      faces.push(face);
      const label = document.createElement('figcaption');
      label.append(Object.assign(document.createElement('b'), { textContent: row.text }), document.createElement('br'), row.output.join('x'));
      figure.append(svg, label);
      return figure;
    });
    parent.replaceChildren(...figures);
    mark();
  }

  parent.addEventListener('click', (event) => {
    const figure = (event.target as Element).closest<HTMLElement>('figure.volume');
    if (figure === null) return;
    const i = Number(figure.dataset['row']);
    const face = faces[i];
    const svg = figure.querySelector('svg');
    // A click on the selected volume's face picks the output whose field is drawn.
    if (i === selected && face !== undefined && svg !== null && event instanceof MouseEvent) {
      const bounds = svg.getBoundingClientRect();
      const [x, y] = [event.clientX - bounds.left - 1 - face.x, event.clientY - bounds.top - 1 - face.y];
      // NOTE: mouse positions come in whole pixels; a click on the face's edge may land a pixel out.
      const inside = (v: number, size: number): number | null => (v > -2 && v < size + 2 ? Math.min(Math.max(v, 0), size - 0.01) / size : null);
      const [r, c] = [inside(y, face.height), inside(x, face.width)];
      if (r !== null && c !== null) at = [r, c];
    }
    hooks.onSelect(i, true);
  });
  parent.addEventListener('keydown', (event) => {
    const figure = (event.target as Element).closest<HTMLElement>('figure.volume');
    if (figure === null) return;
    const i = Number(figure.dataset['row']);
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    const row = rows[i];
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      hooks.onSelect(i, true);
    } else if (move !== undefined && event.shiftKey && i === selected && row !== undefined) {
      // Shift and the arrows move the chosen output one step on the selected volume.
      event.preventDefault();
      const [r, c] = position(row);
      at = [(Math.min(Math.max(r + move[0], 0), row.output[0] - 1) + 0.5) / row.output[0], (Math.min(Math.max(c + move[1], 0), row.output[1] - 1) + 0.5) / row.output[1]];
      mark();
    } else if (move !== undefined && !event.shiftKey) {
      // The arrows walk the volumes, selecting each while the focus stays in the drawing.
      const next = figures[i + move[0] + move[1]];
      if (next === undefined) return;
      event.preventDefault();
      next.focus();
      hooks.onSelect(Number(next.dataset['row']), false);
    }
  });

  return {
    render,
    select(row) {
      selected = row;
      mark();
    },
  };
}
