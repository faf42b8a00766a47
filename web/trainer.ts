// The training panel (start, pause, resume; live loss and accuracy; images per second) and the
// drawing pad, talking to the training worker.
import uPlot from 'uplot';
import type { FromWorker, ToWorker, TrainSettings } from './protocol.js';
import { renderActivations, renderReport } from './train_views.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** The pad's canvas is drawn at 10x the 28x28 the net sees. */
const PAD_SCALE = 10;

/** A chart of one or two series against the step, x as numbers (uPlot's x is time unless told). */
function chart(parent: HTMLElement, title: string, series: string[]): { plot: uPlot; data: (number | null)[][] } {
  const data: (number | null)[][] = [[], ...series.map(() => [])];
  const colors = ['#1f77b4', '#d62728'];
  const plot = new uPlot(
    {
      title,
      width: 360,
      height: 180,
      scales: { x: { time: false } },
      // Held-out accuracy comes once an epoch: its points are joined across the steps between.
      series: [{ label: 'step' }, ...series.map((label, i) => ({ label, stroke: colors[i] ?? '#333', spanGaps: true, points: { show: i > 0 } }))],
    },
    data as uPlot.AlignedData,
    parent,
  );
  return { plot, data };
}

/** The 28x28 the net sees: the pad's strokes averaged over 10x10 cells, white on black as MNIST is. */
function padPixels(pad: HTMLCanvasElement): Float32Array {
  const context = pad.getContext('2d') as CanvasRenderingContext2D;
  const { data } = context.getImageData(0, 0, pad.width, pad.height);
  const pixels = new Float32Array(28 * 28);
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      const cell = Math.floor(y / PAD_SCALE) * 28 + Math.floor(x / PAD_SCALE);
      pixels[cell] = (pixels[cell] as number) + (data[(y * pad.width + x) * 4] as number) / 255 / (PAD_SCALE * PAD_SCALE);
    }
  }
  return pixels;
}

function startPad(worker: Worker): void {
  const pad = $<HTMLCanvasElement>('pad');
  const context = pad.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  const clear = (): void => {
    context.fillStyle = 'black';
    context.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  context.strokeStyle = 'white';
  context.lineWidth = 22;
  context.lineCap = 'round';
  context.lineJoin = 'round';
  let drawing = false;
  pad.addEventListener('pointerdown', (event) => {
    drawing = true;
    context.beginPath();
    context.moveTo(event.offsetX, event.offsetY);
  });
  pad.addEventListener('pointermove', (event) => {
    if (!drawing) return;
    context.lineTo(event.offsetX, event.offsetY);
    context.stroke();
  });
  const finish = (): void => {
    if (!drawing) return;
    drawing = false;
    const pixels = padPixels(pad);
    showSeen(pixels);
    worker.postMessage({ kind: 'predict', pixels } satisfies ToWorker);
    worker.postMessage({ kind: 'activations', pixels, label: 'your drawing' } satisfies ToWorker);
  };
  pad.addEventListener('pointerup', finish);
  pad.addEventListener('pointerleave', finish);
  $('pad-clear').addEventListener('click', () => {
    clear();
    $('prediction').textContent = '';
  });
}

/** Draws the 28x28 input the net sees. */
function showSeen(pixels: Float32Array): void {
  const seen = $<HTMLCanvasElement>('seen');
  const context = seen.getContext('2d') as CanvasRenderingContext2D;
  const image = context.createImageData(28, 28);
  pixels.forEach((v, i) => {
    const g = Math.round(Math.min(1, v) * 255);
    image.data.set([g, g, g, 255], i * 4);
  });
  context.putImageData(image, 0, 0);
}

function showProbabilities(probabilities: number[]): void {
  const best = probabilities.indexOf(Math.max(...probabilities));
  $('prediction').textContent = `prediction: ${best} (${(100 * (probabilities[best] ?? 0)).toFixed(1)}%)`;
  $('probabilities').replaceChildren(
    ...probabilities.map((p, digit) => {
      const row = document.createElement('div');
      row.className = 'bar';
      const bar = Object.assign(document.createElement('span'), { className: 'fill' });
      bar.style.width = `${(100 * p).toFixed(1)}%`;
      row.append(Object.assign(document.createElement('b'), { textContent: String(digit) }), bar, Object.assign(document.createElement('i'), { textContent: p.toFixed(3) }));
      return row;
    }),
  );
}

/** What the page asks of the training worker besides training. */
export interface Trainer {
  /** Runs an opened model file's net on the pad. */
  load(message: Extract<ToWorker, { kind: 'load' }>): void;
}

/** Starts the training worker and wires the panel; `spec` reads the editor's text. */
export function startTrainer(spec: () => string): Trainer {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const send = (message: ToWorker): void => worker.postMessage(message);
  const loss = chart($('loss-chart'), 'loss', ['training loss']);
  const accuracy = chart($('accuracy-chart'), 'accuracy', ['training', 'held out']);
  const button = $<HTMLButtonElement>('train');
  let running: 'idle' | 'running' | 'paused' = 'idle';
  let globalStep = 0;
  let stepsPerEpoch = 1;
  const status = $('train-status');
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const m = event.data;
    if (m.kind === 'ready') {
      // NOTE: the backend's details name its thread count, and why one when it falls back.
      const single = m.singleThreadReason === null ? '' : ' Training runs on one thread: serve the page with the COOP/COEP headers (convstack serve sends them) for more.';
      $('backend').textContent = `wasm backend: ${m.backend}; cross-origin isolated: ${m.isolated ? 'yes' : 'no'}.${single}`;
      $('backend').dataset['threads'] = String(m.threads);
      $('backend').dataset['isolated'] = String(m.isolated);
      button.disabled = false;
    } else if (m.kind === 'net') $('train-net').textContent = `training ${m.description}`;
    else if (m.kind === 'progress') {
      stepsPerEpoch = m.steps;
      globalStep = (m.epoch - 1) * m.steps + m.step;
      status.textContent = `epoch ${m.epoch}, step ${m.step}/${m.steps}: loss ${m.loss.toFixed(4)}, accuracy ${m.accuracy.toFixed(4)}`;
      $('speed').textContent = `${Math.round(m.imagesPerSecond).toLocaleString('en-US')} images/s`;
      loss.data[0]?.push(globalStep);
      loss.data[1]?.push(m.loss);
      loss.plot.setData(loss.data as uPlot.AlignedData);
      accuracy.data[0]?.push(globalStep);
      accuracy.data[1]?.push(m.accuracy);
      accuracy.data[2]?.push(null);
      accuracy.plot.setData(accuracy.data as uPlot.AlignedData);
    } else if (m.kind === 'epoch') {
      $('test-accuracy').textContent = m.testAccuracy.toFixed(4);
      accuracy.data[0]?.push(m.epoch * stepsPerEpoch + 0.5);
      accuracy.data[1]?.push(null);
      accuracy.data[2]?.push(m.testAccuracy);
      accuracy.plot.setData(accuracy.data as uPlot.AlignedData);
    } else if (m.kind === 'done') {
      running = 'idle';
      button.textContent = 'train again';
      status.textContent += ' (done: draw a digit)';
    } else if (m.kind === 'paused') status.textContent += ' (paused)';
    else if (m.kind === 'prediction') showProbabilities(m.probabilities);
    else if (m.kind === 'report') renderReport(m, (index) => send({ kind: 'activations', index }));
    else if (m.kind === 'activations') renderActivations($('activations'), m);
    else if (m.kind === 'loaded') {
      $('train-net').textContent = `the pad runs ${m.name}`;
      $('model-status').textContent += ' It runs on the pad: draw a digit.';
    } else if (m.kind === 'error') $('train-error').textContent = m.message;
  };
  button.addEventListener('click', () => {
    if (running === 'running') {
      send({ kind: 'pause' });
      running = 'paused';
      button.textContent = 'resume';
    } else if (running === 'paused') {
      send({ kind: 'resume' });
      running = 'running';
      button.textContent = 'pause';
    } else {
      const settings: TrainSettings = {
        spec: spec(),
        epochs: Number($<HTMLInputElement>('epochs').value),
        batch: Number($<HTMLInputElement>('train-batch').value),
        lr: Number($<HTMLInputElement>('lr').value),
        optimizer: $<HTMLSelectElement>('train-optimizer').value as TrainSettings['optimizer'],
      };
      for (const series of [...loss.data, ...accuracy.data]) series.length = 0;
      $('test-accuracy').textContent = '';
      // The charts show from the first run on (empty, they would only push the pad down).
      $('charts').hidden = false;
      send({ kind: 'start', settings });
      running = 'running';
      button.textContent = 'pause';
    }
  });
  $('show-activations').addEventListener('click', () => send({ kind: 'activations', index: Number($<HTMLInputElement>('digit-index').value) }));
  startPad(worker);
  return { load: send };
}
