// Interpreted term evaluation: the general (possibly iterating) path behind the
// compiled single-value closures, plus ref walking and member iteration.
import { type RTerm } from '../compiler/ir.ts';
import { RegoError } from '../errors.ts';
import { RObject, RSet, equal, formatValue, type Value } from '../value.ts';
import { lookup } from './documents.ts';
import { type Evaluator, type Frame, type VK } from './evaluator.ts';
import { evalCall } from './calls.ts';
import { dataWalk } from './data.ts';
import { isGround, unifyTV } from './unify.ts';

export function evalTerm(ev: Evaluator, t: RTerm, f: Frame, k: VK): boolean {
  switch (t.t) {
    case 'const':
      return k(t.v);
    case 'local': {
      const v = f[t.slot];
      if (v === undefined) throw new RegoError('eval_internal_error', `var ${t.name} is unbound`);
      return k(v);
    }
    case 'input': {
      const inp = ev.env.input;
      if (inp === undefined) return false;
      return walk(ev, inp, t.path, 0, f, k);
    }
    case 'data':
      return dataWalk(ev, ev.policy.root, ev.env.data, t.path, 0, [], f, k);
    case 'ref':
      return evalTerm(ev, t.head, f, (v) => walk(ev, v, t.path, 0, f, k));
    case 'array':
      return evalItems(ev, t.items, 0, new Array(t.items.length), f, (vals) => k(vals.slice()));
    case 'set':
      return evalItems(ev, t.items, 0, new Array(t.items.length), f, (vals) => k(RSet.of(vals)));
    case 'object': {
      const flat = t.items.flat();
      return evalItems(ev, flat, 0, new Array(flat.length), f, (vals) => {
        const o = new RObject();
        for (let i = 0; i < vals.length; i += 2) o.set(vals[i] as Value, vals[i + 1] as Value);
        return k(o);
      });
    }
    case 'arraycompr': {
      const out: Value[] = [];
      ev.evalBody(t.body, f, () =>
        evalTerm(ev, t.term, f, (v) => {
          out.push(v);
          return false;
        }),
      );
      return k(out);
    }
    case 'setcompr': {
      const out = new RSet();
      ev.evalBody(t.body, f, () =>
        evalTerm(ev, t.term, f, (v) => {
          out.add(v);
          return false;
        }),
      );
      return k(out);
    }
    case 'objectcompr': {
      const out = new RObject();
      ev.evalBody(t.body, f, () =>
        evalTerm(ev, t.key, f, (key) =>
          evalTerm(ev, t.value, f, (v) => {
            const prev = out.get(key);
            if (prev !== undefined && !equal(prev, v))
              throw new RegoError('eval_conflict_error', 'object keys must be unique');
            out.set(key, v);
            return false;
          }),
        ),
      );
      return k(out);
    }
    case 'call':
      return evalCall(ev, t, f, k);
    case 'template': {
      let s = '';
      for (const p of t.parts) {
        if (typeof p === 'string') {
          s += p;
          continue;
        }
        let got: Value | undefined;
        evalTerm(ev, p, f, (v) => {
          got = v;
          return true;
        });
        s += got === undefined ? '<undefined>' : typeof got === 'string' ? got : formatValue(got);
      }
      return k(s);
    }
  }
}

export function evalItems(
  ev: Evaluator,
  items: RTerm[],
  i: number,
  acc: Value[],
  f: Frame,
  k: (vals: Value[]) => boolean,
): boolean {
  if (i === items.length) return k(acc);
  return evalTerm(ev, items[i] as RTerm, f, (v) => {
    acc[i] = v;
    return evalItems(ev, items, i + 1, acc, f, k);
  });
}

/** Iterates collection members as (key, value); sets yield each member as both. */
export function iterate(ev: Evaluator, v: Value, cb: (key: Value, val: Value) => boolean): boolean {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (cb(i, v[i] as Value)) return true;
  } else if (v instanceof RObject) {
    for (const [key, val] of v.entries()) if (cb(key, val)) return true;
  } else if (v instanceof RSet) {
    for (const x of v.values()) if (cb(x, x)) return true;
  }
  return false;
}

export function walk(ev: Evaluator, v: Value, path: RTerm[], i: number, f: Frame, k: VK): boolean {
  if (i === path.length) return k(v);
  const p = path[i] as RTerm;
  if (p.t === 'const') {
    const c = lookup(v, p.v);
    return c === undefined ? false : walk(ev, c, path, i + 1, f, k);
  }
  if (p.t === 'local') {
    const bound = f[p.slot];
    if (bound !== undefined) {
      const c = lookup(v, bound);
      return c === undefined ? false : walk(ev, c, path, i + 1, f, k);
    }
    return iterate(ev, v, (key, val) => {
      f[p.slot] = key;
      try {
        return walk(ev, val, path, i + 1, f, k);
      } finally {
        f[p.slot] = undefined;
      }
    });
  }
  if ((p.t === 'array' || p.t === 'object') && !isGround(ev, p, f))
    return iterate(ev, v, (key, val) =>
      unifyTV(ev, p, key, f, () => walk(ev, val, path, i + 1, f, k)),
    );
  return evalTerm(ev, p, f, (key) => {
    const c = lookup(v, key);
    return c === undefined ? false : walk(ev, c, path, i + 1, f, k);
  });
}

/** Walks base data, where numeric keys also address string-keyed objects. */
export function walkBase(
  ev: Evaluator,
  v: Value,
  path: RTerm[],
  i: number,
  f: Frame,
  k: VK,
): boolean {
  const p = path[i];
  if (
    p &&
    p.t === 'const' &&
    typeof p.v === 'number' &&
    v instanceof RObject &&
    v.get(p.v) === undefined
  ) {
    const c = v.get(String(p.v));
    return c === undefined ? false : walkBase(ev, c, path, i + 1, f, k);
  }
  if (p && p.t === 'const') {
    const c = lookup(v, p.v);
    return c === undefined ? false : walkBase(ev, c, path, i + 1, f, k);
  }
  return walk(ev, v, path, i, f, k);
}
