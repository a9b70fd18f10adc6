// Refs that iterate (`input.stages[i].steps[_]`): each unbound variable in the path
// is bound to every key in turn, as a compiled loop instead of the interpreter's walk.
// Segments other than constants and variables hand the rest of the path to the
// interpreter.
import type { RTerm } from '../compiler/ir.ts';
import { RObject, RSet, keyOf, type Value } from '../value.ts';
import { lookup } from './documents.ts';
import type { Evaluator, Frame, VK } from './evaluator.ts';
import { evalTerm, walk } from './terms.ts';
import type { Gen } from './term-closures.ts';

type Seg = { c: Value; mk: string } | { slot: number } | undefined;

/** The generator used once a term's single-value path reported MULTI. */
export function compileMulti(t: RTerm): Gen {
  const interpreted: Gen = (ev, f, k) => evalTerm(ev, t, f, k);
  if (t.t === 'input') {
    const path = pathWalker(t.path);
    return (ev, f, k) => {
      const inp = ev.env.input;
      return inp !== undefined && path(ev, f, inp, 0, k);
    };
  }
  if (t.t === 'ref' && t.head.t === 'local') {
    const slot = t.head.slot;
    const path = pathWalker(t.path);
    return (ev, f, k) => {
      const h = f[slot];
      return h === undefined ? interpreted(ev, f, k) : path(ev, f, h, 0, k);
    };
  }
  return interpreted;
}

type PathWalk = (ev: Evaluator, f: Frame, v: Value, i: number, k: VK) => boolean;

function pathWalker(path: RTerm[]): PathWalk {
  const segs: Seg[] = path.map((p) =>
    p.t === 'const' ? { c: p.v, mk: keyOf(p.v) } : p.t === 'local' ? { slot: p.slot } : undefined,
  );
  const n = segs.length;
  const step: PathWalk = (ev, f, v, i, k) => {
    let cur: Value | undefined = v;
    for (; i < n; i++) {
      const s = segs[i];
      if (s === undefined) return walk(ev, cur, path, i, f, k);
      if ('slot' in s) {
        const bound = f[s.slot];
        if (bound === undefined) return each(ev, f, cur, s.slot, i, k);
        cur = lookup(cur, bound);
      } else cur = cur instanceof RObject ? cur.byKey(s.mk) : lookup(cur, s.c);
      if (cur === undefined) return false;
    }
    return k(cur);
  };
  // Binds the variable to each key (sets: each member) and walks on from its value.
  // (No closure per call: tsx's keepNames makes each named closure cost a defineProperty.)
  const visit = (
    ev: Evaluator,
    f: Frame,
    slot: number,
    i: number,
    k: VK,
    key: Value,
    val: Value,
  ): boolean => {
    f[slot] = key;
    const stop = step(ev, f, val, i + 1, k);
    f[slot] = undefined;
    return stop;
  };
  const each = (ev: Evaluator, f: Frame, v: Value, slot: number, i: number, k: VK): boolean => {
    if (Array.isArray(v)) {
      for (let j = 0; j < v.length; j++)
        if (visit(ev, f, slot, i, k, j, v[j] as Value)) return true;
    } else if (v instanceof RObject) {
      for (const [key, val] of v.entries()) if (visit(ev, f, slot, i, k, key, val)) return true;
    } else if (v instanceof RSet) {
      for (const x of v.values()) if (visit(ev, f, slot, i, k, x, x)) return true;
    }
    return false;
  };
  return step;
}
