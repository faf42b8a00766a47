import { formatBytes } from '../memory/units.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { InferredNet, ReceptiveField } from './infer.js';
import { appliedInPlace } from './keywords/index.js';

/** Bytes per value: float32. */
export const BYTES_PER_VALUE = 4;

/** One row of the notes' table: a layer, its output volume, and what it costs. */
export interface SummaryRow {
  /** Position among all layers (INPUT is 0), as sizing errors count them. */
  index: number;
  /** The node's name (`features.0`), or `input`. */
  name: string;
  /** The layer as notation, defaults explicit: `CONV3-64`, `POOL2`, `INPUT[224x224x3]`. */
  text: string;
  /** The output volume as the notes write it, [H, W, C]; a vector of F values is [1, 1, F]. */
  output: [number, number, number];
  /** Values in the output volume for one image. */
  activations: number;
  /** Trainable values named `weight` (filters, FC matrices, BN scales). */
  weights: number;
  /** Trainable values named `bias`. */
  biases: number;
  /** weights + biases. */
  params: number;
  /** Multiply-adds for one image. */
  macs: number;
  /** What one output value sees of the input image. */
  receptiveField: ReceptiveField;
}

/** The table's totals for one image. */
export interface SummaryTotals {
  /** weights + biases over the whole net. */
  params: number;
  /** Trainable values named `weight`, over the whole net. */
  weights: number;
  /** Trainable values named `bias`, over the whole net. */
  biases: number;
  /** Values per image, forward: the input plus each layer's output once. */
  activations: number;
  /** `activations` in float32 bytes; double it for forward plus backward. */
  activationBytes: number;
  /** Multiply-adds for one image, forward, over the whole net. */
  macs: number;
}

/** The table as data: rows (in-place layers folded away) and totals. */
export interface Summary {
  /** One row per layer shown, INPUT first. */
  layers: SummaryRow[];
  /** Sums over every layer, folded ones included. */
  totals: SummaryTotals;
  /** Layers applied in place and so not shown, by notation name: `{ RELU: 13, DROPOUT: 2 }`. */
  inPlace: Record<string, number>;
}

function hwc(shape: Shape): [number, number, number] {
  if (shape.length === 3) return [shape[1] as number, shape[2] as number, shape[0] as number];
  return [1, 1, sizeOf(shape)];
}

/**
 * The per-layer table of an inferred net, in the notes' style: the INPUT row and one row per layer
 * with its output, activations, weights, biases, multiply-adds and receptive field. As in the
 * notes' VGG table, a RELU (or DROPOUT, FLATTEN) applied in place adds no row and no activations.
 */
export function summarize(net: InferredNet): Summary {
  const input = net.spec.input;
  const [h, w, c] = hwc(input);
  const layers: SummaryRow[] = [
    {
      index: 0,
      name: 'input',
      text: `INPUT[${h}x${w}x${c}]`,
      output: [h, w, c],
      activations: sizeOf(input),
      weights: 0,
      biases: 0,
      params: 0,
      macs: 0,
      receptiveField: { size: [1, 1], stride: [1, 1] },
    },
  ];
  const inPlace: Record<string, number> = {};
  for (const layer of net.layers) {
    // A layer that can overwrite its input has no activation memory of its own and no row.
    if (appliedInPlace(layer.node.op)) {
      const keyword = layer.text.replace(/\(.*$/, '');
      inPlace[keyword] = (inPlace[keyword] ?? 0) + 1;
      continue;
    }
    layers.push({
      index: layer.index,
      name: layer.node.name,
      text: layer.text,
      output: hwc(layer.output),
      activations: sizeOf(layer.output),
      weights: layer.weights,
      biases: layer.biases,
      params: layer.weights + layer.biases,
      macs: layer.macs,
      receptiveField: layer.receptiveField,
    });
  }
  const sum = (key: 'weights' | 'biases' | 'activations' | 'macs'): number => layers.reduce((n, row) => n + row[key], 0);
  const activations = sum('activations');
  const totals: SummaryTotals = {
    params: sum('weights') + sum('biases'),
    weights: sum('weights'),
    biases: sum('biases'),
    activations,
    activationBytes: activations * BYTES_PER_VALUE,
    macs: sum('macs'),
  };
  return { layers, totals, inPlace };
}

/** 1234567 -> `1,234,567`. */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 15470264320 -> `15.47G`: multiply-adds at a glance. */
export function compact(n: number): string {
  for (const [scale, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'K']] as const) if (n >= scale) return `${(n / scale).toFixed(2)}${suffix}`;
  return String(n);
}

/** A receptive field as `size/stride`, e.g. `7/2` or `1x7/1`. */
export function formatField(rf: ReceptiveField): string {
  const pair = (v: [number, number]): string => (v[0] === v[1] ? String(v[0]) : `${v[0]}x${v[1]}`);
  return `${pair(rf.size)}/${pair(rf.stride)}`;
}

/** The table as text, one row per layer, then the totals. */
export function renderSummary(summary: Summary): string {
  const header = ['#', 'layer', 'name', 'output', 'activations', 'weights', 'biases', 'mult-adds', 'field/stride'];
  const rows = summary.layers.map((r) => [
    String(r.index),
    r.text,
    r.name,
    `[${r.output.join('x')}]`,
    thousands(r.activations),
    thousands(r.weights),
    thousands(r.biases),
    thousands(r.macs),
    formatField(r.receptiveField),
  ]);
  // NOTE: a reduce, not Math.max(...rows): a net of 100,000 layers would overflow the stack.
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, (r[i] as string).length), h.length));
  const numeric = new Set([0, 4, 5, 6, 7]);
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join('  ').trimEnd();
  const t = summary.totals;
  const folded = Object.entries(summary.inPlace).map(([name, n]) => `${n} ${name}`);
  return [
    line(header),
    ...rows.map(line),
    '',
    `params: ${thousands(t.params)} (weights ${thousands(t.weights)}, biases ${thousands(t.biases)}) = ${formatBytes(t.params * BYTES_PER_VALUE)}`,
    `activations: ${thousands(t.activations)} values per image = ${formatBytes(t.activationBytes)} forward, ${formatBytes(2 * t.activationBytes)} forward + backward (float32)`,
    `multiply-adds: ${thousands(t.macs)} (${compact(t.macs)}) per image`,
    ...(folded.length ? [`applied in place (no rows, no activations): ${folded.join(', ')}`] : []),
  ].join('\n');
}
