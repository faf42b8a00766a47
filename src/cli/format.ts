/** Small pieces of wording the commands share, so that figures and plurals read the same everywhere. */

/** `1 epoch`, `2 epochs`, `0 warnings`: a count and its noun, plural unless the count is 1. */
export function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : plural}`;
}
