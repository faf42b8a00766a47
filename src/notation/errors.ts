/** What went wrong: the text does not parse, a variable is missing, or a layer's sizes do not work out. */
export type NotationErrorKind = 'syntax' | 'binding' | 'sizing' | 'shape' | 'name';

/** A place in notation text; line and column count from 1. */
export interface Location {
  /** 0-based character offset in the text. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** Offset just past the located text. */
  end: number;
}

/**
 * Every error the notation raises: where it happened (line, column, and an excerpt with a caret under
 * the spot) and what was expected instead. The message holds all of it, ready to print.
 */
export class NotationError extends Error {
  override name = 'NotationError';
  /** 1-based line of the error, as `location.line`. */
  readonly line: number;
  /** 1-based column of the error, as `location.column`. */
  readonly column: number;
  /** The source line and a caret line under the offending text. */
  readonly excerpt: string;

  constructor(
    /** What went wrong, by stage. */
    readonly kind: NotationErrorKind,
    /** What went wrong, without the location: the message's first line. */
    readonly reason: string,
    /** Where in the text it went wrong. */
    readonly location: Location,
    source: string,
    /** For sizing and shape errors: the 1-based layer index in the summary table (INPUT is 0). */
    readonly layerIndex: number | null = null,
  ) {
    const excerpt = caretExcerpt(source, location);
    super(`line ${location.line}, column ${location.column}: ${reason}\n${excerpt}`);
    this.line = location.line;
    this.column = location.column;
    this.excerpt = excerpt;
  }
}

/** The line holding `location` and carets under its text (at least one, at most to the line's end). */
export function caretExcerpt(source: string, location: Location): string {
  const lineStart = source.lastIndexOf('\n', location.offset - 1) + 1;
  const newline = source.indexOf('\n', lineStart);
  const lineEnd = newline === -1 ? source.length : newline;
  const text = source.slice(lineStart, lineEnd).replace(/\t/g, ' ');
  const width = Math.max(1, Math.min(location.end, lineEnd) - location.offset);
  return `  ${text}\n  ${' '.repeat(location.offset - lineStart)}${'^'.repeat(width)}`;
}

/** The location of offset `offset` in `source`, spanning `length` characters. */
export function locate(source: string, offset: number, length = 1): Location {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1, end: offset + length };
}

/** The location of a node's source span (line, column and text as written) in `source`. */
export function spanLocation(source: string, span: { line: number; column: number; text: string }): Location {
  let offset = 0;
  for (let line = 1; line < span.line; line++) offset = source.indexOf('\n', offset) + 1;
  offset += span.column - 1;
  return { offset, line: span.line, column: span.column, end: offset + span.text.length };
}
