import { Rng } from '../tensor/rng.js';
import type { DataSplits, Dataset } from './dataset.js';
import { DataError } from './errors.js';

/**
 * Which part of a data source to use: some of its classes, and at most so many training images of
 * each (a few-shot set). The held-out split keeps every image of the classes kept.
 */
export interface SubsetOptions {
  /**
   * The classes to keep, in the order they take as labels: names joined by `+` (`cat+dog`), or a
   * range of the source's classes in its order (`5-9`), or both (`0-2+7`). All when absent.
   */
  classes?: string;
  /** Training images kept per class, chosen by a shuffle seeded with `seed`. All when absent. */
  perClass?: number;
  /** Seeds the choice of `perClass` images; 0 by default. */
  seed?: number;
}

/** The keys a `--data` source may end with, `,key=value` each: `mnist,classes=5-9,per-class=20`. */
const KEYS = { classes: 'classes', perClass: 'per-class', seed: 'seed' } as const;

/**
 * Splits a `--data` source into the source proper and its subset options, which come last as
 * `,classes=<list>`, `,per-class=<n>` and `,seed=<n>` in any order. Null when it has none.
 */
export function parseSubset(source: string): { source: string; subset: SubsetOptions | null } {
  const subset: SubsetOptions = {};
  let rest = source;
  for (;;) {
    const match = /,(classes|per-class|seed)=([^,]*)$/.exec(rest);
    if (match === null) break;
    const [whole, key, value] = match as unknown as [string, string, string];
    rest = rest.slice(0, rest.length - whole.length);
    if (key === KEYS.classes) {
      if (value === '') throw new DataError(`${source}: classes= needs names, such as classes=5-9 or classes=cat+dog`);
      subset.classes = value;
    } else {
      const n = Number(value);
      const least = key === KEYS.perClass ? 1 : 0;
      if (value === '' || !Number.isInteger(n) || n < least) throw new DataError(`${source}: ${key} must be a whole number of at least ${least}, got '${value}'`);
      if (key === KEYS.perClass) subset.perClass = n;
      else subset.seed = n;
    }
  }
  return { source: rest, subset: Object.keys(subset).length > 0 ? subset : null };
}

/** The class names `list` picks out of `available`, in the order the list gives (see SubsetOptions.classes). */
export function resolveClasses(list: string, available: readonly string[], where: string): string[] {
  const picked: string[] = [];
  for (const part of list.split('+')) {
    if (available.includes(part)) {
      picked.push(part);
      continue;
    }
    const range = /^(.+)-(.+)$/.exec(part);
    const from = range ? available.indexOf(range[1] as string) : -1;
    const to = range ? available.indexOf(range[2] as string) : -1;
    if (from < 0 || to < from) throw new DataError(`${where}: no class or range of classes '${part}' (the classes are ${available.join(', ')})`);
    picked.push(...available.slice(from, to + 1));
  }
  const repeated = picked.find((name, i) => picked.indexOf(name) !== i);
  if (repeated !== undefined) throw new DataError(`${where}: class '${repeated}' is named twice`);
  return picked;
}

/**
 * The part of `splits` that `options` asks for: both splits keep only the chosen classes, relabelled
 * 0..k-1 in the order chosen; the training split keeps `perClass` images of each, the same ones for
 * the same seed. Throws a DataError naming a class with fewer training images than that.
 */
export function subsetData(splits: DataSplits, options: SubsetOptions): DataSplits {
  const available = splits.train.classes;
  const classes = options.classes === undefined ? [...available] : resolveClasses(options.classes, available, splits.train.name);
  const suffix = [
    ...(options.classes !== undefined ? [`classes=${options.classes}`] : []),
    ...(options.perClass !== undefined ? [`per-class=${options.perClass}`] : []),
  ].join(',');
  const rng = new Rng(options.seed ?? 0);
  const train = ClassSubset.of(splits.train, classes, suffix, (positions, name) => {
    if (options.perClass === undefined) return positions;
    if (positions.length < options.perClass) throw new DataError(`${splits.train.name}: class '${name}' has ${positions.length} training images, fewer than per-class=${options.perClass}`);
    return rng.shuffle(positions).slice(0, options.perClass).sort((a, b) => a - b);
  });
  return { train, test: ClassSubset.of(splits.test, classes, suffix, (positions) => positions) };
}

/** Some images of a dataset, relabelled by the position of their class in `classes`. */
class ClassSubset implements Dataset {
  readonly name: string;
  readonly shape: readonly [number, number, number];
  readonly length: number;
  readonly labels: Uint8Array;

  private constructor(
    private readonly base: Dataset,
    readonly classes: readonly string[],
    private readonly positions: Uint32Array,
    suffix: string,
  ) {
    this.name = suffix === '' ? base.name : `${base.name} [${suffix}]`;
    this.shape = base.shape;
    this.length = positions.length;
    const label = new Map(classes.map((name, i) => [base.classes.indexOf(name), i]));
    this.labels = Uint8Array.from(positions, (p) => label.get(base.labels[p] as number) as number);
  }

  /** The images of `base` in `classes`, each class's positions passed through `choose`, in dataset order. */
  static of(base: Dataset, classes: readonly string[], suffix: string, choose: (positions: number[], name: string) => number[]): ClassSubset {
    const chosen = classes.flatMap((name) => {
      const label = base.classes.indexOf(name);
      const positions = [...base.labels.keys()].filter((p) => base.labels[p] === label);
      return choose(positions, name);
    });
    return new ClassSubset(base, classes, Uint32Array.from(chosen.sort((a, b) => a - b)), suffix);
  }

  read(i: number, out: Float32Array | Float64Array, offset: number): void {
    this.base.read(this.positions[i] as number, out, offset);
  }
}
