import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';

describe('membership with key', () => {
  it('parses a parenthesized `k, v in xs` as a term', () => {
    expect(evalExpr('[(0, 2 in [2]), (1, 1 in [2])]')).toEqual([true, false]);
    expect(evalExpr('("foo", 2 in {"foo": 2})')).toBe(true);
  });
  it('treats a set member as its own key', () => {
    expect(evalExpr('("a", "a" in {"a", "b"})')).toBe(true);
    expect(evalExpr('("a", "b" in {"a", "b"})')).toBe(false);
  });
});

describe('to_number', () => {
  it('rejects inf and nan spellings as type errors', () => {
    for (const s of ['nan', '-Inf', 'Infinity', '+inf', 'NaN'])
      expect(evalError(`to_number("${s}")`)).toContain('eval_type_error');
    expect(evalExpr('to_number(" 12 ")')).toBe(12);
  });
});

describe('bits shifts', () => {
  it('shifts by an unsigned count and rejects a negative one', () => {
    expect(evalExpr('bits.lsh(7, 2)')).toBe(28);
    expect(evalExpr('bits.rsh(28, 2)')).toBe(7);
    expect(evalError('bits.lsh(7, -1)')).toContain('must be an unsigned integer number');
    expect(evalError('bits.rsh(7, -1)')).toContain('eval_type_error');
  });
});
