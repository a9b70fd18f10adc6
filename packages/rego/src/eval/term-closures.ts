// Terms compiled to closures once per IR node. Most terms have at most one value
// once their variables are bound, so each gets a direct `one` evaluator that returns
// the value without continuations or allocation. When a term turns out to iterate at
// run time (an unbound variable in a ref, `with` overlays, mocks) `one` answers MULTI
// and the caller falls back to the generator, which defers to the interpreter.
import type { Loc } from '../ast.ts';
import type { BuiltinDef } from '../builtins/types.ts';
import { hasRules, isFuncNode, type FnRef, type RTerm, type RuleNode } from '../compiler/ir.ts';
import { hasOutputArg } from '../compiler/safety.ts';
import { RegoError } from '../errors.ts';
import { RObject, RSet, equal, formatValue, keyOf, type Value } from '../value.ts';
import { compiledBody } from './body-closures.ts';
import { lookup } from './documents.ts';
import type { Evaluator, Frame } from './evaluator.ts';
import { builtinFailure } from './calls.ts';
import { ruleValue } from './rules.ts';
import { evalTerm } from './terms.ts';
import { compiledFunction, type RuleFn } from './rule-closures.ts';

export const MULTI: unique symbol = Symbol('multi');
export type One = (ev: Evaluator, f: Frame) => Value | undefined | typeof MULTI;
export type Gen = (ev: Evaluator, f: Frame, k: (v: Value) => boolean) => boolean;
export interface CTerm {
  one: One | undefined;
  gen: Gen;
}

const cache = new WeakMap<RTerm, CTerm>();

export function compiledTerm(t: RTerm, root: RuleNode): CTerm {
  let c = cache.get(t);
  if (c === undefined) {
    const one = containsPrint(t) ? undefined : compileOne(t, root);
    c = { one, gen: one ? genFromOne(t, one) : (ev, f, k) => evalTerm(ev, t, f, k) };
    cache.set(t, c);
  }
  return c;
}

function genFromOne(t: RTerm, one: One): Gen {
  return (ev, f, k) => {
    const v = one(ev, f);
    if (v === MULTI) return evalTerm(ev, t, f, k);
    return v !== undefined && k(v);
  };
}

/** A comprehension always has exactly one value: the collection its body builds. */
function compileComprehension(
  t: RTerm & { t: 'arraycompr' | 'setcompr' | 'objectcompr' },
  root: RuleNode,
): One {
  const body = compiledBody(t.body, root);
  if (t.t === 'objectcompr') {
    const kt = t.key;
    const vt = t.value;
    const key = compiledTerm(kt, root);
    const val = compiledTerm(vt, root);
    return (ev, f) => {
      const out = new RObject();
      body(ev, f, () =>
        eachValue(ev, f, kt, key, (k) =>
          eachValue(ev, f, vt, val, (v) => {
            const prev = out.get(k);
            if (prev !== undefined && !equal(prev, v))
              throw new RegoError('eval_conflict_error', 'object keys must be unique');
            out.set(k, v);
            return false;
          }),
        ),
      );
      return out;
    };
  }
  const tt = t.term;
  const term = compiledTerm(tt, root);
  if (t.t === 'setcompr')
    return (ev, f) => {
      const out = new RSet();
      body(ev, f, () => eachValue(ev, f, tt, term, (v) => (out.add(v), false)));
      return out;
    };
  return (ev, f) => {
    const out: Value[] = [];
    body(ev, f, () => eachValue(ev, f, tt, term, (v) => (out.push(v), false)));
    return out;
  };
}

/** A value of the term as `one` gives it, or MULTI when it may have several. */
function compileOne(t: RTerm, root: RuleNode): One | undefined {
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

function compileAll(ts: RTerm[], root: RuleNode): One[] | undefined {
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
function compilePath(path: RTerm[], root: RuleNode): Walk | undefined {
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
    return h instanceof RObject ? h.map.get(mk)?.[1] : lookup(h, key);
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
      if (cur instanceof RObject) cur = cur.map.get(mapKeys[i] as string)?.[1];
      else cur = lookup(cur as Value, keys[i] as Value);
      if (cur === undefined) return undefined;
    }
    return cur;
  };
}

/**
 * Walks `data`: follows the rule tree while keys name rule nodes, evaluating a rule
 * once the path reaches one, and base documents below. Overlays from `with` and
 * whole-namespace values are left to the interpreter.
 */
function compileData(path: RTerm[], root: RuleNode): One | undefined {
  const keys = compileAll(path, root);
  if (!keys) return undefined;
  const n = keys.length;
  const consts = path.map((p) => (p.t === 'const' ? p.v : undefined));
  return (ev, f) => {
    if (ev.env.overlays) return MULTI;
    let node = root;
    let base: Value | undefined = ev.env.data;
    for (let i = 0; ; i++) {
      if (hasRules(node)) {
        if (isFuncNode(node)) return undefined;
        const v = ruleValue(ev, node);
        return v === undefined ? undefined : restOf(ev, f, keys, i, v, false);
      }
      if (i === n) return MULTI;
      const key = (keys[i] as One)(ev, f);
      if (key === undefined || key === MULTI) return key;
      const child = typeof key === 'string' ? node.children.get(key) : undefined;
      let childBase: Value | undefined = base === undefined ? undefined : lookup(base, key);
      // Base documents are addressed by string path segments, so data.x[2] finds key "2".
      if (childBase === undefined && base instanceof RObject && typeof key === 'number')
        childBase = base.get(String(key));
      if (child) {
        node = child;
        base = childBase;
        continue;
      }
      if (childBase === undefined) return undefined;
      return restOf(ev, f, keys, i + 1, childBase, true, consts);
    }
  };
}

/** The rest of a data path; `asBase` keeps numeric keys finding string keys while
 * segments stay constant, as the interpreter's base-document walk does. */
function restOf(
  ev: Evaluator,
  f: Frame,
  keys: One[],
  i: number,
  v: Value,
  asBase: boolean,
  consts?: (Value | undefined)[],
): Value | undefined | typeof MULTI {
  let cur: Value | undefined = v;
  let base = asBase;
  for (let j = i; j < keys.length; j++) {
    if (base && consts?.[j] === undefined) base = false;
    const key = (keys[j] as One)(ev, f);
    if (key === undefined || key === MULTI) return key;
    let next: Value | undefined = lookup(cur, key);
    if (next === undefined && base && cur instanceof RObject && typeof key === 'number')
      next = cur.get(String(key));
    if (next === undefined) return undefined;
    cur = next;
  }
  return cur;
}

function compileCall(t: RTerm & { t: 'call' }, root: RuleNode): One | undefined {
  if (hasOutputArg(t)) return undefined;
  const fn = t.fn;
  if (fn.kind === 'builtin' && fn.def.relation) return undefined;
  const args = compileAll(t.args, root);
  if (!args) return undefined;
  const n = args.length;
  const name = fn.name;
  const call = fn.kind === 'builtin' ? builtinCall(fn.def, name, t.loc) : userCall(fn, root);
  const mocked = (ev: Evaluator): boolean => ev.env.mocks !== undefined && ev.env.mocks.has(name);
  // Fixed small arities build the argument array as a literal (no holes, no loop).
  if (n === 1) {
    const a0 = args[0] as One;
    return (ev, f) => {
      if (mocked(ev)) return MULTI;
      const x = a0(ev, f);
      return x === undefined || x === MULTI ? x : call(ev, [x]);
    };
  }
  if (n === 2) {
    const a0 = args[0] as One;
    const a1 = args[1] as One;
    const c1 = t.args[1]?.t === 'const' ? t.args[1].v : undefined;
    // `x == "deploy"`, `startswith(s, "x")`: a constant operand needs no closure call.
    if (c1 !== undefined)
      return (ev, f) => {
        if (mocked(ev)) return MULTI;
        const x = a0(ev, f);
        return x === undefined || x === MULTI ? x : call(ev, [x, c1]);
      };
    return (ev, f) => {
      if (mocked(ev)) return MULTI;
      const x = a0(ev, f);
      if (x === undefined || x === MULTI) return x;
      const y = a1(ev, f);
      return y === undefined || y === MULTI ? y : call(ev, [x, y]);
    };
  }
  return (ev, f) => {
    if (mocked(ev)) return MULTI;
    const vals = new Array<Value>(n);
    for (let i = 0; i < n; i++) {
      const v = (args[i] as One)(ev, f);
      if (v === undefined || v === MULTI) return v;
      vals[i] = v;
    }
    return call(ev, vals);
  };
}

type Call = (ev: Evaluator, vals: Value[]) => Value | undefined;

function builtinCall(def: BuiltinDef, name: string, loc: Loc): Call {
  const fn = def.fn;
  return (ev, vals) => {
    try {
      return fn(vals, ev.ctx);
    } catch (e) {
      return builtinFailure(ev, e, name, loc);
    }
  };
}

function userCall(fn: FnRef & { kind: 'user' }, root: RuleNode): Call {
  let node: RuleNode | undefined = root;
  for (const p of fn.path) node = node?.children.get(p);
  const target = node;
  if (!target) return () => undefined;
  // Resolved on first call: compiling it now could recurse into this very call.
  let call: RuleFn | undefined;
  return (ev, vals) => (call ??= compiledFunction(target, root))(ev, vals);
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

/** print has a side effect, so it must not run again when falling back. */
function containsPrint(t: RTerm): boolean {
  switch (t.t) {
    case 'call':
      return t.fn.name === 'print' || t.args.some(containsPrint);
    case 'ref':
      return containsPrint(t.head) || t.path.some(containsPrint);
    case 'input':
    case 'data':
      return t.path.some(containsPrint);
    case 'array':
    case 'set':
      return t.items.some(containsPrint);
    case 'object':
      return t.items.some(([a, b]) => containsPrint(a) || containsPrint(b));
    case 'template':
      return t.parts.some((p) => typeof p !== 'string' && containsPrint(p));
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      return mentionsPrint(t);
    default:
      return false;
  }
}

/** Conservative deep scan of an IR subtree for a `print` call. */
export function mentionsPrint(ir: unknown): boolean {
  const seen = new Set<object>();
  const visit = (x: unknown): boolean => {
    if (typeof x !== 'object' || x === null || seen.has(x)) return false;
    seen.add(x);
    if (Array.isArray(x)) return x.some(visit);
    if (Object.getPrototypeOf(x) !== Object.prototype) return false;
    const o = x as Record<string, unknown>;
    if (o.t === 'call' && (o.fn as { name?: string } | undefined)?.name === 'print') return true;
    return Object.values(o).some(visit);
  };
  return visit(ir);
}

/** Runs `k` for each value of a compiled term (usually just one, without a generator). */
export function eachValue(
  ev: Evaluator,
  f: Frame,
  t: RTerm,
  c: CTerm,
  k: (v: Value) => boolean,
): boolean {
  if (!c.one) return c.gen(ev, f, k);
  const v = c.one(ev, f);
  if (v === MULTI) return evalTerm(ev, t, f, k);
  return v !== undefined && k(v);
}
