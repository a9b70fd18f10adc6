// Document helpers shared by the evaluator and its compiled closures: looking up
// members, overlaying `with` values, and merging documents built by several rules.
import type { Loc } from '../ast.ts';
import { RegoError } from '../errors.ts';
import { RObject, RSet, equal, type Value } from '../value.ts';

export type Overlay = { path: string[]; value: Value };

export function findOverlay(ovs: Overlay[], cur: string[]): Value | undefined {
  let found: Value | undefined;
  for (const ov of ovs) {
    if (ov.path.length === cur.length && ov.path.every((p, i) => p === cur[i])) found = ov.value;
  }
  return found;
}

export function overlayBelow(ovs: Overlay[], cur: string[], key: string): boolean {
  const n = cur.length;
  return ovs.some(
    (ov) => ov.path.length > n && ov.path[n] === key && cur.every((c, i) => ov.path[i] === c),
  );
}

export function lookup(v: Value, key: Value): Value | undefined {
  if (Array.isArray(v)) {
    if (typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < v.length)
      return v[key];
    return undefined;
  }
  if (v instanceof RObject) return v.get(key);
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  return undefined;
}

/** Returns a copy of `base` with `value` stored at `path`, creating objects as needed. */
export function upsert(base: Value | undefined, path: string[], value: Value): Value {
  if (path.length === 0) return value;
  const o = base instanceof RObject ? base.copy() : new RObject();
  const [head, ...rest] = path as [string, ...string[]];
  o.set(head, upsert(o.get(head), rest, value));
  return o;
}

/** Objects that are documents assembled from several rules (not a rule's own value). */
export const namespaces = new WeakSet<RObject>();

/** Merges two documents produced for the same key by different rules. */
export function mergeValues(a: Value, b: Value, loc: Loc | undefined): Value {
  if (a instanceof RSet && b instanceof RSet) {
    const s = a.copy();
    for (const x of b.values()) s.add(x);
    return s;
  }
  if (a instanceof RObject && b instanceof RObject && namespaces.has(a) && namespaces.has(b)) {
    const o = a.copy();
    namespaces.add(o);
    for (const [k, v] of b.entries()) {
      const p = o.get(k);
      o.set(k, p === undefined ? v : mergeValues(p, v, loc));
    }
    return o;
  }
  if (equal(a, b)) return a;
  throw new RegoError('eval_conflict_error', 'object keys must be unique', loc);
}

export function insertNested(o: RObject, keys: Value[], v: Value, loc: Loc, setLeaf = false): void {
  let cur = o;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i] as Value;
    let next = cur.get(key);
    if (next === undefined) {
      next = new RObject();
      namespaces.add(next);
      cur.set(key, next);
    } else if (!(next instanceof RObject))
      throw new RegoError('eval_conflict_error', 'object keys must be unique', loc);
    cur = next;
  }
  const last = keys[keys.length - 1] as Value;
  const prev = cur.get(last);
  if (setLeaf) {
    if (prev === undefined) cur.set(last, RSet.of([v]));
    else if (prev instanceof RSet) prev.add(v);
    else throw new RegoError('eval_conflict_error', 'object keys must be unique', loc);
    return;
  }
  if (prev !== undefined && !equal(prev, v))
    throw new RegoError('eval_conflict_error', 'object keys must be unique', loc);
  cur.set(last, v);
}
