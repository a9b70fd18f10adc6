// Array, object and set builtins, plus the json.* document-path helpers and walk.
import { builtinError, typeError } from '../errors.ts';
import { RObject, RSet, compare, equal, typeName, type Value } from '../value.ts';
import { arr, collection, int, obj, operandErr, set } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

function child(v: Value, key: Value): Value | undefined {
  if (v instanceof RObject) return v.get(key);
  if (Array.isArray(v))
    return typeof key === 'number' && Number.isInteger(key) ? v[key] : undefined;
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  return undefined;
}

function unionObjects(a: RObject, b: RObject): RObject {
  const out = a.copy();
  for (const [k, v] of b.entries()) {
    const prev = out.get(k);
    if (prev instanceof RObject && v instanceof RObject) out.set(k, unionObjects(prev, v));
    else out.set(k, v);
  }
  return out;
}

function isSubset(sup: Value, sub: Value): boolean {
  if (sup instanceof RObject && sub instanceof RObject) {
    for (const [k, v] of sub.entries()) {
      const s = sup.get(k);
      if (s === undefined || !isSubset(s, v)) return false;
    }
    return true;
  }
  if (sup instanceof RSet && sub instanceof RSet) return sub.values().every((x) => sup.has(x));
  if (Array.isArray(sup) && Array.isArray(sub)) {
    // A contiguous run of `sub` must appear in `sup`.
    if (sub.length === 0) return true;
    for (let i = 0; i + sub.length <= sup.length; i++) {
      if (sub.every((x, j) => equal(sup[i + j] as Value, x))) return true;
    }
    return false;
  }
  if (sup instanceof RSet && Array.isArray(sub)) return sub.every((x) => sup.has(x));
  // An array holds a set when it holds every member, in any order.
  if (Array.isArray(sup) && sub instanceof RSet)
    return sub.values().every((x) => sup.some((y) => equal(x, y)));
  return equal(sup, sub);
}

/** Parses json.filter/json.remove paths: "a/b" strings or arrays of segments. */
function parsePaths(v: Value): Value[][] {
  const items = Array.isArray(v) ? v : v instanceof RSet ? v.values() : undefined;
  if (!items)
    throw typeError(
      // The evaluator prefixes the builtin name.
      `operand 2 must be one of {set, array} but got ${typeName(v)}`,
    );
  return items.map((p) => {
    if (typeof p === 'string')
      return p
        .replace(/^\//, '')
        .split('/')
        .filter((s, i, all) => s !== '' || all.length > 1)
        .map(unescapePointer);
    if (Array.isArray(p)) return p;
    throw typeError(
      `operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`,
    );
  });
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

interface PathTree {
  leaf: boolean;
  kids: Map<string, { key: Value; tree: PathTree }>;
}

function pathTree(paths: Value[][]): PathTree {
  const root: PathTree = { leaf: false, kids: new Map() };
  for (const p of paths) {
    let n = root;
    for (const seg of p) {
      const k = JSON.stringify(typeof seg === 'string' ? seg : String(seg));
      let c = n.kids.get(k);
      if (!c) {
        c = { key: seg, tree: { leaf: false, kids: new Map() } };
        n.kids.set(k, c);
      }
      n = c.tree;
    }
    n.leaf = true;
  }
  return root;
}

function segKey(container: Value, seg: Value): Value {
  if (Array.isArray(container) && typeof seg === 'string' && /^\d+$/.test(seg)) return Number(seg);
  return seg;
}

function filterTree(v: Value, t: PathTree): Value | undefined {
  if (t.leaf) return v;
  if (v instanceof RObject) {
    const out = new RObject();
    for (const { key, tree } of t.kids.values()) {
      const c = v.get(key);
      if (c === undefined) continue;
      const f = filterTree(c, tree);
      if (f !== undefined) out.set(key, f);
    }
    return out;
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (const { key, tree } of [...t.kids.values()].sort((a, b) =>
      compare(segKey(v, a.key), segKey(v, b.key)),
    )) {
      const c = child(v, segKey(v, key));
      if (c === undefined) continue;
      const f = filterTree(c, tree);
      if (f !== undefined) out.push(f);
    }
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const { key, tree } of t.kids.values()) {
      if (!v.has(key)) continue;
      const f = filterTree(key, tree);
      if (f !== undefined) out.add(f);
    }
    return out;
  }
  return undefined;
}

function removeTree(v: Value, t: PathTree): Value | undefined {
  if (t.leaf) return undefined;
  if (v instanceof RObject) {
    const out = new RObject();
    for (const [k, c] of v.entries()) {
      const sub = typeof k === 'string' ? t.kids.get(JSON.stringify(k)) : undefined;
      if (!sub) out.set(k, c);
      else {
        const r = removeTree(c, sub.tree);
        if (r !== undefined) out.set(k, r);
      }
    }
    return out;
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((c, i) => {
      const sub = t.kids.get(JSON.stringify(String(i)));
      if (!sub) out.push(c);
      else {
        const r = removeTree(c, sub.tree);
        if (r !== undefined) out.push(r);
      }
    });
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const c of v.values()) {
      const sub = t.kids.get(JSON.stringify(typeof c === 'string' ? c : String(c)));
      if (!sub) out.add(c);
      else {
        const r = removeTree(c, sub.tree);
        if (r !== undefined) out.add(r);
      }
    }
    return out;
  }
  return v;
}

function walkAll(v: Value, path: Value[], out: Value[]): void {
  out.push([path.slice(), v]);
  if (Array.isArray(v)) v.forEach((c, i) => walkAll(c, [...path, i], out));
  else if (v instanceof RObject) for (const [k, c] of v.entries()) walkAll(c, [...path, k], out);
  else if (v instanceof RSet) for (const c of v.values()) walkAll(c, [...path, c], out);
}

function reachable(graph: RObject, start: Value[], paths: boolean): Value {
  const seen = new RSet();
  const stack = [...start];
  while (stack.length) {
    const n = stack.pop() as Value;
    if (seen.has(n)) continue;
    const edges = graph.get(n);
    if (edges === undefined) continue;
    seen.add(n);
    const next = Array.isArray(edges) ? edges : edges instanceof RSet ? edges.values() : [];
    for (const m of next) if (!seen.has(m)) stack.push(m);
  }
  void paths;
  return seen;
}

function reachablePaths(graph: RObject, start: Value[]): Value {
  const out = new RSet();
  const visit = (node: Value, path: Value[]): void => {
    const edges = graph.get(node);
    const next =
      edges === undefined
        ? []
        : Array.isArray(edges)
          ? edges
          : edges instanceof RSet
            ? edges.values()
            : [];
    const fresh = next.filter((m) => !path.some((p) => equal(p, m)) && graph.get(m) !== undefined);
    if (fresh.length === 0) {
      out.add(path);
      return;
    }
    for (const m of fresh) visit(m, [...path, m]);
  };
  for (const s of start) if (graph.get(s) !== undefined) visit(s, [s]);
  return out;
}

export const collectionBuiltins: BuiltinTable = {
  'array.concat': def('array.concat', 2, (a) => [...arr(a, 0), ...arr(a, 1)]),
  'array.slice': def('array.slice', 3, (a) => {
    const xs = arr(a, 0);
    let s = int(a, 1);
    let e = int(a, 2);
    if (s < 0) s = 0;
    if (e > xs.length) e = xs.length;
    if (s >= e) return [];
    return xs.slice(s, e);
  }),
  'array.reverse': def('array.reverse', 1, (a) => [...arr(a, 0)].reverse()),
  'array.flatten': def('array.flatten', 1, (a) =>
    arr(a, 0).flatMap((x) => (Array.isArray(x) ? x : [x])),
  ),
  'object.get': def('object.get', 3, (a) => {
    const o = obj(a, 0);
    const key = a[1] as Value;
    const dflt = a[2] as Value;
    if (Array.isArray(key)) {
      let cur: Value | undefined = o;
      for (const k of key) {
        cur = cur === undefined ? undefined : child(cur, k);
        if (cur === undefined) return dflt;
      }
      return cur as Value;
    }
    return o.get(key) ?? dflt;
  }),
  'object.keys': def('object.keys', 1, (a) => RSet.of(obj(a, 0).keys())),
  'object.remove': def('object.remove', 2, (a) => {
    const o = obj(a, 0);
    const ks = a[1] as Value;
    let keys: Value[];
    if (Array.isArray(ks)) keys = ks;
    else if (ks instanceof RSet) keys = ks.values();
    else if (ks instanceof RObject) keys = ks.keys();
    else throw operandErr(1, 'one of {object, set, array}', ks);
    const out = o.copy();
    for (const k of keys) out.delete(k);
    return out;
  }),
  'object.filter': def('object.filter', 2, (a) => {
    const o = obj(a, 0);
    const ks = a[1] as Value;
    let keys: Value[];
    if (Array.isArray(ks)) keys = ks;
    else if (ks instanceof RSet) keys = ks.values();
    else if (ks instanceof RObject) keys = ks.keys();
    else throw operandErr(1, 'one of {object, set, array}', ks);
    const out = new RObject();
    for (const k of keys) {
      const v = o.get(k);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  }),
  'object.union': def('object.union', 2, (a) => unionObjects(obj(a, 0), obj(a, 1))),
  'object.union_n': def('object.union_n', 1, (a) => {
    let out = new RObject();
    for (const x of arr(a, 0)) {
      if (!(x instanceof RObject)) throw operandErr(0, 'array of objects', x);
      out = unionObjects(out, x);
    }
    return out;
  }),
  'object.subset': def('object.subset', 2, (a) => {
    const sup = a[0] as Value;
    const sub = a[1] as Value;
    const ok = (v: Value): boolean => v instanceof RObject || v instanceof RSet || Array.isArray(v);
    if (!ok(sup)) throw operandErr(0, 'one of {object, set, array}', sup);
    if (!ok(sub)) throw operandErr(1, 'one of {object, set, array}', sub);
    return isSubset(sup, sub);
  }),
  'json.filter': def('json.filter', 2, (a) => {
    const o = obj(a, 0);
    return filterTree(o, pathTree(parsePaths(a[1] as Value))) ?? new RObject();
  }),
  'json.remove': def('json.remove', 2, (a) => {
    const o = obj(a, 0);
    return removeTree(o, pathTree(parsePaths(a[1] as Value))) ?? new RObject();
  }),
  union: def('union', 1, (a) => {
    const out = new RSet();
    for (const s of set(a, 0).values()) {
      if (!(s instanceof RSet)) throw operandErr(0, 'set of sets', s);
      for (const x of s.values()) out.add(x);
    }
    return out;
  }),
  intersection: def('intersection', 1, (a) => {
    const sets = set(a, 0).values();
    if (sets.length === 0) return new RSet();
    for (const s of sets) if (!(s instanceof RSet)) throw operandErr(0, 'set of sets', s);
    const [first, ...rest] = sets as RSet[];
    const out = new RSet();
    for (const x of (first as RSet).values()) if (rest.every((s) => s.has(x))) out.add(x);
    return out;
  }),
  walk: {
    name: 'walk',
    arity: 1,
    fn: () => undefined,
    relation: (a) => {
      const out: Value[] = [];
      walkAll(a[0] as Value, [], out);
      return out;
    },
  },
  'graph.reachable': def('graph.reachable', 2, (a) =>
    reachable(obj(a, 0), collection(a, 1), false),
  ),
  'graph.reachable_paths': def('graph.reachable_paths', 2, (a) =>
    reachablePaths(obj(a, 0), collection(a, 1)),
  ),
};

export function requireObject(v: Value, msg: string): RObject {
  if (!(v instanceof RObject)) throw builtinError(msg);
  return v;
}
