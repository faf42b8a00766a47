// The notation editor: CodeMirror 6 with the notation's keywords highlighted, its errors and lint
// warnings as squiggles at their line and column (the message holds the arithmetic), and quick
// fixes that rewrite a layer so that the sizes work out.
import { EditorView, basicSetup } from 'codemirror';
import { linter, lintGutter, lintKeymap, type Diagnostic as Squiggle } from '@codemirror/lint';
import { keymap } from '@codemirror/view';
import { StreamLanguage } from '@codemirror/language';
import { compile, lint, NotationError, type Bindings } from '../src/browser.js';
import { sizingFixes } from './fixes.js';

const KEYWORDS = /^(INPUT|CONV|POOL|AVGPOOL|GAP|FC|RELU|BN|DROPOUT|LRN|SOFTMAX|FLATTEN|RES|CONCAT|MUL|DIV|AUX|def|let)(?![A-Za-z_])/;

/** Keywords, numbers, comments and operators of the notation, for highlighting. */
const notation = StreamLanguage.define<null>({
  startState: () => null,
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match('#')) {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match(KEYWORDS)) return 'keyword';
    if (stream.match(/^\d+(x\d+)*/)) return 'number';
    if (stream.match(/^(->|\*|\||\?)/)) return 'operator';
    if (stream.match(/^(floor|ceil|s|p|k|groups|bias)(?==|\b)/)) return 'propertyName';
    stream.next();
    return null;
  },
});

/** True when `text` compiles (sizes included) with `bindings`. */
function sizes(text: string, bindings: Bindings): boolean {
  try {
    compile(text, { bindings });
    return true;
  } catch {
    return false;
  }
}

/** The squiggles of `text`: the compile error with its quick fixes, or the lint warnings. */
export function squiggles(view: EditorView, bindings: Bindings): Squiggle[] {
  const doc = view.state.doc;
  const text = doc.toString();
  try {
    compile(text, { bindings });
  } catch (error) {
    if (!(error instanceof NotationError)) throw error;
    const { offset, end } = error.location;
    const from = Math.min(offset, doc.length);
    const to = Math.min(Math.max(end, from + 1), doc.length);
    const fixes = error.kind === 'sizing' ? sizingFixes(text, offset, end, (t) => sizes(t, bindings)) : [];
    return [
      {
        from,
        to,
        severity: 'error',
        message: `line ${error.line}, column ${error.column}: ${error.reason}`,
        actions: fixes.map((fix) => ({
          name: fix.label,
          apply: (v: EditorView) => v.dispatch({ changes: { from: offset, to: end, insert: fix.text } }),
        })),
      },
    ];
  }
  return lint(text, { bindings })
    .filter((d) => d.severity === 'warning' && d.line !== null && d.column !== null)
    .map((d) => {
      const from = doc.line(Math.min(d.line as number, doc.lines)).from + (d.column as number) - 1;
      return { from, to: Math.min(from + Math.max(d.layer?.text.length ?? 1, 1), doc.length), severity: 'warning', message: d.message };
    });
}

/** Where the editor reports to the page. */
export interface EditorHooks {
  /** The text changed. */
  onChange(text: string): void;
  /** The cursor moved to `offset`. */
  onCursor(offset: number): void;
  /** The variables the text is compiled with (the sliders'). */
  bindings(): Bindings;
}

/** The editor in `parent`, holding `text`. */
export function createEditor(parent: HTMLElement, text: string, hooks: EditorHooks): EditorView {
  return new EditorView({
    parent,
    doc: text,
    extensions: [
      basicSetup,
      notation,
      lintGutter(),
      keymap.of(lintKeymap),
      linter((view) => squiggles(view, hooks.bindings()), { delay: 150 }),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ 'aria-label': 'notation' }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) hooks.onChange(update.state.doc.toString());
        else if (update.selectionSet) hooks.onCursor(update.state.selection.main.head);
      }),
    ],
  });
}

/** Replaces the editor's whole text. */
export function setText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Selects [from, to) and scrolls it into view; moves the focus there too when `focus`, to edit it. */
export function highlight(view: EditorView, from: number, to: number, focus = true): void {
  view.dispatch({ selection: { anchor: from, head: to }, scrollIntoView: true });
  if (focus) view.focus();
}
