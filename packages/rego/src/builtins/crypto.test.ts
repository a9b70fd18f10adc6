import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';

describe('uuid.parse', () => {
  it('reads the U/L and I/G bits of the node id', () => {
    const local = evalExpr('uuid.parse("000003e8-48b9-21ee-b200-325096b39f47")') as Record<
      string,
      unknown
    >;
    expect(local['macvariables']).toBe('local:unicast');
    expect(local['domain']).toBe('Person');
    const global = evalExpr('uuid.parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")') as Record<
      string,
      unknown
    >;
    expect(global['macvariables']).toBe('global:unicast');
  });
});

describe('http.send request checks', () => {
  it('names unknown and missing parameters as type errors', () => {
    expect(evalError('http.send({"bad": 1, "zz": 2, "method": "get", "url": "x"})')).toContain(
      'eval_type_error: http.send: invalid request parameters(s): {"bad", "zz"}',
    );
    expect(evalError('http.send({"method": "get"})')).toContain(
      'missing required request parameters(s): {"url"}',
    );
  });
});
