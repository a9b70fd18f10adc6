// json.patch: RFC 6902 operations over Rego values (objects, arrays and sets).
import { builtinError } from '../errors.ts';
import { RObject, RSet, equal, type Value } from '../value.ts';
import { arr } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

function pointer(v: Value | undefined): Value[] {
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') throw builtinError('invalid patch path');
  if (v === '') return [];
  // OPA also accepts paths without the leading slash.
  return (v.startsWith('/') ? v.slice(1) : v)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function index(a: Value[], seg: Value, forAdd: boolean): number | undefined {
  if (forAdd && seg === '-') return a.length;
  const n =
    typeof seg === 'number'
      ? seg
      : typeof seg === 'string' && /^(0|[1-9]\d*)$/.test(seg)
        ? Number(seg)
        : NaN;
  if (!Number.isInteger(n) || n < 0 || n > a.length || (!forAdd && n === a.length))
    return undefined;
  return n;
}

function get(doc: Value, path: Value[]): Value | undefined {
  let cur: Value | undefined = doc;
  for (const seg of path) {
    if (cur instanceof RObject) cur = cur.get(seg);
    else if (Array.isArray(cur)) {
      const i = index(cur, seg, false);
      cur = i === undefined ? undefined : cur[i];
    } else if (cur instanceof RSet) cur = cur.has(seg) ? seg : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Returns a copy of doc with `fn` applied to the parent container of path's last segment. */
function update(
  doc: Value,
  path: Value[],
  fn: (parent: Value, key: Value) => Value | undefined,
): Value | undefined {
  if (path.length === 0) return undefined;
  const [seg, ...rest] = path as [Value, ...Value[]];
  if (rest.length === 0) return fn(doc, seg);
  const child = get(doc, [seg]);
  if (child === undefined) return undefined;
  const next = update(child, rest, fn);
  if (next === undefined) return undefined;
  if (doc instanceof RObject) {
    const o = doc.copy();
    o.set(seg, next);
    return o;
  }
  if (Array.isArray(doc)) {
    const i = index(doc, seg, false) as number;
    const a = [...doc];
    a[i] = next;
    return a;
  }
  if (doc instanceof RSet) {
    // A set member is addressed by itself; the updated member replaces it.
    const out = doc.copy();
    out.delete(seg);
    out.add(next);
    return out;
  }
  return undefined;
}

function add(doc: Value, path: Value[], value: Value): Value | undefined {
  if (path.length === 0) return value;
  return update(doc, path, (parent, key) => {
    if (parent instanceof RObject) {
      const o = parent.copy();
      o.set(key, value);
      return o;
    }
    if (Array.isArray(parent)) {
      const i = index(parent, key, true);
      if (i === undefined) return undefined;
      return [...parent.slice(0, i), value, ...parent.slice(i)];
    }
    if (parent instanceof RSet) {
      // The key of a set member is the member itself.
      if (!equal(key, value)) return undefined;
      const s = parent.copy();
      s.add(value);
      return s;
    }
    return undefined;
  });
}

function remove(doc: Value, path: Value[]): Value | undefined {
  return update(doc, path, (parent, key) => {
    if (parent instanceof RObject) {
      if (!parent.has(key)) return undefined;
      const o = parent.copy();
      o.delete(key);
      return o;
    }
    if (Array.isArray(parent)) {
      const i = index(parent, key, false);
      if (i === undefined) return undefined;
      return [...parent.slice(0, i), ...parent.slice(i + 1)];
    }
    if (parent instanceof RSet) {
      if (!parent.has(key)) return undefined;
      const s = parent.copy();
      s.delete(key);
      return s;
    }
    return undefined;
  });
}

function apply(doc: Value, op: Value): Value | undefined {
  if (!(op instanceof RObject)) throw builtinError('patch operation must be an object');
  const kind = op.get('op');
  const path = pointer(op.get('path'));
  switch (kind) {
    case 'add': {
      const value = op.get('value');
      return value === undefined ? undefined : add(doc, path, value);
    }
    case 'remove':
      return remove(doc, path);
    case 'replace': {
      const value = op.get('value');
      if (value === undefined) return undefined;
      if (path.length === 0) return value;
      const removed = remove(doc, path);
      return removed === undefined ? undefined : add(removed, path, value);
    }
    case 'move':
    case 'copy': {
      const from = pointer(op.get('from'));
      const v = get(doc, from);
      if (v === undefined) return undefined;
      const base = kind === 'move' ? remove(doc, from) : doc;
      return base === undefined ? undefined : add(base, path, v);
    }
    case 'test': {
      const v = get(doc, path);
      const want = op.get('value');
      return v !== undefined && want !== undefined && equal(v, want) ? doc : undefined;
    }
    default:
      throw builtinError(`unknown patch operation ${String(kind)}`);
  }
}

export const jsonPatchBuiltins: BuiltinTable = {
  'json.patch': def('json.patch', 2, (a) => {
    let doc: Value | undefined = a[0] as Value;
    for (const op of arr(a, 1)) {
      doc = apply(doc, op);
      if (doc === undefined) return undefined;
    }
    return doc;
  }),
};
