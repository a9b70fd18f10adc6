// Iteration: `some ... in` runs the rest of the body once per member; `every` requires
// its body to succeed for every member (its bindings stay inside).
import type { RExpr, RuleNode } from '../compiler/ir.ts';
import { RObject, RSet, type Value } from '../value.ts';
import { compiledBody, tick } from './body-closures.ts';
import { DONE, compileBind, type Bind, type Run } from './bindings.ts';
import type { Evaluator, Frame, K } from './evaluator.ts';
import { MULTI, compiledTerm } from './term-closures.ts';

type Members = (ev: Evaluator, f: Frame, k: K, d: Value) => boolean;
const FOUND: K = () => true;

/** `some v in xs` / `some k, v in xs`: members in Rego order (objects by key). */
export function compileSomeIn(e: RExpr & { k: 'somein' }, next: Run, root: RuleNode): Run {
  const dom = compiledTerm(e.domain, root);
  const val = compileBind(e.value, next);
  const keyTerm = e.key;
  const each: Members = keyTerm ? keyedMembers(compileBind(keyTerm, DONE), val) : members(val);
  const domOne = dom.one;
  const loc = e.loc;
  return (ev, f, k) => {
    tick(ev, loc);
    const d = domOne ? domOne(ev, f) : MULTI;
    if (d === MULTI) return dom.multi(ev, f, (x) => each(ev, f, k, x));
    return d !== undefined && each(ev, f, k, d);
  };
}

function members(val: Bind): Members {
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

function keyedMembers(key: Bind, val: Bind): Members {
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

/** `every k, v in xs { body }`: each member must give the body a solution. */
export function compileEvery(e: RExpr & { k: 'every' }, next: Run, root: RuleNode): Run {
  const dom = compiledTerm(e.domain, root);
  const body = compiledBody(e.body, root);
  const val = compileBind(e.value, body);
  const key = e.key ? compileBind(e.key, DONE) : undefined;
  // A member fails when binding it and running the body finds no solution.
  const fails = (ev: Evaluator, f: Frame, kv: Value, v: Value): boolean =>
    key ? !key(ev, f, () => val(ev, f, FOUND, v), kv) : !val(ev, f, FOUND, v);
  const all = (ev: Evaluator, f: Frame, d: Value): boolean => {
    if (Array.isArray(d)) {
      for (let i = 0; i < d.length; i++) if (fails(ev, f, i, d[i] as Value)) return false;
    } else if (d instanceof RObject) {
      for (const en of d.entries()) if (fails(ev, f, en[0], en[1])) return false;
    } else if (d instanceof RSet) {
      for (const x of d.values()) if (fails(ev, f, x, x)) return false;
    } else return false;
    return true;
  };
  const domOne = dom.one;
  const loc = e.loc;
  return (ev, f, k) => {
    tick(ev, loc);
    const d = domOne ? domOne(ev, f) : MULTI;
    if (d === MULTI) return dom.multi(ev, f, (x) => all(ev, f, x) && next(ev, f, k));
    return d !== undefined && all(ev, f, d) && next(ev, f, k);
  };
}
