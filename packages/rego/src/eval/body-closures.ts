// Rule and query bodies compiled to chains of closures, once per body. Each
// expression closure knows its successor statically, so running a body passes the
// same (evaluator, frame, continuation) triple down the chain and allocates nothing
// per step. Rare forms (`with`, `and`/`or`, output-argument calls, general
// unification) run through the interpreter, which comes back here for nested bodies.
import type { Loc } from '../ast.ts';
import type { RExpr, RTerm, RuleNode } from '../compiler/ir.ts';
import { hasOutputArg } from '../compiler/safety.ts';
import type { Evaluator } from './evaluator.ts';
import { evalExpr, evalExprCore } from './expressions.ts';
import { unifyTT } from './unify.ts';
import { DONE, STOP, bindSlot, type Run } from './bindings.ts';
import { compileEvery, compileSomeIn } from './iteration-closures.ts';
import { MULTI, compiledTerm } from './term-closures.ts';

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
export function tick(ev: Evaluator, loc: Loc): void {
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
    case 'every':
      return compileEvery(e, next, root);
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
  const { one, gen, multi } = compiledTerm(t, root);
  if (!one) return counted(loc, (ev, f, k) => gen(ev, f, (v) => v !== false && next(ev, f, k)));
  return (ev, f, k) => {
    tick(ev, loc);
    const v = one(ev, f);
    if (v === MULTI) return multi(ev, f, (x) => x !== false && next(ev, f, k));
    return v !== undefined && v !== false && next(ev, f, k);
  };
}

/** `x := t` and `x = t` bind or compare directly; other shapes use the interpreter. */
function compileUnify(e: RExpr, a: RTerm, b: RTerm, next: Run, root: RuleNode): Run {
  const loc = e.loc;
  const general: Run = (ev, f, k) => unifyTT(ev, a, b, f, () => next(ev, f, k));
  const local = a.t === 'local' ? a : b.t === 'local' ? b : undefined;
  const other = local === a ? b : a;
  const ct = local ? compiledTerm(other, root) : undefined;
  const one = ct?.one;
  if (!local || !ct || !one) return counted(loc, general);
  const slot = local.slot;
  // An iterating ref yields values to bind or compare; other shapes may be patterns.
  const multi: Run =
    other.t === 'input' || other.t === 'ref'
      ? (ev, f, k) => ct.multi(ev, f, (v) => bindSlot(ev, f, k, v, slot, next))
      : general;
  return (ev, f, k) => {
    tick(ev, loc);
    const v = one(ev, f);
    if (v === MULTI) return multi(ev, f, k);
    if (v === undefined) return false;
    return bindSlot(ev, f, k, v, slot, next);
  };
}
