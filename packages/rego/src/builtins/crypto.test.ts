import { describe, expect, it } from 'vitest';
import { evalExpr } from './test-eval.ts';

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
