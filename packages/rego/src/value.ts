// Runtime values. Scalars are plain JS values; integers beyond 2^53 are bigint so
// nanosecond timestamps and big literals keep OPA's precision. Arrays are plain JS
// arrays; objects and sets are classes keyed by a canonical string so that any
// value (not only strings) can be a key, as Rego allows.

export type Value = null | boolean | number | bigint | string | Value[] | RObject | RSet;

export class RObject {
  private own: Map<string, [Value, Value]> | undefined;
  // An input object not converted yet: members are converted when first read (byKey), the
  // whole map only when something needs it. Most policies read a few fields of a big input.
  private src: Record<string, unknown> | undefined;
  private members: Map<string, Value> | undefined;
  private sorted: [Value, Value][] | undefined;
  constructor(map?: Map<string, [Value, Value]>, src?: Record<string, unknown>) {
    this.own = src === undefined ? (map ?? new Map()) : undefined;
    this.src = src;
    this.members = undefined;
    this.sorted = undefined;
  }
  /** Wraps a plain JSON-like object (the caller's input), converting it on demand. */
  static lazy(src: Record<string, unknown>): RObject {
    return new RObject(undefined, src);
  }
  get map(): Map<string, [Value, Value]> {
    return this.own ?? this.materialize();
  }
  /** The value under a canonical key (`keyOf`), without converting the rest of a lazy object. */
  byKey(mk: string): Value | undefined {
    const own = this.own;
    if (own !== undefined) return own.get(mk)?.[1];
    if (mk.charCodeAt(0) === 1) return this.materialize().get(mk)?.[1];
    const raw = this.src![mk];
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return raw;
    // Not scalar: make sure it is the object's own member (not `toString`, `__proto__`).
    if (!Object.hasOwn(this.src!, mk)) return undefined;
    if (raw === undefined) return null;
    const seen = this.members?.get(mk);
    if (seen !== undefined) return seen;
    const v = lazyValue(raw);
    (this.members ??= new Map()).set(mk, v);
    return v;
  }
  private materialize(): Map<string, [Value, Value]> {
    const src = this.src!;
    const m = new Map<string, [Value, Value]>();
    const members = this.members;
    for (const k in src) m.set(keyOf(k), [k, members?.get(k) ?? lazyValue(src[k])]);
    this.own = m;
    this.src = undefined;
    this.members = undefined;
    return m;
  }
  get size(): number {
    return this.map.size;
  }
  get(k: Value): Value | undefined {
    return this.byKey(keyOf(k));
  }
  has(k: Value): boolean {
    const mk = keyOf(k);
    if (this.own === undefined && mk.charCodeAt(0) !== 1) return Object.hasOwn(this.src!, mk);
    return this.map.has(mk);
  }
  /** Mutates; only used while an object is being built. */
  set(k: Value, v: Value): void {
    this.map.set(keyOf(k), [k, v]);
    this.sorted = undefined;
  }
  delete(k: Value): void {
    this.map.delete(keyOf(k));
    this.sorted = undefined;
  }
  /** Entries in Rego's key order (OPA iterates objects sorted by key). */
  entries(): [Value, Value][] {
    if (this.sorted === undefined) {
      const arr = [...this.map.values()];
      if (arr.length > 1) arr.sort((a, b) => compare(a[0], b[0]));
      this.sorted = arr;
    }
    return this.sorted;
  }
  keys(): Value[] {
    return this.entries().map((e) => e[0]);
  }
  static fromEntries(entries: Iterable<[Value, Value]>): RObject {
    const o = new RObject();
    for (const [k, v] of entries) o.set(k, v);
    return o;
  }
  copy(): RObject {
    return new RObject(new Map(this.map));
  }
}

export class RSet {
  readonly map: Map<string, Value>;
  private sorted: Value[] | undefined;
  constructor(map?: Map<string, Value>) {
    this.map = map ?? new Map();
  }
  get size(): number {
    return this.map.size;
  }
  has(v: Value): boolean {
    return this.map.has(keyOf(v));
  }
  add(v: Value): void {
    this.map.set(keyOf(v), v);
    this.sorted = undefined;
  }
  delete(v: Value): void {
    this.map.delete(keyOf(v));
    this.sorted = undefined;
  }
  values(): Value[] {
    if (this.sorted === undefined) {
      const arr = [...this.map.values()];
      if (arr.length > 1) arr.sort(compare);
      this.sorted = arr;
    }
    return this.sorted;
  }
  static of(items: Iterable<Value>): RSet {
    const s = new RSet();
    for (const v of items) s.add(v);
    return s;
  }
  copy(): RSet {
    return new RSet(new Map(this.map));
  }
}

export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

export function typeName(v: Value): TypeName {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    default:
      if (Array.isArray(v)) return 'array';
      return v instanceof RObject ? 'object' : 'set';
  }
}

const RANK: Record<TypeName, number> = {
  null: 0,
  boolean: 1,
  number: 2,
  string: 3,
  array: 4,
  object: 5,
  set: 6,
};

export function isNumber(v: Value): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Brings a bigint back to a JS number when no precision is lost. */
/** A plain JSON-like value as a Rego value, objects wrapped lazily (RObject.lazy). */
export function lazyValue(x: unknown): Value {
  switch (typeof x) {
    case 'string':
    case 'number':
    case 'boolean':
      return x;
    case 'bigint':
      return normInt(x);
    case 'object': {
      if (x === null) return null;
      if (Array.isArray(x)) {
        const out = new Array<Value>(x.length);
        for (let i = 0; i < x.length; i++) {
          const el: unknown = x[i];
          // Scalars are themselves; only the rest takes the general path.
          out[i] =
            typeof el === 'string' || typeof el === 'number' || typeof el === 'boolean'
              ? el
              : lazyValue(el);
        }
        return out;
      }
      const proto = Object.getPrototypeOf(x) as unknown;
      if (proto === Object.prototype || proto === null)
        return new RObject(undefined, x as Record<string, unknown>);
      return fromJS(x);
    }
    default:
      return null;
  }
}

export function normInt(b: bigint): number | bigint {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

export function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  // Mixed: compare exactly when the float is integral, else via floats.
  const fa = typeof a === 'number' ? a : b;
  if (typeof fa === 'number' && !Number.isInteger(fa)) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return RANK[ta] - RANK[tb];
  switch (ta) {
    case 'null':
      return 0;
    case 'boolean':
      return a === b ? 0 : a === false ? -1 : 1;
    case 'number':
      return compareNumbers(a as number | bigint, b as number | bigint);
    case 'string':
      return compareStrings(a as string, b as string);
    case 'array': {
      const x = a as Value[];
      const y = b as Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i] as Value, y[i] as Value);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 'object': {
      const x = (a as RObject).entries();
      const y = (b as RObject).entries();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const ex = x[i] as [Value, Value];
        const ey = y[i] as [Value, Value];
        const c = compare(ex[0], ey[0]);
        if (c !== 0) return c;
        const d = compare(ex[1], ey[1]);
        if (d !== 0) return d;
      }
      return x.length - y.length;
    }
    case 'set': {
      const x = (a as RSet).values();
      const y = (b as RSet).values();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i] as Value, y[i] as Value);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (a === null || b === null || typeof a === 'boolean' || typeof b === 'boolean') return false;
  if (isNumber(a)) return isNumber(b) && compareNumbers(a, b) === 0;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i] as Value, b[i] as Value)) return false;
    return true;
  }
  if (a instanceof RObject) {
    if (!(b instanceof RObject) || a.size !== b.size) return false;
    for (const [key, [, v]] of a.map) {
      const e = b.map.get(key);
      if (e === undefined || !equal(v, e[1])) return false;
    }
    return true;
  }
  if (a instanceof RSet) {
    if (!(b instanceof RSet) || a.size !== b.size) return false;
    for (const key of a.map.keys()) if (!b.map.has(key)) return false;
    return true;
  }
  return false;
}

function numberKey(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return BigInt(n).toString();
  return Object.is(n, -0) ? '0' : String(n);
}

/** Canonical map key: equal values get equal keys. Plain strings map to themselves. */
export function keyOf(v: Value): string {
  if (typeof v === 'string') return v.charCodeAt(0) === 1 ? '\u0001s' + v : v;
  if (v === null) return '\u0001z';
  if (v === true) return '\u0001t';
  if (v === false) return '\u0001f';
  if (typeof v === 'number' || typeof v === 'bigint') return '\u0001n' + numberKey(v);
  if (Array.isArray(v)) return '\u0001a' + JSON.stringify(v.map(keyOf));
  if (v instanceof RObject)
    return '\u0001o' + JSON.stringify(v.entries().map((e) => [keyOf(e[0]), keyOf(e[1])]));
  return '\u0001S' + JSON.stringify(v.values().map(keyOf));
}

export function isTruthy(v: Value): boolean {
  return v !== false;
}

/** Converts plain JSON-like data (as from JSON.parse or YAML) to Rego values. */
export function fromJS(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'boolean':
    case 'string':
      return x;
    case 'number':
      return x;
    case 'bigint':
      return normInt(x);
    case 'object': {
      if (Array.isArray(x)) return x.map(fromJS);
      if (x instanceof RObject || x instanceof RSet) return x;
      if (x instanceof Map) {
        const o = new RObject();
        for (const [k, v] of x) o.set(fromJS(k), fromJS(v));
        return o;
      }
      if (x instanceof Set) return RSet.of([...x].map(fromJS));
      const o = new RObject();
      for (const k of Object.keys(x)) o.set(k, fromJS((x as Record<string, unknown>)[k]));
      return o;
    }
    default:
      return null;
  }
}

export type JSONValue =
  null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue } | bigint;

/** Converts a Rego value to JSON-like data. Sets become sorted arrays; non-string
 * object keys are rendered as their Rego text, as OPA does. */
export function toJS(v: Value): JSONValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toJS);
  if (v instanceof RSet) return v.values().map(toJS);
  const out: { [k: string]: JSONValue } = {};
  for (const [k, val] of v.entries()) out[typeof k === 'string' ? k : toJSONText(k)] = toJS(val);
  return out;
}

export function formatNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString();
  if (Object.is(n, -0)) return '0';
  return String(n);
}

/** Rego text form of a value (what OPA prints for terms). */
export function formatValue(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return String(v);
    case 'number':
    case 'bigint':
      return formatNumber(v);
    case 'string':
      return JSON.stringify(v);
  }
  if (Array.isArray(v)) return '[' + v.map(formatValue).join(', ') + ']';
  if (v instanceof RObject)
    return (
      '{' +
      v
        .entries()
        .map(([k, x]) => formatValue(k) + ': ' + formatValue(x))
        .join(', ') +
      '}'
    );
  if (v.size === 0) return 'set()';
  return '{' + v.values().map(formatValue).join(', ') + '}';
}

/** JSON text (json.marshal); sets are arrays, keys sorted. */
export function toJSONText(v: Value): string {
  return stringifyJSON(toJS(v));
}

export function stringifyJSON(j: JSONValue, indent?: string, prefix = '', level = ''): string {
  if (j === null) return 'null';
  switch (typeof j) {
    case 'boolean':
      return String(j);
    case 'number':
    case 'bigint':
      return formatNumber(j);
    case 'string':
      return JSON.stringify(j);
  }
  const nl = indent !== undefined;
  const inner = level + (indent ?? '');
  if (Array.isArray(j)) {
    if (j.length === 0) return '[]';
    const parts = j.map((x) => stringifyJSON(x, indent, prefix, inner));
    return nl
      ? '[\n' + parts.map((p) => prefix + inner + p).join(',\n') + '\n' + prefix + level + ']'
      : '[' + parts.join(',') + ']';
  }
  const keys = Object.keys(j).sort();
  if (keys.length === 0) return '{}';
  const parts = keys.map(
    (k) =>
      JSON.stringify(k) +
      (nl ? ': ' : ':') +
      stringifyJSON(j[k] as JSONValue, indent, prefix, inner),
  );
  return nl
    ? '{\n' + parts.map((p) => prefix + inner + p).join(',\n') + '\n' + prefix + level + '}'
    : '{' + parts.join(',') + '}';
}
