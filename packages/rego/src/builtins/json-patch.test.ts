import { describe, expect, it } from 'vitest';
import { evalExpr } from './test-eval.ts';

describe('json.patch over sets', () => {
  it('adds a set member only under its own key', () => {
    expect(
      evalExpr('json.patch({"s": {"a"}}, [{"op": "add", "path": "/s/b", "value": "b"}])'),
    ).toEqual({
      s: ['a', 'b'],
    });
    expect(
      evalExpr('json.patch({"s": {"a"}}, [{"op": "add", "path": "/s/b", "value": "c"}])'),
    ).toBeUndefined();
  });
  it('descends through a set member and replaces it', () => {
    expect(evalExpr('json.patch({[1]}, [{"op": "add", "path": [[1], 1], "value": 2}])')).toEqual([
      [1, 2],
    ]);
  });
  it('fails a test operation without a value', () => {
    expect(evalExpr('json.patch([null], [{"op": "test", "path": "/0"}])')).toBeUndefined();
    expect(evalExpr('json.patch([null], [{"op": "test", "path": "/0", "value": null}])')).toEqual([
      null,
    ]);
  });
});
