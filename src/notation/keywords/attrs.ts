import type { Rounding } from '../../ops/window.js';
import type { Attr, LayerNode, Num } from '../ast.js';
import type { Accepts, ResolveContext, WrittenAttrs } from './types.js';

const ROUNDINGS = new Set<string>(['exact', 'floor', 'ceil']);
const YES = new Set(['yes', 'true']);
const NO = new Set(['no', 'false']);
/** Attributes written as a pair `1x0` (height x width). */
const PAIRS = new Set(['s', 'p', 'k', 'd']);

/**
 * Reads a layer's parenthesised attributes against what its keyword accepts: rounding flags, `bias=no`,
 * a positional value, named numbers with variables substituted. Fails at the attribute's place on
 * anything else, listing what the keyword takes.
 */
export function readAttrs(layer: LayerNode, accepts: Accepts, source: string, ctx: ResolveContext): WrittenAttrs {
  const values = new Map<string, { nums: number[]; attr: Attr }>();
  let rounding: Rounding = 'exact';
  let bias = true;
  const seen = new Set<string>();
  const words = new Map<string, string>();
  for (const attr of layer.attrs) {
    let name = attr.name;
    let value = attr.value;
    if (name !== null && value === null && accepts.rounding && ROUNDINGS.has(name)) {
      rounding = name as Rounding;
      continue;
    }
    // DROPOUT(P): a bare name in the positional slot is a variable.
    if (value === null && accepts.positional !== null && name !== null) {
      value = [{ kind: 'var', name, loc: attr.loc }];
      name = null;
    }
    if (name === null) name = accepts.positional;
    const allowed = [...accepts.named.map((n) => `${n}=`), ...(accepts.rounding ? ['floor', 'ceil', 'exact'] : [])];
    if (name === null || value === null || !accepts.named.includes(name)) {
      const written = source.slice(attr.loc.offset, attr.loc.end);
      ctx.fail(`${layer.type} does not take '${written}'; it takes ${allowed.length ? allowed.join(', ') : 'no attributes'}`, attr.loc);
    }
    if (seen.has(name)) ctx.fail(`'${name}' is given twice`, attr.loc);
    seen.add(name);
    const word = wordOf(value, accepts.words?.[name]);
    if (word !== null) {
      words.set(name, word);
      continue;
    }
    if (accepts.words?.[name] !== undefined) ctx.fail(`'${name}' takes one of ${(accepts.words[name] ?? []).join(', ')}`, attr.loc);
    if (name === 'bias') {
      bias = readBias(value[0] as Num, ctx);
      continue;
    }
    const most = accepts.lists?.includes(name) === true ? Infinity : PAIRS.has(name) ? 2 : 1;
    if (value.length > most) ctx.fail(most === 1 ? `'${name}' takes one number` : `'${name}' takes one number or two (height x width)`, attr.loc);
    values.set(name, { nums: value.map((n) => ctx.number(n)), attr });
  }
  return {
    get: (name) => values.get(name)?.nums ?? null,
    has: (name) => values.has(name) || words.has(name),
    word: (name) => words.get(name) ?? null,
    check(name, what, ok) {
      const entry = values.get(name);
      if (entry !== undefined && !entry.nums.every(ok)) ctx.fail(`${what}, got ${name}=${entry.nums.join('x')}`, entry.attr.loc);
    },
    rounding,
    bias,
  };
}

/** The word a `name=word` attribute is written with, when it is one of `allowed`. */
function wordOf(value: readonly Num[], allowed: readonly string[] | undefined): string | null {
  const only = value.length === 1 ? value[0] : undefined;
  return allowed !== undefined && only?.kind === 'var' && allowed.includes(only.name) ? only.name : null;
}

/** `bias=no`, `bias=yes`, or a number (0 is off). */
function readBias(value: Num, ctx: ResolveContext): boolean {
  if (value.kind === 'var' && (YES.has(value.name) || NO.has(value.name))) return YES.has(value.name);
  return ctx.number(value) !== 0;
}

/** A whole number of at least 1. */
export const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1;

/** `[3]` or `[1, 7]` as [h, w]. */
export function pairOf(v: readonly number[]): [number, number] {
  return [v[0] as number, (v[1] ?? v[0]) as number];
}

/** `3` for a square pair, `1x7` otherwise. */
export function writePair(v: readonly [number, number]): string {
  return v[0] === v[1] ? String(v[0]) : `${v[0]}x${v[1]}`;
}

/** `(s=2, ceil)`, or nothing when every attribute is at its default. */
export function wrap(extras: readonly string[]): string {
  return extras.length ? `(${extras.join(', ')})` : '';
}
