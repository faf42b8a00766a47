import { formatShape, sameShape, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** How a state (tensors by state_dict name) matches a net's parameters. */
export interface StateMatch {
  /** The names both have with the same shape: what loading copies. */
  matching: string[];
  /** The net's parameters the state lacks, with the shape the net expects. */
  missing: { name: string; shape: Shape }[];
  /** The state's tensors the net has no parameter for. */
  unexpected: { name: string; shape: Shape }[];
  /** Names both have, with the state's shape and the net's. */
  misshapen: { name: string; shape: Shape; expected: Shape }[];
}

/** The state does not match the net; the message lists the missing, unexpected and wrongly shaped names. */
export class StateMismatchError extends Error {
  override name = 'StateMismatchError';
  /** `file`, when given, starts the message. */
  constructor(
    /** The comparison that failed: the matching, missing, unexpected and misshapen names. */
    readonly match: StateMatch,
    file?: string,
  ) {
    super(`${file !== undefined ? `${file}: the ` : ''}weights do not match the net:\n${describeMismatch(match)}\n(--partial, or { partial: true } in the API, loads the tensors that match)`);
  }
}

const BATCHES_TRACKED = '.num_batches_tracked';

/**
 * Compares a state with the net's parameter shapes, in the net's order then the state's. PyTorch's
 * BatchNorm counts its batches in `<layer>.num_batches_tracked`, which convstack's BN has no use for
 * (its momentum is fixed): it is accepted wherever the net has `<layer>.running_mean`.
 */
export function matchState(expected: ReadonlyMap<string, Shape>, state: ReadonlyMap<string, Tensor>): StateMatch {
  const match: StateMatch = { matching: [], missing: [], unexpected: [], misshapen: [] };
  for (const [name, shape] of expected) {
    const source = state.get(name);
    if (source === undefined) match.missing.push({ name, shape });
    else if (!sameShape(source.shape, shape)) match.misshapen.push({ name, shape: source.shape, expected: shape });
    else match.matching.push(name);
  }
  for (const [name, t] of state) {
    if (expected.has(name)) continue;
    const isBatchCount = name.endsWith(BATCHES_TRACKED) && expected.has(`${name.slice(0, -BATCHES_TRACKED.length)}.running_mean`);
    if (!isBatchCount) match.unexpected.push({ name, shape: t.shape });
  }
  return match;
}

/** True when nothing is missing, unexpected or wrongly shaped. */
export function isExactMatch(match: StateMatch): boolean {
  return match.missing.length === 0 && match.unexpected.length === 0 && match.misshapen.length === 0;
}

/** The mismatches, one name a line: missing, then unexpected, then wrongly shaped (the empty groups left out). */
export function describeMismatch(match: StateMatch): string {
  const lines: string[] = [];
  const group = (title: string, rows: string[]): void => {
    if (rows.length > 0) lines.push(`${rows.length} ${title}:`, ...rows.map((row) => `  ${row}`));
  };
  group('missing (the net has them, the weights do not)', match.missing.map(({ name, shape }) => `'${name}' ${formatShape(shape)}`));
  group('unexpected (the weights have them, the net does not)', match.unexpected.map(({ name, shape }) => `'${name}' ${formatShape(shape)}`));
  group('wrongly shaped', match.misshapen.map(({ name, shape, expected }) => `'${name}' has shape ${formatShape(shape)}, the net expects ${formatShape(expected)}`));
  return lines.join('\n');
}

/**
 * The mismatches in one line, for a file whose own architecture and weights disagree (a damaged
 * model file): counts per group, missing first, with the first few names of each.
 */
export function summarizeMismatch(match: StateMatch): string {
  const FIRST = 3;
  const group = (count: number, title: string, names: string[]): string[] =>
    count === 0 ? [] : [`${count} ${title} (${names.slice(0, FIRST).map((n) => `'${n}'`).join(', ')}${count > FIRST ? ', ...' : ''})`];
  return [
    ...group(match.missing.length, 'missing', match.missing.map((m) => m.name)),
    ...group(match.unexpected.length, 'unexpected', match.unexpected.map((m) => m.name)),
    ...group(match.misshapen.length, 'wrongly shaped', match.misshapen.map((m) => m.name)),
  ].join('; ');
}
