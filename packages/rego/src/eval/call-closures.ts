// Calls as closures: the callee is resolved at compile time (builtin definition or
// rule node), arguments are evaluated directly, and only mocks fall back.
import type { Loc } from '../ast.ts';
import type { BuiltinDef } from '../builtins/types.ts';
import type { FnRef, RTerm, RuleNode } from '../compiler/ir.ts';
import { hasOutputArg } from '../compiler/safety.ts';
import type { Value } from '../value.ts';
import { builtinFailure } from './calls.ts';
import { comparison, type Comparison } from './comparisons.ts';
import type { Evaluator } from './evaluator.ts';
import { compiledFunction, type RuleFn } from './rule-closures.ts';
import { MULTI, compileAll, type One } from './term-closures.ts';

function compareCall(
  a0: One,
  a1: One,
  t1: RTerm | undefined,
  op: Comparison,
  mocked: (ev: Evaluator) => boolean,
): One {
  if (t1?.t === 'const') {
    const c1 = t1.v;
    return (ev, f) => {
      if (mocked(ev)) return MULTI;
      const x = a0(ev, f);
      return x === undefined || x === MULTI ? x : op(x, c1);
    };
  }
  return (ev, f) => {
    if (mocked(ev)) return MULTI;
    const x = a0(ev, f);
    if (x === undefined || x === MULTI) return x;
    const y = a1(ev, f);
    return y === undefined || y === MULTI ? y : op(x, y);
  };
}

type Call = (ev: Evaluator, vals: Value[]) => Value | undefined;

export function compileCall(t: RTerm & { t: 'call' }, root: RuleNode): One | undefined {
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
  const op = fn.kind === 'builtin' && n === 2 ? comparison(fn.def) : undefined;
  if (op) return compareCall(args[0] as One, args[1] as One, t.args[1], op, mocked);
  if (n === 2 && fn.kind === 'builtin' && t.args[0]?.t === 'const' && fn.def.withConstFirst) {
    const prepared = fn.def.withConstFirst(t.args[0].v);
    if (prepared) {
      const a1 = args[1] as One;
      const loc = t.loc;
      return (ev, f) => {
        if (mocked(ev)) return MULTI;
        const y = a1(ev, f);
        if (y === undefined || y === MULTI) return y;
        try {
          return prepared([y], ev.ctx);
        } catch (e) {
          return builtinFailure(ev, e, name, loc);
        }
      };
    }
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

export function builtinCall(def: BuiltinDef, name: string, loc: Loc): Call {
  const fn = def.fn;
  return (ev, vals) => {
    try {
      return fn(vals, ev.ctx);
    } catch (e) {
      return builtinFailure(ev, e, name, loc);
    }
  };
}

export function userCall(fn: FnRef & { kind: 'user' }, root: RuleNode): Call {
  let node: RuleNode | undefined = root;
  for (const p of fn.path) node = node?.children.get(p);
  const target = node;
  if (!target) return () => undefined;
  // Resolved on first call: compiling it now could recurse into this very call.
  let call: RuleFn | undefined;
  return (ev, vals) => (call ??= compiledFunction(target, root))(ev, vals);
}
