import { NotationError, type Location } from './errors.js';
import { BLOCK_KEYWORDS, entryOf, LAYER_KEYWORDS, type LayerKeyword } from './keywords/index.js';

export { BLOCK_KEYWORDS, LAYER_KEYWORDS, type BlockKeyword, type LayerKeyword } from './keywords/index.js';

/** Keywords written glued to their filter size, as the notes write `CONV3-64` and `POOL2`. */
const SIZED = LAYER_KEYWORDS.filter((k): k is Exclude<LayerKeyword, 'INPUT'> => k !== 'INPUT' && entryOf(k).syntax.filterSize);

/** What a token is: a keyword, a name, a number, `x` between sizes, `->`, a punctuation mark, or the end. */
export type TokenKind =
  | 'keyword'
  | 'def'
  | 'let'
  | 'ident'
  | 'number'
  | 'x'
  | 'arrow'
  | 'minus'
  | '['
  | ']'
  | '('
  | ')'
  | '*'
  | '?'
  | '|'
  | ','
  | '='
  | ':'
  | 'eof';

/** One token of notation text with its place. */
export interface Token {
  /** What the token is: a keyword, a number, a name, punctuation, or the end. */
  kind: TokenKind;
  /** The text as written; for `?NAME` the name only. */
  text: string;
  /** For numbers. */
  value: number;
  /** Where the token starts and ends. */
  loc: Location;
}

const PUNCTUATION: Record<string, TokenKind> = {
  '[': '[',
  ']': ']',
  '(': '(',
  ')': ')',
  '*': '*',
  '|': '|',
  ',': ',',
  '=': '=',
  ':': ':',
};

const KEYWORDS = new Set<string>([...LAYER_KEYWORDS, ...BLOCK_KEYWORDS]);
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/**
 * Splits notation text into tokens. Two cases need care: `CONV3x3-64` is a keyword glued to a size,
 * and in `224x224x3` the `x` between numbers is a separator, not the start of a name.
 */
export function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const loc = (start: number, end: number): Location => ({ offset: start, line, column: start - lineStart + 1, end });
  const push = (kind: TokenKind, start: number, end: number, text = source.slice(start, end), value = 0): void => {
    tokens.push({ kind, text, value, loc: loc(start, end) });
  };
  const fail = (start: number, reason: string, length = 1): never => {
    throw new NotationError('syntax', reason, loc(start, start + length), source);
  };
  const identEnd = (start: number): number => {
    let end = start;
    while (end < source.length && IDENT_PART.test(source[end] as string)) end++;
    return end;
  };

  while (pos < source.length) {
    const ch = source[pos] as string;
    if (ch === '\n') {
      pos++;
      line++;
      lineStart = pos;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      pos++;
      continue;
    }
    if (ch === '#') {
      while (pos < source.length && source[pos] !== '\n') pos++;
      continue;
    }
    if (ch === '-') {
      if (source[pos + 1] === '>') {
        push('arrow', pos, pos + 2);
        pos += 2;
      } else {
        push('minus', pos, pos + 1);
        pos++;
      }
      continue;
    }
    if (ch === '?') {
      // `?NAME` glued together names the variable that switches the optional part on.
      const end = IDENT_START.test(source[pos + 1] ?? '') ? identEnd(pos + 1) : pos + 1;
      push('?', pos, end, source.slice(pos + 1, end));
      pos = end;
      continue;
    }
    const punct = PUNCTUATION[ch];
    if (punct !== undefined) {
      push(punct, pos, pos + 1);
      pos++;
      continue;
    }
    if (/\d/.test(ch)) {
      NUMBER.lastIndex = pos;
      const match = NUMBER.exec(source) as RegExpExecArray;
      const value = Number(match[0]);
      if (!Number.isFinite(value)) fail(pos, `the number ${match[0].slice(0, 20)}... is too large`);
      push('number', pos, pos + match[0].length, match[0], value);
      pos += match[0].length;
      // `3x3`, `224x224x3`, `32x32xC`: an `x` glued after a number separates dimensions (and list
      // values, which may be negative: `shift=-0.03x-0.088`).
      const negative = source[pos + 1] === '-' && /\d/.test(source[pos + 2] ?? '');
      if (source[pos] === 'x' && (IDENT_PART.test(source[pos + 1] ?? '') || negative)) {
        push('x', pos, pos + 1);
        pos++;
      }
      continue;
    }
    if (IDENT_START.test(ch)) {
      const end = identEnd(pos);
      const word = source.slice(pos, end);
      const sized = SIZED.find((k) => word.startsWith(k) && /^\d/.test(word.slice(k.length)));
      if (sized !== undefined) {
        push('keyword', pos, pos + sized.length);
        pos += sized.length;
        continue;
      }
      if (KEYWORDS.has(word)) push('keyword', pos, end);
      else if (word === 'def' || word === 'let') push(word, pos, end);
      else push('ident', pos, end);
      pos = end;
      continue;
    }
    // NOTE: a character outside the Basic Multilingual Plane (an emoji) is two UTF-16 units; show it whole.
    const whole = String.fromCodePoint(source.codePointAt(pos) as number);
    fail(pos, `unexpected character '${whole}'; expected a layer such as CONV3-64, '->', '[', or a comment starting with '#'`, whole.length);
  }
  push('eof', pos, pos, '');
  return tokens;
}
