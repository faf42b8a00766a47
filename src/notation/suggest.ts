import { BLOCK_KEYWORDS, entryOf, LAYER_KEYWORDS, type LayerKeyword } from './keywords/index.js';

/** Names people write for a layer the notation spells otherwise. */
const ALIASES: Readonly<Record<string, string>> = { MAXPOOL: 'POOL', DENSE: 'FC', LINEAR: 'FC', BATCHNORM: 'BN' };
const KEYWORDS: readonly string[] = [...LAYER_KEYWORDS, ...BLOCK_KEYWORDS];

/**
 * The keyword a near miss stands for: `conv3` -> `CONV3`, `FC10` -> `FC-10`, `Relu` -> `RELU`,
 * `CONVV` -> `CONV`, `MAXPOOL` -> `POOL`; null when the word is not near one.
 */
export function keywordFor(word: string): string | null {
  const written = /^([A-Za-z]+)(\d+(?:[xX]\d+)?)?$/.exec(word);
  if (written === null) return null;
  const stem = (written[1] as string).toUpperCase();
  const size = written[2];
  const name = KEYWORDS.includes(stem) ? stem : (ALIASES[stem] ?? (stem.length >= 3 ? nearest(stem, KEYWORDS, 1) : null));
  if (name === null) return null;
  if (size === undefined || !LAYER_KEYWORDS.includes(name as LayerKeyword) || name === 'INPUT') return name;
  const { syntax } = entryOf(name as Exclude<LayerKeyword, 'INPUT'>);
  if (syntax.filterSize) return `${name}${size.toLowerCase()}`;
  return syntax.count !== null && !/x/i.test(size) ? `${name}-${size}` : name;
}

/** The candidate closest to `word` (ignoring case) within `maxDistance` edits, if one is. */
export function nearest(word: string, candidates: Iterable<string>, maxDistance = 2): string | null {
  let best: string | null = null;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
