import { describe, expect, it } from 'vitest';
import { globsIntersect } from './globs-match.ts';
import { evalError, evalExpr } from './test-eval.ts';

describe('regex.globs_match', () => {
  it('finds a common string across classes and quantifiers', () => {
    expect(globsIntersect('a.a.[0-9]+z', '.b.b2359825792*594823z')).toBe(true);
    expect(globsIntersect('[a-z]+', '[0-9]*')).toBe(false);
    expect(globsIntersect('ab*c', 'a.c')).toBe(true);
    expect(globsIntersect('ab+c', 'ac')).toBe(false);
    expect(globsIntersect('[^a]x', 'ax')).toBe(false);
    expect(globsIntersect(String.raw`[a-z]+\[[0-9]+\]`, String.raw`foo\[1\]`)).toBe(true);
  });
  it('reports malformed patterns with their position', () => {
    expect(evalError('regex.globs_match("pqrs]", "a")')).toContain(
      "input:pqrs], pos:5, set-close ']' with no preceding '['",
    );
    expect(evalExpr('regex.globs_match("b.*", "bar")')).toBe(true);
  });
});
