// Terms compiled to closures once per IR node. Most terms have at most one value
// once their variables are bound, so each gets a direct `one` evaluator that returns
// the value without continuations or allocation. When a term turns out to iterate at
// run time (an unbound variable in a ref, `with` overlays, mocks) `one` answers MULTI
// and the caller falls back to the generator, which defers to the interpreter.
import type { RTerm, RuleNode } from '../compiler/ir.ts';
import { RObject, RSet, formatValue, keyOf, type Value } from '../value.ts';
import { lookup } from './documents.ts';
import type { Evaluator, Frame } from './evaluator.ts';
import { compileCall } from './call-closures.ts';
import { compileComprehension } from './comprehension-closures.ts';
import { compileData } from './data-closures.ts';
import { containsPrint } from './print-scan.ts';
import { compileMulti } from './ref-iteration.ts';

export const MULTI: unique symbol = Symbol('multi');
export type One = (ev: Evaluator, f: Frame) => Value | undefined | typeof MULTI;
export type Gen = (ev: Evaluator, f: Frame, k: (v: Value) => boolean) => boolean;
export interface CTerm {
  /** Direct single value, when the term's shape allows one. */
  one: One | undefined;
  /** Every value, for callers that iterate. */
  gen: Gen;
  /** Every value, once `one` has answered MULTI. */
  multi: Gen;
}

const cache = new WeakMap<RTerm, CTerm>();

export function compiledTerm(t: RTerm, root: RuleNode): CTerm {
  let c = cache.get(t);
  if (c === undefined) {
    const one = containsPrint(t) ? undefined : compileOne(t, root);
    const multi = compileMulti(t);
    c = { one, gen: one ? genFromOne(one, multi) : multi, multi };
    cache.set(t, c);
  }
  return c;
}

function genFromOne(one: One, multi: Gen): Gen {
  return (ev, f, k) => {
    const v = one(ev, f);
    if (v === MULTI) return multi(ev, f, k);
    return v !== undefined && k(v);
  };
}

/** A value of the term as `one` gives it, or MULTI when it may have several. */
export function compileOne(t: RTerm, root: RuleNode): One | undefined {
  switch (t.t) {
    case 'const': {
      const v = t.v;
      return () => v;
    }
    case 'local': {
      const slot = t.slot;
      // Unbound here is an error the interpreter reports.
      return (_ev, f) => {
        const v = f[slot];
        return v === undefined ? MULTI : v;
      };
    }
    case 'input': {
      const walk = compilePath(t.path, root);
      if (!walk) return undefined;
      return (ev, f) => {
        const inp = ev.env.input;
        return inp === undefined ? undefined : walk(ev, f, inp);
      };
    }
    case 'data':
      return compileData(t.path, root);
    case 'ref': {
      if (t.head.t === 'local' && t.path.length === 1 && t.path[0]?.t === 'const')
        return fieldOf(t.head.slot, t.path[0].v);
      const head = compileOne(t.head, root);
      const walk = compilePath(t.path, root);
      if (!head || !walk) return undefined;
      return (ev, f) => {
        const h = head(ev, f);
        return h === undefined || h === MULTI ? h : walk(ev, f, h);
      };
    }
    case 'array': {
      const items = compileAll(t.items, root);
      if (!items) return undefined;
      return (ev, f) => {
        const out = new Array<Value>(items.length);
        for (let i = 0; i < items.length; i++) {
          const v = (items[i] as One)(ev, f);
          if (v === undefined || v === MULTI) return v;
          out[i] = v;
        }
        return out;
      };
    }
    case 'set': {
      const items = compileAll(t.items, root);
      if (!items) return undefined;
      return (ev, f) => {
        const out = new RSet();
        for (const it of items) {
          const v = it(ev, f);
          if (v === undefined || v === MULTI) return v;
          out.add(v);
        }
        return out;
      };
    }
    case 'object': {
      const items = compileAll(t.items.flat(), root);
      if (!items) return undefined;
      return (ev, f) => {
        const out = new RObject();
        for (let i = 0; i < items.length; i += 2) {
          const key = (items[i] as One)(ev, f);
          if (key === undefined || key === MULTI) return key;
          const v = (items[i + 1] as One)(ev, f);
          if (v === undefined || v === MULTI) return v;
          out.set(key, v);
        }
        return out;
      };
    }
    case 'call':
      return compileCall(t, root);
    case 'template':
      return compileTemplate(t.parts, root);
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      return compileComprehension(t, root);
  }
}

export function compileAll(ts: RTerm[], root: RuleNode): One[] | undefined {
  const out: One[] = [];
  for (const t of ts) {
    const o = compileOne(t, root);
    if (!o) return undefined;
    out.push(o);
  }
  return out;
}

type Walk = (ev: Evaluator, f: Frame, v: Value) => Value | undefined | typeof MULTI;

/** Looks up a ref path in a value; a segment that would iterate answers MULTI. */
export function compilePath(path: RTerm[], root: RuleNode): Walk | undefined {
  if (path.every((p) => p.t === 'const')) return constPath(path.map((p) => (p as { v: Value }).v));
  const keys = compileAll(path, root);
  if (!keys) return undefined;
  const n = keys.length;
  return (ev, f, v) => {
    let cur: Value | undefined = v;
    for (let i = 0; i < n; i++) {
      const key = (keys[i] as One)(ev, f);
      if (key === undefined || key === MULTI) return key;
      cur = lookup(cur, key);
      if (cur === undefined) return undefined;
    }
    return cur;
  };
}

/** `x.a`, the commonest ref, in one closure. */
function fieldOf(slot: number, key: Value): One {
  const mk = keyOf(key);
  return (_ev, f) => {
    const h = f[slot];
    if (h === undefined) return MULTI;
    return h instanceof RObject ? h.byKey(mk) : lookup(h, key);
  };
}

/** `x.a.b`: object map keys are computed once, so a field access is one Map lookup. */
function constPath(keys: Value[]): Walk {
  const n = keys.length;
  const mapKeys = keys.map(keyOf);
  if (n === 0) return (_ev, _f, v) => v;
  return (_ev, _f, v) => {
    let cur: Value | undefined = v;
    for (let i = 0; i < n; i++) {
      if (cur instanceof RObject) cur = cur.byKey(mapKeys[i] as string);
      else cur = lookup(cur as Value, keys[i] as Value);
      if (cur === undefined) return undefined;
    }
    return cur;
  };
}

function compileTemplate(parts: (string | RTerm)[], root: RuleNode): One | undefined {
  const ps: (string | One)[] = [];
  for (const p of parts) {
    if (typeof p === 'string') ps.push(p);
    else {
      const o = compileOne(p, root);
      if (!o) return undefined;
      ps.push(o);
    }
  }
  return (ev, f) => {
    let s = '';
    for (const p of ps) {
      if (typeof p === 'string') {
        s += p;
        continue;
      }
      const v = p(ev, f);
      if (v === MULTI) return MULTI;
      s += v === undefined ? '<undefined>' : typeof v === 'string' ? v : formatValue(v);
    }
    return s;
  };
}

/** Runs `k` for each value of a compiled term (usually just one, without a generator). */
export function eachValue(ev: Evaluator, f: Frame, c: CTerm, k: (v: Value) => boolean): boolean {
  if (!c.one) return c.gen(ev, f, k);
  const v = c.one(ev, f);
  if (v === MULTI) return c.multi(ev, f, k);
  return v !== undefined && k(v);
}
