// Interpreted expressions: `with` overlays and mocks, `every`, `and`/`or` and groups.
// Compiled bodies hand these forms here; nested bodies go back to the closures.
import { type RExpr } from '../compiler/ir.ts';
import { hasOutputArg } from '../compiler/safety.ts';
import { RObject, RSet, type Value } from '../value.ts';
import { upsert } from './documents.ts';
import { type Evaluator, type Frame, type K, type Env } from './evaluator.ts';
import { evalCall } from './calls.ts';
import { evalTerm, iterate } from './terms.ts';
import { unifyTT, unifyTV } from './unify.ts';

export function evalExpr(ev: Evaluator, e: RExpr, f: Frame, k: K): boolean {
  if (e.withs.length) return evalWith(ev, e, f, k, 0);
  return evalExprNoWith(ev, e, f, k);
}

export function evalExprNoWith(ev: Evaluator, e: RExpr, f: Frame, k: K): boolean {
  if (e.neg) {
    const found = evalExprCore(ev, e, f, () => true);
    return found ? false : k();
  }
  return evalExprCore(ev, e, f, k);
}

export function evalExprCore(ev: Evaluator, e: RExpr, f: Frame, k: K): boolean {
  switch (e.k) {
    case 'true':
      return k();
    case 'term': {
      const t = e.term;
      if (t.t === 'call' && hasOutputArg(t)) return evalCall(ev, t, f, () => k());
      return evalTerm(ev, t, f, (v) => (v !== false ? k() : false));
    }
    case 'unify':
      return unifyTT(ev, e.a, e.b, f, k);
    case 'somein':
      return evalTerm(ev, e.domain, f, (d) =>
        iterate(ev, d, (key, val) =>
          e.key
            ? unifyTV(ev, e.key, key, f, () => unifyTV(ev, e.value, val, f, k))
            : unifyTV(ev, e.value, val, f, k),
        ),
      );
    case 'every':
      return evalTerm(ev, e.domain, f, (d) => {
        if (!(Array.isArray(d) || d instanceof RObject || d instanceof RSet)) return false;
        let ok = true;
        iterate(ev, d, (key, val) => {
          const found = e.key
            ? unifyTV(ev, e.key, key, f, () =>
                unifyTV(ev, e.value, val, f, () => ev.evalBody(e.body, f, () => true)),
              )
            : unifyTV(ev, e.value, val, f, () => ev.evalBody(e.body, f, () => true));
          if (!found) ok = false;
          return !ok;
        });
        return ok ? k() : false;
      });
    // Logic operators and explicit bodies are tests: they succeed at most once
    // and their bindings stay inside.
    case 'and':
      return succeeds(ev, e.left, f) && succeeds(ev, e.right, f) ? k() : false;
    case 'or':
      return succeeds(ev, e.left, f) || succeeds(ev, e.right, f) ? k() : false;
    case 'group':
      return succeeds(ev, e.body, f) ? k() : false;
  }
}

export function succeeds(ev: Evaluator, body: RExpr[], f: Frame): boolean {
  return ev.evalBody(body, f, () => true);
}

export function evalWith(
  ev: Evaluator,
  e: RExpr,
  f: Frame,
  k: K,
  i: number,
  acc: [RExpr['withs'][number], Value][] = [],
): boolean {
  if (i < e.withs.length) {
    const w = e.withs[i] as RExpr['withs'][number];
    if (w.fnValue) return evalWith(ev, e, f, k, i + 1, [...acc, [w, null]]);
    return evalTerm(ev, w.value, f, (v) => evalWith(ev, e, f, k, i + 1, [...acc, [w, v]]));
  }
  const saved = ev.env;
  const next: Env = { ...saved, cache: new Map(), nsCache: new Map() };
  for (const [w, v] of acc) {
    const tg = w.target;
    if (tg.kind === 'input') next.input = tg.path.length === 0 ? v : upsert(next.input, tg.path, v);
    else if (tg.kind === 'data')
      next.overlays = [...(next.overlays ?? []), { path: tg.path, value: v }];
    else {
      next.mocks = new Map(next.mocks);
      next.mocks.set(tg.name, w.fnValue ? { fn: w.fnValue } : { value: v });
    }
  }
  ev.env = next;
  try {
    return evalExprNoWith(ev, e, f, () => {
      ev.env = saved;
      try {
        return k();
      } finally {
        ev.env = next;
      }
    });
  } finally {
    ev.env = saved;
  }
}
