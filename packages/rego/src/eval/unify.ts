// Unification of terms with values and with each other, binding frame slots and
// unbinding them when the continuation returns (backtracking).
import { type RTerm } from '../compiler/ir.ts';
import { RObject, equal, type Value } from '../value.ts';
import { type Evaluator, type Frame, type K } from './evaluator.ts';
import { evalTerm } from './terms.ts';

export function unifyTV(ev: Evaluator, t: RTerm, v: Value, f: Frame, k: K): boolean {
  switch (t.t) {
    case 'local': {
      const cur = f[t.slot];
      if (cur === undefined) {
        f[t.slot] = v;
        try {
          return k();
        } finally {
          f[t.slot] = undefined;
        }
      }
      return equal(cur, v) ? k() : false;
    }
    case 'const':
      return equal(t.v, v) ? k() : false;
    case 'array':
      if (!Array.isArray(v) || v.length !== t.items.length) return false;
      return unifyItems(ev, t.items, v, 0, f, k);
    case 'object': {
      if (!(v instanceof RObject) || v.size !== t.items.length) return false;
      return unifyObject(ev, t.items, v, 0, f, k);
    }
    default:
      return evalTerm(ev, t, f, (x) => (equal(x, v) ? k() : false));
  }
}

export function unifyItems(
  ev: Evaluator,
  items: RTerm[],
  v: Value[],
  i: number,
  f: Frame,
  k: K,
): boolean {
  if (i === items.length) return k();
  return unifyTV(ev, items[i] as RTerm, v[i] as Value, f, () =>
    unifyItems(ev, items, v, i + 1, f, k),
  );
}

export function unifyObject(
  ev: Evaluator,
  items: [RTerm, RTerm][],
  v: RObject,
  i: number,
  f: Frame,
  k: K,
): boolean {
  if (i === items.length) return k();
  const [kt, vt] = items[i] as [RTerm, RTerm];
  return evalTerm(ev, kt, f, (key) => {
    const child = v.get(key);
    if (child === undefined) return false;
    return unifyTV(ev, vt, child, f, () => unifyObject(ev, items, v, i + 1, f, k));
  });
}

export function unifyTT(ev: Evaluator, a: RTerm, b: RTerm, f: Frame, k: K): boolean {
  if (a.t === 'local' && f[a.slot] === undefined)
    return evalTerm(ev, b, f, (v) => unifyTV(ev, a, v, f, k));
  if (b.t === 'local' && f[b.slot] === undefined)
    return evalTerm(ev, a, f, (v) => unifyTV(ev, b, v, f, k));
  if (a.t === 'array' && b.t === 'array') {
    if (a.items.length !== b.items.length) return false;
    return unifyPairs(ev, a.items, b.items, 0, f, k);
  }
  if (a.t === 'object' && b.t === 'object' && !isGround(ev, a, f) && !isGround(ev, b, f)) {
    if (a.items.length !== b.items.length) return false;
    const bs: RTerm[] = [];
    for (const [ka] of a.items) {
      const m = b.items.find(([kb]) => kb.t === 'const' && ka.t === 'const' && equal(kb.v, ka.v));
      if (!m) return false;
      bs.push(m[1]);
    }
    return unifyPairs(
      ev,
      a.items.map((x) => x[1]),
      bs,
      0,
      f,
      k,
    );
  }
  if (isGround(ev, a, f)) return evalTerm(ev, a, f, (v) => unifyTV(ev, b, v, f, k));
  return evalTerm(ev, b, f, (v) => unifyTV(ev, a, v, f, k));
}

export function unifyPairs(
  ev: Evaluator,
  as: RTerm[],
  bs: RTerm[],
  i: number,
  f: Frame,
  k: K,
): boolean {
  if (i === as.length) return k();
  return unifyTT(ev, as[i] as RTerm, bs[i] as RTerm, f, () => unifyPairs(ev, as, bs, i + 1, f, k));
}

/** True when the term has no unbound variables in pattern positions. */
export function isGround(ev: Evaluator, t: RTerm, f: Frame): boolean {
  switch (t.t) {
    case 'local':
      return f[t.slot] !== undefined;
    case 'array':
    case 'set':
      return t.items.every((x) => isGround(ev, x, f));
    case 'object':
      return t.items.every(([x, y]) => isGround(ev, x, f) && isGround(ev, y, f));
    default:
      return true;
  }
}
