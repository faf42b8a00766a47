import cliProgress from 'cli-progress';
import type { EpochResult, TrainEvent } from '../train/loop.js';

/**
 * Shows progress: a bar per epoch on a terminal, one line per epoch otherwise; warnings and notes
 * go to `warnings` (stderr) as lines of their own. The bar hides the cursor and turns off line wrapping
 * while it runs; `stop` gives both back, which an interrupted run must do before it exits.
 */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly epochs: number,
    private readonly warnings: NodeJS.WritableStream = process.stderr,
  ) {}

  /** Shows one event of `train`. */
  handle(event: TrainEvent): void {
    if (event.kind !== 'step') {
      this.stop();
      if (event.kind === 'epoch') this.out.write(`${epochLine(event.result, this.epochs)}\n`);
      else this.warnings.write(`${event.kind}: ${event.message}\n`);
      return;
    }
    if (!this.out.isTTY) return;
    const payload = { epoch: event.epoch, loss: event.loss.toFixed(4), acc: event.accuracy.toFixed(4), ips: Math.round(event.imagesPerSecond) };
    if (this.bar === null) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `epoch {epoch}/${this.epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | ETA {eta_formatted}`,
          stream: this.out as NodeJS.WriteStream,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(event.steps, event.step, payload);
    } else {
      this.bar.update(event.step, payload);
    }
  }

  /** Removes the bar, if one is showing, and restores the cursor and line wrapping. */
  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function epochLine(r: EpochResult, epochs: number): string {
  return [
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}`,
    `loss ${r.loss.toFixed(4)}`,
    `train ${r.trainAccuracy.toFixed(4)}`,
    `test ${r.testAccuracy.toFixed(4)}`,
    `lr ${r.lr.toPrecision(3)}`,
    `${Math.round(r.imagesPerSecond)} img/s`,
    `${r.seconds.toFixed(1)} s`,
  ].join('  ');
}
