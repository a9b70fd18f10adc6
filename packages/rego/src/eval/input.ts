// Converts the caller's input (plain JSON-like data) to Rego values. Same result as
// `fromJS`, but builds object maps directly: this runs on every evaluation, and for a
// typical input it used to cost as much as evaluating the policy.
import { RObject, RSet, fromJS, keyOf, normInt, type Value } from '../value.ts';

export function inputValue(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'string':
    case 'number':
    case 'boolean':
      return x;
    case 'bigint':
      return normInt(x);
    case 'object':
      if (Array.isArray(x)) {
        const out = new Array<Value>(x.length);
        for (let i = 0; i < x.length; i++) out[i] = inputValue(x[i]);
        return out;
      }
      if (x instanceof RObject || x instanceof RSet || x instanceof Map || x instanceof Set)
        return fromJS(x);
      return plainObject(x as Record<string, unknown>);
    default:
      return null;
  }
}

function plainObject(x: Record<string, unknown>): RObject {
  const m = new Map<string, [Value, Value]>();
  for (const k of Object.keys(x)) m.set(keyOf(k), [k, inputValue(x[k])]);
  return new RObject(m);
}
