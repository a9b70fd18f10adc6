import { describe, expect, it } from 'vitest';
import { compile } from '../index.ts';

// The input is converted on demand (RObject.lazy): it must behave exactly like a converted one.
describe('lazily converted input', () => {
  const evalQ = (query: string, input: unknown) =>
    compile({ modules: [] }).eval({ query: `x := ${query}`, input }).results[0]?.bindings['x'];

  const input = {
    a: { b: 1, c: [1, { d: 'e' }] },
    list: [{ k: 2 }, 'str', null, true],
    nul: null,
    '\u0001odd': 'escaped',
    'with space': 3,
  };

  it('reads members, nested objects and arrays', () => {
    expect(evalQ('input.a.b', input)).toBe(1);
    expect(evalQ('input.a.c[1].d', input)).toBe('e');
    expect(evalQ('input.list[0].k', input)).toBe(2);
    expect(evalQ('input.nul', input)).toBeNull();
    expect(evalQ('input["with space"]', input)).toBe(3);
    expect(evalQ('input["\\u0001odd"]', input)).toBe('escaped');
  });

  it('never sees inherited properties', () => {
    expect(evalQ('input.toString', input)).toBeUndefined();
    expect(evalQ('input.constructor', input)).toBeUndefined();
    expect(evalQ('input.__proto__', input)).toBeUndefined();
    expect(evalQ('object.get(input, "hasOwnProperty", "none")', input)).toBe('none');
  });

  it('compares, counts, iterates and prints like a converted object', () => {
    expect(evalQ('input.a == {"b": 1, "c": [1, {"d": "e"}]}', input)).toBe(true);
    expect(evalQ('count(input)', input)).toBe(5);
    expect(evalQ('[k | some k, _ in input.a]', input)).toEqual(['b', 'c']);
    expect(evalQ('json.marshal(input.a)', input)).toBe('{"b":1,"c":[1,{"d":"e"}]}');
    expect(evalQ('{input.a, {"b": 1, "c": [1, {"d": "e"}]}}', input)).toEqual([
      { b: 1, c: [1, { d: 'e' }] },
    ]);
    expect(evalQ('object.remove(input.a, ["c"])', input)).toEqual({ b: 1 });
  });
});
