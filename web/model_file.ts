// Open a model file by dropping it on the page (or choosing it): a convstack safetensors model or
// an ONNX file. Its notation goes to the editor, so the table, the drawing and the memory show it;
// a net that reads 28x28x1 digits runs on the drawing pad.
import { asNotation, importOnnx, parseSafetensors, toNetSpec, type CompileOptions, type NetSpec, type Tensor } from '../src/browser.js';
import type { ModelWeights } from './protocol.js';

/** A model as the page opens it: its text, its net, its weights, and how it reads an image. */
export interface OpenedModel {
  /** The notation text of the net, for the editor; null when the file stores only a spec. */
  text: string | null;
  spec: NetSpec;
  weights: ModelWeights;
  /** Per-channel mean and std the net expects its inputs in [0, 1] to be normalised with. */
  normalization: { mean: number[]; std: number[] };
  /** What kind of file it was, for the status line. */
  kind: 'convstack model' | 'ONNX model';
}

/** Metadata keys of a convstack model file (src/train/model_file.ts writes them). */
const CHECKPOINT_MARKER = 'train_state';
const CHECKPOINT_PREFIX = 'model.';

function json(metadata: Record<string, string>, key: string, file: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw new Error(`${file}: no '${key}' in its metadata: not a convstack model file`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${file}: its '${key}' metadata is not valid JSON`);
  }
}

/** The tensors as the worker receives them: names, shapes and values. */
function asWeights(tensors: Iterable<[string, Tensor]>, prefix = ''): ModelWeights {
  return [...tensors].filter(([name]) => name.startsWith(prefix)).map(([name, t]) => ({ name: name.slice(prefix.length), shape: [...t.shape], data: Float32Array.from(t.data) }));
}

/** A convstack model file (or a checkpoint): its architecture text or spec, normalisation and weights. */
function openSafetensors(bytes: Uint8Array, file: string): OpenedModel {
  const { tensors, metadata } = parseSafetensors(bytes, file);
  if (metadata['format'] === undefined) throw new Error(`${file}: not a convstack model file (no format in its metadata)`);
  const text = metadata['architecture'] ?? null;
  const options = metadata['compile_options'] === undefined ? undefined : (json(metadata, 'compile_options', file) as CompileOptions);
  const spec = text !== null ? toNetSpec(text, options) : (json(metadata, 'spec', file) as NetSpec);
  const normalization = json(metadata, 'normalization', file) as OpenedModel['normalization'];
  const prefix = metadata[CHECKPOINT_MARKER] !== undefined ? CHECKPOINT_PREFIX : '';
  return { text, spec, weights: asWeights(tensors, prefix), normalization, kind: 'convstack model' };
}

/** An ONNX model, imported and written in the notation; it reads its inputs as they come. */
function openOnnx(bytes: Uint8Array, file: string): OpenedModel {
  const notated = asNotation(importOnnx(bytes, { file }), file);
  const channels = notated.spec.input[0] ?? 1;
  return {
    text: notated.text,
    spec: notated.spec,
    weights: asWeights(notated.weights),
    normalization: { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) },
    kind: 'ONNX model',
  };
}

/** Opens a model file's bytes: ONNX by its name (.onnx), else a convstack safetensors model. */
export function openModel(bytes: Uint8Array, file: string): OpenedModel {
  return /\.onnx$/i.test(file) ? openOnnx(bytes, file) : openSafetensors(bytes, file);
}

/** True when the net reads one 28x28 grey image, as the drawing pad gives. */
export const readsDigits = (spec: NetSpec): boolean => spec.input.join('x') === '1x28x28';

/** What the page says of an opened file: its kind, where its layers went, whether the pad runs it. */
export function describeOpened(model: OpenedModel, file: string): string {
  const [c, h, w] = model.spec.input;
  const article = model.kind === 'ONNX model' ? 'an' : 'a';
  const layers = model.text === null ? ' with no notation text (the table cannot show it)' : ': its layers are in the editor';
  const pad = readsDigits(model.spec) ? '' : ` It reads ${h}x${w}x${c} images, not the pad's 28x28x1 digits.`;
  return `Opened ${file}, ${article} ${model.kind}${layers}.${pad}`;
}

/** Where the model panel reports to the page. */
export interface ModelHooks {
  /** A file was opened. */
  onOpen(model: OpenedModel, file: string): void;
}

/** Wires the drop zone (the whole page takes a drop) and the file chooser. */
export function startModelFiles(zone: HTMLElement, chooser: HTMLInputElement, error: HTMLElement, hooks: ModelHooks): void {
  const open = async (file: File): Promise<void> => {
    error.textContent = '';
    try {
      hooks.onOpen(openModel(new Uint8Array(await file.arrayBuffer()), file.name), file.name);
    } catch (failure) {
      error.textContent = failure instanceof Error ? (failure.message.split('\n')[0] ?? '') : String(failure);
    }
  };
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (file !== undefined) void open(file);
  });
  chooser.addEventListener('change', () => {
    const file = chooser.files?.[0];
    if (file !== undefined) void open(file);
    chooser.value = '';
  });
  zone.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      chooser.click();
    }
  });
}
