// Converts the caller's input (plain JSON-like data) to Rego values. Same result as
// `fromJS`, but builds object maps directly: this runs on every evaluation, and for a
// typical input it used to cost as much as evaluating the policy.
import { RObject, RSet, fromJS, keyOf, normInt, type Value } from '../value.ts';

export function inputValue(x: unknown): Value {
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
        for (let i = 0; i < x.length; i++) out[i] = member(x[i]);
        return out;
      }
      const proto = Object.getPrototypeOf(x) as unknown;
      if (proto === Object.prototype || proto === null)
        return RObject.lazy(x as Record<string, unknown>);
      if (x instanceof RObject || x instanceof RSet || x instanceof Map || x instanceof Set)
        return fromJS(x);
      return plainObject(x as Record<string, unknown>, false);
    }
    default:
      return null;
  }
}

function plainObject(x: Record<string, unknown>, plain: boolean): RObject {
  const m = new Map<string, [Value, Value]>();
  // for-in is the fastest key walk; a plain object has no inherited enumerable keys.
  if (plain) for (const k in x) m.set(mapKey(k), [k, member(x[k])]);
  else for (const k of Object.keys(x)) m.set(mapKey(k), [k, member(x[k])]);
  return new RObject(m);
}

/** Same as `keyOf` for a string, inlined for the common case. */
function mapKey(k: string): string {
  return k.charCodeAt(0) === 1 ? keyOf(k) : k;
}

function member(v: unknown): Value {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? v
    : inputValue(v);
}
