import type { Attr, Chain, Def, Element, Item, LayerNode, Let, Num, Program } from './ast.js';
import { NotationError, type Location } from './errors.js';
import { entryOf } from './keywords/index.js';
import { MAX_NESTING } from './limits.js';
import { keywordFor } from './suggest.js';
import { BLOCK_KEYWORDS, LAYER_KEYWORDS, lex, type BlockKeyword, type LayerKeyword, type Token, type TokenKind } from './lexer.js';

const LAYERS = new Set<string>(LAYER_KEYWORDS);
const BLOCKS = new Set<string>(BLOCK_KEYWORDS);

/**
 * Parses notation text into a syntax tree with source locations. Grammar (informally):
 *
 *   program := (def | let)* chain
 *   def     := 'def' NAME ('(' NAME (',' NAME)* ')')? '=' chain
 *   let     := 'let' NAME '=' NUMBER
 *   chain   := element ('->' element)*
 *   element := (NAME ':')? item ('*' count | '?' | '?NAME')*
 *   item    := layer | '[' chain ']' | (RES | CONCAT | AUX) '[' chain ('|' chain)* ']'
 *            | (MUL | DIV) '[' chain? '|' chain? ']' | NAME ('(' num, ... ')')?
 *   layer   := KEYWORD size? ('-' num)? ('(' attr (',' attr)* ')')?
 *
 * Line breaks are spaces: a chain ends where no '->' follows, so a `def` needs no terminator.
 * Throws NotationError (kind 'syntax') with the spot and what was expected.
 */
export function parse(source: string): Program {
  return new Parser(source).program();
}

function describe(token: Token): string {
  if (token.kind === 'eof') return 'end of input';
  if (token.kind === '?') return `'?${token.text}'`;
  return `'${token.text}'`;
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  /** Brackets open around the current token. */
  private depth = 0;

  constructor(private readonly source: string) {
    this.tokens = lex(source);
  }

  program(): Program {
    const defs: Def[] = [];
    const lets: Let[] = [];
    for (;;) {
      if (this.peek().kind === 'def') defs.push(this.def());
      else if (this.peek().kind === 'let') lets.push(this.let());
      else break;
    }
    if (this.peek().kind === 'eof') this.fail("a net, such as 'INPUT -> CONV -> RELU -> FC'");
    const body = this.chain();
    this.expect('eof', "'->' or end of input");
    return { defs, lets, body, source: this.source };
  }

  private def(): Def {
    const start = this.next();
    const name = this.expect('ident', 'a block name after def').text;
    const params: string[] = [];
    if (this.accept('(')) {
      if (!this.accept(')')) {
        do params.push(this.expect('ident', 'a parameter name').text);
        while (this.accept(','));
        this.expect(')', "',' or ')'");
      }
    }
    this.expect('=', "'=' after the block's name and parameters");
    const body = this.chain();
    return { name, params, body, loc: this.span(start) };
  }

  private let(): Let {
    const start = this.next();
    // A switch may share a layer's name (`let BN = 0` switches `BN?`), so keywords are names here.
    const name = this.peek().kind === 'keyword' ? this.next().text : this.expect('ident', 'a variable name after let').text;
    this.expect('=', "'='");
    const value = this.expect('number', 'a number').value;
    return { name, value, loc: this.span(start) };
  }

  private chain(): Chain {
    const start = this.peek();
    const elements = [this.element()];
    while (this.accept('arrow')) elements.push(this.element());
    return { elements, loc: this.span(start) };
  }

  private element(): Element {
    const start = this.peek();
    let label: string | null = null;
    if (start.kind === 'ident' && this.peek(1).kind === ':') {
      label = this.next().text;
      this.next();
    }
    const item = this.item();
    let repeat: Num | null = null;
    let optional: Element['optional'] = null;
    for (;;) {
      const token = this.peek();
      if (token.kind === '*' && repeat === null) {
        this.next();
        repeat = this.num('a repeat count (a number or a variable) after *');
      } else if (token.kind === '?' && optional === null) {
        this.next();
        optional = { name: token.text === '' ? null : token.text };
      } else break;
    }
    return { label, item, repeat, optional, loc: this.span(start) };
  }

  private item(): Item {
    const token = this.peek();
    if (token.kind === '[') {
      this.open(token);
      this.next();
      const body = this.chain();
      this.expect(']', "'->' or ']'");
      this.depth--;
      return { kind: 'group', body, loc: this.span(token) };
    }
    if (token.kind === 'keyword' && BLOCKS.has(token.text)) {
      this.open(token);
      const block = this.block();
      this.depth--;
      return block;
    }
    if (token.kind === 'keyword' && LAYERS.has(token.text)) return this.layer();
    if (token.kind === 'ident') {
      this.next();
      const args: Num[] = [];
      if (this.accept('(')) {
        if (!this.accept(')')) {
          do args.push(this.num('a number or variable'));
          while (this.accept(','));
          this.expect(')', "',' or ')'");
        }
      }
      return { kind: 'call', name: token.text, args, loc: this.span(token) };
    }
    return this.fail("a layer (INPUT, CONV, POOL, FC, RELU, ...), '[', RES, CONCAT, MUL, DIV, AUX or a block name");
  }

  /** Enters a bracket, refusing to nest deeper than the documented limit (recursion would overflow the stack). */
  private open(token: Token): void {
    if (++this.depth > MAX_NESTING) this.failAt(token.loc, `brackets nest deeper than ${MAX_NESTING} levels, the notation's limit`);
  }

  private block(): Item {
    const start = this.next();
    const type = start.text as BlockKeyword;
    this.expect('[', `'[' after ${type}`);
    const operands = type === 'MUL' || type === 'DIV';
    const branch = (): Chain => (operands ? this.operand() : this.chain());
    const branches = [branch()];
    while (this.accept('|')) branches.push(branch());
    this.expect(']', type === 'AUX' ? "'->' or ']'" : "'->', '|' or ']'");
    const loc = this.span(start);
    if (type === 'RES' && branches.length > 2) this.failAt(loc, 'RES takes a body and at most one shortcut: RES[body | shortcut]');
    if (type === 'AUX' && branches.length > 1) this.failAt(loc, 'AUX takes one branch: AUX[head]');
    if (type === 'MUL' && branches.length !== 2) this.failAt(loc, "MUL takes two branches, MUL[a | b] = a(x) * b(x); an empty branch is the block's input: MUL[a | ] = a(x) * x");
    if (type === 'DIV' && branches.length !== 2) this.failAt(loc, "DIV takes a dividend and a divisor, DIV[a | b] = a(x) / b(x); an empty branch is the block's input: DIV[ | b] = x / b(x)");
    return { kind: 'block', type, branches, loc };
  }

  /** A branch of MUL or DIV: a chain, or nothing before `|` or `]` (the block's input itself). */
  private operand(): Chain {
    const next = this.peek();
    if (next.kind === '|' || next.kind === ']') return { elements: [], loc: { ...next.loc, end: next.loc.offset } };
    return this.chain();
  }

  private layer(): LayerNode {
    const start = this.next();
    const type = start.text as LayerKeyword;
    let size: Num[] | null = null;
    let count: Num | null = null;
    if (type === 'INPUT' && this.accept('[')) {
      size = [this.num('a size such as 224x224x3')];
      while (this.accept('x')) size.push(this.num('a number after x'));
      this.expect(']', "'x' or ']' in INPUT[HxWxC]");
      if (size.length !== 3) this.failAt(this.span(start), 'INPUT needs height, width and depth: INPUT[HxWxC], e.g. INPUT[224x224x3]');
    }
    const syntax = type === 'INPUT' ? null : entryOf(type).syntax;
    if (syntax?.filterSize === true && this.peek().kind === 'number') {
      size = [this.num('a filter size')];
      if (this.accept('x')) size.push(this.num('a filter width after x'));
    }
    let countWidth: Num | undefined;
    if (syntax !== null && syntax.count !== null && this.accept('minus')) {
      count = this.num(`a number of ${syntax.count} after -`);
      if (syntax.countPair === true && this.accept('x')) countWidth = this.num('a width after x');
    }
    const attrs: Attr[] = [];
    if (this.accept('(')) {
      if (!this.accept(')')) {
        do attrs.push(this.attr());
        while (this.accept(','));
        this.expect(')', "',' or ')'");
      }
    }
    return { kind: 'layer', type, size, count, ...(countWidth === undefined ? {} : { countWidth }), attrs, loc: this.span(start) };
  }

  private attr(): Attr {
    const start = this.peek();
    let name: string | null = null;
    if (start.kind === 'ident' && this.peek(1).kind === '=') {
      name = this.next().text;
      this.next();
    } else if (start.kind === 'ident' && (this.peek(1).kind === ',' || this.peek(1).kind === ')')) {
      this.next();
      return { name: start.text, value: null, loc: this.span(start) };
    }
    // `p=1x0` is a pair, `scale=0.458x0.448x0.45` a list (AFFINE's); a number may be negative (`shift=-0.03`).
    const value = [this.signedNum('an attribute value')];
    while (this.accept('x')) value.push(this.signedNum('a number after x'));
    return { name, value, loc: this.span(start) };
  }

  /** A number, a variable, or `-` and a number. */
  private signedNum(expected: string): Num {
    const minus = this.peek();
    if (minus.kind !== 'minus' || this.peek(1).kind !== 'number') return this.num(expected);
    this.next();
    const number = this.next();
    return { kind: 'num', value: -number.value, loc: { ...minus.loc, end: number.loc.end } };
  }

  private num(expected: string): Num {
    const token = this.peek();
    if (token.kind === 'number') {
      this.next();
      return { kind: 'num', value: token.value, loc: token.loc };
    }
    if (token.kind === 'ident') {
      this.next();
      return { kind: 'var', name: token.text, loc: token.loc };
    }
    return this.fail(expected);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.pos++;
    return token;
  }

  private accept(kind: TokenKind): boolean {
    if (this.peek().kind !== kind) return false;
    this.next();
    return true;
  }

  private expect(kind: TokenKind, expected: string): Token {
    if (this.peek().kind !== kind) this.fail(expected);
    return this.next();
  }

  /** From `start` to the end of the last consumed token. */
  private span(start: Token): Location {
    const last = this.tokens[Math.max(this.pos - 1, 0)] as Token;
    return { ...start.loc, end: Math.max(last.loc.end, start.loc.end) };
  }

  private fail(expected: string): never {
    const token = this.peek();
    throw new NotationError('syntax', `expected ${expected}, found ${describe(token)}${this.hint()}`, token.loc, this.source);
  }

  /** `; did you mean CONV3-16?` when the text near the failure is a near miss of the notation. */
  private hint(): string {
    const token = this.peek();
    const previous = this.tokens[this.pos - 1];
    // `[CONV -> RELU]x2`: repetition is written `*2`.
    if (previous?.kind === ']' && token.kind === 'ident' && /^[xX]\w+$/.test(token.text)) return `; did you mean ]*${token.text.slice(1)}?`;
    if (previous?.kind !== 'ident') return '';
    const keyword = keywordFor(previous.text);
    if (keyword === null) return '';
    const count = token.kind === 'minus' && this.peek(1).kind === 'number' ? `-${this.peek(1).text}` : '';
    return `; did you mean ${keyword}${count}?`;
  }

  private failAt(loc: Location, reason: string): never {
    throw new NotationError('syntax', reason, loc, this.source);
  }
}
