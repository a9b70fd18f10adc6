// Function calls: builtins (with error policy and relations), user functions, and
// `with` replacements of either.
import { type Loc } from '../ast.ts';
import { type FnRef, type RTerm, type RuleNode } from '../compiler/ir.ts';
import { hasOutputArg } from '../compiler/safety.ts';
import { BuiltinError, RegoError } from '../errors.ts';
import { type Value } from '../value.ts';
import { type Evaluator, type Frame, type VK } from './evaluator.ts';
import { compiledFunction } from './rule-closures.ts';
import { evalItems } from './terms.ts';
import { unifyTV } from './unify.ts';

export function evalCall(ev: Evaluator, t: RTerm & { t: 'call' }, f: Frame, k: VK): boolean {
  const out = hasOutputArg(t);
  const n = out ? t.args.length - 1 : t.args.length;
  const args = n === t.args.length ? t.args : t.args.slice(0, n);
  // A bare variable argument may be bound by iteration in a later argument.
  if (args.some((a) => a.t === 'local' && f[a.slot] === undefined)) {
    const order = args
      .map((_, i) => i)
      .sort((x, y) => Number(args[x]?.t === 'local') - Number(args[y]?.t === 'local'));
    return evalItems(
      ev,
      order.map((i) => args[i] as RTerm),
      0,
      new Array(n),
      f,
      (vs) => {
        const vals = new Array<Value>(n);
        order.forEach((i, j) => (vals[i] = vs[j] as Value));
        return callWith(ev, t, vals, out, n, f, k);
      },
    );
  }
  return evalItems(ev, args, 0, new Array(n), f, (vals) => callWith(ev, t, vals, out, n, f, k));
}

export function callWith(
  ev: Evaluator,
  t: RTerm & { t: 'call' },
  vals: Value[],
  out: boolean,
  n: number,
  f: Frame,
  k: VK,
): boolean {
  {
    if (t.fn.kind === 'builtin' && t.fn.def.relation && !ev.env.mocks?.has(t.fn.name)) {
      const results = callRelation(ev, t.fn, vals, t.loc);
      for (const r of results) {
        const stop = out ? unifyTV(ev, t.args[n] as RTerm, r, f, () => k(true)) : k(r);
        if (stop) return true;
      }
      return false;
    }
    const r = invoke(ev, t.fn, vals, t.loc);
    if (r === undefined) return false;
    if (out) return unifyTV(ev, t.args[n] as RTerm, r, f, () => k(true));
    return k(r);
  }
}

export function callRelation(
  ev: Evaluator,
  fn: FnRef & { kind: 'builtin' },
  vals: Value[],
  loc: Loc,
): Value[] {
  try {
    return (fn.def.relation as NonNullable<typeof fn.def.relation>)(vals, ev.ctx);
  } catch (e) {
    return builtinFailure(ev, e, fn.name, loc) ?? [];
  }
}

export function builtinFailure(ev: Evaluator, e: unknown, name: string, loc: Loc): undefined {
  if (e instanceof BuiltinError) {
    if (ev.strict) throw new RegoError(e.code, `${name}: ${e.message}`, loc);
    return undefined;
  }
  if (e instanceof RegoError) throw e;
  if (e instanceof RangeError) throw e;
  if (ev.strict) throw new RegoError('eval_builtin_error', `${name}: ${(e as Error).message}`, loc);
  return undefined;
}

export function invoke(ev: Evaluator, fn: FnRef, vals: Value[], loc: Loc): Value | undefined {
  const mock = ev.env.mocks?.get(fn.name);
  if (mock) {
    if ('value' in mock) return mock.value;
    if (mock.fn.name !== fn.name) {
      // Inside a replacement, functions mean the originals (mocks do not chain).
      const saved = ev.env;
      ev.env = { ...saved, mocks: undefined, cache: new Map(), nsCache: new Map() };
      try {
        return invokeUnmocked(ev, mock.fn, vals, loc);
      } finally {
        ev.env = saved;
      }
    }
  }
  return invokeUnmocked(ev, fn, vals, loc);
}

export function invokeUnmocked(
  ev: Evaluator,
  fn: FnRef,
  vals: Value[],
  loc: Loc,
): Value | undefined {
  if (fn.kind === 'builtin') {
    if (fn.def.relation) return callRelation(ev, fn, vals, loc)[0];
    try {
      return fn.def.fn(vals, ev.ctx);
    } catch (e) {
      return builtinFailure(ev, e, fn.name, loc);
    }
  }
  const node = fnNode(ev, fn);
  return node ? callFunction(ev, node, vals) : undefined;
}

export function callFunction(ev: Evaluator, node: RuleNode, vals: Value[]): Value | undefined {
  return compiledFunction(node, ev.policy.root)(ev, vals);
}

export function fnNode(ev: Evaluator, fn: FnRef & { kind: 'user' }): RuleNode | undefined {
  let n = ev.nodeCache.get(fn.name);
  if (n === undefined && !ev.nodeCache.has(fn.name)) {
    n = ev.policy.root;
    for (const p of fn.path) {
      n = n?.children.get(p);
      if (!n) break;
    }
    ev.nodeCache.set(fn.name, n);
  }
  return n;
}
