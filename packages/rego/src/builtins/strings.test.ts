import { describe, expect, it } from 'vitest';
import { evalExpr } from './test-eval.ts';

describe('format_int', () => {
  it('truncates fractions toward zero and keeps big integers exact', () => {
    expect(evalExpr('format_int(-15.9, 16)')).toBe('-f');
    expect(evalExpr('format_int(15.9, 16)')).toBe('f');
    expect(evalExpr('format_int(-18446744073709551617, 16)')).toBe('-10000000000000001');
  });
});
