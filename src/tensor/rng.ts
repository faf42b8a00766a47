/**
 * A small seedable generator (mulberry32) so that weight initialisation, dropout masks, shuffling
 * and augmentation are reproducible: the same seed gives the same net and the same run.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * Fills `out` with N(0, std^2) values, two per accepted pair of uniforms (Marsaglia's polar method:
   * one log and one square root a pair, no trigonometry), which is what initialising 138M VGG weights
   * spends its time on. Each call consumes whole pairs, so the state stays one number.
   */
  fillNormal(out: Float32Array | Float64Array, std: number): void {
    for (let i = 0; i < out.length; i += 2) {
      let u: number;
      let v: number;
      let s: number;
      do {
        u = this.next() * 2 - 1;
        v = this.next() * 2 - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const scale = std * Math.sqrt((-2 * Math.log(s)) / s);
      out[i] = u * scale;
      if (i + 1 < out.length) out[i + 1] = v * scale;
    }
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Standard normal, by the Box-Muller transform. NOTE: the second value of each pair is dropped so
   * that the whole generator state is one number, which a checkpoint saves and restores exactly.
   */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher-Yates). */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** The generator's state, to save in a checkpoint and restore on resume. */
  getState(): number {
    return this.state;
  }

  /** Restores a state from `getState`: the generator continues exactly where that one was. */
  setState(state: number): void {
    this.state = state >>> 0;
  }
}
