/**
 * Quick fixes for a layer whose window does not tile its input: each rewrites the layer's text
 * (as the error's location spans it) so that the sizes work out.
 */

/** One way to rewrite a layer's text. */
export interface QuickFix {
  /** What the fix does, as the editor's menu shows it. */
  label: string;
  /** The layer's new text. */
  text: string;
}

/** `text` with `option` added to its parenthesised options, or a new `(option)` after it. */
function withOption(text: string, option: string): string {
  return text.endsWith(')') ? `${text.slice(0, -1)}, ${option})` : `${text}(${option})`;
}

/** `text` with its `s=` option set to `stride` (added when it has none). */
function withStride(text: string, stride: number): string {
  if (/\bs\s*=\s*[0-9x]+/.test(text)) return text.replace(/\bs\s*=\s*[0-9x]+/, `s=${stride}`);
  return withOption(text, `s=${stride}`);
}

/** `text` with its `p=` option set to `padding` (added when it has none). */
function withPadding(text: string, padding: number): string {
  if (/\bp\s*=\s*[0-9x]+/.test(text)) return text.replace(/\bp\s*=\s*[0-9x]+/, `p=${padding}`);
  return withOption(text, `p=${padding}`);
}

/**
 * The candidate fixes for a layer written as `text` (`CONV5-16(s=0)`, `POOL3`): for a CONV with an
 * odd square filter, padding (F-1)/2 (which keeps the size at stride 1); stride 1; rounding down or
 * up as frameworks do (unless the text rounds already).
 */
export function candidateFixes(text: string): QuickFix[] {
  const fixes: QuickFix[] = [];
  const conv = /^CONV(\d+)(?![x\d])/.exec(text);
  const filter = conv === null ? NaN : Number(conv[1]);
  if (filter % 2 === 1) fixes.push({ label: `set the padding to (F-1)/2 = ${(filter - 1) / 2}`, text: withPadding(text, (filter - 1) / 2) });
  if (/\bs\s*=/.test(text)) fixes.push({ label: 'set the stride to 1', text: withStride(text, 1) });
  if (!/\b(floor|ceil)\b/.test(text)) {
    fixes.push({ label: 'round down: (floor), drop the partial window', text: withOption(text, 'floor') });
    fixes.push({ label: 'round up: (ceil), keep the partial window', text: withOption(text, 'ceil') });
  }
  return fixes;
}

/**
 * The fixes for the layer at [from, to) of `source` that make the whole text size, by `sizes`
 * (true when a text compiles): a fix that moves the error elsewhere is not offered.
 */
export function sizingFixes(source: string, from: number, to: number, sizes: (text: string) => boolean): QuickFix[] {
  return candidateFixes(source.slice(from, to)).filter((fix) => sizes(source.slice(0, from) + fix.text + source.slice(to)));
}
