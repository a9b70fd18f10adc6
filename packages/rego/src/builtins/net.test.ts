import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';

describe('net.cidr_merge', () => {
  it('reads a bare IPv4 address as its classful network', () => {
    expect(evalExpr('net.cidr_merge(["192.0.128.0", "192.0.129.0"])')).toEqual(['192.0.128.0/23']);
    expect(evalExpr('net.cidr_merge(["10.1.2.3"])')).toEqual(['10.0.0.0/8']);
    expect(evalExpr('net.cidr_merge(["172.16.0.1", "192.168.1.0/25"])')).toEqual([
      '172.16.0.0/16',
      '192.168.1.0/25',
    ]);
  });
});

describe('net.cidr_contains_matches', () => {
  it('rejects an empty tuple element', () => {
    expect(evalError('net.cidr_contains_matches(["1.1.1.0/24"], {[]})')).toContain(
      'operand 2: element must be string or non-empty array',
    );
  });
});
