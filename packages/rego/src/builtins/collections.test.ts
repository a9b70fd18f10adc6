import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';

describe('object.subset', () => {
  it('accepts a set held by an array, in any order', () => {
    expect(evalExpr('object.subset([1, 2, 3, 4], {4, 2})')).toBe(true);
    expect(evalExpr('object.subset([1, 2, 3, 4], {4, 9})')).toBe(false);
  });
});

describe('json.remove paths', () => {
  it('names the operand shape when paths are not a collection', () => {
    expect(evalError('json.remove({"a": 1}, 22)')).toContain(
      'json.remove: operand 2 must be one of {set, array} but got number',
    );
    expect(evalError('json.remove({"a": 1}, [{}])')).toContain(
      'containing string paths or array of path segments but got object',
    );
  });
});

describe('json.marshal_with_options', () => {
  it('rejects unknown option keys as a type error', () => {
    expect(evalError('json.marshal_with_options({}, {"x": 1})')).toContain('eval_type_error');
  });
});
