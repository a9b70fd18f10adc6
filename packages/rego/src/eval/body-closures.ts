// Rule and query bodies compiled to chains of closures, once per body. Each
// expression closure knows its successor statically, so running a body passes the
// same (evaluator, frame, continuation) triple down the chain and allocates nothing
// per step. Rare forms (`with`, `every`, `and`/`or`, output-argument calls, general
// unification) run through the interpreter, which comes back here for nested bodies.
import type { Loc } from '../ast.ts';
import type { RExpr, RTerm, RuleNode } from '../compiler/ir.ts';
import { hasOutputArg } from '../compiler/safety.ts';
import { RObject, RSet, equal, type Value } from '../value.ts';
import type { Evaluator, Frame } from './evaluator.ts';
import { evalExpr, evalExprCore } from './expressions.ts';
import { evalTerm } from './terms.ts';
import { unifyTT, unifyTV } from './unify.ts';
import { MULTI, compiledTerm } from './term-closures.ts';

type K = () => boolean;
export type Run = (ev: Evaluator, f: Frame, k: K) => boolean;
/** Matches a value against a pattern term, then runs the successor. */
type Bind = (ev: Evaluator, f: Frame, k: K, v: Value) => boolean;

const DONE: Run = (_ev, _f, k) => k();
const STOP: Run = () => true;
const cache = new WeakMap<RExpr[], Run>();

export function compiledBody(body: RExpr[], root: RuleNode): Run {
  let run = cache.get(body);
  if (run === undefined) {
    run = DONE;
    for (let i = body.length - 1; i >= 0; i--) run = compileExpr(body[i] as RExpr, run, root);
    cache.set(body, run);
  }
  return run;
}

/** Counts one step per expression; the clock is read only every CLOCK_EVERY steps. */
function tick(ev: Evaluator, loc: Loc): void {
  if (++ev.steps > ev.checkAt) ev.checkLimits(loc);
}

function counted(loc: Loc, run: Run): Run {
  return (ev, f, k) => {
    tick(ev, loc);
    return run(ev, f, k);
  };
}

function compileExpr(e: RExpr, next: Run, root: RuleNode): Run {
  const loc = e.loc;
  if (e.withs.length) return counted(loc, (ev, f, k) => evalExpr(ev, e, f, () => next(ev, f, k)));
  if (e.neg) {
    const inner = compileCore(e, STOP, root);
    return (ev, f, k) => (inner(ev, f, k) ? false : next(ev, f, k));
  }
  return compileCore(e, next, root);
}

/** The hot forms count their step inline; the rest are wrapped. */
function compileCore(e: RExpr, next: Run, root: RuleNode): Run {
  switch (e.k) {
    case 'term':
      return compileTest(e, e.term, next, root);
    case 'unify':
      return compileUnify(e, e.a, e.b, next, root);
    case 'somein':
      return compileSomeIn(e, next, root);
    case 'true':
      return counted(e.loc, next);
    default:
      return counted(e.loc, (ev, f, k) => evalExprCore(ev, e, f, () => next(ev, f, k)));
  }
}

/** A term used as a test: succeeds for each value that is not `false`. */
function compileTest(e: RExpr, t: RTerm, next: Run, root: RuleNode): Run {
  const loc = e.loc;
  if (t.t === 'call' && hasOutputArg(t))
    return counted(loc, (ev, f, k) => evalExprCore(ev, e, f, () => next(ev, f, k)));
  const { one, gen } = compiledTerm(t, root);
  if (!one) return counted(loc, (ev, f, k) => gen(ev, f, (v) => v !== false && next(ev, f, k)));
  return (ev, f, k) => {
    tick(ev, loc);
    const v = one(ev, f);
    if (v === MULTI) return evalTerm(ev, t, f, (x) => x !== false && next(ev, f, k));
    return v !== undefined && v !== false && next(ev, f, k);
  };
}

/** `x := t` and `x = t` bind or compare directly; other shapes use the interpreter. */
function compileUnify(e: RExpr, a: RTerm, b: RTerm, next: Run, root: RuleNode): Run {
  const loc = e.loc;
  const general: Run = (ev, f, k) => unifyTT(ev, a, b, f, () => next(ev, f, k));
  const local = a.t === 'local' ? a : b.t === 'local' ? b : undefined;
  const one = local ? compiledTerm(local === a ? b : a, root).one : undefined;
  if (!local || !one) return counted(loc, general);
  const slot = local.slot;
  return (ev, f, k) => {
    tick(ev, loc);
    const v = one(ev, f);
    if (v === MULTI) return general(ev, f, k);
    if (v === undefined) return false;
    return bindSlot(ev, f, k, v, slot, next);
  };
}

function bindSlot(ev: Evaluator, f: Frame, k: K, v: Value, slot: number, next: Run): boolean {
  const cur = f[slot];
  if (cur !== undefined) return equal(cur, v) && next(ev, f, k);
  // No try/finally: an exception abandons the whole evaluation, frame included.
  f[slot] = v;
  const stop = next(ev, f, k);
  f[slot] = undefined;
  return stop;
}

function compileBind(t: RTerm, next: Run): Bind {
  if (t.t === 'local') {
    const slot = t.slot;
    return (ev, f, k, v) => bindSlot(ev, f, k, v, slot, next);
  }
  if (t.t === 'const') {
    const c = t.v;
    return (ev, f, k, v) => equal(c, v) && next(ev, f, k);
  }
  return (ev, f, k, v) => unifyTV(ev, t, v, f, () => next(ev, f, k));
}

/** `some v in xs` / `some k, v in xs`: members in Rego order (objects by key). */
function compileSomeIn(e: RExpr & { k: 'somein' }, next: Run, root: RuleNode): Run {
  const dom = compiledTerm(e.domain, root);
  const val = compileBind(e.value, next);
  const keyTerm = e.key;
  const each: (ev: Evaluator, f: Frame, k: K, d: Value) => boolean = keyTerm
    ? keyedMembers(compileBind(keyTerm, DONE), val)
    : members(val);
  const domOne = dom.one;
  const loc = e.loc;
  return (ev, f, k) => {
    tick(ev, loc);
    const d = domOne ? domOne(ev, f) : MULTI;
    if (d === MULTI) return dom.gen(ev, f, (x) => each(ev, f, k, x));
    return d !== undefined && each(ev, f, k, d);
  };
}

function members(val: Bind): (ev: Evaluator, f: Frame, k: K, d: Value) => boolean {
  return (ev, f, k, d) => {
    if (Array.isArray(d)) {
      for (let i = 0; i < d.length; i++) if (val(ev, f, k, d[i] as Value)) return true;
    } else if (d instanceof RObject) {
      for (const en of d.entries()) if (val(ev, f, k, en[1])) return true;
    } else if (d instanceof RSet) {
      for (const x of d.values()) if (val(ev, f, k, x)) return true;
    }
    return false;
  };
}

function keyedMembers(key: Bind, val: Bind): (ev: Evaluator, f: Frame, k: K, d: Value) => boolean {
  const pair = (ev: Evaluator, f: Frame, k: K, kv: Value, v: Value): boolean =>
    key(ev, f, () => val(ev, f, k, v), kv);
  return (ev, f, k, d) => {
    if (Array.isArray(d)) {
      for (let i = 0; i < d.length; i++) if (pair(ev, f, k, i, d[i] as Value)) return true;
    } else if (d instanceof RObject) {
      for (const en of d.entries()) if (pair(ev, f, k, en[0], en[1])) return true;
    } else if (d instanceof RSet) {
      for (const x of d.values()) if (pair(ev, f, k, x, x)) return true;
    }
    return false;
  };
}
